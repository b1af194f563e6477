"""Every model metric with a 95 % interval: a bootstrap over independent units.

The units are whole replicas: the all-atom replicas on the reference side and the CG
replicas on the model side, resampled with replacement together, so each resample
rebuilds both surfaces from a new draw of both sets of runs. Frames inside one replica
are correlated in time; whole replicas are the independent draws, and resampling them
carries that correlation into the interval.

Held fixed over the resamples: the TICA projection, the FES grid, uniform all-atom frame
weights and the reference structure. These define what is measured; estimating them again
per resample would make each draw use another coordinate system. MSM frame weights are
estimated again on every resample (msm_units): held fixed, they leave the MSM's own
noise out of the intervals. The interval covers the sampling noise of the runs, not the
choice of coordinates.

Each unit is reduced to sufficient statistics (its weight, 2-D and 1-D histograms,
noised histogram of the md_emulation metric, weighted sums of RMSD, Q, Rg, folded
indicator and pair distances); a resample is a multiplicity vector over the units, and
its totals are one matrix product. The metrics of one resample come from the totals
alone, so the point estimate (every multiplicity 1) and the resamples share one code path.
"""

import logging
from dataclasses import dataclass

import numpy as np

from . import emulation, fes, metrics

log = logging.getLogger(__name__)

LEVEL = 0.95
# a metric whose resamples are undefined more often than this has no interval
MAX_UNDEFINED_RESAMPLES = 0.05
SUMS = ("rmsd", "q", "rg", "folded")
# the metrics the paired verdict against the prior-only baseline is given for (lower is
# better), one per observable (docs/metrics.md, "Verdicts"): the free-energy landscape at the
# all-atom frames, the probability one side puts where the other has none, and a structural
# observable outside the TICA coordinates. md_emulation (the same landscape on the BioEmu
# benchmarks' grid) and the ΔG error (a transform of the folded fraction) are reported, not judged.
HEADLINE = ("fes_mae_weighted_kcal", "js_divergence", "folded_fraction_abs_error")
# the columns of network j's share of the CG replicas (train.networks > 1)
NETWORK_PREFIX = "network{}_"


@dataclass(frozen=True)
class Support:
    """The least a metric needs to mean something (config `analysis`)."""

    min_shared_bins: int = 10
    min_shared_bins_1d: int = 5
    min_aa_mass_shared: float = 0.2

    @classmethod
    def from_settings(cls, settings: dict) -> "Support":
        return cls(int(settings["min_shared_bins"]), int(settings["min_shared_bins_1d"]),
                   float(settings["min_aa_mass_shared"]))


UNIT_FIELDS = ("weight", "hist2d", "hist1d", "noised", "sums", "pair_sums")


@dataclass
class UnitStats:
    """Per-unit sufficient statistics, the first axis the unit."""

    weight: np.ndarray
    hist2d: np.ndarray
    hist1d: np.ndarray
    noised: np.ndarray
    sums: np.ndarray  # (units, len(SUMS))
    pair_sums: np.ndarray

    @property
    def n_units(self) -> int:
        return len(self.weight)

    def totals(self, multiplicity: np.ndarray) -> "UnitStats":
        """The statistics of the data in which unit u appears multiplicity[u] times."""
        m = np.asarray(multiplicity, dtype=np.float64)
        return UnitStats(*(np.tensordot(m, getattr(self, name), axes=1) for name in UNIT_FIELDS))


def unit_stats(unit, n_units: int, tics, weights, grid: fes.Grid, md_grid, rmsd, q, rg,
               folded, pair_sums) -> UnitStats:
    """Reduce per-frame data (frames indexed by `unit`) to per-unit statistics."""
    unit = np.asarray(unit)
    w = np.asarray(weights, dtype=np.float64)
    per_frame = np.stack([rmsd, q, rg, folded], axis=1).astype(np.float64)
    shape2, shape1 = (len(grid.x_edges) - 1, len(grid.y_edges) - 1), len(grid.x_edges) - 1
    stats = UnitStats(np.zeros(n_units), np.zeros((n_units, *shape2)), np.zeros((n_units, shape1)),
                      np.zeros((n_units, *md_grid.shape)), np.zeros((n_units, len(SUMS))),
                      np.asarray(pair_sums, dtype=np.float64))
    order = np.argsort(unit, kind="stable")  # each unit's frames together, in their order
    bounds = np.searchsorted(unit[order], np.arange(n_units + 1))
    for u in range(n_units):
        mine = order[bounds[u] : bounds[u + 1]]
        if not len(mine):
            continue
        t, wu = tics[mine], w[mine]
        stats.weight[u] = wu.sum()
        stats.hist2d[u] = np.histogram2d(t[:, 0], t[:, 1], bins=(grid.x_edges, grid.y_edges),
                                         weights=wu)[0]
        stats.hist1d[u] = np.histogram(t[:, 0], bins=grid.x_edges, weights=wu)[0]
        stats.noised[u] = md_grid.expected_counts(t[:, :2], wu)
        stats.sums[u] = wu @ per_frame[mine]
    return stats


