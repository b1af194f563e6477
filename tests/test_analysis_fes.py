"""Free-energy surfaces and comparison metrics against known answers."""

import numpy as np
import pytest
from scipy.stats import norm

from cgthermo.analysis import fes, metrics
from cgthermo.units import kT_kcal

T = 340.0
# two axis-aligned Gaussians: (weight, mean, sigma)
MIXTURE = [(0.6, (-1.0, 0.0), (0.5, 0.7)), (0.4, (1.5, 0.5), (0.6, 0.4))]


def sample_mixture(rng, n):
    comp = rng.choice(len(MIXTURE), size=n, p=[w for w, _, _ in MIXTURE])
    mean = np.array([MIXTURE[c][1] for c in comp])
    sigma = np.array([MIXTURE[c][2] for c in comp])
    return mean + sigma * rng.standard_normal((n, 2))


def bin_probability(grid):
    """Exact probability of each bin: per component, the product of 1D CDF differences."""
    p = np.zeros((len(grid.x_edges) - 1, len(grid.y_edges) - 1))
    for w, (mx, my), (sx, sy) in MIXTURE:
        px = np.diff(norm.cdf(grid.x_edges, mx, sx))
        py = np.diff(norm.cdf(grid.y_edges, my, sy))
        p += w * np.outer(px, py)
    return p


def test_fes_of_gaussian_mixture_matches_minus_kT_ln_p():
    rng = np.random.default_rng(11)
    samples = sample_mixture(rng, 200_000)
    grid = fes.Grid(np.linspace(-3.5, 4.0, 31), np.linspace(-2.5, 2.5, 31))
    p, outside = fes.probabilities_2d(samples, grid)
    f_est = fes.free_energy(p, T)
    exact = bin_probability(grid)
    f_true = -kT_kcal(T) * np.log(exact)
    f_true -= f_true.min()
    counts = p * len(samples)
    well = counts >= 100
    assert f_true[well].max() > 2.0  # the test spans more than 3 kT of the surface
    # a bin's count fluctuates by √n, so F by kT/√n; 5 standard errors plus the top bin's noise
    tolerance = 5 * kT_kcal(T) / np.sqrt(counts[well]) + 0.03
    assert np.all(np.abs(f_est[well] - f_true[well]) < tolerance)
    assert np.nanmin(f_est) == 0.0
    assert outside == pytest.approx(1.0 - exact.sum(), abs=2e-3)
    assert np.isnan(f_est[counts == 0]).all()


def test_fes_1d_matches_gaussian_well():
    rng = np.random.default_rng(5)
    x = rng.normal(0.0, 1.0, 100_000)
    edges = np.linspace(-3, 3, 25)
    p, _ = fes.probabilities_1d(x, edges)
    f = fes.free_energy(p, T)
    centres = 0.5 * (edges[1:] + edges[:-1])
    well = p * len(x) > 2000
    # F(x) − F(0) ≈ kT x²/2 for a unit Gaussian (bins narrow enough for 0.05 kcal/mol)
    expected = kT_kcal(T) * 0.5 * centres**2
    expected -= expected[well].min()
    assert np.max(np.abs(f[well] - expected[well])) < 0.06


def test_grid_spans_reference_with_margin():
    tics = np.array([[0.0, -1.0], [2.0, 3.0]])
    grid = fes.grid_from_reference(tics, 10, 0.1)
    assert grid.x_edges[0] == pytest.approx(-0.2) and grid.x_edges[-1] == pytest.approx(2.2)
    assert grid.y_edges[0] == pytest.approx(-1.4) and grid.y_edges[-1] == pytest.approx(3.4)


def surfaces(samples, grid, weights=None):
    p, out = fes.probabilities_2d(samples, grid, weights)
    return p, out, fes.free_energy(p, T)


def test_identical_data_give_zero_error_and_divergence():
    rng = np.random.default_rng(3)
    samples = sample_mixture(rng, 20_000)
    grid = fes.grid_from_reference(samples, 30, 0.1)
    p, out, f = surfaces(samples, grid)
    assert metrics.fes_mae(f, f, p) == 0.0
    assert metrics.fes_mae_min_aligned(f, f) == 0.0
    assert metrics.js_divergence(p, p, out, out) == pytest.approx(0.0, abs=1e-12)
    assert metrics.coverage(p, p) == 1.0


