"""The interval machinery: calibrated coverage on data with a known answer, paired verdicts,
the md_emulation score, and metrics left undefined when their support is too thin."""

import logging

import numpy as np
import pytest

from cgthermo.analysis import bootstrap, emulation, fes
from cgthermo.analysis.compare import warn_undefined

T = 340.0
REPETITIONS, RESAMPLES = 300, 200


def grouped_fraction(rng, units: int, frames: int, p: float, spread: float = 0.15):
    """Per-unit (folded frames, frames) of replicas whose own folded probability scatters
    around p: frames within a replica are correlated, replicas independent."""
    own = np.clip(rng.normal(p, spread, units), 0.01, 0.99)
    return rng.binomial(frames, own).astype(float), np.full(units, float(frames))


def interval_of_difference(rng, a, b):
    """95 % interval of fraction(a) − fraction(b), units of each resampled independently."""
    ma = bootstrap.multiplicities(rng, RESAMPLES, len(a[0]))
    mb = bootstrap.multiplicities(rng, RESAMPLES, len(b[0]))
    diff = (ma @ a[0]) / (ma @ a[1]) - (mb @ b[0]) / (mb @ b[1])
    low, high, _ = bootstrap.percentile_interval(diff)
    return low, high


@pytest.mark.parametrize("p_a, p_b", [(0.3, 0.3), (0.45, 0.3)])
def test_intervals_cover_the_true_difference_95_percent_of_the_time(p_a, p_b):
    """Same distribution (true difference 0) and a known difference of 0.15: the 95 %
    interval of the difference holds the truth in 88–99 % of 300 repetitions."""
    rng = np.random.default_rng(2024)
    hits = 0
    for _ in range(REPETITIONS):
        a = grouped_fraction(rng, 24, 50, p_a)
        b = grouped_fraction(rng, 24, 50, p_b)
        low, high = interval_of_difference(rng, a, b)
        hits += low <= p_a - p_b <= high
    assert 0.88 <= hits / REPETITIONS <= 0.99


@pytest.mark.parametrize("p_a, p_b", [(0.3, 0.3), (0.45, 0.3)])
def test_at_the_demo_replica_counts_the_expanded_interval_covers(p_a, p_b):
    """8 all-atom against 32 CG replicas, as the demo resamples: the percentile interval
    misses the truth more often than 5 % (it covered 0.90 here), the expanded one covers it
    within 0.92–0.995 of 300 repetitions and is never narrower."""
    rng = np.random.default_rng(2025)
    hits = {"percentile": 0, "expanded": 0}
    resamples = bootstrap.least_resamples(8, "expanded")
    for _ in range(REPETITIONS):
        a, b = grouped_fraction(rng, 8, 50, p_a), grouped_fraction(rng, 32, 50, p_b)
        ma = bootstrap.multiplicities(rng, resamples, 8)
        mb = bootstrap.multiplicities(rng, resamples, 32)
        diff = (ma @ a[0]) / (ma @ a[1]) - (mb @ b[0]) / (mb @ b[1])
        widths = {}
        for method in hits:
            low, high, _ = bootstrap.interval(diff, 8, method)
            hits[method] += low <= p_a - p_b <= high
            widths[method] = high - low
        assert widths["expanded"] >= widths["percentile"]
    assert hits["percentile"] / REPETITIONS < 0.94
    assert 0.92 <= hits["expanded"] / REPETITIONS <= 0.995


def test_expanded_level_is_the_t_interval_width_for_few_units():
    """At 8 units the expanded interval asks for 98.9 % of the resamples; with many units it
    tends to the nominal 95 %."""
    assert bootstrap.expanded_level(8) == pytest.approx(0.9885, abs=1e-3)
    assert bootstrap.expanded_level(10_000) == pytest.approx(0.95, abs=1e-3)
    assert bootstrap.least_resamples(8, "expanded") * (1 - bootstrap.expanded_level(8)) / 2 >= 5