class Undefined(dict):
    """metric → why it is undefined; `check` records a reason when a condition fails."""

    def check(self, ok: bool, keys, reason: str) -> bool:
        if not ok:
            for key in keys:
                self.setdefault(key, reason)
        return ok


FES_KEYS = ("fes_mae_kcal", "fes_mae_weighted_kcal", "fes_mae_min_aligned_kcal",
            "fes_offset_kcal")


def evaluate(ref: UnitStats, cg: UnitStats, temperature_K: float, md_grid,
             support: Support) -> tuple[dict, Undefined]:
    """All model metrics from reference and model totals: (values, reasons for the undefined)."""
    why = Undefined()
    values = {}
    if not why.check(ref.weight > 0 and cg.weight > 0, ["*"], "no frames"):
        return values, why
    T = float(temperature_K)
    p_ref, p_cg = ref.hist2d / ref.weight, cg.hist2d / cg.weight
    out_ref, out_cg = max(0.0, 1.0 - p_ref.sum()), max(0.0, 1.0 - p_cg.sum())
    f_ref, f_cg = fes.free_energy(p_ref, T), fes.free_energy(p_cg, T)
    shared = int(metrics.shared_bins(f_ref, f_cg).sum())
    mass = metrics.aa_mass_shared(f_ref, f_cg, p_ref)
    values.update(fes_shared_bins=shared, aa_mass_shared=mass,
                  coverage=metrics.coverage(p_ref, p_cg), cg_outside_grid_fraction=out_cg)
    enough = why.check(shared >= support.min_shared_bins, FES_KEYS,
                       f"the surfaces share {shared} bins, fewer than analysis.min_shared_bins "
                       f"= {support.min_shared_bins}")
    enough = enough and why.check(
        mass >= support.min_aa_mass_shared, FES_KEYS,
        f"the shared bins hold {mass:.2f} of the all-atom probability, less than "
        f"analysis.min_aa_mass_shared = {support.min_aa_mass_shared}")
    if enough:
        _, offset = metrics.aligned_difference(f_ref, f_cg, p_ref)
        values.update(fes_mae_kcal=metrics.fes_mae(f_ref, f_cg, p_ref),
                      fes_mae_weighted_kcal=metrics.fes_mae_weighted(f_ref, f_cg, p_ref),
                      fes_mae_min_aligned_kcal=metrics.fes_mae_min_aligned(f_ref, f_cg),
                      fes_offset_kcal=offset)
    populated = int((p_ref > 0).sum())
    if why.check(populated >= support.min_shared_bins, ["js_divergence"],
                 f"the all-atom surface populates {populated} bins, fewer than "
                 f"analysis.min_shared_bins = {support.min_shared_bins}"):
        values["js_divergence"] = metrics.js_divergence(p_ref, p_cg, out_ref, out_cg)
    p1_ref, p1_cg = ref.hist1d / ref.weight, cg.hist1d / cg.weight
    f1_ref, f1_cg = fes.free_energy(p1_ref, T), fes.free_energy(p1_cg, T)
    shared1 = int(metrics.shared_bins(f1_ref, f1_cg).sum())
    if why.check(shared1 >= support.min_shared_bins_1d, ["fes1d_mae_kcal", "js_divergence_1d"],
                 f"the 1-D surfaces share {shared1} bins, fewer than "
                 f"analysis.min_shared_bins_1d = {support.min_shared_bins_1d}"):
        values["fes1d_mae_kcal"] = metrics.fes_mae(f1_ref, f1_cg, p1_ref)
        values["js_divergence_1d"] = metrics.js_divergence(
            p1_ref, p1_cg, max(0.0, 1 - p1_ref.sum()), max(0.0, 1 - p1_cg.sum()))
    emul = emulation.score(ref.noised, cg.noised, T, md_grid)
    values["md_emulation_coverage"] = emul["coverage"]
    if why.check(emul["common_bins"] >= support.min_shared_bins,
                 ["md_emulation_mae_kcal", "md_emulation_rmse_kcal"],
                 f"md_emulation compares {emul['common_bins']} bins, fewer than "
                 f"analysis.min_shared_bins = {support.min_shared_bins}"):
        values["md_emulation_mae_kcal"] = emul["mae"]
        values["md_emulation_rmse_kcal"] = emul["rmse"]
    values.update(structure_values(ref, cg, T, why))
    return values, why


