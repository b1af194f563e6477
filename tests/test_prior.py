"""Prior fitting: Boltzmann inversion recovers known parameters; torchmd reads what we write."""

import numpy as np
import pytest
import torch
import yaml
from helpers.chains import random_chains
from torchmd.forces import Forces

import cgthermo.config as cgconfig
from cgthermo.cgtopology import CGTopology
from cgthermo.errors import CgthermoError
from cgthermo.forcefield.torchmd import build_forces, evaluate, load_parameters
from cgthermo.prior.fitting import (
    angular_free_energy,
    bend_free_energy,
    fit_angle,
    fit_bonds,
    fit_dihedral,
    fit_dihedral_types,
    fit_fourier,
    fit_repulsion,
    fourier,
    shell_free_energy,
)
from cgthermo.prior.statistics import (
    Histograms,
    bend_angles,
    dihedral_angles,
    dihedral_quadruple,
)
from cgthermo.units import kT_kcal

torch.set_num_threads(1)
SETTINGS = cgconfig.validate({"proteins": [{"name": "x", "sequence": "AAAA"}]})["prior"]
TEMPERATURE = 340.0
KT = kT_kcal(TEMPERATURE)


def prior_chains(frames, beads, rng):
    """The chains these tests were written with: no bead pair closer than 3 Å, not centred."""
    return random_chains(frames, beads, rng, min_distance=3.0, center=False)


def sample(density, lo, hi, n, rng):
    """Draw n samples of an unnormalized 1-D density by inverting its CDF on a fine grid."""
    grid = np.linspace(lo, hi, 200_001)
    cdf = np.cumsum(density(grid))
    cdf /= cdf[-1]
    return np.interp(rng.random(n), cdf, grid)


def test_bond_boltzmann_inversion_recovers_k_and_r0():
    k, r0 = 45.0, 3.81  # kcal/mol/Å², Å; V = k (r − r0)², no ½
    rng = np.random.default_rng(1)
    # the distance of a bonded pair in 3-D carries the r² Jacobian
    r = sample(lambda x: x**2 * np.exp(-k * (x - r0) ** 2 / KT), 3.3, 4.4, 400_000, rng)
    hist = Histograms.from_settings(SETTINGS)
    hist.bonds[("ALA", "GLY")] = np.histogram(r, hist.bond_edges)[0]
    hist.bonds[("GLY", "ALA")] = np.histogram(r[:50], hist.bond_edges)[0]  # too sparse
    fits, pooled = fit_bonds(hist, KT, min_samples=1000)
    fit = fits[("ALA", "GLY")]
    assert fit.source == "fit"
    assert abs(fit.params["k0"] - k) / k < 0.05
    assert abs(fit.params["req"] - r0) < 0.005
    # the sparse pair falls back to the pooled fit
    assert fits[("GLY", "ALA")].source == "pooled"
    assert fits[("GLY", "ALA")].params == pooled.params


def test_shell_correction_matters():
    """Without dividing by 4πr² the fitted minimum moves out by about kT/(k r0)."""
    k, r0 = 10.0, 3.8
    rng = np.random.default_rng(2)
    r = sample(lambda x: x**2 * np.exp(-k * (x - r0) ** 2 / KT), 3.0, 4.6, 400_000, rng)
    edges = np.linspace(3.3, 4.3, 41)
    counts = np.histogram(r, edges)[0]
    corrected = shell_free_energy(counts, edges, KT)
    raw = angular_free_energy(counts, edges, KT)  # plain −kT ln p(r), no shell volume
    minimum = corrected.x[
        np.argmin(np.polyval(np.polyfit(corrected.x, corrected.value, 2), corrected.x))
    ]
    shifted = raw.x[np.argmin(np.polyval(np.polyfit(raw.x, raw.value, 2), raw.x))]
    assert abs(minimum - r0) < 0.03
    assert shifted - r0 > 0.5 * KT / (k * r0)


