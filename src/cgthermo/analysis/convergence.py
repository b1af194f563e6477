"""How settled a model's own CG ensemble is, with 95 % intervals.

Two divergences of the model against itself on the reference grid:
- `js_divergence_cg_split`: even against odd CG replicas, how far another set of runs of
  the same length would move the surface;
- `js_divergence_cg_drift`: the earlier against the later half of every replica, whether
  the runs still move away from their starts.

Each replica is reduced to its 2-D histograms (the bin counts plus one count for frames
outside the grid) of its earlier and its later half, so a bootstrap resample is a sum over
replicas. The drift is resampled over all replicas with the multiplicities of the model's
main bootstrap; the split resamples the even and the odd replicas each among themselves.

The intervals are basic (reverse-percentile) bootstrap intervals, clipped at 0. A JS
divergence between two histograms grows as their effective sample shrinks, and a resample
that repeats replicas has fewer independent ones: the resampled values sit above the point
value by that bias (on the demo's runs the point value lay below the whole percentile
interval). The basic interval moves them back by it. Two runs with different numbers of
replicas carry different biases, so their difference is read with the same correction
(scripts/compare_runs.py).
"""

import numpy as np

from . import bootstrap, metrics

SPLIT_STREAM = 1  # the split draws from its own stream of the analysis seed


def half_histograms(tics, frame_unit, earlier, n_units: int, grid) -> np.ndarray:
    """(units, 2, bins + 1) counts of each unit's earlier and later frames; last: outside."""
    tics, frame_unit, earlier = np.asarray(tics), np.asarray(frame_unit), np.asarray(earlier)
    bins = (len(grid.x_edges) - 1) * (len(grid.y_edges) - 1)
    counts = np.zeros((n_units, 2, bins + 1))
    for unit in range(n_units):
        for half, mask in enumerate((earlier, ~earlier)):
            t = tics[(frame_unit == unit) & mask]
            if len(t):
                inside = np.histogram2d(t[:, 0], t[:, 1], bins=(grid.x_edges, grid.y_edges))[0]
                counts[unit, half, :-1] = inside.ravel()
                counts[unit, half, -1] = len(t) - inside.sum()
    return counts


def js_of_counts(a: np.ndarray, b: np.ndarray) -> float:
    """JS divergence (bits) of two count vectors whose last entry counts frames off the grid."""
    if a.sum() <= 0 or b.sum() <= 0:
        return float("nan")
    return metrics.js_divergence(a[:-1], b[:-1], a[-1], b[-1])


def drift_values(counts: np.ndarray, multiplicity: np.ndarray) -> np.ndarray:
    """Drift JS of every multiplicity row (resample) over the units."""
    totals = np.tensordot(np.atleast_2d(multiplicity), counts, axes=1)
    return np.array([js_of_counts(t[0], t[1]) for t in totals])


def split_groups(present_units) -> tuple[np.ndarray, np.ndarray]:
    """The even and the odd of the units that hold frames, as `metrics.split_halves` splits."""
    units = np.unique(present_units)
    return units[0::2], units[1::2]


def split_values(unit_counts: np.ndarray, groups, multiplicities) -> np.ndarray:
    """Split JS for every pair of multiplicity rows (one over each group's units)."""
    first, second = groups
    return np.array([js_of_counts(a @ unit_counts[first], b @ unit_counts[second])
                     for a, b in zip(*multiplicities, strict=True)])


def convergence_metrics(tics, frame_unit, earlier, n_units: int, grid, m_cg: np.ndarray,
                        seed: int) -> tuple[dict, dict]:
    """({js_divergence_cg_drift/_split with _ci_low/_ci_high}, {name: resampled values})."""
    counts = half_histograms(tics, frame_unit, earlier, n_units, grid)
    whole = counts.sum(axis=1)
    groups = split_groups(frame_unit)
    resamples = {"js_divergence_cg_drift": drift_values(counts, m_cg)}
    point = {"js_divergence_cg_drift": float(drift_values(counts, np.ones(n_units))[0])}
    if len(groups[1]):
        rng = np.random.default_rng([int(seed), SPLIT_STREAM])
        draws = [bootstrap.multiplicities(rng, len(m_cg), len(g)) for g in groups]
        resamples["js_divergence_cg_split"] = split_values(whole, groups, draws)
        point["js_divergence_cg_split"] = js_of_counts(whole[groups[0]].sum(0),
                                                       whole[groups[1]].sum(0))
    else:  # one replica: no split
        resamples["js_divergence_cg_split"] = np.full(len(m_cg), np.nan)
        point["js_divergence_cg_split"] = float("nan")
    values = {}
    for name, value in point.items():
        low, high, _ = bootstrap.basic_interval(value, resamples[name])
        values.update({name: value, f"{name}_ci_low": max(low, 0.0),
                       f"{name}_ci_high": max(high, 0.0)})
    return values, resamples
