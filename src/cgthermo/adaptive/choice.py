"""One adaptive epoch's restart choice (aa/adaptive/epoch{E}.json).

Every frame of the trajectories so far is featurized as the analysis featurizes the
all-atom data (Cα pair distances at least `min_sequence_separation` apart in sequence,
projected on TICA), clustered by k-means, and the epoch's restarts are drawn by
`counts.choose_restarts` among the frames whose full state was kept.
"""

import json
import logging

import h5py
import numpy as np

from ..aa import h5 as aa_h5
from ..analysis import features, kinetics
from ..cgmap.mapping import read_atom_table
from ..io import atomic_path
from ..units import nm_to_angstrom
from .counts import choose_restarts, restart_probabilities

log = logging.getLogger(__name__)
BLOCK_FRAMES = 4096


def ca_distances(path, pairs) -> np.ndarray:
    """(frames, pairs) Cα–Cα distances in Å of one all-atom trajectory, read a block at a time."""
    with h5py.File(path, "r") as fh:
        ca = read_atom_table(fh).ca_columns()
        data = fh["positions"]
        blocks = [pair_lengths(nm_to_angstrom(data[s : s + BLOCK_FRAMES][:, ca]), pairs)
                  for s in range(0, data.shape[0], BLOCK_FRAMES)]  # fmt: skip
    return np.concatenate(blocks) if blocks else np.zeros((0, len(pairs)), np.float32)


def pair_lengths(pos, pairs) -> np.ndarray:
    return np.linalg.norm(pos[:, pairs[:, 0]] - pos[:, pairs[:, 1]], axis=-1).astype(np.float32)


def frame_clusters(paths, settings: dict, seed: int) -> list[np.ndarray]:
    """The cluster of every frame of every trajectory (one array per trajectory)."""
    with h5py.File(paths[0], "r") as fh:
        n_beads = len(read_atom_table(fh).ca_columns())
    pairs = features.distance_pairs(n_beads, settings["min_sequence_separation"])
    pieces = [ca_distances(path, pairs) for path in paths]
    _, tica = kinetics.fit_tica(pieces, settings["tica_lag"], settings["tica_dim"])
    tics = [kinetics.project(tica, piece) for piece in pieces]
    _, dtrajs = kinetics.cluster(tics, settings["clusters"], seed=seed)
    return dtrajs


def choose_epoch(paths, epoch: int, settings: dict, seed: int) -> dict:
    """The restarts of `epoch` from the trajectories `paths` (replicas 0… of the earlier
    epochs): for each new trajectory its parent frame, the cluster it was drawn from, that
    cluster's frame count and the probability the cluster had."""
    dtrajs = frame_clusters(paths, settings, seed)
    frame_cluster = np.concatenate(dtrajs)
    owner = np.repeat(np.arange(len(paths)), [len(d) for d in dtrajs])
    local = np.concatenate([np.arange(len(d)) for d in dtrajs])
    candidates = np.zeros(len(frame_cluster), bool)
    offsets = np.cumsum([0] + [len(d) for d in dtrajs])
    for k, path in enumerate(paths):
        candidates[offsets[k] + aa_h5.restart_frames(path)] = True
    rng = np.random.default_rng(seed)
    chosen, clusters = choose_restarts(frame_cluster, settings["trajectories"], rng, candidates)
    counts = np.bincount(frame_cluster)
    probability = restart_probabilities(frame_cluster, candidates)
    first = epoch * settings["trajectories"]
    restarts = []
    for k, (frame, cluster) in enumerate(zip(chosen, clusters, strict=True)):
        parent = int(owner[frame])
        with h5py.File(paths[parent], "r") as fh:
            time_ps = float(fh["time"][local[frame]])
        restarts.append({"replica": first + k, "parent_replica": parent,
                         "parent_frame": int(local[frame]), "parent_time_ps": time_ps,
                         "cluster": int(cluster), "cluster_frames": int(counts[cluster]),
                         "cluster_probability": float(probability[cluster])})  # fmt: skip
    log.info("epoch %d: %d frames in %d clusters; restarts from clusters %s (frames %s)",
             epoch, len(frame_cluster), len(counts), [r["cluster"] for r in restarts],
             [r["cluster_frames"] for r in restarts])  # fmt: skip
    return {
        "epoch": int(epoch),
        "seed": int(seed),
        "trajectories_so_far": len(paths),
        "frames_so_far": int(len(frame_cluster)),
        "cluster_frames": counts.tolist(),
        "settings": {key: settings[key] for key in sorted(settings) if key != "epochs"},
        "restarts": restarts,
    }


def write_choice(choice: dict, path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(choice, indent=1) + "\n")
