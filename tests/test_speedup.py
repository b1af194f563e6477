"""The speed-up factors: the dynamical acceleration recovers the ratio of known relaxation
times, on different frame spacings; the throughput is the ratio of the runs' own records."""


import h5py
import numpy as np
import pytest

from cgthermo.analysis import bootstrap, speedup

AA_FRAME_FS, CG_FRAME_FS = 180.0, 200.0
CENTRES = np.array([[-1.0, 0.0], [1.0, 0.0]])


def two_state_chain(rng, frames: int, switch: float) -> np.ndarray:
    """A symmetric two-state Markov chain that switches with probability `switch` per frame."""
    flips = rng.random(frames) < switch
    return (np.cumsum(flips) + rng.integers(2)) % 2


def relaxation_ps(switch: float, frame_fs: float) -> float:
    """Its implied timescale: the eigenvalue 1 − 2p per frame."""
    return -frame_fs / 1000.0 / np.log(1.0 - 2.0 * switch)


def reference(rng, units=8, frames=6000, switch=0.004) -> dict:
    dtrajs = [two_state_chain(rng, frames, switch) for _ in range(units)]
    return {"dtraj": np.concatenate(dtrajs), "piece_lengths": np.full(units, frames),
            "frame_unit": np.repeat(np.arange(units), frames), "msm_lag": np.int64(20),
            "frame_fs": np.float64(AA_FRAME_FS), "cluster_centres": CENTRES,
            "unit_pair_sums": np.zeros((units, 3))}


def cg_pieces(rng, units=16, frames=6000, switch=0.005) -> list[np.ndarray]:
    """CG frames in TICA space near the centre of their state."""
    return [CENTRES[two_state_chain(rng, frames, switch)] + 0.1 * rng.standard_normal((frames, 2))
            for _ in range(units)]


def test_dynamical_acceleration_is_the_ratio_of_relaxation_times():
    """All-atom frames every 180 fs, CG every 200 fs: the lag of 20 all-atom frames (3.6 ps)
    is 18 CG frames, and the acceleration is the known ratio of the two chains' implied
    timescales, inside its interval."""
    rng = np.random.default_rng(5)
    ref, pieces = reference(rng), cg_pieces(rng)
    m_ref = bootstrap.multiplicities(rng, 200, 8)
    m_cg = bootstrap.multiplicities(rng, 200, 16)
    values, rows, why = speedup.dynamical_acceleration(ref, pieces, list(range(16)), 16,
                                                       CG_FRAME_FS, m_ref, m_cg)  # fmt: skip
    truth = relaxation_ps(0.004, AA_FRAME_FS) / relaxation_ps(0.005, CG_FRAME_FS)
    assert not why
    assert values["msm_lag_cg_frames"] == 18 and values["msm_lag_ps"] == pytest.approx(3.6)
    assert values["slowest_timescale_aa_ps"] == pytest.approx(relaxation_ps(0.004, AA_FRAME_FS),
                                                              rel=0.15)
    assert values["dynamical_acceleration"] == pytest.approx(truth, rel=0.15)
    assert values["dynamical_acceleration_ci_low"] < truth < values["dynamical_acceleration_ci_high"]
    assert rows["dynamical_acceleration"].shape == (200,)


def write_dataset_attr(path, rate=None):
    with h5py.File(path, "w") as fh:
        group = fh.create_group("p")
        if rate is not None:
            group.attrs["aa_ns_per_day_per_core"] = rate
    return path


def test_throughput_and_effective_acceleration_come_from_the_runs_records(tmp_path):
    rng = np.random.default_rng(6)
    ref, pieces = reference(rng), cg_pieces(rng)
    m_ref, m_cg = bootstrap.multiplicities(rng, 50, 8), bootstrap.multiplicities(rng, 50, 16)
    run = {"sampler": "langevin", "ns_per_day_per_core": 1200.0}
    aa = speedup.aa_throughput(write_dataset_attr(tmp_path / "d.h5", 400.0), "p")
    values, why, _ = speedup.speedup_metrics(ref, pieces, list(range(16)), 16, CG_FRAME_FS, run,
                                             aa, m_ref, m_cg)
    assert values["throughput_ratio"] == pytest.approx(3.0) and not why
    assert values["effective_acceleration"] == pytest.approx(3.0 * values["dynamical_acceleration"])
    assert values["effective_acceleration_ci_low"] == pytest.approx(
        3.0 * values["dynamical_acceleration_ci_low"])

    older = speedup.aa_throughput(write_dataset_attr(tmp_path / "old.h5"), "p")
    values, why, _ = speedup.speedup_metrics(ref, pieces, list(range(16)), 16, CG_FRAME_FS, run,
                                             older, m_ref, m_cg)
    assert np.isnan(values["throughput_ratio"]) and "no speed record" in why["throughput_ratio"]
    assert np.isfinite(values["dynamical_acceleration"])
    assert why["effective_acceleration"] == why["throughput_ratio"]


def test_replica_exchange_has_no_dynamical_speedup(tmp_path):
    rng = np.random.default_rng(7)
    run = {"sampler": "exchange", "ns_per_day_per_core": 900.0, "replicas": 32,
           "trajectory_replicas": 8}
    values, why, rows = speedup.speedup_metrics(reference(rng), cg_pieces(rng), list(range(16)),
                                                16, CG_FRAME_FS, run, 300.0, None, None)
    # only the target slot of each four-temperature ladder is trajectory
    assert values["throughput_ratio"] == pytest.approx(0.75)
    assert np.isnan(values["dynamical_acceleration"]) and not rows
    assert "replica exchange has no dynamics" in why["dynamical_acceleration"]


