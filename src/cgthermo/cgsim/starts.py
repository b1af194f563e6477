"""Starting structures and velocities: all-atom frames (spread out or drawn from the
ensemble) and Maxwell–Boltzmann velocities."""

from dataclasses import dataclass

import numpy as np

from ..errors import CgthermoError

# k-centers looks at most this many frames (evenly strided); enough to spread 32 starts
CANDIDATE_FRAMES = 5000


@dataclass
class StartData:
    """Cα frames (Å) of one protein with their all-atom replica ids and bead types."""

    pos: np.ndarray
    replica: np.ndarray
    types: np.ndarray
    temperature_K: float | None = None


def load_start_data(dataset_h5, protein: str) -> StartData:
    """Read one protein's group of `cg/dataset.h5` (docs/artifacts.md)."""
    import h5py

    with h5py.File(dataset_h5, "r") as fh:
        if protein not in fh:
            raise CgthermoError(
                f"{dataset_h5} has no group '{protein}' (groups: {sorted(fh)})",
                "rerun cg_map for this protein",
            )
        group = fh[protein]
        pos = np.asarray(group["pos"], dtype=np.float64)
        types = np.asarray(group["types"], dtype=np.int64)
        replica = (np.asarray(group["replica"], dtype=np.int64) if "replica" in group
                   else np.zeros(len(pos), dtype=np.int64))
        temperature = group.attrs.get("temperature_K")
    if len(pos) == 0:
        raise CgthermoError(f"{dataset_h5} group '{protein}' has no frames",
                            "rerun aa_md and cg_map to produce data")
    return StartData(pos, replica, types,
                     None if temperature is None else float(temperature))


def distance_features(pos: np.ndarray) -> np.ndarray:
    """All Cα–Cα pair distances per frame: (frames, pairs)."""
    i, j = np.triu_indices(pos.shape[1], k=1)
    return np.linalg.norm(pos[:, i] - pos[:, j], axis=-1)


def kcenter_frames(pos: np.ndarray, replica: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Indices of `count` frames spread over conformations by greedy k-centers.

    Each new center is the frame farthest (in Cα distance space) from all chosen
    ones, taken from an all-atom replica not used yet while one is left, so starts
    come from distinct trajectories. With fewer frames than `count` the chosen
    frames repeat (the replicas still differ by their velocities and noise).
    """
    rng = np.random.default_rng(seed)
    candidates = np.unique(np.linspace(0, len(pos) - 1, min(len(pos), CANDIDATE_FRAMES))
                           .round().astype(np.int64))
    features = distance_features(pos[candidates])
    chosen = [int(rng.integers(len(candidates)))]
    nearest = np.linalg.norm(features - features[chosen[0]], axis=1)
    used_replicas = {replica[candidates[chosen[0]]]}
    while len(chosen) < min(count, len(candidates)):
        score = nearest.copy()
        score[chosen] = -np.inf
        fresh = ~np.isin(replica[candidates], list(used_replicas))
        if fresh.any():
            score[~fresh] = -np.inf
        pick = int(np.argmax(score))
        chosen.append(pick)
        used_replicas.add(replica[candidates[pick]])
        nearest = np.minimum(nearest, np.linalg.norm(features - features[pick], axis=1))
    picks = candidates[chosen]
    return np.resize(picks, count)


def equilibrium_frames(n_frames: int, count: int, seed: int) -> np.ndarray:
    """Indices of `count` frames drawn uniformly from the all-atom frames (without
    replacement while there are enough): the starts follow the all-atom ensemble.

    Runs shorter than the model's relaxation time keep the imprint of their starts. From
    k-centers, which spread frames evenly over conformations, rare states (saddles, the
    edges of the map) get as many starts as basins, and a short run reports them as too
    populated; starts drawn from the ensemble carry no such bias, and a model whose
    equilibrium differs from all-atom still drifts away from them.
    """
    rng = np.random.default_rng(seed)
    picks = rng.choice(n_frames, size=count, replace=count > n_frames)
    return np.sort(picks).astype(np.int64)


def given_frames(n_frames: int, count: int) -> np.ndarray:
    """Indices of starts given one per replica (a prediction's starts.h5): frame k for replica
    k, cycling when there are fewer frames than replicas, evenly spread when there are more."""
    if n_frames >= count:
        return np.linspace(0, n_frames - 1, count).round().astype(np.int64)
    return np.resize(np.arange(n_frames, dtype=np.int64), count)


START_METHODS = ("kcenters", "equilibrium")  # the config's; "given" is the predictions'


def start_frames(data: StartData, count: int, seed: int, method: str) -> np.ndarray:
    """Indices into `data.pos` of the replicas' starting frames, by `cgsim.starts`."""
    if method == "given":
        return given_frames(len(data.pos), count)
    if method == "kcenters":
        return kcenter_frames(data.pos, data.replica, count, seed)
    if method == "equilibrium":
        return equilibrium_frames(len(data.pos), count, seed)
    raise CgthermoError(f"unknown cgsim.starts '{method}'",
                        f"use one of {', '.join(START_METHODS)}")
