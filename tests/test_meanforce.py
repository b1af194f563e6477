"""Mean-force diagnostics (analysis.meanforce) on systems whose PMF is known exactly.

Every sample below is an exact equilibrium draw, so a test fails only if the estimator,
its Jacobian term or the integration is wrong (or with the stated small probability of a
sampling fluctuation beyond several standard errors).
"""

import numpy as np
import pytest

from cgthermo.analysis import meanforce
from cgthermo.units import kT_kcal

T = 300.0
KT = kT_kcal(T)
SETTINGS = {"bins": 20, "min_frames": 30, "resamples": 200}


def numeric_gradient(variable, pos, step=1e-5):
    grad = np.zeros_like(pos)
    for b in range(pos.shape[1]):
        for a in range(3):
            up, down = pos.copy(), pos.copy()
            up[:, b, a] += step
            down[:, b, a] -= step
            grad[:, b, a] = (variable.evaluate(up)[0] - variable.evaluate(down)[0]) / (2 * step)
    return grad


def variables(rng, n=6):
    folded = rng.normal(size=(n, 3)) * 3.0
    pairs = np.array([(i, j) for i in range(n) for j in range(i + 2, n)])
    return [meanforce.rmsd_to(folded), meanforce.radius_of_gyration(),
            meanforce.distance(1, 4, "turn", "d"),
            meanforce.tica_component(rng.normal(size=len(pairs)) + 5.0,
                                     rng.normal(size=len(pairs)), pairs)]  # fmt: skip


def test_every_gradient_is_the_finite_difference_of_its_value():
    rng = np.random.default_rng(1)
    pos = rng.normal(size=(7, 6, 3)) * 3.0
    for variable in variables(rng):
        np.testing.assert_allclose(variable.evaluate(pos)[1], numeric_gradient(variable, pos),
                                   rtol=1e-5, atol=1e-7, err_msg=variable.name)  # fmt: skip


def test_the_jacobian_term_of_a_distance_and_of_rg_is_the_closed_form():
    rng = np.random.default_rng(2)
    pos = rng.normal(size=(9, 6, 3)) * 3.0
    d, _ = meanforce.distance(0, 5, "d", "d").evaluate(pos)
    np.testing.assert_allclose(meanforce.divergence(meanforce.distance(0, 5, "d", "d"), pos),
                               2.0 / d, rtol=1e-5)  # fmt: skip
    rg, _ = meanforce.radius_of_gyration().evaluate(pos)
    np.testing.assert_allclose(meanforce.divergence(meanforce.radius_of_gyration(), pos),
                               (3 * 6 - 4) / rg, rtol=1e-5)  # fmt: skip


