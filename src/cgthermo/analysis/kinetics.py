"""TICA fitted on all-atom data, k-means microstates, implied timescales and MSM frame weights.

The fitted TICA is kept as plain arrays (`TicaModel`) so CG data are projected with the
reference fit, never a refit; `project` reproduces pyemma's own transform.
"""

import gc
from dataclasses import dataclass

import numpy as np

from ..errors import CgthermoError


def _quiet_pyemma():
    """pyemma without progress bars and without its deprecation notices (deeptime is its heir)."""
    import warnings

    import pyemma

    pyemma.config.show_progress_bars = False
    warnings.filterwarnings("ignore", message=r"Call to deprecated function")
    return pyemma


@dataclass(frozen=True)
class TicaModel:
    mean: np.ndarray  # (features,)
    eigenvectors: np.ndarray  # (features, features), kinetic-map scaled columns
    eigenvalues: np.ndarray  # (features,)
    timescales: np.ndarray  # (features,) in lag units × lag (frames)
    dim: int
    lag: int

    def as_arrays(self, prefix: str = "tica_") -> dict:
        return {
            f"{prefix}mean": self.mean,
            f"{prefix}eigenvectors": self.eigenvectors,
            f"{prefix}eigenvalues": self.eigenvalues,
            f"{prefix}timescales": self.timescales,
            f"{prefix}dim": np.int64(self.dim),
            f"{prefix}lag": np.int64(self.lag),
        }

    @classmethod
    def from_arrays(cls, arrays, prefix: str = "tica_") -> "TicaModel":
        return cls(
            mean=np.asarray(arrays[f"{prefix}mean"]),
            eigenvectors=np.asarray(arrays[f"{prefix}eigenvectors"]),
            eigenvalues=np.asarray(arrays[f"{prefix}eigenvalues"]),
            timescales=np.asarray(arrays[f"{prefix}timescales"]),
            dim=int(arrays[f"{prefix}dim"]),
            lag=int(arrays[f"{prefix}lag"]),
        )


MOMENT_BYTES = 1 << 29  # what TICA's running covariances may hold, before it merges them
UNCOLLECTED_BYTES = 1 << 28  # fitted feature arrays left for the garbage collector at most


