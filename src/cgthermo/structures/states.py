"""Representative structures of the metastable states, and which all-atom state a model's
state looks like.

The states are the PCCA+ macrostates of the all-atom reference MSM (analysis.states). A CG
frame belongs to the macrostate of its nearest reference microstate centre in the reference
TICA space, so a model's state k and the all-atom state k are one region of that space; their
populations, with intervals, are in the model's metrics.json. Each state's representative is
its medoid: the member with the smallest mean Cα RMSD to the others, among at most 300 evenly
spaced members. Matching compares structures, not labels: every model medoid is set against
every all-atom medoid and the nearest one is named with its RMSD, so a model that visits a
region of TICA space in another structure than the all-atom data shows it.
"""

import numpy as np

from ..analysis import structure


def state_medoids(pos_angstrom, frame_state, topology) -> list[dict]:
    """For every state with members (frames outside every state carry −1): its number, its
    member count, the index of its medoid frame in `pos_angstrom`, and the medoid (Å)."""
    frame_state = np.asarray(frame_state)
    found = []
    for state in np.unique(frame_state[frame_state >= 0]):
        members = np.flatnonzero(frame_state == state)
        chosen = members[structure.medoid_index(pos_angstrom[members], topology)]
        found.append({"state": int(state), "members": int(len(members)),
                      "frame": int(chosen), "xyz": np.asarray(pos_angstrom[chosen])})  # fmt: skip
    return found


def rmsd_matrix(first, second, topology) -> np.ndarray:
    """Cα RMSD (Å, after superposition) of every structure of `first` to every one of
    `second`: (len(first), len(second))."""
    first, second = np.asarray(first), np.asarray(second)
    out = np.empty((len(first), len(second)))
    for j, target in enumerate(second):
        out[:, j] = structure.rmsd_to(first, target, topology)
    return out


def nearest_states(model_medoids: list[dict], reference_medoids: list[dict],
                   topology) -> list[dict]:  # fmt: skip
    """For every model state: the all-atom state whose medoid is closest to its medoid, that
    RMSD (Å), and its RMSD to the all-atom medoid of the same state (NaN when the all-atom
    data have no frame in it)."""
    if not model_medoids or not reference_medoids:
        return [{"state": m["state"], "nearest_reference_state": None,
                 "rmsd_nearest_A": float("nan"), "rmsd_same_state_A": float("nan")}
                for m in model_medoids]  # fmt: skip
    ref_states = [r["state"] for r in reference_medoids]
    rmsd = rmsd_matrix([m["xyz"] for m in model_medoids], [r["xyz"] for r in reference_medoids],
                       topology)  # fmt: skip
    rows = []
    for row, model in zip(rmsd, model_medoids, strict=True):
        nearest = int(np.argmin(row))
        same = ref_states.index(model["state"]) if model["state"] in ref_states else None
        rows.append({"state": model["state"], "nearest_reference_state": ref_states[nearest],
                     "rmsd_nearest_A": float(row[nearest]),
                     "rmsd_same_state_A": float(row[same]) if same is not None else float("nan")})  # fmt: skip
    return rows


def superposed(xyz, target, topology) -> np.ndarray:
    """`xyz` (Å, one structure) moved rigidly onto `target` by Cα superposition."""
    from ..analysis.inputs import angstrom_from_nm, to_mdtraj

    moved = to_mdtraj(np.asarray(xyz)[None], topology)
    moved.superpose(to_mdtraj(np.asarray(target)[None], topology))
    return angstrom_from_nm(moved.xyz[0])
