"""Folding and unfolding rates counted between the same RMSD cores in both models: the
counts ignore recrossings of one boundary, the mean first-passage times recover those of a
two-state chain with known switching probabilities, the acceleration recovers the known
ratio of relaxation times across frame spacings, and a run that barely folds gives no
number but a reason."""

import numpy as np
import pytest

from cgthermo.analysis import bootstrap, folding_kinetics, speedup

FOLDED_RMSD = 2.0  # Å: folded core below 2, unfolded core from 4
AA_FRAME_FS, CG_FRAME_FS = 180.0, 200.0


def test_a_recrossing_of_one_boundary_is_no_transition():
    rmsd = np.array([6.0, 3.0, 6.0, 3.0, 1.0, 1.0, 3.0, 1.0, 5.0, 1.0])
    # committed:     U    U    U    U    F    F    F    F    U    F
    counts = folding_kinetics.piece_counts(rmsd, FOLDED_RMSD)
    assert counts.tolist() == [2, 1, 5, 4]


def test_frames_before_the_first_core_belong_to_no_state():
    core = folding_kinetics.committed_core(np.array([3.0, 3.5, 1.0, 3.0, 4.0]), FOLDED_RMSD)
    assert core.tolist() == [-1, -1, 1, 1, 0]


def two_state_rmsd(rng, frames: int, p_fold: float, p_unfold: float) -> np.ndarray:
    """RMSD of a two-state chain: folded frames near 1 Å, unfolded ones beyond 4.5 Å."""
    folded = np.empty(frames, dtype=bool)
    folded[0] = rng.random() < p_fold / (p_fold + p_unfold)
    switch = rng.random(frames)
    for t in range(1, frames):
        p = p_unfold if folded[t - 1] else p_fold
        folded[t] = folded[t - 1] != (switch[t] < p)
    return np.where(folded, rng.uniform(0.5, 1.5, frames), rng.uniform(4.5, 8.0, frames))


def relaxation_ps(p_fold: float, p_unfold: float, frame_fs: float) -> float:
    return frame_fs / 1000.0 / (p_fold + p_unfold)


def runs(seed=3, cg_p=(0.01, 0.02)):
    rng = np.random.default_rng(seed)
    aa = [two_state_rmsd(rng, 20000, 0.002, 0.004) for _ in range(8)]
    cg = [two_state_rmsd(rng, 6000, *cg_p) for _ in range(16)]
    m_ref = bootstrap.multiplicities(rng, 200, 8)
    m_cg = bootstrap.multiplicities(rng, 200, 16)
    return aa, cg, m_ref, m_cg


def acceleration(aa, cg, m_ref, m_cg):
    return folding_kinetics.folding_acceleration(
        aa, range(len(aa)), len(aa), AA_FRAME_FS, cg, range(len(cg)), len(cg), CG_FRAME_FS,
        FOLDED_RMSD, m_ref, m_cg)


def test_first_passage_times_and_the_acceleration_recover_the_chains():
    values, why, rows = acceleration(*runs())
    assert not why
    # a geometric waiting time: 1 / p frames
    assert values["folding_mfpt_aa_ps"] == pytest.approx(0.18 / 0.002, rel=0.15)
    assert values["unfolding_mfpt_aa_ps"] == pytest.approx(0.18 / 0.004, rel=0.15)
    assert values["folding_mfpt_cg_ps"] == pytest.approx(0.2 / 0.01, rel=0.15)
    truth = relaxation_ps(0.002, 0.004, AA_FRAME_FS) / relaxation_ps(0.01, 0.02, CG_FRAME_FS)
    assert values["folding_acceleration"] == pytest.approx(truth, rel=0.15)
    assert values["folding_acceleration_ci_low"] < truth < values["folding_acceleration_ci_high"]
    assert rows["folding_acceleration"].shape == (200,)