def moment_copies(n_features: int) -> int:
    """How many partial covariance estimates TICA keeps before merging (pyemma's ncov_max).

    pyemma keeps about log2(blocks) of them, each three features × features float64
    matrices: 0.2 GB at 80 beads' 3,003 features. Up to `MOMENT_BYTES` the merging is
    pyemma's own (a small protein's fit does not depend on the cap); above it at least two
    are kept.
    """
    return max(2, MOMENT_BYTES // (24 * int(n_features) ** 2))


def fit_tica(feature_pieces, lag: int, dim: int):
    """Fit TICA on feature arrays (any iterable: whole pieces, or the lag-overlapping blocks
    of `fit_tica_streamed`), one `partial_fit` each, each a time-contiguous stretch.

    Returns the pyemma estimator and its `TicaModel`; arrays not longer than the lag are skipped.
    """
    pyemma = _quiet_pyemma()
    tica, longest, uncollected = None, 0, 0
    for features in feature_pieces:
        longest = max(longest, len(features))
        if len(features) <= lag:
            continue
        if tica is None:
            tica = pyemma.coordinates.tica(
                lag=lag, dim=min(dim, features.shape[1]), kinetic_map=True,
                ncov_max=moment_copies(features.shape[1]),
            )  # fmt: skip
        tica.partial_fit(features)
        # each call leaves its array in a reference cycle of pyemma's data source, which
        # Python's collector, counting objects rather than bytes, would free only much later
        uncollected += features.nbytes
        if uncollected > UNCOLLECTED_BYTES:
            gc.collect()
            uncollected = 0
    if tica is None:
        raise CgthermoError(
            f"TICA lag {lag} frames is not shorter than the longest all-atom trajectory "
            f"({longest} frames)",
            "lower analysis.tica_lag or simulate longer",
        )
    model = TicaModel(
        mean=np.array(tica.mean, dtype=np.float64),
        eigenvectors=np.array(tica.eigenvectors),
        eigenvalues=np.array(tica.eigenvalues),
        timescales=np.array(tica.timescales),
        dim=int(tica.dimension()),
        lag=int(lag),
    )
    return tica, model


def project(model: TicaModel, features) -> np.ndarray:
    """TICA coordinates (frames, dim) of `features` with the stored reference fit."""
    centred = np.asarray(features) - model.mean
    return np.dot(centred, model.eigenvectors[:, 0 : model.dim]).astype(np.float32)


def fit_tica_streamed(pieces, pairs, topology, lag: int, dim: int):
    """`fit_tica` on the pair distances of position pieces, computed a block at a time: the
    blocks overlap by the lag, so the fit sees exactly the lagged pairs of whole pieces."""
    from .features import distance_blocks

    windows = (d for piece in pieces for _, d in distance_blocks(piece, pairs, topology, lag))
    return fit_tica(windows, lag, dim)


def project_piece(model: TicaModel, piece, pairs, topology) -> np.ndarray:
    """TICA coordinates of every frame of a position piece, a bounded block at a time."""
    from .features import distance_blocks

    blocks = [project(model, d) for _, d in distance_blocks(piece, pairs, topology)]
    return np.concatenate(blocks) if blocks else np.empty((0, model.dim), np.float32)


def kmeans_stride(n_frames: int, max_frames: int) -> int:
    """Every how many frames k-means takes one to place its centres (1 up to `max_frames`)."""
    return max(1, -(-int(n_frames) // int(max_frames)))


def cluster(tica_pieces, n_clusters: int, seed: int, stride: int = 1):
    """k-means microstates in TICA space: (centres, discrete trajectories).

    The centres come from every `stride`-th frame (`kmeans_stride`); every frame is then
    assigned to its nearest centre.

    Single-threaded on purpose: with n_jobs > 1 pyemma's k-means gives different centres
    for the same seed and data, so a rerun moved the reference structure; one thread
    took 1.5 s on 46 400 random 4-dimensional frames (the demo's size), two 1.8 s.
    """
    pyemma = _quiet_pyemma()
    k = min(n_clusters, sum(len(range(0, len(p), int(stride))) for p in tica_pieces))
    km = pyemma.coordinates.cluster_kmeans(
        [np.ascontiguousarray(p) for p in tica_pieces],
        k=k,
        max_iter=50,
        fixed_seed=int(seed),
        n_jobs=1,
        stride=int(stride),
    )
    with np.errstate(invalid="ignore"):  # pyemma pre-fills its integer output with NaN
        dtrajs = [np.asarray(d, dtype=np.int64) for d in km.dtrajs]
    return np.array(km.clustercenters), dtrajs


def default_its_lags(msm_lag: int, longest: int) -> list[int]:
    """Roughly log-spaced lags up to 3× the MSM lag, each shorter than the longest trajectory."""
    top = max(3 * msm_lag, 2)
    lags = np.unique(np.round(np.geomspace(1, top, num=8)).astype(int))
    lags = sorted(set(lags.tolist()) | {msm_lag})
    return [lag for lag in lags if lag < longest]


def implied_timescales(dtrajs, lags, nits: int = 4):
    """Implied timescales (frames) of reversible MSMs at each lag: (lags, timescales (lags, nits)).

    One pyemma MSM per lag; pyemma's own `its` helper fails on numpy 2 (it uses np.NAN).
    Missing timescales (fewer active states than nits + 1) are NaN.
    """
    lags = [int(lag) for lag in lags]
    table = np.full((len(lags), nits), np.nan)
    for row, lag in enumerate(lags):
        ts = np.asarray(estimate_msm(dtrajs, lag).timescales())[:nits]
        table[row, : len(ts)] = ts
    return np.asarray(lags), table


def estimate_msm(dtrajs, lag: int):
    pyemma = _quiet_pyemma()
    longest = max(len(d) for d in dtrajs)
    if lag >= longest:
        raise CgthermoError(
            f"MSM lag {lag} frames is not shorter than the longest all-atom trajectory "
            f"({longest} frames)",
            "lower analysis.msm_lag or simulate longer",
        )
    return pyemma.msm.estimate_markov_model(dtrajs, lag=lag, reversible=True)


def state_stationary(msm, n_states: int) -> np.ndarray:
    """Stationary probability of every microstate; 0 outside the largest connected set."""
    pi = np.zeros(n_states)
    pi[np.asarray(msm.active_set)] = np.asarray(msm.stationary_distribution)
    return pi


def frame_weights(dtrajs, state_pi) -> list:
    """Per-frame weight = π(state) / frames in state, so the weights of a state sum to π(state)."""
    all_states = np.concatenate(dtrajs)
    counts = np.bincount(all_states, minlength=len(state_pi)).astype(np.float64)
    per_frame = np.divide(state_pi, counts, out=np.zeros_like(state_pi), where=counts > 0)
    return [per_frame[d] for d in dtrajs]
