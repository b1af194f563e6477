"""MSM stationary weights and the stored TICA fit, with real pyemma estimators."""

import numpy as np
import pytest
from helpers import analysis_synthetic as synthetic

from cgthermo.analysis import features, kinetics, reference

TRANSITIONS = np.array([[0.90, 0.08, 0.02], [0.05, 0.90, 0.05], [0.02, 0.18, 0.80]])


def stationary(matrix):
    values, vectors = np.linalg.eig(matrix.T)
    pi = np.real(vectors[:, np.argmax(np.real(values))])
    return pi / pi.sum()


def markov_chain(rng, matrix, n, start=0):
    cumulative = np.cumsum(matrix, axis=1)
    states = np.empty(n, dtype=np.int64)
    states[0] = start
    draws = rng.random(n)
    for t in range(1, n):
        states[t] = np.searchsorted(cumulative[states[t - 1]], draws[t])
    return states


def test_msm_recovers_stationary_distribution_of_known_chain():
    rng = np.random.default_rng(8)
    dtrajs = [markov_chain(rng, TRANSITIONS, 20_000, start=s) for s in (0, 2)]
    msm = kinetics.estimate_msm(dtrajs, lag=1)
    pi = kinetics.state_stationary(msm, 3)
    assert pi == pytest.approx(stationary(TRANSITIONS), abs=0.02)
    assert np.asarray(msm.transition_matrix) == pytest.approx(TRANSITIONS, abs=0.02)


def test_frame_weights_sum_to_state_probability_and_skip_disconnected_states():
    rng = np.random.default_rng(9)
    chain = markov_chain(rng, TRANSITIONS, 5_000)
    # state 3 is entered once and never left: outside the largest connected set
    dtrajs = [np.append(chain, 3)]
    msm = kinetics.estimate_msm(dtrajs, lag=1)
    pi = kinetics.state_stationary(msm, 4)
    assert pi[3] == 0.0 and pi.sum() == pytest.approx(1.0)
    (w,) = kinetics.frame_weights(dtrajs, pi)
    assert w[-1] == 0.0
    for state in range(3):
        assert w[dtrajs[0] == state].sum() == pytest.approx(pi[state])
    assert w.sum() == pytest.approx(1.0)


def test_implied_timescales_of_known_chain():
    rng = np.random.default_rng(10)
    dtrajs = [markov_chain(rng, TRANSITIONS, 30_000)]
    lags, its = kinetics.implied_timescales(dtrajs, [1, 2], nits=2)
    eig = np.sort(np.abs(np.linalg.eigvals(TRANSITIONS)))[::-1][1:]
    expected = -1.0 / np.log(eig)  # timescales in frames at lag 1
    assert list(lags) == [1, 2]
    assert its[0] == pytest.approx(expected, rel=0.1)
    assert its[1] == pytest.approx(expected, rel=0.1)  # a Markov chain: independent of lag


def aa_features(seed, shift=0.0, replicas=2, frames=300):
    rng = np.random.default_rng(seed)
    top = synthetic.ca_topology("YYDPETGTWY")
    pairs = features.distance_pairs(top.n_atoms, 3)
    pieces = [
        synthetic.switching_trajectory(rng, frames, top.n_atoms, shift=shift)
        for _ in range(replicas)
    ]
    return [features.pair_distances(p, pairs, top) for p in pieces]


def test_stored_tica_reproduces_the_fit_and_is_not_refitted(tmp_path):
    aa = aa_features(1)
    estimator, model = kinetics.fit_tica(aa, lag=2, dim=3)
    stored_path = tmp_path / "tica.npz"
    np.savez(stored_path, **model.as_arrays())
    stored = kinetics.TicaModel.from_arrays(np.load(stored_path))
    for piece in aa:
        # the stored arrays give exactly pyemma's own transform of the fitted estimator
        assert np.array_equal(kinetics.project(stored, piece), estimator.transform(piece))

    cg = aa_features(2, shift=0.6)
    before = [kinetics.project(stored, piece) for piece in aa]
    cg_projected = [kinetics.project(stored, piece) for piece in cg]
    after = [kinetics.project(stored, piece) for piece in aa]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert np.array_equal(np.load(stored_path)["tica_eigenvectors"], model.eigenvectors)
    assert np.array_equal(cg_projected[0], estimator.transform(cg[0]))

    # a fit that included the CG data would move the all-atom coordinates: the check can fail
    _, refit = kinetics.fit_tica(aa + cg, lag=2, dim=3)
    assert not np.allclose(kinetics.project(refit, aa[0]), before[0], atol=1e-3)