def test_error_and_divergence_grow_with_shift_along_tic1():
    rng = np.random.default_rng(4)
    ref = sample_mixture(rng, 50_000)
    grid = fes.grid_from_reference(ref, 30, 0.2)
    p_ref, out_ref, f_ref = surfaces(ref, grid)
    maes, jss = [], []
    for shift in (0.0, 0.2, 0.4, 0.8):
        moved = ref + np.array([shift, 0.0])
        p, out, f = surfaces(moved, grid)
        maes.append(metrics.fes_mae(f_ref, f, p_ref))
        jss.append(metrics.js_divergence(p_ref, p, out_ref, out))
    assert maes[0] == 0.0 and jss[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(maes) > 0), maes
    assert np.all(np.diff(jss) > 0), jss


def test_weighted_mean_alignment_removes_a_constant_offset():
    f_ref = np.array([[0.0, 1.0], [2.0, np.nan]])
    f_model = f_ref + 0.7
    p_ref = np.array([[0.5, 0.3], [0.2, 0.0]])
    diff, offset = metrics.aligned_difference(f_ref, f_model, p_ref)
    assert offset == pytest.approx(-0.7)
    assert np.allclose(diff, 0.0)
    assert metrics.fes_mae_min_aligned(f_ref, f_model) == pytest.approx(0.7)


def test_js_divergence_of_disjoint_distributions_is_one_bit():
    assert metrics.js_divergence(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)
    # mass outside the grid counts: all of the model outside is disjoint too
    assert metrics.js_divergence(np.array([1.0, 0.0]), np.zeros(2), 0.0, 1.0) == pytest.approx(1.0)


def test_folding_free_energy_known_answer():
    """A quarter folded is 1 : 3 folded to unfolded: ΔG = kT ln 3 (0.65 kcal/mol at 300 K)."""
    assert metrics.folding_dg_kcal(0.25, T) == pytest.approx(kT_kcal(T) * np.log(3.0))
    assert metrics.folding_dg_kcal(0.5, T) == pytest.approx(0.0)
    assert metrics.folding_dg_kcal(0.75, T) == pytest.approx(-metrics.folding_dg_kcal(0.25, T))
    assert all(np.isnan(metrics.folding_dg_kcal(f, T)) for f in (0.0, 1.0, float("nan")))


def test_split_floor_separates_converged_from_trapped_replicas():
    """Replicas that all sample the mixture give a low floor; replicas that each stay in one
    Gaussian (even ones in the first, odd ones in the second) give a JS near one bit."""
    rng = np.random.default_rng(8)
    lengths = [20_000] * 4
    frame_replica = np.repeat(np.arange(4), lengths)
    grid = fes.Grid(np.linspace(-3.5, 4.0, 26), np.linspace(-2.5, 2.5, 26))
    mixed = sample_mixture(rng, sum(lengths))
    weights = np.full(len(mixed), 1.0 / len(mixed))
    converged = metrics.reference_split_floor(mixed, frame_replica, weights, grid, T)
    trapped = []
    for replica in range(4):
        _, mean, sigma = MIXTURE[replica % 2]
        trapped.append(np.array(mean) + np.array(sigma) * rng.standard_normal((lengths[0], 2)))
    stuck = metrics.reference_split_floor(
        np.concatenate(trapped), frame_replica, weights, grid, T
    )
    assert converged["js_divergence_aa_split"] < 0.01
    # a bin with n counts carries kT/√n of noise; the mixture's populated bins hold ~100+
    assert converged["fes_mae_aa_split_kcal"] < 0.3
    assert stuck["js_divergence_aa_split"] > 0.8


def test_split_halves_keep_each_replica_whole():
    # replica 1 has a gap (two pieces): both stay in the same half
    first, second = metrics.split_halves([0, 0, 1, 1, 1, 2])
    assert first.tolist() == [True, True, False, False, False, True]
    assert (first ^ second).all()
    first, _ = metrics.split_halves([4, 4, 4, 4, 4])
    assert first.tolist() == [True, True, False, False, False]