def test_dihedral_fourier_fit_recovers_terms():
    truth = [{"phi_k": 0.5, "phase": -130.0, "per": 1}, {"phi_k": 0.8, "phase": -98.0, "per": 2}]
    rng = np.random.default_rng(3)
    phi = sample(lambda x: np.exp(-fourier(x, truth) / KT), -np.pi, np.pi, 400_000, rng)
    edges = np.linspace(-np.pi, np.pi, SETTINGS["dihedral_bins"] + 1)
    terms, _ = fit_fourier(angular_free_energy(np.histogram(phi, edges)[0], edges, KT), [1, 2])
    for fitted, expected in zip(terms, truth, strict=True):
        assert fitted["per"] == expected["per"]
        assert abs(fitted["phi_k"] - expected["phi_k"]) / expected["phi_k"] < 0.05
        assert abs(fitted["phase"] - expected["phase"]) < 3.0


def bent_chains(theta, rng):
    """Three-bead chains whose bend angle at the middle bead is `theta`, randomly oriented."""
    frames = len(theta)
    first = rng.normal(size=(frames, 3))
    first /= np.linalg.norm(first, axis=1, keepdims=True)
    helper = rng.normal(size=(frames, 3))
    normal = np.cross(first, helper)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    ortho = np.cross(normal, first)
    second = np.cos(theta)[:, None] * first + np.sin(theta)[:, None] * ortho
    middle = np.zeros((frames, 3))
    return np.stack([middle + 3.8 * first, middle, middle + 3.8 * second], axis=1)


def test_angle_boltzmann_inversion_recovers_k_and_theta0():
    """Angles drawn from sin θ exp(−k (θ − θ0)²/kT): the sin θ Jacobian must be divided out."""
    k, theta0 = 4.0, np.radians(105.0)  # kcal/mol/rad², a soft well like the Cα bend's
    rng = np.random.default_rng(11)
    density = lambda x: np.sin(x) * np.exp(-k * (x - theta0) ** 2 / KT)  # noqa: E731
    theta = sample(density, 0.0, np.pi, 400_000, rng)
    hist = Histograms.from_settings(SETTINGS)
    hist.add(["ALA", "GLY", "ALA"], bent_chains(theta, rng), TEMPERATURE)
    np.testing.assert_allclose(bend_angles(bent_chains(theta[:50], rng))[:, 0], theta[:50],
                               atol=1e-9)  # fmt: skip
    fit = fit_angle(hist, KT)
    assert abs(fit.params["k0"] - k) / k < 0.05
    assert abs(np.degrees(fit.params["theta0"]) - 105.0) < 1.0
    # without the Jacobian the well moves towards 90°, where sin θ peaks
    raw = angular_free_energy(hist.angles, hist.angle_edges, KT)
    corrected = bend_free_energy(hist.angles, hist.angle_edges, KT)
    assert raw.x[np.argmin(raw.value)] < corrected.x[np.argmin(corrected.value)] - np.radians(3)


def test_residual_angle_fit_counts_the_bend_once():
    """Bends drawn from an angle term k (θ − θ0)² plus the repulsion B / d₁₃⁶ between the
    outer beads (3.8 Å bonds): the residual fit, given that repulsion, recovers k and θ0;
    the plain Boltzmann inversion folds the repulsion into the angle term (a stiffer,
    wider-opened well), so that prior would count the repulsion twice."""
    from cgthermo.prior.fitting import across_the_bend

    k, theta0, b = 3.0, np.radians(100.0), 4 * 3000.0  # B = 4 ε σ⁶, ε = 3000 kcal/mol
    rng = np.random.default_rng(12)
    density = lambda x: np.sin(x) * np.exp(  # noqa: E731
        -(k * (x - theta0) ** 2 + across_the_bend(x, b, 3.8)) / KT)
    theta = sample(density, 0.05, np.pi, 400_000, rng)
    hist = Histograms.from_settings(SETTINGS)
    hist.add(["ALA", "GLY", "ALA"], bent_chains(theta, rng), TEMPERATURE)
    residual = fit_angle(hist, KT, (b, 3.8))
    assert abs(residual.params["k0"] - k) / k < 0.05
    assert abs(np.degrees(residual.params["theta0"]) - 100.0) < 1.0
    whole = fit_angle(hist, KT)
    assert np.degrees(whole.params["theta0"]) > 100.0 + 1.0
    # at a 90° bend the repulsion is worth more than the fitted constants' error
    assert across_the_bend(np.radians(90.0), b, 3.8) > 0.3


