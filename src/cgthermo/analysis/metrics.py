"""Numbers that compare a CG free-energy surface with the all-atom one.

FES error: over bins populated in both, the CG surface is shifted by the offset that
minimises the squared difference weighted by the all-atom probability (the weighted mean
of F_aa − F_cg), then |ΔF| is averaged over the shared bins with equal weight
(`fes_mae`) and weighted by the all-atom probability (`fes_mae_weighted`). The
minimum-aligned variant (both minima at 0, no further shift) is reported beside them.

The noise floor of both numbers is what the all-atom data say about themselves: the same
metrics between two halves of the all-atom replicas. A model closer to the reference than
that floor cannot be told apart from more all-atom data.

Neither FES error charges a model for all-atom probability in bins it never visits:
`aa_mass_shared` is the all-atom probability the two errors are measured on, and the JS
divergence is the number that counts the rest.
"""

import numpy as np

from ..units import kT_kcal
from . import fes


def shared_bins(f_ref, f_model):
    return np.isfinite(f_ref) & np.isfinite(f_model)


def aligned_difference(f_ref, f_model, p_ref):
    """(F_model + offset − F_ref on shared bins, offset); offset = p_ref-weighted mean of F_ref − F_model."""
    diff, _, offset = _aligned(f_ref, f_model, p_ref)
    return diff, offset


def _aligned(f_ref, f_model, p_ref):
    """(aligned difference, p_ref, offset), each on the shared bins in mask order."""
    shared = shared_bins(f_ref, f_model)
    if not shared.any():
        return np.array([]), np.array([]), float("nan")
    w = np.asarray(p_ref)[shared]
    gap = f_ref[shared] - f_model[shared]
    offset = float(np.average(gap, weights=w)) if w.sum() > 0 else float(gap.mean())
    return f_model[shared] + offset - f_ref[shared], w, offset


def fes_mae(f_ref, f_model, p_ref) -> float:
    """Mean |F_model − F_ref| (kcal/mol) over shared bins after the weighted-mean alignment."""
    diff, _ = aligned_difference(f_ref, f_model, p_ref)
    return float(np.mean(np.abs(diff))) if diff.size else float("nan")


def fes_mae_weighted(f_ref, f_model, p_ref) -> float:
    """Σ p_ref |F_model − F_ref| / Σ p_ref over shared bins, after the same alignment (kcal/mol).

    The error at an all-atom frame, averaged over the all-atom frames. Equal weights give a
    bin with three frames on each side, whose F is mostly counting noise, as much say as a
    basin; they favour a model that visits fewer bins (JS divergence and coverage, not this
    number, count the bins a model misses).
    """
    diff, w, _ = _aligned(f_ref, f_model, p_ref)
    if not diff.size:
        return float("nan")
    return float(np.average(np.abs(diff), weights=w)) if w.sum() > 0 else float(np.mean(np.abs(diff)))


def fes_mae_min_aligned(f_ref, f_model) -> float:
    """Mean |F_model − F_ref| over shared bins with both surfaces at minimum 0."""
    shared = shared_bins(f_ref, f_model)
    if not shared.any():
        return float("nan")
    return float(np.mean(np.abs(f_model[shared] - f_ref[shared])))


def js_divergence(p, q, p_outside: float = 0.0, q_outside: float = 0.0) -> float:
    """Jensen–Shannon divergence in bits (0 … 1) of two binned distributions.

    Probability outside the grid enters as one extra bin, so a model that leaves the
    all-atom region is penalised rather than renormalised away.
    """
    p = np.append(np.ravel(p), p_outside).astype(np.float64)
    q = np.append(np.ravel(q), q_outside).astype(np.float64)
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def kl(a, b):
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / b[nz])))

    return max(0.0, 0.5 * kl(p, m) + 0.5 * kl(q, m))


def aa_mass_shared(f_ref, f_model, p_ref) -> float:
    """All-atom probability in the shared bins: the part of the reference the FES errors see.

    Both FES errors skip the bins the model never visits, so a model that misses a basin
    is not charged for it there; this number says how much of the all-atom ensemble that is.
    """
    return float(np.asarray(p_ref)[shared_bins(f_ref, f_model)].sum())


def coverage(p_ref, p_model) -> float:
    """Fraction of bins populated in the all-atom reference that the CG model visits."""
    ref = np.asarray(p_ref) > 0
    return float(np.sum(ref & (np.asarray(p_model) > 0)) / max(1, ref.sum()))


def folding_dg_kcal(folded_fraction: float, temperature_K: float) -> float:
    """ΔG_fold = −kT ln(f / (1 − f)) in kcal/mol of a folded fraction f; NaN where f is 0 or 1
    (or not a number). The one definition the model analysis and predictions share."""
    f = float(folded_fraction)
    if not 0.0 < f < 1.0:
        return float("nan")
    return float(-kT_kcal(temperature_K) * np.log(f / (1.0 - f)))


def split_halves(frame_replica) -> tuple:
    """Frame masks of two halves of the data: even and odd replicas, or the two time halves
    when all frames come from one replica."""
    frame_replica = np.asarray(frame_replica)
    ids = np.unique(frame_replica)
    if len(ids) > 1:
        first = np.isin(frame_replica, ids[0::2])
    else:
        first = np.arange(len(frame_replica)) < len(frame_replica) // 2
    return first, ~first


def reference_split_floor(tics, frame_replica, weights, grid, temperature_K: float) -> dict:
    """FES MAE and JS divergence between two halves of the all-atom data on the reference grid."""
    return split_floor(tics, frame_replica, weights, grid, temperature_K, "aa_split")


def split_floor(tics, frame_replica, weights, grid, temperature_K: float, label: str) -> dict:
    """FES MAE and JS divergence between two halves of one ensemble (keys name `label`)."""
    return halves_metrics(tics, split_halves(frame_replica), weights, grid, temperature_K, label)


def time_halves(piece_lengths) -> tuple:
    """Frame masks of the earlier and the later half of every trajectory piece."""
    earlier = np.concatenate([np.arange(n) < n // 2 for n in piece_lengths])
    return earlier, ~earlier


def halves_metrics(tics, masks, weights, grid, temperature_K: float, label: str) -> dict:
    """FES MAE and JS divergence between the frames of two masks on the reference grid."""
    tics, weights = np.asarray(tics), np.asarray(weights, dtype=np.float64)
    halves = []
    for mask in masks:
        p, out = fes.probabilities_2d(tics[mask], grid, weights[mask])
        halves.append((p, out, fes.free_energy(p, temperature_K)))
    (pa, oa, fa), (pb, ob, fb) = halves
    return {
        f"fes_mae_{label}_kcal": fes_mae(fa, fb, pa),
        f"fes_mae_weighted_{label}_kcal": fes_mae_weighted(fa, fb, pa),
        f"js_divergence_{label}": js_divergence(pa, pb, oa, ob),
    }
