"""scripts/balanced_starts.py: as many folded as unfolded starts, none on the state boundary,
spread through the data rather than bunched at its start."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from cgthermo.errors import CgthermoError

SCRIPT = runpy.run_path(str(Path(__file__).parents[1] / "scripts" / "balanced_starts.py"))


def test_each_state_gets_its_share_away_from_the_boundary_and_spread_over_the_frames():
    rng = np.random.default_rng(0)
    rmsd = rng.uniform(0.5, 8.0, 4000)  # frames in (replica, time) order
    folded, unfolded = SCRIPT["choose_balanced"](rmsd, 16, 2.0, 4.0)
    assert len(folded) == len(unfolded) == 16
    assert np.all(rmsd[folded] < 2.0) and np.all(rmsd[unfolded] >= 4.0)
    # evenly spaced through each state's frames: the first and the last frame of each state
    # are taken, and consecutive picks lie about (members / 15) members apart
    for chosen, members in ((folded, np.flatnonzero(rmsd < 2.0)),
                            (unfolded, np.flatnonzero(rmsd >= 4.0))):  # fmt: skip
        assert chosen[0] == members[0] and chosen[-1] == members[-1]
        rank = np.searchsorted(members, chosen)
        assert np.ptp(np.diff(rank)) <= 1


def test_too_few_frames_of_a_state_and_crossed_bounds_are_refused():
    rmsd = np.r_[np.full(3, 1.0), np.full(50, 6.0)]
    with pytest.raises(CgthermoError, match="3 folded frames, fewer than 16"):
        SCRIPT["choose_balanced"](rmsd, 16, 2.0, 4.0)
    with pytest.raises(CgthermoError, match="lies below"):
        SCRIPT["choose_balanced"](rmsd, 2, 2.0, 1.5)
