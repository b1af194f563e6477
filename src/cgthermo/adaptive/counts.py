"""Count-based adaptive sampling: where the next epoch of short trajectories restarts.

After each epoch every frame so far is featurized and clustered; the next epoch restarts
from frames of the least-visited clusters, a cluster drawn with probability ∝ 1/count and a
frame drawn uniformly inside it (the count-based scheme of adaptive MD samplers). Unvisited
regions cannot be chosen, so the scheme spreads the data over what it has seen and pushes
at its edges; the equilibrium is recovered afterwards by a reversible MSM over all
trajectories, never by counting frames.
"""

import numpy as np

from ..errors import CgthermoError


def restart_weights(counts) -> np.ndarray:
    """Probability of each cluster as a restart: ∝ 1/count over the visited clusters."""
    counts = np.asarray(counts, dtype=np.float64)
    weights = np.where(counts > 0, 1.0 / np.maximum(counts, 1.0), 0.0)
    if weights.sum() == 0:
        raise CgthermoError("no frame to restart from", "run the first epoch first")
    return weights / weights.sum()


def restart_probabilities(frame_cluster, candidates=None) -> np.ndarray:
    """Each cluster's probability of being a restart: `restart_weights` of its frame count
    (every frame counts) over the clusters holding a `candidate` frame (a mask over the
    frames, default every frame: those a run can be restarted from)."""
    frame_cluster = np.asarray(frame_cluster, dtype=np.int64)
    counts = np.bincount(frame_cluster)
    if candidates is None:
        return restart_weights(counts)
    restartable = np.bincount(frame_cluster[np.asarray(candidates, bool)], minlength=len(counts)) > 0
    return restart_weights(np.where(restartable, counts, 0))


def choose_restarts(frame_cluster, n_restarts: int, rng: np.random.Generator,
                    candidates=None) -> tuple:  # fmt: skip
    """(frame indices, their clusters) of `n_restarts` restarts: a cluster by
    `restart_probabilities`, then one of its candidate frames uniformly."""
    frame_cluster = np.asarray(frame_cluster, dtype=np.int64)
    candidates = np.ones(len(frame_cluster), bool) if candidates is None else np.asarray(candidates, bool)
    weights = restart_probabilities(frame_cluster, candidates)
    clusters = rng.choice(len(weights), size=n_restarts, p=weights)
    frames = np.array([rng.choice(np.flatnonzero((frame_cluster == c) & candidates)) for c in clusters],
                      dtype=np.int64)  # fmt: skip
    return frames, clusters