def test_model_floor_splits_cg_replicas_not_pieces():
    """A CG replica cut in two by an explosion stays in one half: replicas 0 and 2 sample one
    Gaussian, replica 1 the other, so even vs odd replicas disagree completely. Splitting the
    four pieces instead would put the second Gaussian into one half together with the first
    and report a much smaller disagreement."""
    from cgthermo.analysis.compare import model_floor
    from cgthermo.analysis.inputs import Ensemble

    rng = np.random.default_rng(9)
    (_, mean_a, sigma_a), (_, mean_b, sigma_b) = MIXTURE
    pieces = [np.array(mean) + np.array(sigma) * rng.standard_normal((5000, 2))
              for mean, sigma in ((mean_a, sigma_a), (mean_a, sigma_a), (mean_b, sigma_b),
                                  (mean_a, sigma_a))]  # fmt: skip
    ensemble = Ensemble(pieces, "cg", replicas=[0, 0, 1, 2])
    ref = {"x_edges": np.linspace(-3.5, 4.0, 26), "y_edges": np.linspace(-2.5, 2.5, 26),
           "temperature_K": T}  # fmt: skip
    floor, _ = model_floor(ref, np.concatenate(pieces), ensemble)
    assert floor["js_divergence_cg_split"] > 0.8
    mixed, _ = model_floor(ref, np.concatenate(pieces), Ensemble(pieces, "cg", replicas=[0, 1, 2, 3]))
    assert mixed["js_divergence_cg_split"] < 0.5


def test_model_drift_compares_earlier_with_later_halves_of_each_replica():
    """Replicas that move from one Gaussian to the other halfway through drift (JS of their
    earlier against their later halves near 1), while each even/odd half of them holds the
    same mixture; replicas that sample the mixture throughout do not drift."""
    from cgthermo.analysis.compare import model_floor
    from cgthermo.analysis.inputs import Ensemble

    rng = np.random.default_rng(11)
    (_, mean_a, sigma_a), (_, mean_b, sigma_b) = MIXTURE

    def draw(mean, sigma, n):
        return np.array(mean) + np.array(sigma) * rng.standard_normal((n, 2))

    moving = [np.concatenate([draw(mean_a, sigma_a, 3000), draw(mean_b, sigma_b, 3000)])
              for _ in range(4)]
    mixed = [rng.permutation(piece) for piece in moving]
    ref = {"x_edges": np.linspace(-3.5, 4.0, 26), "y_edges": np.linspace(-2.5, 2.5, 26),
           "temperature_K": T}  # fmt: skip
    drifting, _ = model_floor(ref, np.concatenate(moving), Ensemble(moving, "cg", replicas=[0, 1, 2, 3]))
    steady, _ = model_floor(ref, np.concatenate(mixed), Ensemble(mixed, "cg", replicas=[0, 1, 2, 3]))
    assert drifting["js_divergence_cg_drift"] > 0.9
    assert drifting["js_divergence_cg_split"] < 0.05
    assert steady["js_divergence_cg_drift"] < 0.05
    # the intervals (whole replicas resampled) tell the two apart
    assert drifting["js_divergence_cg_drift_ci_low"] > steady["js_divergence_cg_drift_ci_high"]
    assert drifting["js_divergence_cg_split_ci_high"] < 0.1


def test_convergence_point_values_are_the_split_and_drift_metrics():
    """The histogram-sum path that the intervals resample gives the very JS values that
    metrics.halves_metrics computes from the frames, on pieces with replicas cut in two."""
    from cgthermo.analysis import convergence, fes, metrics

    rng = np.random.default_rng(4)
    lengths = [700, 300, 1000, 1000, 800]
    replicas = np.repeat([0, 0, 1, 2, 3], lengths)
    tics = rng.standard_normal((sum(lengths), 2)) + np.repeat(rng.normal(0, 0.5, (5, 2)),
                                                              lengths, axis=0)
    grid = fes.Grid(np.linspace(-3, 3, 21), np.linspace(-3, 3, 21))
    earlier, later = metrics.time_halves(lengths)
    values, resampled = convergence.convergence_metrics(
        tics, replicas, earlier, 4, grid, bootstrap_draws(4), seed=1)
    ones = np.ones(len(tics))
    drift = metrics.halves_metrics(tics, (earlier, later), ones, grid, T, "d")
    split = metrics.split_floor(tics, replicas, ones, grid, T, "s")
    assert values["js_divergence_cg_drift"] == pytest.approx(drift["js_divergence_d"], rel=1e-12)
    assert values["js_divergence_cg_split"] == pytest.approx(split["js_divergence_s"], rel=1e-12)
    assert resampled["js_divergence_cg_drift"].shape == (200,)


