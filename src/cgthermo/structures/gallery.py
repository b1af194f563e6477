"""The structures of one protein's states (rule reference_structures) and of one model's
(rule backmap): backmapped medoids of the metastable states, the folded structure, and
secondary-structure profiles with intervals over replicas."""

import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from ..io import atomic_path
from . import dssp, states
from .backmap import backmap, write_models

log = logging.getLogger("cgthermo.structures")
FOLDED = "folded"  # the name of the reference's folded structure among the states


def frames_at(ensemble, indices) -> np.ndarray:
    """The positions (Å) of frames numbered over the ensemble's pieces in order, read alone
    (a stored dataset stays on disk)."""
    indices = np.asarray(indices, dtype=np.int64)
    bounds = np.cumsum([0, *(len(p) for p in ensemble.pieces)])
    out = np.empty((len(indices), ensemble.n_beads, 3), dtype=np.float32)
    piece_of = np.searchsorted(bounds, indices, side="right") - 1
    for piece in np.unique(piece_of):
        where = np.flatnonzero(piece_of == piece)
        rows = indices[where] - bounds[piece]
        order = np.argsort(rows)  # a stored piece reads rows in increasing order
        out[where[order]] = np.asarray(ensemble.pieces[piece][rows[order]])
    return out


def sequence_of(topology) -> str:
    return "".join(residue.code or "X" for residue in topology.residues)


def medoids_of(ensemble, frame_state, topology) -> list[dict]:
    """The medoid of every state, each read from at most 300 evenly spaced members."""
    from ..analysis.structure import evenly_spaced

    frame_state = np.asarray(frame_state)
    read = []
    for state in np.unique(frame_state[frame_state >= 0]):
        members = np.flatnonzero(frame_state == state)
        read.append(members[evenly_spaced(len(members))])
    if not read:
        return []
    chosen = np.concatenate(read)
    found = states.state_medoids(frames_at(ensemble, chosen), frame_state[chosen], topology)
    for entry in found:
        entry["members"] = int(np.count_nonzero(frame_state == entry["state"]))
        entry["frame"] = int(chosen[entry["frame"]])
    return found


def backmapped(structures: list[dict], sequence: str, forcefield, pdb_path) -> list[dict]:
    """Backmap every structure (`xyz`, Å) into one multi-model PDB; the records say which
    model of the file each one is (None where the backmap failed, with the reason)."""
    kept, records = [], []
    with tempfile.TemporaryDirectory() as work:
        for entry in structures:
            model = backmap(entry["xyz"], sequence, forcefield, Path(work))
            record = {key: value for key, value in entry.items() if key != "xyz"}
            record.update(pdb_model=len(kept) + 1 if model.passed else None,
                          ca_shift_A=model.ca_shift_A, problem=model.problem)  # fmt: skip
            if model.passed:
                kept.append(model)
            else:
                log.warning("state %s not backmapped: %s", entry["state"], model.problem)
            records.append(record)
    write_models(kept, pdb_path, "no state has a structure: the .json beside this file says why")
    return records


def dssp_sample(ensemble, frame_unit, weights, count: int, topology) -> dict:
    """DSSP codes of about `count` frames spread over the replicas, with their replica and
    weight."""
    chosen = dssp.sample_frames(frame_unit, count)
    codes = dssp.frame_codes(frames_at(ensemble, chosen), sequence_of(topology))
    return {"codes": codes, "frame_unit": np.asarray(frame_unit)[chosen],
            "weights": np.asarray(weights, dtype=np.float64)[chosen]}  # fmt: skip


def write_json(payload: dict, path) -> None:
    from ..analysis.compare import finite_or_none

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, np.ndarray):
            return clean(value.tolist())
        return finite_or_none(value)

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(clean(payload), indent=1) + "\n")