def test_written_angle_term_is_torchmds_energy(tmp_path):
    """theta0 goes into the YAML in degrees: torchmd's energy is k0 (θ − θ0)² of our θ."""
    from helpers.cgsim_toy import write_prior

    topology = CGTopology(["ALA", "GLY", "TYR", "ALA", "LYS"])
    prior = write_prior(tmp_path / "prior.yaml", topology.resnames, angle=(3.5, 110.0))
    params = load_parameters(prior, topology)
    forces = Forces(params, terms=["angles"], exclusions=("bonds",))
    pos = prior_chains(6, topology.numAtoms, np.random.default_rng(12))
    energy, _ = evaluate(forces, torch.as_tensor(pos))
    expected = (3.5 * (bend_angles(pos) - np.radians(110.0)) ** 2).sum(axis=1)
    np.testing.assert_allclose(energy.numpy(), expected, rtol=1e-5)


def test_repulsion_recovers_per_type_epsilon_from_pair_histograms():
    epsilon = {"ALA": 1500.0, "LYS": 2500.0, "TRP": 3500.0}
    rng = np.random.default_rng(4)
    hist = Histograms.from_settings(SETTINGS)
    types = sorted(epsilon)
    for i, a in enumerate(types):
        for b in types[i:]:
            coef = 4 * np.sqrt(epsilon[a] * epsilon[b])
            r = sample(lambda x, c=coef: x**2 * np.exp(-c / x**6 / KT), 3.0, 6.0, 100_000, rng)
            hist.repulsion[(a, b)] = np.histogram(r, hist.repulsion_edges)[0]
        hist.bonds[(a, a)] = np.zeros(SETTINGS["bond_bins"])
    fitted, curves, _ = fit_repulsion(hist, KT, min_samples=1000, fallback_epsilon=1.0)
    for t in types:
        assert abs(fitted[t] - epsilon[t]) / epsilon[t] < 0.05, (t, fitted[t])
    assert all(c.source == "fit" for c in curves.values())


def test_repulsion_without_a_wall_takes_the_fallback_epsilon():
    """Distances that become rarer outwards (F rising with r) have no r⁻⁶ wall to fit."""
    rng = np.random.default_rng(8)
    hist = Histograms.from_settings(SETTINGS)
    r = sample(lambda x: x**2 * np.exp(-2.0 * (x - 3.0) / KT), 3.0, 6.0, 20_000, rng)
    hist.repulsion[("ALA", "GLY")] = np.histogram(r, hist.repulsion_edges)[0]
    hist.bonds[("ALA", "GLY")] = np.zeros(SETTINGS["bond_bins"])
    fitted, curves, pooled = fit_repulsion(hist, KT, min_samples=1000, fallback_epsilon=1234.0)
    assert fitted == pytest.approx({"ALA": 1234.0, "GLY": 1234.0})
    assert pooled.params["B"] == pytest.approx(4 * 1234.0)
    assert curves[("ALA", "GLY")].source == "pooled"


def test_our_dihedral_angle_is_torchmds(tmp_path):
    """The fit uses our φ; torchmd's energy of the written terms must be the same function of it."""
    terms = [{"phi_k": 0.7, "phase": 40.0, "per": 1}, {"phi_k": 0.3, "phase": -75.0, "per": 2}]
    topology = CGTopology(["ALA", "GLY", "TYR", "ALA", "LYS"])
    prior = tmp_path / "prior.yaml"
    prior.write_text(yaml.safe_dump(minimal_prior(topology, terms)))
    params = load_parameters(prior, topology)
    forces = Forces(params, terms=["dihedrals"], exclusions=("bonds",))
    pos = prior_chains(6, topology.numAtoms, np.random.default_rng(5))
    energy, _ = evaluate(forces, torch.as_tensor(pos))
    expected = fourier(dihedral_angles(pos), terms).sum(axis=1)
    np.testing.assert_allclose(energy.numpy(), expected, rtol=1e-6)  # torchmd keeps float32 params