def structure_values(ref: UnitStats, cg: UnitStats, T: float, why: Undefined) -> dict:
    mean_ref, mean_cg = ref.sums / ref.weight, cg.sums / cg.weight
    col = {name: i for i, name in enumerate(SUMS)}
    f_ref, f_cg = mean_ref[col["folded"]], mean_cg[col["folded"]]
    values = {
        "rmsd_mean_aa": mean_ref[col["rmsd"]], "rmsd_mean_cg": mean_cg[col["rmsd"]],
        "q_mean_aa": mean_ref[col["q"]], "q_mean_cg": mean_cg[col["q"]],
        "rg_mean_aa": mean_ref[col["rg"]], "rg_mean_cg": mean_cg[col["rg"]],
        "distance_mae_A": float(np.mean(np.abs(cg.pair_sums / cg.weight
                                               - ref.pair_sums / ref.weight))),
        "folded_fraction_aa": f_ref, "folded_fraction_cg": f_cg,
        "folded_fraction_abs_error": abs(f_cg - f_ref),
    }
    dg = {}
    for side, fraction in (("aa", f_ref), ("cg", f_cg)):
        if why.check(0.0 < fraction < 1.0, [f"dG_fold_{side}_kcal", "dG_fold_error_kcal",
                                            "dG_fold_abs_error_kcal"],
                     f"the {'all-atom' if side == 'aa' else 'CG'} frames are "
                     f"{'all' if fraction >= 1 else 'never'} folded"):
            dg[side] = metrics.folding_dg_kcal(fraction, T)
            values[f"dG_fold_{side}_kcal"] = dg[side]
    if len(dg) == 2:
        values["dG_fold_error_kcal"] = dg["cg"] - dg["aa"]
        values["dG_fold_abs_error_kcal"] = abs(dg["cg"] - dg["aa"])
    return values


METRICS = ("fes_mae_kcal", "fes_mae_weighted_kcal", "fes_mae_min_aligned_kcal",
           "fes_offset_kcal", "fes_shared_bins", "aa_mass_shared", "coverage",
           "cg_outside_grid_fraction", "js_divergence", "fes1d_mae_kcal", "js_divergence_1d",
           "md_emulation_mae_kcal", "md_emulation_rmse_kcal", "md_emulation_coverage",
           "rmsd_mean_aa", "rmsd_mean_cg", "q_mean_aa", "q_mean_cg", "rg_mean_aa",
           "rg_mean_cg", "distance_mae_A", "folded_fraction_aa", "folded_fraction_cg",
           "folded_fraction_abs_error", "dG_fold_aa_kcal", "dG_fold_cg_kcal",
           "dG_fold_error_kcal", "dG_fold_abs_error_kcal")
# numbers of the CG frames alone: all-atom weights cannot make them meaningless
MODEL_ONLY = ("cg_outside_grid_fraction", "rmsd_mean_cg", "q_mean_cg", "rg_mean_cg",
              "folded_fraction_cg", "dG_fold_cg_kcal")
# the model-side numbers that get an interval (the rest are counts or reference-only)
INTERVAL_METRICS = tuple(m for m in METRICS if m not in ("fes_shared_bins",))


def as_row(values: dict, why: Undefined) -> np.ndarray:
    """The metrics in METRICS order, NaN where undefined."""
    undefined_all = "*" in why
    return np.array([np.nan if undefined_all or key in why else float(values.get(key, np.nan))
                     for key in METRICS])


