"""Folding and unfolding rates of the same two states in both models, for a dynamical
speed-up that compares like with like.

The states are cores on the Cα RMSD to the folded structure, the same one in every readout:
folded below `analysis.folded_rmsd`, unfolded at UNFOLDED_FACTOR times that or beyond. A frame
between the cores belongs to the core its trajectory visited last, so a recrossing of one
boundary is no transition (core-set counting). In every contiguous piece of trajectory the
folding rate is the count of unfolded → folded transitions over the time spent committed to
the unfolded core, and the unfolding rate the reverse; the mean first-passage times are
their inverses and the two-state relaxation time 1 / (k_fold + k_unfold). Counting needs no
lag time and no MSM, so it compares the all-atom and CG runs on their own frame spacings.
Its 95 % interval resamples whole replicas with the main bootstrap's multiplicities; a rate
resting on fewer than MIN_TRANSITIONS transitions, on the point value or on a resample, is
not measured.

The folding acceleration is the all-atom relaxation time over the CG model's: how much
faster per simulated ns the model folds and unfolds. On all-atom data from adaptive
sampling the counts come from trajectories started away from equilibrium; the rates assume
each core equilibrates locally before it is left.
"""

import numpy as np

from ..units import FS_PER_PS
from . import bootstrap

UNFOLDED_FACTOR = 2.0
MIN_TRANSITIONS = 5
# columns of a unit's counts
FOLDINGS, UNFOLDINGS, FRAMES_UNFOLDED, FRAMES_FOLDED = range(4)


def committed_core(rmsd: np.ndarray, folded_rmsd: float) -> np.ndarray:
    """Per frame: 1 folded, 0 unfolded (the core visited last), −1 before any core."""
    rmsd = np.asarray(rmsd, dtype=np.float64)
    core = np.full(len(rmsd), -1, dtype=np.int64)
    core[rmsd < folded_rmsd] = 1
    core[rmsd >= UNFOLDED_FACTOR * folded_rmsd] = 0
    last = np.maximum.accumulate(np.where(core >= 0, np.arange(len(core)), -1))
    return np.where(last >= 0, core[np.maximum(last, 0)], -1)


def piece_counts(rmsd: np.ndarray, folded_rmsd: float) -> np.ndarray:
    """[foldings, unfoldings, frame intervals committed unfolded, ... folded] of one piece."""
    core = committed_core(rmsd, folded_rmsd)
    before, after = core[:-1], core[1:]
    return np.array([np.sum((before == 0) & (after == 1)), np.sum((before == 1) & (after == 0)),
                     np.sum(before == 0), np.sum(before == 1)], dtype=np.float64)  # fmt: skip


def unit_counts(rmsd_pieces, units, n_units: int, folded_rmsd: float) -> np.ndarray:
    """(units, 4) counts summed over each replica's pieces."""
    counts = np.zeros((n_units, 4))
    for piece, unit in zip(rmsd_pieces, units, strict=True):
        counts[int(unit)] += piece_counts(piece, folded_rmsd)
    return counts


def rates_per_ps(totals: np.ndarray, frame_ps: float) -> tuple[np.ndarray, np.ndarray]:
    """(k_fold, k_unfold) per ps of summed counts (rows); NaN below MIN_TRANSITIONS."""
    totals = np.atleast_2d(totals)
    with np.errstate(divide="ignore", invalid="ignore"):
        k_fold = totals[:, FOLDINGS] / (totals[:, FRAMES_UNFOLDED] * frame_ps)
        k_unfold = totals[:, UNFOLDINGS] / (totals[:, FRAMES_FOLDED] * frame_ps)
    k_fold[totals[:, FOLDINGS] < MIN_TRANSITIONS] = np.nan
    k_unfold[totals[:, UNFOLDINGS] < MIN_TRANSITIONS] = np.nan
    return k_fold, k_unfold


def side_times(counts: np.ndarray, multiplicities, frame_ps: float) -> dict:
    """Point values (first row) and resamples (the rest) of one model's times, in ps."""
    rows = np.vstack([np.ones(len(counts)), np.atleast_2d(multiplicities)]) @ counts
    k_fold, k_unfold = rates_per_ps(rows, frame_ps)
    return {"transitions": rows[0, FOLDINGS] + rows[0, UNFOLDINGS],
            "folding_mfpt": 1.0 / k_fold, "unfolding_mfpt": 1.0 / k_unfold,
            "relaxation": 1.0 / (k_fold + k_unfold)}


def interval(name: str, values: np.ndarray) -> dict:
    """`name` from its point value (first) and resamples (the rest)."""
    return bootstrap.named_interval(name, values[0], values[1:])


def too_few(side: str, transitions: float) -> str:
    return (f"the {side} run folds or unfolds fewer than {MIN_TRANSITIONS} times in a "
            f"direction ({int(transitions)} transitions between the cores in all): its rate is "
            "not measured")


def folding_acceleration(ref_rmsd_pieces, ref_units, n_ref: int, ref_frame_fs: float,
                         cg_rmsd_pieces, cg_units, n_cg: int, cg_frame_fs: float,
                         folded_rmsd: float, m_ref, m_cg) -> tuple[dict, dict, dict]:
    """(metrics with intervals, reasons for the undefined ones, resampled accelerations)."""
    sides = {}
    for side, pieces, units, n, frame_fs, m in (
            ("aa", ref_rmsd_pieces, ref_units, n_ref, ref_frame_fs, m_ref),
            ("cg", cg_rmsd_pieces, cg_units, n_cg, cg_frame_fs, m_cg)):  # fmt: skip
        counts = unit_counts(pieces, units, n, folded_rmsd)
        sides[side] = side_times(counts, np.empty((0, n)) if m is None else m,
                                 frame_fs / FS_PER_PS)  # fmt: skip
    values, why = {}, {}
    for side, words in (("aa", "all-atom"), ("cg", "CG")):
        times = sides[side]
        values[f"folding_transitions_{side}"] = int(times["transitions"])
        for quantity in ("folding_mfpt", "unfolding_mfpt", "relaxation"):
            values.update(interval(f"{quantity}_{side}_ps", times[quantity]))
            if not np.isfinite(times[quantity][0]):
                why[f"{quantity}_{side}_ps"] = too_few(words, times["transitions"])
    ratio = sides["aa"]["relaxation"] / sides["cg"]["relaxation"]
    values.update(interval("folding_acceleration", ratio))
    if not np.isfinite(ratio[0]):
        why["folding_acceleration"] = (why.get("relaxation_aa_ps")
                                       or why.get("relaxation_cg_ps"))  # fmt: skip
    return values, why, {"folding_acceleration": ratio[1:]}


def undefined(reason: str) -> tuple[dict, dict, dict]:
    """Every folding metric undefined for one reason (a run without dynamics)."""
    names = [f"{q}_{s}_ps" for s in ("aa", "cg")
             for q in ("folding_mfpt", "unfolding_mfpt", "relaxation")]
    names += ["folding_acceleration", "effective_folding_acceleration"]
    values = {k: float("nan") for n in names for k in (n, f"{n}_ci_low", f"{n}_ci_high")}
    return values, {name: reason for name in names}, {}
