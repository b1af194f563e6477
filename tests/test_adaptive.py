"""Count-based adaptive sampling (cgthermo.aa.adaptive) on a double well with known answers.

Overdamped Langevin dynamics on U(x) = h (x² − 1)² + t x: two wells at x ≈ ±1, the right one
higher by about 2t, a barrier of about h. Every trajectory starts in the left well, as the
all-atom replicas start unfolded. At equal total steps, restarts from the least-visited
clusters reach the right well sooner than plain replicas, over many repetitions, and an MSM
over all the adaptive trajectories gives the Boltzmann populations of the two wells.
"""

import numpy as np
import pytest

from cgthermo.adaptive.counts import choose_restarts, restart_weights

H, TILT, KT, DT = 6.0, 0.6, 1.0, 1e-3  # barrier 6 kT, right well ~1.2 kT higher
EDGES = np.linspace(-2.0, 2.0, 41)  # 40 clusters along x


def force(x, barrier: float):
    return -(4.0 * barrier * x * (x**2 - 1.0) + TILT)


def run(starts, steps: int, rng, barrier: float = H) -> np.ndarray:
    """(trajectories, steps) positions of overdamped Langevin runs from `starts`."""
    x = np.array(starts, dtype=np.float64)
    out = np.empty((len(x), steps))
    noise = np.sqrt(2.0 * KT * DT)
    for k in range(steps):
        x = x + force(x, barrier) * DT + noise * rng.standard_normal(len(x))
        out[:, k] = x
    return out


def cluster(x) -> np.ndarray:
    return np.clip(np.digitize(x, EDGES) - 1, 0, len(EDGES) - 2)


def first_crossing(trajectories) -> float:
    """Total steps spent (trajectory after trajectory) until one reaches x > 0.9; inf if none."""
    spent = 0
    for traj in trajectories:
        hit = np.flatnonzero(traj > 0.9)
        if hit.size:
            return spent + hit[0] + 1
        spent += len(traj)
    return float("inf")


def plain(rng, n_traj: int, length: int) -> list:
    return list(run(np.full(n_traj, -1.0), length, rng))


def adaptive(rng, epochs: int, per_epoch: int, length: int, barrier: float = H) -> list:
    """Epoch 0 from the left well; each later epoch from `choose_restarts` on all frames."""
    trajectories = list(run(np.full(per_epoch, -1.0), length, rng, barrier))
    for _ in range(epochs - 1):
        frames = np.concatenate(trajectories)
        picked, _ = choose_restarts(cluster(frames), per_epoch, rng)
        trajectories += list(run(frames[picked], length, rng, barrier))
    return trajectories


def test_restarts_favour_the_least_visited_clusters():
    counts = np.array([100, 10, 1, 0])
    weights = restart_weights(counts)
    assert weights[3] == 0 and weights[2] == pytest.approx(10 * weights[1])
    assert weights.sum() == pytest.approx(1.0)
    frame_cluster = np.repeat(np.arange(3), [100, 10, 1])
    frames, clusters = choose_restarts(frame_cluster, 20_000, np.random.default_rng(0))
    share = np.bincount(clusters, minlength=3) / 20_000
    np.testing.assert_allclose(share, [1 / 111 / 0.1 * 0.01, 0.1 / 1.11, 1 / 1.11], atol=0.01)
    assert (frame_cluster[frames] == clusters).all()


def test_adaptive_restarts_reach_the_rare_well_sooner_at_equal_cost():
    """8 epochs × 4 trajectories against 32 plain ones, 500 steps each: over 40 repetitions
    the adaptive runs reach the right well first in fewer total steps (median) and more
    often within the budget."""
    rng = np.random.default_rng(5)
    adaptive_steps, plain_steps = [], []
    for _ in range(40):
        adaptive_steps.append(first_crossing(adaptive(rng, 8, 4, 500)))
        plain_steps.append(first_crossing(plain(rng, 32, 500)))
    adaptive_steps, plain_steps = np.array(adaptive_steps), np.array(plain_steps)
    assert np.median(adaptive_steps) < np.median(plain_steps)
    assert np.isfinite(adaptive_steps).sum() > np.isfinite(plain_steps).sum()


def test_an_msm_over_the_adaptive_trajectories_recovers_the_boltzmann_populations():
    """The adaptive data over-visit the higher well; a reversible MSM over all trajectories
    gives back the Boltzmann population of that well within its bootstrap interval over
    whole trajectories (a 4 kT barrier here, so the data hold enough crossings for the
    estimate), where plain frame counting is further off."""
    from cgthermo.analysis import kinetics

    barrier = 4.0
    rng = np.random.default_rng(9)
    trajectories = adaptive(rng, 16, 8, 6000, barrier)
    x = np.linspace(-2.0, 2.0, 20001)
    boltzmann = np.exp(-(barrier * (x**2 - 1.0) ** 2 + TILT * x) / KT)
    truth = boltzmann[x > 0].sum() / boltzmann.sum()
    dtrajs = [cluster(t[::10]) for t in trajectories]  # every 10th step: lag in saved frames

    def right_population(pieces):
        msm = kinetics.estimate_msm(pieces, 5)
        pi = kinetics.state_stationary(msm, len(EDGES) - 1)
        centres = 0.5 * (EDGES[1:] + EDGES[:-1])
        return float(pi[centres > 0].sum())

    point = right_population(dtrajs)
    draws = [right_population([dtrajs[k] for k in rng.integers(0, len(dtrajs), len(dtrajs))])
             for _ in range(40)]  # fmt: skip
    low, high = np.percentile(draws, [2.5, 97.5])
    assert low <= truth <= high
    counted = np.mean(np.concatenate(trajectories) > 0)
    assert abs(counted - truth) > abs(point - truth)
