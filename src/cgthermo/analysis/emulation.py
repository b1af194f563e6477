"""The md_emulation free-energy score of the BioEmu benchmarks, on our TIC1/TIC2 projection.

As the benchmark defines it (bioemu-benchmarks, `eval/md_emulation/state_metric.py`,
`DistributionMetrics2D.score_nonzero`):

- both projections are resampled with replacement, each point displaced by Gaussian noise
  of σ = 0.25 (projection units, i.e. unit variance per axis), 10⁶ points each;
- 50 × 50 bins span the noised reference's range, each axis widened by half a bin of
  (max − min) / 51;
- densities are normalised over the grid (sample points outside it are dropped);
  F = −kT ln(density), in kcal/mol;
- the bins kept are those whose reference F lies less than 4 kcal/mol above its minimum
  and which the sample populates at all;
- MAE = mean |ΔF − median ΔF| (the offset minimising the absolute error) and RMSE =
  standard deviation of ΔF (the offset minimising the squared error), ΔF = F_model − F_ref;
- coverage = kept bins / reference bins under the cutoff.

Two choices follow from our data: the axes are TIC1 and TIC2 of our all-atom TICA, each
divided by its all-atom standard deviation, as the benchmark's projections have unit
variance; and kT is that of the protein's temperature rather than the benchmark's 300 K.
The noised histograms are computed as their expectation (each frame spreads its weight
over the bins by the Gaussian's integral over each bin) rather than by drawing 10⁶
points, which is the benchmark's histogram without its Monte-Carlo noise; a bin that 10⁶
drawn points would reach less than once on average counts as empty, as it would there.
benchmarks/md_emulation_agreement.py runs the benchmark's own code on the same
projections and compares.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from ..units import kT_kcal

SIGMA = 0.25
N_RESAMPLE = 1_000_000
BINS = 50
ENERGY_CUTOFF_KCAL = 4.0
PADDING = 0.5
SEED = 42


@dataclass(frozen=True)
class MdGrid:
    """The benchmark's grid on standardised TIC1/TIC2 (`scale` divides our projection)."""

    x_edges: np.ndarray
    y_edges: np.ndarray
    centre: np.ndarray
    scale: np.ndarray

    @property
    def shape(self) -> tuple:
        return len(self.x_edges) - 1, len(self.y_edges) - 1

    def standardise(self, tics) -> np.ndarray:
        return (np.asarray(tics, dtype=np.float64)[:, :2] - self.centre) / self.scale

    def expected_counts(self, tics, weights, chunk: int = 20000) -> np.ndarray:
        """Σ w × P(frame + noise in bin), the mean of the benchmark's noised histogram."""
        z = self.standardise(tics)
        w = np.asarray(weights, dtype=np.float64)
        counts = np.zeros(self.shape)
        for start in range(0, len(z), chunk):
            part = slice(start, start + chunk)
            px = np.diff(ndtr((self.x_edges[None, :] - z[part, :1]) / SIGMA), axis=1)
            py = np.diff(ndtr((self.y_edges[None, :] - z[part, 1:2]) / SIGMA), axis=1)
            counts += (px * w[part, None]).T @ py
        return counts


def benchmark_edges(values: np.ndarray) -> np.ndarray:
    """The benchmark's bin edges of one axis of the noised reference."""
    low, high = float(values.min()), float(values.max())
    delta = (high - low) / (BINS + 1)
    return np.linspace(low - PADDING * delta, high + PADDING * delta, BINS + 1)


def grid_for_reference(tics, weights) -> MdGrid:
    """The grid the benchmark would lay on the reference: its noised resample's range."""
    tics = np.asarray(tics, dtype=np.float64)[:, :2]
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    centre = w @ tics
    scale = np.sqrt(w @ (tics - centre) ** 2)
    scale = np.where(scale > 0, scale, 1.0)
    z = (tics - centre) / scale
    rng = np.random.default_rng(SEED)
    picks = rng.choice(len(z), size=N_RESAMPLE, p=w)
    noised = z[picks] + SIGMA * rng.standard_normal((N_RESAMPLE, 2))
    return MdGrid(benchmark_edges(noised[:, 0]), benchmark_edges(noised[:, 1]), centre, scale)


def free_energy(counts: np.ndarray, temperature_K: float, grid: MdGrid) -> np.ndarray:
    """F (kcal/mol) of grid-normalised densities; NaN where 10⁶ points would find nothing."""
    inside = counts.sum()
    f = np.full(counts.shape, np.nan)
    if inside <= 0:
        return f
    fraction = counts / inside
    area = np.diff(grid.x_edges)[:, None] * np.diff(grid.y_edges)[None, :]
    seen = fraction * N_RESAMPLE >= 1.0
    f[seen] = -kT_kcal(temperature_K) * np.log(fraction[seen] / area[seen])
    return f


def score(ref_counts, model_counts, temperature_K: float, grid: MdGrid) -> dict:
    """MAE and RMSE (kcal/mol) after the optimal offsets, coverage and the bins compared."""
    f_ref = free_energy(ref_counts, temperature_K, grid)
    f_model = free_energy(model_counts, temperature_K, grid)
    if not np.isfinite(f_ref).any():
        return {"mae": float("nan"), "rmse": float("nan"), "coverage": float("nan"),
                "common_bins": 0}
    low = np.isfinite(f_ref) & (f_ref - np.nanmin(f_ref) < ENERGY_CUTOFF_KCAL)
    common = low & np.isfinite(f_model)
    diff = f_model[common] - f_ref[common]
    result = {"coverage": float(common.sum() / max(1, low.sum())),
              "common_bins": int(common.sum())}
    if diff.size:
        result["mae"] = float(np.mean(np.abs(diff - np.median(diff))))
        result["rmse"] = float(np.std(diff))
    else:
        result["mae"] = result["rmse"] = float("nan")
    return result