def test_frame_bootstrap_would_undercover_correlated_data():
    """Why whole replicas are the units: resampling frames ignores the replica-level scatter
    and its intervals miss the truth far more often than 5 %."""
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(100):
        folded, frames = grouped_fraction(rng, 24, 50, 0.3)
        flags = np.concatenate([np.r_[np.ones(int(f)), np.zeros(int(n - f))]
                                for f, n in zip(folded, frames, strict=True)])
        m = bootstrap.multiplicities(rng, RESAMPLES, len(flags))
        low, high, _ = bootstrap.percentile_interval((m @ flags) / len(flags))
        hits += low <= 0.3 <= high
    assert hits / 100 < 0.8


@pytest.mark.parametrize("low, high, word", [(-0.3, -0.1, "better"), (0.1, 0.2, "worse"),
                                             (-0.1, 0.2, "not resolved"),
                                             (np.nan, np.nan, "not resolved")])
def test_verdict_reads_the_interval_of_the_difference(low, high, word):
    assert bootstrap.verdict(low, high) == word


def test_interval_needs_most_resamples_defined():
    samples = np.r_[np.linspace(0, 1, 90), np.full(10, np.nan)]
    low, high, defined = bootstrap.percentile_interval(samples)
    assert np.isnan(low) and np.isnan(high) and defined == pytest.approx(0.9)
    low, high, _ = bootstrap.percentile_interval(np.linspace(0, 1, 1001))
    assert low == pytest.approx(0.025) and high == pytest.approx(0.975)


def gaussian_mixture(rng, n, centres, weights):
    which = rng.choice(len(centres), size=n, p=weights)
    return np.asarray(centres)[which] + rng.normal(0, 0.6, (n, 2))


def md_score(ref_tics, model_tics):
    grid = emulation.grid_for_reference(ref_tics, np.ones(len(ref_tics)))
    ref = grid.expected_counts(ref_tics, np.ones(len(ref_tics)))
    model = grid.expected_counts(model_tics, np.ones(len(model_tics)))
    return emulation.score(ref, model, T, grid)


def test_md_emulation_of_two_samples_of_one_distribution_is_small():
    rng = np.random.default_rng(3)
    centres, weights = [[0, 0], [3, 1]], [0.7, 0.3]
    same = md_score(gaussian_mixture(rng, 20000, centres, weights),
                    gaussian_mixture(rng, 20000, centres, weights))
    assert same["mae"] < 0.1 and same["coverage"] > 0.95
    # swapping the basins' populations moves F by ±kT ln(0.7/0.3) = ±0.57 kcal/mol in the
    # two basins; with as many bins in each, the spread of ΔF about its mean is that much
    swapped = md_score(gaussian_mixture(rng, 20000, centres, weights),
                       gaussian_mixture(rng, 20000, centres, weights[::-1]))
    assert swapped["mae"] > 3 * same["mae"]
    assert swapped["rmse"] == pytest.approx(0.0019872 * T * np.log(0.7 / 0.3), rel=0.2)


def test_md_emulation_counts_missed_basins_in_coverage():
    rng = np.random.default_rng(4)
    ref = gaussian_mixture(rng, 20000, [[0, 0], [4, 0]], [0.5, 0.5])
    one_basin = gaussian_mixture(rng, 20000, [[0, 0]], [1.0])
    assert md_score(ref, one_basin)["coverage"] < 0.7


def test_expected_noised_histogram_is_the_mean_of_drawn_noise():
    """The expected counts equal what the benchmark's 10⁶ noised draws give, within their noise."""
    rng = np.random.default_rng(5)
    tics = gaussian_mixture(rng, 500, [[0, 0], [2, 2]], [0.5, 0.5])
    grid = emulation.grid_for_reference(tics, np.ones(len(tics)))
    expected = grid.expected_counts(tics, np.ones(len(tics)))
    z = grid.standardise(tics)
    drawn = z[rng.integers(0, len(z), 10**6)] + emulation.SIGMA * rng.standard_normal((10**6, 2))
    hist = np.histogram2d(drawn[:, 0], drawn[:, 1], bins=(grid.x_edges, grid.y_edges))[0]
    scaled = expected / expected.sum() * hist.sum()
    big = scaled > 100
    assert np.all(np.abs(hist[big] - scaled[big]) < 5 * np.sqrt(scaled[big]) + 1)