def bond_sample(rng, frames, k=2.0, d0=4.0):
    """Two beads bound by k/2 (d − d0)², drawn exactly: p(d) ∝ d² exp(−U/kT)."""
    grid = np.linspace(0.5, 8.0, 200_001)
    p = grid**2 * np.exp(-0.5 * k * (grid - d0) ** 2 / KT)
    cdf = np.cumsum(p) / p.sum()
    d = np.interp(rng.random(frames), cdf, grid)
    u = rng.normal(size=(frames, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    pos = np.zeros((frames, 2, 3))
    pos[:, 0] = rng.normal(size=(frames, 3))
    pos[:, 1] = pos[:, 0] - d[:, None] * u
    force = -k * (d - d0)[:, None] * u  # on bead 0; bead 1 feels the opposite
    return pos, np.stack([force, -force], axis=1)


def frames_of(pos, forces: dict, replicas: int) -> meanforce.Frames:
    unit = np.repeat(np.arange(replicas), len(pos) // replicas)
    return meanforce.Frames(pos, forces, unit, replicas, T)


def aligned_max_error(pmf, exact):
    ok = np.isfinite(pmf)
    gap = pmf[ok] - exact[ok]
    return np.max(np.abs(gap - gap.mean()))


def test_integrated_mean_force_recovers_the_pmf_of_a_bond():
    """A(d) = k/2 (d − d0)² − 2kT ln d, from noisy mapped forces (zero-mean noise as the
    solvent's fluctuations add): the TI PMF is within its interval of the exact one."""
    rng = np.random.default_rng(3)
    pos, exact = bond_sample(rng, 40_000)
    noisy = exact + rng.normal(scale=3.0, size=exact.shape)
    frames = frames_of(pos, {"mapped": noisy, "prior": exact}, 8)
    variable = meanforce.distance(0, 1, "d", "d")
    _, pmf, _ = meanforce.diagnose([variable], frames, {"all": np.arange(8)}, None, SETTINGS, 0)
    d = pmf.bin_centre.to_numpy()
    exact_pmf = 0.5 * 2.0 * (d - 4.0) ** 2 - 2 * KT * np.log(d)
    exact_pmf -= exact_pmf.min()
    assert aligned_max_error(pmf.pmf_ti_kcal.to_numpy(), exact_pmf) < 0.15
    # without the Jacobian term the estimate misses −2kT ln d by far more
    assert np.ptp(2 * KT * np.log(d)) > 0.5
    # the population PMF of the same frames agrees too
    assert aligned_max_error(pmf.pmf_aa_population_kcal.to_numpy(), exact_pmf) < 0.15


def gaussian_beads(rng, frames, n=6, k=0.5):
    """n beads, each in k/2 |x|²: A(Rg) = k n Rg²/2 − (3n − 4) kT ln Rg."""
    pos = rng.normal(scale=np.sqrt(KT / k), size=(frames, n, 3))
    return pos, -k * pos


def test_integrated_mean_force_recovers_the_pmf_of_rg():
    rng = np.random.default_rng(4)
    pos, forces = gaussian_beads(rng, 40_000)
    frames = frames_of(pos, {"mapped": forces}, 8)
    _, pmf, _ = meanforce.diagnose([meanforce.radius_of_gyration()], frames,
                                   {"all": np.arange(8)}, None, SETTINGS, 0)  # fmt: skip
    rg = pmf.bin_centre.to_numpy()
    exact = 0.5 * 0.5 * 6 * rg**2 - (3 * 6 - 4) * KT * np.log(rg)
    assert aligned_max_error(pmf.pmf_ti_kcal.to_numpy(), exact - exact.min()) < 0.1


@pytest.mark.parametrize("which", [0, 3])
def test_integrated_mean_force_matches_the_population_pmf(which):
    """RMSD and TIC 1 have no closed-form Jacobian: on an exact equilibrium sample the TI
    PMF and the population PMF of the same frames must still agree."""
    rng = np.random.default_rng(5)
    pos, forces = gaussian_beads(rng, 40_000)
    variable = variables(rng)[which]
    frames = frames_of(pos, {"mapped": forces}, 8)
    _, pmf, _ = meanforce.diagnose([variable], frames, {"all": np.arange(8)}, None,
                                   SETTINGS, 0)  # fmt: skip
    ti, population = pmf.pmf_ti_kcal.to_numpy(), pmf.pmf_aa_population_kcal.to_numpy()
    keep = np.isfinite(ti) & (population < 2.5)  # bins with a few hundred frames or more
    assert keep.sum() >= 10
    assert aligned_max_error(ti[keep], population[keep]) < 0.15


def test_a_network_with_the_exact_mean_force_matches_the_mapped_mean_force():
    """Mapped forces scatter around the exact mean force; a model that returns the exact
    force has the mapped mean force in every bin within the interval, and a prior with a
    wrong bond constant is resolved as different."""
    rng = np.random.default_rng(6)
    pos, exact = bond_sample(rng, 40_000)
    noisy = exact + rng.normal(scale=3.0, size=exact.shape)
    d = np.linalg.norm(pos[:, 0] - pos[:, 1], axis=1)
    u = (pos[:, 0] - pos[:, 1]) / d[:, None]
    weak = -1.0 * (d - 4.0)[:, None] * u
    frames = frames_of(pos, {"mapped": noisy, "model": exact,
                             "prior": np.stack([weak, -weak], axis=1)}, 8)  # fmt: skip
    variable = meanforce.distance(0, 1, "d", "d")
    table, _, summary = meanforce.diagnose([variable], frames, {"all": np.arange(8)}, None,
                                           SETTINGS, 0)  # fmt: skip
    rows = {s: table[table.source == s].reset_index() for s in ("mapped", "model", "prior")}
    ok = np.isfinite(rows["mapped"].mean_force)
    inside = ((rows["mapped"].ci_low <= rows["model"].mean_force)
              & (rows["model"].mean_force <= rows["mapped"].ci_high))[ok]
    assert inside.mean() >= 0.85
    model_low = summary["d_all_model_rms_kcal_per_unit_ci_low"]
    prior_low = summary["d_all_prior_rms_kcal_per_unit_ci_low"]
    assert summary["d_all_model_rms_kcal_per_unit"] < 0.3 < prior_low
    assert model_low < prior_low
    assert (summary["d_all_prior_rms_kcal_per_unit_ci_low"]
            <= summary["d_all_prior_rms_kcal_per_unit"]
            <= summary["d_all_prior_rms_kcal_per_unit_ci_high"])


def test_turn_pair_of_a_hairpin_straddles_the_middle():
    """Two strands 4.8 Å apart joined by a turn: the pair across the turn is the closest
    cross-strand pair to it, not the ends."""
    strand = np.arange(5) * 3.8
    folded = np.concatenate([np.stack([strand[::-1], np.zeros(5), np.zeros(5)], axis=1),
                             np.stack([strand, np.full(5, 4.8), np.zeros(5)], axis=1)])  # fmt: skip
    i, j = meanforce.turn_pair(folded)
    assert i < 4.5 < j and j - i >= 4
    assert meanforce.turn_pair(np.stack([np.arange(6) * 3.8, np.zeros(6), np.zeros(6)], 1)) == (0, 5)