def chains_with_dihedrals(phis, theta_deg=100.0, bond=3.8):
    """Chains (frames, n + 3 beads) with fixed bonds and bend angles whose dihedrals, as
    `dihedral_angles` measures them, are the columns of `phis` (frames, n)."""
    theta = np.radians(theta_deg)
    frames, n = phis.shape
    pos = np.zeros((frames, n + 3, 3))
    pos[:, 1, 0] = bond
    pos[:, 2] = pos[:, 1] + bond * np.array([-np.cos(theta), np.sin(theta), 0.0])
    for k in range(n):
        a, b, c = pos[:, k], pos[:, k + 1], pos[:, k + 2]
        bc = (c - b) / bond
        normal = np.cross(b - a, bc)
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        in_plane = np.cross(normal, bc)
        phi = phis[:, k][:, None]
        pos[:, k + 3] = c + bond * (-np.cos(theta) * bc + np.sin(theta) * (
            np.cos(phi) * in_plane + np.sin(phi) * normal))  # fmt: skip
    return pos


def test_per_quadruple_dihedrals_recover_each_quadruples_own_terms():
    """Two quadruples with different (and differently handed) dihedral potentials: each fit
    recovers its own terms, which the one shared term cannot."""
    truths = [
        [{"phi_k": 1.0, "phase": 60.0, "per": 1}, {"phi_k": 0.4, "phase": -30.0, "per": 2}],
        [{"phi_k": 0.8, "phase": -120.0, "per": 1}, {"phi_k": 0.5, "phase": 90.0, "per": 2}],
    ]
    rng = np.random.default_rng(21)
    phis = np.stack([sample(lambda x, t=t: np.exp(-fourier(x, t) / KT), -np.pi, np.pi,
                            300_000, rng) for t in truths], axis=1)  # fmt: skip
    pos = chains_with_dihedrals(phis)
    np.testing.assert_allclose(dihedral_angles(pos[:100]), phis[:100], atol=1e-9)
    types = ["ALA", "GLY", "SER", "LEU", "VAL"]
    hist = Histograms.from_settings(SETTINGS)
    hist.add(types, pos, TEMPERATURE)
    shared = fit_dihedral(hist, KT, [1, 2])
    fits = fit_dihedral_types(hist, KT, [1, 2], 1000)
    assert set(fits) == {("ALA", "GLY", "SER", "LEU"), ("GLY", "SER", "LEU", "VAL")}
    for key, truth in zip(sorted(fits), truths, strict=True):
        for fitted, expected in zip(fits[key].params["terms"], truth, strict=True):
            assert abs(fitted["phi_k"] - expected["phi_k"]) / expected["phi_k"] < 0.05
            assert abs((fitted["phase"] - expected["phase"] + 180) % 360 - 180) < 3.0
    first = shared.params["terms"][0]
    assert abs(first["phi_k"] - truths[0][0]["phi_k"]) / truths[0][0]["phi_k"] > 0.2


def test_sparse_quadruples_fall_back_to_the_shared_term():
    rng = np.random.default_rng(22)
    phis = rng.uniform(-np.pi, np.pi, size=(500, 2))
    hist = Histograms.from_settings(SETTINGS)
    hist.add(["ALA", "GLY", "SER", "LEU", "VAL"], chains_with_dihedrals(phis), TEMPERATURE)
    assert fit_dihedral_types(hist, KT, [1, 2], 1000) == {}
    assert len(fit_dihedral_types(hist, KT, [1, 2], 400)) == 2


def test_a_quadruple_and_its_reverse_share_one_key_and_one_value():
    types = ["ALA", "GLY", "SER", "GLY", "ALA", "LYS"]
    assert dihedral_quadruple(types, 0) == dihedral_quadruple(types, 1) == (
        "ALA", "GLY", "SER", "GLY")  # fmt: skip
    assert dihedral_quadruple(types, 2) == ("LYS", "ALA", "GLY", "SER")
    pos = prior_chains(5, 6, np.random.default_rng(23))
    np.testing.assert_allclose(dihedral_angles(pos[:, ::-1])[:, ::-1], dihedral_angles(pos),
                               atol=1e-12)  # fmt: skip


