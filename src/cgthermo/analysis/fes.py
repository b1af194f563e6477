"""Histogram free-energy surfaces F = −kB T ln p (kcal/mol) on bins shared by all models.

p is the (weighted) probability per bin; unvisited bins have F = NaN. The bins are fixed
once from the all-atom TICA range widened by a margin, so every model lands on the same grid;
probability that falls outside the grid is counted as `outside` (it still normalises p).
"""

from dataclasses import dataclass

import numpy as np

from ..units import kT_kcal


@dataclass(frozen=True)
class Grid:
    x_edges: np.ndarray
    y_edges: np.ndarray

    @property
    def x_centres(self):
        return 0.5 * (self.x_edges[1:] + self.x_edges[:-1])

    @property
    def y_centres(self):
        return 0.5 * (self.y_edges[1:] + self.y_edges[:-1])


def edges_with_margin(values, n_bins: int, margin: float) -> np.ndarray:
    lo, hi = float(np.min(values)), float(np.max(values))
    width = hi - lo if hi > lo else 1.0
    return np.linspace(lo - margin * width, hi + margin * width, n_bins + 1)


def grid_from_reference(tics, n_bins: int, margin: float) -> Grid:
    """Bins on TIC1/TIC2 from the all-atom range, widened by `margin` × range on each side."""
    tics = np.asarray(tics)
    return Grid(
        edges_with_margin(tics[:, 0], n_bins, margin), edges_with_margin(tics[:, 1], n_bins, margin)
    )


def probabilities_2d(tics, grid: Grid, weights=None):
    """Probability per 2D bin (sums to 1 − outside) and the probability outside the grid."""
    tics = np.asarray(tics)
    w = np.ones(len(tics)) if weights is None else np.asarray(weights, dtype=np.float64)
    total = w.sum()
    hist, _, _ = np.histogram2d(
        tics[:, 0], tics[:, 1], bins=(grid.x_edges, grid.y_edges), weights=w
    )
    p = hist / total
    return p, float(max(0.0, 1.0 - p.sum()))


def probabilities_1d(values, edges, weights=None):
    values = np.asarray(values)
    w = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=np.float64)
    hist, _ = np.histogram(values, bins=edges, weights=w)
    p = hist / w.sum()
    return p, float(max(0.0, 1.0 - p.sum()))


def free_energy(p, temperature_K: float) -> np.ndarray:
    """F = −kB T ln p in kcal/mol, shifted so its minimum is 0; NaN where p = 0."""
    p = np.asarray(p, dtype=np.float64)
    f = np.full(p.shape, np.nan)
    seen = p > 0
    f[seen] = -kT_kcal(temperature_K) * np.log(p[seen])
    if seen.any():
        f -= np.nanmin(f)
    return f