def test_reference_npz_holds_the_projection_of_the_all_atom_data(tmp_path):
    top = synthetic.write_topology(tmp_path / "topology.pdb", "KAAWAEYY")
    synthetic.write_dataset(tmp_path / "dataset.h5", "pep", "KAAWAEYY", 2, 250, seed=4)
    settings = dict(
        min_sequence_separation=3, tica_lag=2, tica_dim=3, n_clusters=8, msm_lag=2,
        reweight="msm", fes_bins=15, fes_margin=0.1, its_lags=[1, 2, 4],
        native_cutoff=8.0, folded_rmsd=2.0,
    )  # fmt: skip
    arrays = reference.build_reference(
        tmp_path / "dataset.h5", tmp_path / "topology.pdb", "pep", settings, 340.0, seed=1
    )
    reference.write_reference(arrays, tmp_path / "ref.npz", tmp_path / "its.png")
    stored = reference.load_reference_npz(tmp_path / "ref.npz")
    tica = kinetics.TicaModel.from_arrays(stored)
    from cgthermo.analysis import inputs

    with inputs.open_reference(tmp_path / "dataset.h5", "pep", top) as (ensemble, _):
        again = np.concatenate(
            [
                kinetics.project(tica, features.pair_distances(p[:], stored["pairs"], top))
                for p in ensemble.pieces
            ]  # fmt: skip
        )
    assert np.array_equal(again, stored["tics"])
    assert stored["weights"].sum() == pytest.approx(1.0)
    assert list(stored["its_lags"]) == [1, 2, 4]
    # the same settings and seed give the same reference (k-means is seeded from the config)
    rebuilt = reference.build_reference(
        tmp_path / "dataset.h5", tmp_path / "topology.pdb", "pep", settings, 340.0, seed=1
    )
    for key, value in arrays.items():
        assert np.array_equal(value, rebuilt[key], equal_nan=value.dtype.kind == "f"), key
    assert (tmp_path / "its.png").stat().st_size > 0


def test_histogram_reweighting_gives_every_frame_the_same_weight():
    rng = np.random.default_rng(12)
    dtrajs = [markov_chain(rng, TRANSITIONS, 400), markov_chain(rng, TRANSITIONS, 200)]
    msm = kinetics.estimate_msm(dtrajs, lag=1)
    weights = reference.all_atom_weights(dtrajs, 3, msm, "histogram")
    assert np.allclose(np.concatenate(weights), 1.0 / 600)
    msm_weights = np.concatenate(reference.all_atom_weights(dtrajs, 3, msm, "msm"))
    assert msm_weights.sum() == pytest.approx(1.0)
    assert not np.allclose(msm_weights, 1.0 / 600)


def test_trajectories_split_at_replica_changes_and_time_gaps():
    from cgthermo.analysis.inputs import split_contiguous

    replica = np.array([1, 1, 1, 0, 0, 0, 0])
    time = np.array([0.0, 10.0, 20.0, 0.0, 10.0, 40.0, 50.0])  # replica 0 lost two frames
    pieces = split_contiguous(replica, time)
    assert [list(p) for p in pieces] == [[3, 4], [5, 6], [0, 1, 2]]


def test_kmeans_microstates_are_the_same_on_a_rerun():
    # pyemma's threaded k-means moved centres between reruns with one seed
    rng = np.random.default_rng(3)
    pieces = [(rng.normal(size=(5000, 4)) + rng.normal(size=4)).astype(np.float32)
              for _ in range(6)]  # fmt: skip
    first_centres, first_dtrajs = kinetics.cluster(pieces, 50, seed=7)
    again_centres, again_dtrajs = kinetics.cluster(pieces, 50, seed=7)
    np.testing.assert_array_equal(first_centres, again_centres)
    for a, b in zip(first_dtrajs, again_dtrajs, strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(np.unique(np.concatenate(first_dtrajs))) == 50