def test_torchmd_takes_the_per_quadruple_entry_and_the_shared_one_elsewhere(tmp_path):
    shared = [{"phi_k": 0.3, "phase": -50.0, "per": 1}, {"phi_k": 1.0, "phase": -50.0, "per": 2}]
    own = [{"phi_k": 2.0, "phase": 45.0, "per": 1}, {"phi_k": 0.6, "phase": 30.0, "per": 2}]
    topology = CGTopology(["ALA", "GLY", "SER", "GLY", "ALA", "LYS"])
    document = minimal_prior(topology, shared)
    document["dihedrals"]["(ALA, GLY, SER, GLY)"] = {"terms": own}  # dihedrals 0 and 1 (reversed)
    prior = tmp_path / "prior.yaml"
    prior.write_text(yaml.safe_dump(document))
    forces = Forces(load_parameters(prior, topology), terms=["dihedrals"], exclusions=("bonds",))
    pos = prior_chains(6, topology.numAtoms, np.random.default_rng(24))
    energy, _ = evaluate(forces, torch.as_tensor(pos))
    phi = dihedral_angles(pos)
    expected = fourier(phi[:, 0], own) + fourier(phi[:, 1], own) + fourier(phi[:, 2], shared)
    np.testing.assert_allclose(energy.numpy(), expected, rtol=1e-6)


def minimal_prior(topology, terms):
    types = sorted(set(topology.atomtype))
    return {
        "atomtypes": types,
        "bonds": {f"({a}, {b})": {"k0": 40.0, "req": 3.8} for a in types for b in types},
        "dihedrals": {"(X, X, X, X)": {"terms": terms}},
        "electrostatics": {t: {"charge": 0.0} for t in types},
        "lj": {t: {"epsilon": 2000.0, "sigma": 1.0} for t in types},
        "masses": {t: 12.0 for t in types},
    }


# --- the whole stage on real (tiny) all-atom data ---


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    from helpers.tinyrun import run_tiny

    from cgthermo.cgmap.dataset import write_dataset
    from cgthermo.cgmap.mapping import map_aa_protein

    root = tmp_path_factory.mktemp("prior")
    paths = {}
    for name, sequence, seed in (("one", "AGYAK", 1), ("two", "KAWE", 2)):
        run = run_tiny(
            root / name, sequence=sequence, frames=60, seed=seed, temperature=TEMPERATURE
        )
        data = map_aa_protein(name, [run.md_file], run.system_xml, "constraint-aware", 10.0)
        paths[name] = root / name / "cg" / "dataset.h5"
        write_dataset(paths[name], [data])
    return paths


@pytest.fixture(scope="module")
def fitted(datasets, tmp_path_factory):
    from cgthermo.prior.stage import run_prior

    out = tmp_path_factory.mktemp("fitted")
    settings = dict(SETTINGS, min_pair_samples=20)
    run_prior([datasets["one"]], settings, out / "prior.yaml", out / "fit.png", out / "delta.h5")
    multi = out / "multi"
    run_prior(
        list(datasets.values()),
        settings,
        multi / "prior.yaml",
        multi / "fit.png",
        multi / "delta.h5",
    )
    return out


def test_written_prior_forces_are_minus_the_gradient_of_its_energy(fitted):
    topology = CGTopology(["ALA", "GLY", "TYR", "ALA", "LYS"])
    forces = build_forces(fitted / "prior.yaml", topology)
    pos = prior_chains(3, topology.numAtoms, np.random.default_rng(6))
    _, analytic = evaluate(forces, torch.as_tensor(pos))
    step = 1e-5
    numeric = np.zeros_like(pos)
    for bead in range(topology.numAtoms):
        for axis in range(3):
            plus, minus = pos.copy(), pos.copy()
            plus[:, bead, axis] += step
            minus[:, bead, axis] -= step
            e_plus, _ = evaluate(forces, torch.as_tensor(plus))
            e_minus, _ = evaluate(forces, torch.as_tensor(minus))
            numeric[:, bead, axis] = -(e_plus - e_minus).numpy() / (2 * step)
    error = np.linalg.norm(analytic.numpy() - numeric) / np.linalg.norm(numeric)
    assert error < 1e-5