def multiplicities(rng: np.random.Generator, resamples: int, units: int) -> np.ndarray:
    """(resamples, units) counts of a draw of `units` units with replacement."""
    draws = rng.integers(0, units, size=(resamples, units))
    return np.stack([np.bincount(row, minlength=units) for row in draws])


def draw_resamples(seed: int, resamples: int, n_ref: int, n_cg: int) -> tuple:
    """The multiplicities of the reference and of the model units: the same for every model of
    a protein (one seed), so differences between models are paired resample by resample."""
    rng = np.random.default_rng(seed)
    return multiplicities(rng, resamples, n_ref), multiplicities(rng, resamples, n_cg)


def resampled_rows(ref: UnitStats, cg: UnitStats, temperature_K, md_grid, support,
                   m_ref: np.ndarray, m_cg: np.ndarray) -> np.ndarray:
    """(resamples, len(METRICS)) metric values of every resample."""
    return np.stack([as_row(*evaluate(ref.totals(a), cg.totals(b), temperature_K, md_grid,
                                      support))
                     for a, b in zip(m_ref, m_cg, strict=True)])


def percentile_interval(samples: np.ndarray, level: float = LEVEL) -> tuple:
    """(low, high, defined fraction) of the finite samples; (NaN, NaN, f) when too few are."""
    samples = np.asarray(samples, dtype=np.float64)
    finite = np.isfinite(samples)
    fraction = float(finite.mean()) if samples.size else 0.0
    if fraction < 1.0 - MAX_UNDEFINED_RESAMPLES:
        return float("nan"), float("nan"), fraction
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(samples[finite], [tail, 100.0 - tail])
    return float(low), float(high), fraction


def named_interval(name: str, point: float, resamples: np.ndarray) -> dict:
    """`name` with its percentile interval over `resamples` (`name_ci_low`, `name_ci_high`);
    no interval around an undefined point value."""
    low, high, _ = percentile_interval(resamples)
    if not np.isfinite(point):
        low = high = float("nan")
    return {name: float(point), f"{name}_ci_low": low, f"{name}_ci_high": high}


INTERVALS = ("percentile", "expanded")
# the fewest resamples an interval's tail below its lower end may rest on
MIN_TAIL_RESAMPLES = 5


def expanded_level(n_units: int, level: float = LEVEL) -> float:
    """The coverage to ask a percentile interval for so that, over `n_units` units, it is as
    wide as a Student-t interval with the bootstrap's own (n − 1)/n variance undone
    (Hesterberg's expanded percentile interval): 0.989 for 8 units at 95 %."""
    from scipy import stats

    if n_units < 2:
        return level
    z = np.sqrt(n_units / (n_units - 1)) * stats.t.ppf(0.5 + level / 2.0, n_units - 1)
    return float(1.0 - 2.0 * stats.norm.sf(z))


def interval(samples: np.ndarray, n_units: int, method: str = "percentile",
             level: float = LEVEL) -> tuple:  # fmt: skip
    """(low, high, defined fraction) at `level` by `method` (INTERVALS): the percentile
    interval, or the expanded one for few units (`n_units`, the fewer of a two-sample
    statistic's sides)."""
    if method == "expanded":
        level = expanded_level(n_units, level)
    return percentile_interval(samples, level)


def least_resamples(n_units: int, method: str, level: float = LEVEL) -> int:
    """The fewest resamples that leave MIN_TAIL_RESAMPLES beyond each end of the interval."""
    tail = (1.0 - (expanded_level(n_units, level) if method == "expanded" else level)) / 2.0
    return int(np.ceil(MIN_TAIL_RESAMPLES / tail))


def basic_interval(point: float, samples: np.ndarray, level: float = LEVEL) -> tuple:
    """(low, high, defined fraction): the basic (reverse-percentile) bootstrap interval
    [2θ̂ − q_high, 2θ̂ − q_low]. Where resamples that repeat units shift a statistic by a
    bias of their own (a divergence between histograms grows as their effective sample
    shrinks), this interval is moved back by that shift, where the percentile one is not."""
    q_low, q_high, fraction = percentile_interval(samples, level)
    return 2.0 * point - q_high, 2.0 * point - q_low, fraction


def verdict(low: float, high: float) -> str:
    """For a difference model − baseline of a lower-is-better metric."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not resolved"
    if high < 0:
        return "better"
    if low > 0:
        return "worse"
    return "not resolved"