def reference_structures(dataset, topology_path, reference_npz, settings: dict,
                         forcefield_files: list, outputs: dict) -> dict:  # fmt: skip
    """The all-atom side: outputs `pdb` (the backmapped medoid of every macrostate, then the
    folded structure), `json` (their records) and `dssp` (codes of sampled frames)."""
    from openmm import app

    from ..analysis import inputs
    from ..analysis.reference import load_reference_npz

    ref = load_reference_npz(reference_npz)
    topology = inputs.load_topology(topology_path)
    with inputs.open_reference(dataset, str(ref["protein"]), topology) as (ensemble, _):
        medoids = medoids_of(ensemble, ref["frame_macrostate"], topology)
        sample = dssp_sample(ensemble, ref["frame_unit"], ref["weights"],
                             settings["dssp_frames"], topology)  # fmt: skip
    folded = {"state": FOLDED, "source": str(ref["reference_source"]),
              "xyz": np.asarray(ref["reference_structure"])}  # fmt: skip
    for medoid in medoids:  # one frame for every structure the report overlays
        medoid["xyz"] = states.superposed(medoid["xyz"], folded["xyz"], topology)
    forcefield = app.ForceField(*forcefield_files)
    records = backmapped([*medoids, folded], sequence_of(topology), forcefield, outputs["pdb"])
    with atomic_path(outputs["dssp"]) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, medoids=np.array([m["xyz"] for m in medoids]).reshape(-1, topology.n_atoms, 3),
                 medoid_states=np.array([m["state"] for m in medoids], dtype=np.int64),
                 n_units=np.int64(len(ref["unit_pair_sums"])), **sample)  # fmt: skip
    payload = {"protein": str(ref["protein"]), "states": records,
               "dssp_frames": int(len(sample["codes"]))}  # fmt: skip
    write_json(payload, outputs["json"])
    return payload


def model_structures(ensemble, ref: dict, reference_dssp, topology, settings: dict, seed: int,
                     forcefield, outputs: dict) -> dict:  # fmt: skip
    """The model side: its macrostates' backmapped medoids (`states_pdb`), each matched to
    the nearest all-atom medoid, and its DSSP profile against the all-atom one
    (`structures`, `dssp_png`)."""
    from ..analysis import bootstrap, compare
    from ..analysis.speedup import assign_states

    tics = compare.project_cg(ref, ensemble, topology)
    micro = np.concatenate(assign_states([tics], ref["cluster_centres"]))
    frame_state = np.asarray(ref["macrostate_of_state"])[micro]
    medoids = medoids_of(ensemble, frame_state, topology)
    with np.load(reference_dssp) as fh:
        aa = {key: fh[key] for key in fh.files}
    aa_medoids = [{"state": int(s), "xyz": xyz}
                  for s, xyz in zip(aa["medoid_states"], aa["medoids"], strict=True)]  # fmt: skip
    matches = {m["state"]: m for m in states.nearest_states(medoids, aa_medoids, topology)}
    aa_xyz = {m["state"]: m["xyz"] for m in aa_medoids}
    for medoid in medoids:  # on the all-atom medoid the report shows it with
        target = aa_xyz.get(matches[medoid["state"]]["nearest_reference_state"])
        if target is not None:
            medoid["xyz"] = states.superposed(medoid["xyz"], target, topology)
    records = backmapped(medoids, sequence_of(topology), forcefield, outputs["states_pdb"])
    for record in records:
        record.update(matches[record["state"]])

    frame_unit = ensemble.frame_replica
    sample = dssp_sample(ensemble, frame_unit, np.ones(len(frame_unit)), settings["dssp_frames"],
                         topology)  # fmt: skip
    n_ref, n_cg = int(aa["n_units"]), ensemble.n_units
    m_ref, m_cg = bootstrap.draw_resamples(seed, settings["bootstrap_resamples"], n_ref, n_cg)
    method = settings.get("interval", "percentile")
    comparison = dssp.compare(
        dssp.unit_sums(dssp.class_indicator(aa["codes"]), aa["frame_unit"], aa["weights"], n_ref),
        dssp.unit_sums(dssp.class_indicator(sample["codes"]), sample["frame_unit"],
                       sample["weights"], n_cg),
        m_ref, m_cg, lambda samples: bootstrap.interval(samples, min(n_ref, n_cg), method))  # fmt: skip
    plot_profiles(comparison, sequence_of(topology), outputs["dssp_png"])
    payload = {"states": records, "dssp": comparison,
               "dssp_frames": {"aa": int(len(aa["codes"])), "cg": int(len(sample["codes"]))}}  # fmt: skip
    write_json(payload, outputs["structures"])
    return payload