def test_a_run_that_barely_folds_gives_a_reason_not_a_number():
    aa, _, m_ref, m_cg = runs()
    rng = np.random.default_rng(9)
    never = [rng.uniform(4.5, 8.0, 6000) for _ in range(15)]
    once = [np.concatenate([rng.uniform(4.5, 8.0, 3000), rng.uniform(0.5, 1.5, 3000)])]
    values, why, _ = acceleration(aa, never + once, m_ref, m_cg)
    assert values["folding_transitions_cg"] == 1
    assert np.isnan(values["folding_mfpt_cg_ps"]) and np.isnan(values["folding_acceleration"])
    assert "fewer than 5 times" in why["folding_acceleration"]
    assert np.isfinite(values["folding_mfpt_aa_ps"])


def speedup_inputs(sampler: str):
    aa, cg, m_ref, m_cg = runs()
    ref = {"rmsd": np.concatenate(aa), "piece_lengths": np.full(8, 20000),
           "frame_unit": np.repeat(np.arange(8), 20000), "frame_fs": np.float64(AA_FRAME_FS),
           "folded_rmsd": np.float64(FOLDED_RMSD), "unit_pair_sums": np.zeros((8, 3)),
           "msm_lag": np.int64(20), "cluster_centres": np.array([[-1.0, 0.0], [1.0, 0.0]]),
           "dtraj": (np.concatenate(aa) < FOLDED_RMSD).astype(np.int64)}
    tics = [np.where((p < FOLDED_RMSD)[:, None], [1.0, 0.0], [-1.0, 0.0]) for p in cg]
    run = {"sampler": sampler, "ns_per_day_per_core": 1200.0}
    return speedup.speedup_metrics(ref, tics, list(range(16)), 16, CG_FRAME_FS, run, 400.0,
                                   m_ref, m_cg, cg_rmsd_pieces=cg)  # fmt: skip


def test_the_effective_folding_acceleration_multiplies_the_throughput():
    values, why, rows = speedup_inputs("langevin")
    assert values["throughput_ratio"] == pytest.approx(3.0)
    assert values["effective_folding_acceleration"] == pytest.approx(
        3.0 * values["folding_acceleration"])
    assert "folding_acceleration" not in why
    assert rows["effective_folding_acceleration"].shape == (200,)


def test_replica_exchange_gives_no_folding_rates():
    values, why, _ = speedup_inputs("exchange")
    assert np.isnan(values["folding_acceleration"])
    assert "replica exchange has no dynamics" in why["effective_folding_acceleration"]


def test_the_converged_reference_counts_on_its_thinned_frame_spacing():
    """The converged artifact keeps every 5th all-atom frame: its transitions are counted on
    frames 5 × 180 fs apart, which recovers the chain's mean first-passage times."""
    from types import SimpleNamespace

    from cgthermo.analysis import compare

    rng = np.random.default_rng(11)
    full = [two_state_rmsd(rng, 50000, 0.002, 0.004) for _ in range(6)]
    thinned = [r[::5] for r in full]
    ref = {"rmsd": np.concatenate(thinned), "frame_unit": np.repeat(np.arange(6), 10000),
           "frame_fs": np.float64(AA_FRAME_FS), "converged_stride": np.int64(5),
           "folded_rmsd": np.float64(FOLDED_RMSD), "unit_pair_sums": np.zeros((6, 3))}
    _, cg, _, m_cg = runs()
    ensemble = SimpleNamespace(pieces=cg, replicas=list(range(16)), frame_fs=CG_FRAME_FS)
    m_ref = bootstrap.multiplicities(rng, 200, 6)
    values, why, _ = compare.converged_folding(ref, np.concatenate(cg), ensemble, 16, m_ref,
                                               m_cg, "langevin")  # fmt: skip
    assert not why
    assert values["folding_mfpt_aa_ps"] == pytest.approx(0.18 / 0.002, rel=0.2)
    assert values["unfolding_mfpt_aa_ps"] == pytest.approx(0.18 / 0.004, rel=0.2)
    exchange, exchange_why, _ = compare.converged_folding(ref, np.concatenate(cg), ensemble, 16,
                                                          m_ref, m_cg, "exchange")  # fmt: skip
    assert np.isnan(exchange["folding_acceleration"])
    assert "replica exchange" in exchange_why["folding_acceleration"]
