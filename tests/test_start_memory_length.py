"""scripts/start_memory_length.py: runs that remember their starts show a resolved gap between
folded-start and unfolded-start replicas while they are short, and none once they are long."""

import runpy
from pathlib import Path

import numpy as np

SCRIPT = runpy.run_path(str(Path(__file__).parents[1] / "scripts" / "start_memory_length.py"))


def remembering_runs(rng, memory_ps: float, n_each: int = 8, length_ps: float = 400.0):
    """Replicas that keep their start's state for `memory_ps`, then fold half the time."""
    time = np.arange(0.2, length_ps + 1e-9, 0.2)
    series = {}
    for replica in range(2 * n_each):
        starts_folded = replica < n_each
        later = rng.random(len(time)) < 0.5
        series[replica] = (time, np.where(time < memory_ps, starts_folded, later))
    return series


def test_a_short_run_remembers_its_starts_and_a_long_one_does_not():
    rng = np.random.default_rng(3)
    series = remembering_runs(rng, memory_ps=50.0)
    gap_at = SCRIPT["gap_at"]
    _, _, gap, _, high = gap_at(series, 60.0, 0.0, 400.0, rng, 500)
    assert gap < -1.0 and high < 0  # folded starts: lower ΔG_fold, resolved
    # cut 400 ps, burn-in a quarter (100 ps, past the memory): both groups fold half the time,
    # and what is left is the frames' own noise (about 0.02 kcal/mol per group of 8)
    _, _, gap, low, high = gap_at(series, 400.0, 0.25, 400.0, rng, 500)
    assert abs(gap) < 0.15 and high - low < 0.3


def test_too_few_replicas_in_a_group_give_no_gap():
    rng = np.random.default_rng(4)
    series = remembering_runs(rng, memory_ps=50.0)
    few = {k: v for k, v in series.items() if k >= 6}  # 2 folded starts, 8 unfolded
    n_folded, n_unfolded, gap, low, high = SCRIPT["gap_at"](few, 400.0, 0.0, 400.0, rng, 100)
    assert (n_folded, n_unfolded) == (2, 8) and np.isnan(gap) and np.isnan(low)


def test_windows_show_when_the_runs_leave_their_starts():
    """Runs that keep their start's state for 50 ps: folded starts are all folded before,
    both groups half folded after."""
    series = remembering_runs(np.random.default_rng(5), memory_ps=50.0)
    rows = SCRIPT["window_fractions"](series, [0.0, 50.0, 400.0])
    (_, _, early_folded, early_unfolded), (_, _, late_folded, late_unfolded) = rows
    assert early_folded == 1.0 and early_unfolded == 0.0
    assert abs(late_folded - 0.5) < 0.03 and abs(late_unfolded - 0.5) < 0.03


def test_a_replica_is_grouped_by_its_own_start_when_given():
    """A folded start that unfolds before its first saved frame still counts as folded when
    the start itself is given (the third entry, from the start trajectory)."""
    rng = np.random.default_rng(6)
    series = remembering_runs(rng, memory_ps=50.0)
    series[0] = (series[0][0], np.r_[False, series[0][1][1:]])  # left the fold at once
    n_folded, n_unfolded, *_ = SCRIPT["gap_at"](series, 400.0, 0.0, 400.0, rng, 50)
    assert (n_folded, n_unfolded) == (7, 9)
    given = {r: (*entry, r < 8) for r, entry in series.items()}
    n_folded, n_unfolded, *_ = SCRIPT["gap_at"](given, 400.0, 0.0, 400.0, rng, 50)
    assert (n_folded, n_unfolded) == (8, 8)
