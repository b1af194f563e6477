"""Count-based adaptive sampling (cgthermo.adaptive.counts) on a double well with known
answers (helpers.double_well): at equal total steps, restarts from the least-visited
clusters reach the rare well sooner than plain replicas, over many repetitions, and an MSM
over all the adaptive trajectories gives the Boltzmann populations of the two wells.
"""

import numpy as np
import pytest
from helpers.double_well import (
    CENTRES,
    EDGES,
    adaptive,
    cluster,
    first_crossing,
    plain,
    right_well_population,
)

from cgthermo.adaptive.counts import choose_restarts, restart_weights


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
    truth = right_well_population(barrier)
    dtrajs = [cluster(t[::10]) for t in trajectories]  # every 10th step: lag in saved frames

    def right_population(pieces):
        msm = kinetics.estimate_msm(pieces, 5)
        pi = kinetics.state_stationary(msm, len(EDGES) - 1)
        return float(pi[CENTRES > 0].sum())

    point = right_population(dtrajs)
    draws = [right_population([dtrajs[k] for k in rng.integers(0, len(dtrajs), len(dtrajs))])
             for _ in range(40)]  # fmt: skip
    low, high = np.percentile(draws, [2.5, 97.5])
    assert low <= truth <= high
    counted = np.mean(np.concatenate(trajectories) > 0)
    assert abs(counted - truth) > abs(point - truth)