def plot_profiles(comparison: dict, sequence: str, path) -> None:
    """Per-residue class fractions, all-atom against the model, with their intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = comparison["classes"]
    x = np.arange(len(sequence))
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.0), sharey=True)
    for k, (ax, name) in enumerate(zip(axes, names, strict=True)):
        for side, colour, label in (("aa", "0.3", "all-atom"), ("cg", "C1", "model")):
            if f"fraction_{side}" not in comparison:
                continue
            ax.plot(x, comparison[f"fraction_{side}"][:, k], color=colour, marker="o", ms=3,
                    label=label)  # fmt: skip
            ax.fill_between(x, comparison[f"fraction_{side}_ci_low"][:, k],
                            comparison[f"fraction_{side}_ci_high"][:, k], color=colour,
                            alpha=0.2, lw=0)  # fmt: skip
        ax.set_title(name)
        ax.set_xticks(x, list(sequence))
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel("fraction of frames")
    axes[0].legend(fontsize=8)
    difference = comparison.get("dssp_difference")
    fig.suptitle("DSSP class per residue" + ("" if difference is None else
                                            f" (difference {difference:.3f})"), fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def backmap_run(traj, frames_csv, topology_path, reference_npz, run_json, settings: dict,
                forcefield_files: list, outputs: dict, reference_dssp=None,
                seed: int = 0) -> dict:  # fmt: skip
    """Backmap the chosen frames of one CG run: backmapped.pdb (the models that passed) and
    backmapped.json (every frame chosen: its replica and step, RMSD to the folded structure,
    Cα shift, bond range, energy and problem). With the protein's `reference_dssp`
    (rule reference_structures), also its states' structures and DSSP profile
    (gallery.model_structures)."""
    from openmm import app

    from ..analysis import inputs
    from ..analysis.reference import load_reference_npz

    topology = inputs.load_topology(topology_path)
    ensemble, _, _ = inputs.load_cg_run(traj, frames_csv, topology,
                                        settings["cg_burnin_fraction"], run_json)  # fmt: skip
    ref = load_reference_npz(reference_npz)
    forcefield = app.ForceField(*forcefield_files)
    summary = backmap_frames(ensemble, ref, topology, settings, forcefield, outputs)
    if reference_dssp is not None:
        model_structures(ensemble, ref, reference_dssp, topology, settings, seed, forcefield,
                         outputs)  # fmt: skip
    return summary


def backmap_frames(ensemble, ref: dict, topology, settings: dict, forcefield,
                   outputs: dict) -> dict:  # fmt: skip
    from ..analysis import structure
    from .backmap import chosen_frames
    from .states import superposed

    pieces = [np.asarray(p) for p in ensemble.pieces] or [np.empty((0, topology.n_atoms, 3))]
    pos = np.concatenate(pieces)
    replica = np.repeat(ensemble.replicas or [0], [len(p) for p in pieces])
    folded = np.asarray(ref["reference_structure"])
    rmsd = structure.rmsd_to(pos, folded, topology) if len(pos) else np.empty(0)
    sequence = sequence_of(topology)
    kept, record = [], []
    with tempfile.TemporaryDirectory() as work:
        for frame in chosen_frames(rmsd, settings["backmap_frames"]):
            on_folded = superposed(pos[frame], folded, topology)  # the report overlays them
            model = backmap(on_folded, sequence, forcefield, Path(work))
            record.append({"frame": frame, "replica": int(replica[frame]),
                           "rmsd_to_folded_A": float(rmsd[frame]), "ca_shift_A": model.ca_shift_A,
                           "bond_range_A": list(model.bond_range_A),
                           "energy_kj_per_mol": model.energy_kj, "passed": model.passed,
                           "problem": model.problem})  # fmt: skip
            if model.passed:
                kept.append(model)
            else:
                log.warning("frame %d not backmapped: %s", frame, model.problem)
    write_models(kept, outputs["pdb"])
    summary = {"frames": record, "models_written": len(kept)}
    with atomic_path(outputs["json"]) as tmp:
        tmp.write_text(json.dumps(summary, indent=1) + "\n")
    return summary