def test_prior_yaml_has_every_term_torchmd_needs(fitted):
    document = yaml.safe_load((fitted / "prior.yaml").read_text())
    assert document["atomtypes"] == ["ALA", "GLY", "LYS", "TYR"]
    # ordered N→C pairs of AGYAK
    assert set(document["bonds"]) == {"(ALA, GLY)", "(GLY, TYR)", "(TYR, ALA)", "(ALA, LYS)"}
    for bond in document["bonds"].values():
        assert 3.7 < bond["req"] < 4.0 and bond["k0"] > 5
    assert [t["per"] for t in document["dihedrals"]["(X, X, X, X)"]["terms"]] == [1, 2]
    assert all(v == {"charge": 0.0} for v in document["electrostatics"].values())
    assert all(v["sigma"] == 1.0 and v["epsilon"] > 0 for v in document["lj"].values())
    assert all(m == 12.0 for m in document["masses"].values())
    assert (fitted / "fit.png").stat().st_size > 10_000


def test_delta_forces_are_mapped_minus_prior(datasets, fitted):
    from cgthermo.cgmap.dataset import read_dataset
    from cgthermo.forcefield.evaluate import prior_forces

    (mapped,) = read_dataset(datasets["one"])
    (delta,) = read_dataset(fitted / "delta.h5")
    _, prior = prior_forces(fitted / "prior.yaml", CGTopology(mapped.resnames), mapped.pos)
    np.testing.assert_array_equal(delta.pos, mapped.pos)
    np.testing.assert_allclose(delta.forces, mapped.forces - prior, rtol=1e-5, atol=1e-4)
    assert np.abs(prior).max() > 1.0  # the prior is not a zero force field


def test_delta_prior_equals_torchmds_own_terms_on_fitted_priors(datasets, fitted, tmp_path):
    """The delta forces come from the batched prior cg_sim integrates with; on priors fitted
    from all-atom data (paper terms; angles and per-quadruple dihedrals) it equals torchmd's
    own force terms to 1e-6."""
    from cgthermo.cgmap.dataset import read_dataset
    from cgthermo.forcefield.evaluate import prior_forces
    from cgthermo.prior.stage import run_prior

    settings = dict(SETTINGS, min_pair_samples=20, angles=True, dihedral_types="per_quadruple")
    run_prior([datasets["one"]], settings, tmp_path / "prior.yaml", tmp_path / "fit.png",
              tmp_path / "delta.h5")  # fmt: skip
    for prior_yaml, name in ((fitted / "prior.yaml", "one"), (fitted / "multi" / "prior.yaml", "two"),
                             (tmp_path / "prior.yaml", "one")):  # fmt: skip
        (mapped,) = read_dataset(datasets[name])
        topology = CGTopology(mapped.resnames)
        energy, force = prior_forces(prior_yaml, topology, mapped.pos, chunk=7)
        torchmd_energy, torchmd_force = evaluate(build_forces(prior_yaml, topology),
                                                 torch.as_tensor(mapped.pos, dtype=torch.float64))
        assert np.abs(force).max() > 1.0
        np.testing.assert_allclose(energy, torchmd_energy.numpy(), rtol=0, atol=1e-6)
        np.testing.assert_allclose(force, torchmd_force.numpy(), rtol=0, atol=1e-6)
    assert "angles" in yaml.safe_load((tmp_path / "prior.yaml").read_text())


def test_multi_prior_covers_all_proteins_with_one_delta_group_each(datasets, fitted):
    from cgthermo.cgmap.dataset import read_dataset
    from cgthermo.forcefield.evaluate import prior_forces

    multi = fitted / "multi"
    document = yaml.safe_load((multi / "prior.yaml").read_text())
    assert {"(ALA, LYS)", "(LYS, ALA)", "(ALA, TRP)", "(TRP, GLU)"} <= set(document["bonds"])
    groups = read_dataset(multi / "delta.h5")
    assert [g.name for g in groups] == ["one", "two"]
    for group in groups:
        (mapped,) = read_dataset(datasets[group.name])
        _, prior = prior_forces(multi / "prior.yaml", CGTopology(mapped.resnames), mapped.pos)
        np.testing.assert_allclose(group.forces, mapped.forces - prior, rtol=1e-5, atol=1e-4)