def one_bin_units(n_units=4):
    """Reference and model that share only one populated bin, as tiny test runs can."""
    grid = fes.Grid(np.linspace(0, 10, 11), np.linspace(0, 10, 11))
    rng = np.random.default_rng(1)
    ref_tics = np.column_stack([rng.uniform(0, 10, 400), rng.uniform(0, 10, 400)])
    cg_tics = np.full((40, 2), 5.5) + rng.uniform(-0.4, 0.4, (40, 2))
    md_grid = emulation.grid_for_reference(ref_tics, np.ones(400))

    def units(tics):
        n = len(tics)
        unit = np.arange(n) % n_units
        zeros = np.zeros(n)
        return bootstrap.unit_stats(unit, n_units, tics, np.ones(n), grid, md_grid, zeros,
                                    zeros, zeros, zeros, np.zeros((n_units, 1)))

    return units(ref_tics), units(cg_tics), md_grid


def test_surfaces_sharing_one_bin_have_no_fes_error(caplog):
    """One shared bin would align to an error of exactly 0: the metric is undefined instead,
    and the log carries one WARNING per cause naming the protein and model."""
    ref, cg, md_grid = one_bin_units()
    values, why = bootstrap.evaluate(ref.totals(np.ones(4)), cg.totals(np.ones(4)), T, md_grid,
                                     bootstrap.Support())
    assert values["fes_shared_bins"] == 1
    assert "fes_mae_weighted_kcal" not in values and "fes_mae_kcal" not in values
    assert "share 1 bins" in why["fes_mae_weighted_kcal"]
    assert "folded" in why["dG_fold_aa_kcal"]  # no frame below the folded RMSD: ΔG undefined
    row = bootstrap.as_row(values, why)
    assert np.isnan(row[bootstrap.METRICS.index("fes_mae_weighted_kcal")])
    with caplog.at_level(logging.WARNING, logger="cgthermo.analysis"):
        warn_undefined("trp_cage", "specific", why)
    lines = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(line.startswith("trp_cage/specific: fes_mae_kcal, fes_mae_weighted_kcal")
               for line in lines)
    assert all("\n" not in line for line in lines)


def test_basic_interval_removes_the_resampling_bias_of_a_divergence():
    """JS between two histograms of n draws from one distribution is biased upward by about
    (bins − 1)/(4 n ln 2) bits; resamples that repeat draws add that bias again. Over many
    data sets the basic interval covers the JS of the infinite-data limit (0 here, clipped
    interval low at 0 counts as covering) far more often than the percentile interval, whose
    resamples sit above the point value."""
    from cgthermo.analysis import bootstrap as bs
    from cgthermo.analysis.metrics import js_divergence

    rng = np.random.default_rng(12)
    units, per_unit, bins = 12, 40, 8
    percentile_low, basic_low = [], []
    for _ in range(60):
        a = rng.multinomial(per_unit, np.full(bins, 1 / bins), size=units).astype(float)
        b = rng.multinomial(per_unit, np.full(bins, 1 / bins), size=units).astype(float)
        point = js_divergence(a.sum(0), b.sum(0))
        ma, mb = bs.multiplicities(rng, 200, units), bs.multiplicities(rng, 200, units)
        samples = np.array([js_divergence(x @ a, y @ b) for x, y in zip(ma, mb, strict=True)])
        percentile_low.append(bs.percentile_interval(samples)[0])
        basic_low.append(bs.basic_interval(point, samples)[0])
        assert np.median(samples) > point  # the resampling bias the basic interval removes
    assert np.mean(np.array(basic_low) <= 0) > 0.9
    assert np.mean(np.array(percentile_low) <= 0) < 0.1