def test_a_timescale_within_three_lag_times_is_no_number():
    """A CG chain relaxing in 6.6 ps (1.8 lag times of 3.6 ps): its timescale, the dynamical
    and the effective acceleration are null with the reason, the all-atom one (22 ps) stays."""
    rng = np.random.default_rng(8)
    ref, pieces = reference(rng), cg_pieces(rng, switch=0.015)
    m_ref, m_cg = bootstrap.multiplicities(rng, 50, 8), bootstrap.multiplicities(rng, 50, 16)
    run = {"sampler": "langevin", "ns_per_day_per_core": 1200.0}
    values, why, rows = speedup.speedup_metrics(ref, pieces, list(range(16)), 16, CG_FRAME_FS,
                                                run, 400.0, m_ref, m_cg)  # fmt: skip
    assert relaxation_ps(0.015, CG_FRAME_FS) < speedup.RESOLVED_LAGS * 3.6
    for name in ("slowest_timescale_cg_ps", "dynamical_acceleration", "effective_acceleration"):
        assert np.isnan(values[name]) and np.isnan(values[f"{name}_ci_low"])
        assert "CG slowest implied timescale" in why[name] and "within 3 lag times" in why[name]
    assert values["slowest_timescale_aa_ps"] == pytest.approx(relaxation_ps(0.004, AA_FRAME_FS),
                                                              rel=0.15)
    assert values["throughput_ratio"] == pytest.approx(3.0)


def test_data_without_any_transition_give_no_timescale():
    """Every piece shorter than the lag, or no transition at the lag: NaN, not an error."""
    assert np.isnan(speedup.slowest_timescale_ps([np.zeros(5, int)], 10, 0.2))
    assert np.isnan(speedup.slowest_timescale_ps([np.arange(30)], 10, 0.2))


def test_a_lag_that_is_no_whole_number_of_cg_frames_is_refused():
    """3.6 ps of all-atom lag against CG frames of 2.5 ps: the nearest CG lag (2.5 ps) is 31 %
    off, so the dynamical factors are undefined and say why; 0.2 ps frames match exactly."""
    rng = np.random.default_rng(8)
    ref, pieces = reference(rng), cg_pieces(rng, units=4, frames=400)
    run = {"sampler": "langevin", "ns_per_day_per_core": 100.0}
    values, why, _ = speedup.speedup_metrics(ref, pieces, list(range(4)), 4, 2500.0, run, 50.0,
                                             None, None)
    assert np.isnan(values["dynamical_acceleration"])
    assert "no whole number of CG frames" in why["dynamical_acceleration"]
    assert speedup.lag_problem(ref, CG_FRAME_FS) == ""
    assert "no frame spacing" in speedup.lag_problem(ref, float("nan"))


def segments_and_replicas(rng, n_segments: int = 10, n_aa: int = 8):
    """A CG run of equal segments whose core seconds scatter (load changes), and all-atom
    replicas whose own speeds scatter: lognormal, so the true means are known."""
    core = np.exp(rng.normal(np.log(60.0), 0.2, n_segments))
    run = {"sampler": "langevin", "replicas": 32, "trajectory_replicas": 32,
           "segments": {"simulated_ns": [0.64] * n_segments, "core_seconds": core.tolist()},
           "ns_per_day_per_core": 0.64 * n_segments / (core.sum() / 86400.0)}
    return run, np.exp(rng.normal(np.log(400.0), 0.15, n_aa))


def test_the_throughput_interval_covers_the_true_ratio_at_the_demo_sizes():
    """Ten CG segments and eight all-atom replicas, 200 repetitions: the percentile interval of
    the resampled speeds covers the ratio of the true mean speeds about as often as 95 %
    intervals over so few units do (the band allows the few-unit under-cover)."""
    rng = np.random.default_rng(11)
    true_cg = 0.64 / (60.0 * np.exp(0.2**2 / 2) / 86400.0)
    true_ratio = true_cg / (400.0 * np.exp(0.15**2 / 2))
    covered = 0
    for k in range(200):
        run, aa = segments_and_replicas(rng)
        values, _, _ = speedup.speedup_metrics(reference(rng, units=2), [], [], 0, float("nan"),
                                               run, float(aa.mean()), None,
                                               np.ones((200, 1)), aa, seed=k)  # fmt: skip
        low, high = values["throughput_ratio_ci_low"], values["throughput_ratio_ci_high"]
        assert low <= values["throughput_ratio"] <= high
        covered += low <= true_ratio <= high
    assert 0.82 <= covered / 200 <= 0.99


def test_steady_speeds_give_an_interval_of_no_width_and_older_records_none():
    rng = np.random.default_rng(12)
    run, _ = segments_and_replicas(rng)
    run["segments"]["core_seconds"] = [60.0] * 10
    run["ns_per_day_per_core"] = 0.64 / (60.0 / 86400.0)
    aa = np.full(8, 400.0)
    values, _, _ = speedup.speedup_metrics(reference(rng, units=2), [], [], 0, float("nan"), run,
                                           400.0, None, np.ones((50, 1)), aa)  # fmt: skip
    assert values["throughput_ratio_ci_low"] == pytest.approx(values["throughput_ratio"])
    assert values["throughput_ratio_ci_high"] == pytest.approx(values["throughput_ratio"])
    del run["segments"]
    values, _, _ = speedup.speedup_metrics(reference(rng, units=2), [], [], 0, float("nan"), run,
                                           400.0, None, np.ones((50, 1)), aa)  # fmt: skip
    assert np.isfinite(values["throughput_ratio"]) and np.isnan(values["throughput_ratio_ci_low"])