def test_too_short_chain_for_dihedrals_is_a_clear_error(tmp_path):
    from cgthermo.prior.fitting import fit_prior

    hist = Histograms.from_settings(SETTINGS)
    hist.add(["ALA", "GLY", "ALA"], prior_chains(50, 3, np.random.default_rng(7)), TEMPERATURE)
    with pytest.raises(CgthermoError) as err:
        fit_prior(hist, dict(SETTINGS, min_pair_samples=1))
    assert "\n" not in str(err.value)


def test_stage_with_angles_writes_a_term_torchmd_applies(datasets, tmp_path):
    from cgthermo.forcefield.yamlio import prior_terms
    from cgthermo.prior.stage import run_prior

    settings = dict(SETTINGS, min_pair_samples=20, angles=True)
    run_prior([datasets["one"]], settings, tmp_path / "prior.yaml", tmp_path / "fit.png",
              tmp_path / "delta.h5")  # fmt: skip
    angle = yaml.safe_load((tmp_path / "prior.yaml").read_text())["angles"]["(X, X, X)"]
    assert 60.0 < angle["theta0"] < 150.0 and angle["k0"] > 0  # Cα bends of a short peptide
    assert "angles" in prior_terms(tmp_path / "prior.yaml")
    params = load_parameters(tmp_path / "prior.yaml", CGTopology(["ALA", "GLY", "TYR", "ALA", "LYS"]))
    assert params.angle_params is not None and len(params.angle_params["idx"]) == 3


def test_a_repulsion_stronger_than_the_bend_leaves_no_residual_angle_term():
    """Where the repulsion across the bend alone exceeds what the bend statistics hold, no
    harmonic angle term remains: refused in one line that names the other fit."""
    rng = np.random.default_rng(13)
    density = lambda x: np.sin(x) * np.exp(-3.0 * (x - np.radians(100.0)) ** 2 / KT)  # noqa: E731
    theta = sample(density, 0.05, np.pi, 100_000, rng)
    hist = Histograms.from_settings(SETTINGS)
    hist.add(["ALA", "GLY", "ALA"], bent_chains(theta, rng), TEMPERATURE)
    with pytest.raises(CgthermoError, match="use prior.angle_fit: boltzmann"):
        fit_angle(hist, KT, (4 * 2.0e5, 3.8))


def test_a_repulsion_that_excludes_the_1_3_pairs_is_fitted_on_the_other_pairs_only():
    rng = np.random.default_rng(7)
    pos = prior_chains(200, 6, rng)
    types = ["ALA"] * 6
    counted = {}
    for excludes in ("bonds", "angles"):
        hist = Histograms.from_settings({**SETTINGS, "repulsion_excludes": excludes})
        hist.add(types, pos, TEMPERATURE)
        counted[excludes] = int(sum(c.sum() for c in hist.repulsion.values()))
    # by hand: the 1-3 distances inside the histogram's range and below the cutoff
    r13 = np.linalg.norm(pos[:, 2:] - pos[:, :-2], axis=-1)
    edges = Histograms.from_settings(SETTINGS).repulsion_edges
    inside = (r13 >= edges[0]) & (r13 < edges[-1]) & (r13 < SETTINGS["repulsion_cutoff"])
    assert inside.sum() > 100  # the pairs left out were there to count
    assert counted["bonds"] - counted["angles"] == inside.sum()


def test_a_prior_without_the_1_3_repulsion_says_so_in_its_yaml_and_needs_the_angle_term():
    from cgthermo.prior.fitting import repulsion_exclusions

    assert repulsion_exclusions({"repulsion_excludes": "angles", "angles": True}) == (
        "bonds", "angles")
    assert repulsion_exclusions({}) == ("bonds",)
    with pytest.raises(CgthermoError, match="prior.angles"):
        repulsion_exclusions({"repulsion_excludes": "angles", "angles": False})
    from cgthermo.settingchecks import setting_problems

    config = cgconfig.validate({"proteins": [{"name": "x", "sequence": "AAAA"}],
                                "prior": {"repulsion_excludes": "angles", "angles": False}})
    assert any("repulsion_excludes" in str(p) for p in setting_problems(config))