def bootstrap_draws(units: int):
    from cgthermo.analysis import bootstrap

    return bootstrap.multiplicities(np.random.default_rng(0), 200, units)


def test_weighted_fes_error_weights_bins_by_all_atom_probability():
    """Hand-made surfaces: a 1 kcal/mol error on the bin that holds 1 % of the all-atom
    probability adds 0.01 kcal/mol to the weighted error and 1/3 to the equal-weight one."""
    p_ref = np.array([0.59, 0.40, 0.01, 0.0])
    f_ref = np.array([0.0, 0.2, 2.5, np.inf])
    f_model = np.array([0.0, 0.2, 3.5, 0.7])  # last bin: model only, not shared
    diff, offset = metrics.aligned_difference(f_ref, f_model, p_ref)
    assert offset == pytest.approx(-0.01)
    expected = 0.59 * 0.01 + 0.40 * 0.01 + 0.01 * 0.99
    assert metrics.fes_mae_weighted(f_ref, f_model, p_ref) == pytest.approx(expected)
    assert metrics.fes_mae(f_ref, f_model, p_ref) == pytest.approx((0.01 + 0.01 + 0.99) / 3)


def test_a_model_that_misses_a_basin_is_charged_by_js_not_by_the_fes_errors():
    """Two basins of 70 % and 30 %: a model that samples only the first has zero FES error
    on the bins it shares with all-atom, which hold 70 % of the all-atom probability; JS
    counts the missing basin (against one that samples both with the wrong weights)."""
    p_ref = np.array([0.5, 0.2, 0.2, 0.1])
    one_basin = np.array([0.5, 0.2, 0.0, 0.0]) / 0.7
    both_basins = np.array([0.3, 0.2, 0.3, 0.2])
    f_ref, f_one, f_both = (fes.free_energy(p, T) for p in (p_ref, one_basin, both_basins))
    assert metrics.fes_mae_weighted(f_ref, f_one, p_ref) == pytest.approx(0.0, abs=1e-12)
    assert metrics.aa_mass_shared(f_ref, f_one, p_ref) == pytest.approx(0.7)
    assert metrics.aa_mass_shared(f_ref, f_both, p_ref) == pytest.approx(1.0)
    assert metrics.fes_mae_weighted(f_ref, f_both, p_ref) > 0.1
    assert metrics.js_divergence(p_ref, one_basin) > metrics.js_divergence(p_ref, both_basins)


def test_weighted_fes_error_of_two_samples_of_one_distribution_is_counting_noise():
    """Two independent samples of the same mixture: the weighted error matches the
    counting-noise prediction Σ p kT √(2/(N p)) √(2/π) (the mean |ΔF| of two Poisson
    counts per bin), while the equal-weight error, led by sparse edge bins, is over twice it."""
    n = 20_000
    grid = fes.Grid(np.linspace(-3.5, 4.0, 26), np.linspace(-2.5, 2.5, 26))
    exact = bin_probability(grid)
    exact /= exact.sum()
    predicted = np.sum(exact * kT_kcal(T) * np.sqrt(2.0 / (n * np.maximum(exact, 1e-30)))
                       * np.sqrt(2.0 / np.pi))  # fmt: skip
    rng = np.random.default_rng(3)
    pa, _ = fes.probabilities_2d(sample_mixture(rng, n), grid)
    pb, _ = fes.probabilities_2d(sample_mixture(rng, n), grid)
    fa, fb = fes.free_energy(pa, T), fes.free_energy(pb, T)
    weighted = metrics.fes_mae_weighted(fa, fb, pa)
    assert 0.75 * predicted < weighted < 1.1 * predicted
    assert metrics.fes_mae(fa, fb, pa) > 2 * weighted
