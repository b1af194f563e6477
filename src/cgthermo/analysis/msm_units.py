"""All-atom bootstrap units whose frame weights come from an MSM estimated on the resample.

With `reweight: msm` every frame weighs π(state) / (frames in its state). Held fixed over the
resamples, those weights leave the MSM's own estimation noise out of the intervals; on
adaptive data, whose trajectories start where earlier ones went, the intervals then cover
far too rarely (benchmarks/adaptive_bootstrap.py: 65 of 100 true values inside the 95 %
interval on a double well, 91 with the MSM estimated again). Here each resample estimates
the MSM again on its own trajectories.

Every statistic is linear in the frame weights, and a frame's weight depends only on its
state, so the units are split into (replica, microstate) cells with unit frame weights; a
resample's statistics are the cells' statistics weighted by the replica's multiplicity
times the state's new weight. The pair-distance sums (the mean-distance metric) keep the
point MSM's weights.
"""

import numpy as np

from ..errors import CgthermoError
from . import bootstrap, kinetics


class MsmUnits:
    """Stand-in for `bootstrap.UnitStats` on the all-atom side: `n_units` replicas and
    `totals(multiplicity)` with the MSM estimated again for every multiplicity but the
    point one (every replica once), which keeps the reference's own weights."""

    def __init__(self, cells: bootstrap.UnitStats, cell_replica, cell_state, state_weight,
                 pieces, lag: int, n_states: int, unit_pair_sums):  # fmt: skip
        self.cells, self.cell_replica, self.cell_state = cells, cell_replica, cell_state
        self.state_weight, self.pieces, self.lag, self.n_states = state_weight, pieces, lag, n_states
        self.unit_pair_sums = np.asarray(unit_pair_sums, dtype=np.float64)

    @property
    def n_units(self) -> int:
        return len(self.unit_pair_sums)

    def totals(self, multiplicity) -> bootstrap.UnitStats:
        m = np.asarray(multiplicity, dtype=np.float64)
        weight = self.state_weight if np.all(m == 1) else self.resampled_state_weight(m)
        totals = self.cells.totals(m[self.cell_replica] * weight[self.cell_state])
        totals.pair_sums = m @ self.unit_pair_sums
        return totals

    def with_fixed_weights(self) -> bootstrap.UnitStats:
        """Per-replica statistics under the point MSM's weights, held over every resample."""
        per_cell = np.zeros((self.n_units, len(self.cell_state)))
        per_cell[self.cell_replica, np.arange(len(self.cell_state))] = self.state_weight[self.cell_state]
        stats = bootstrap.UnitStats(*(np.tensordot(per_cell, getattr(self.cells, name), axes=1)
                                      for name in bootstrap.UNIT_FIELDS))  # fmt: skip
        stats.pair_sums = self.unit_pair_sums
        return stats

    def resampled_state_weight(self, m: np.ndarray) -> np.ndarray:
        return resampled_state_weight(self.pieces, m, self.lag, self.n_states)


def resampled_state_weight(pieces, m, lag: int, n_states: int) -> np.ndarray:
    """π(state) / (frames in state) of the MSM of a resample's trajectories: each piece
    (discrete trajectory, replica) as often as multiplicity `m` draws its replica; zero
    everywhere when they hold no MSM."""
    dtrajs = [d for d, replica in pieces for _ in range(int(m[replica]))]
    try:
        msm = kinetics.estimate_msm(dtrajs, lag) if dtrajs else None
    except CgthermoError:
        msm = None
    if msm is None:
        return np.zeros(n_states)
    pi = kinetics.state_stationary(msm, n_states)
    counts = np.bincount(np.concatenate(dtrajs), minlength=n_states).astype(np.float64)
    return np.divide(pi, counts, out=np.zeros(n_states), where=counts > 0)


def reference_pieces(ref: dict) -> list[tuple]:
    """(discrete trajectory, replica) of every time-contiguous piece of a full reference.npz."""
    state, replica = np.asarray(ref["dtraj"], dtype=np.int64), np.asarray(ref["frame_unit"])
    ends = np.cumsum(ref["piece_lengths"])
    return [(state[end - n : end], int(replica[end - n]))
            for n, end in zip(ref["piece_lengths"], ends, strict=True) if n]  # fmt: skip


def msm_units(ref: dict, grid, md_grid, folded) -> MsmUnits:
    """The (replica, microstate) cells of a full reference.npz with `reweight: msm`."""
    state, replica = np.asarray(ref["dtraj"], dtype=np.int64), np.asarray(ref["frame_unit"])
    n_states = len(ref["state_pi"])
    cell = replica * n_states + state
    used, frame_cell = np.unique(cell, return_inverse=True)
    cells = bootstrap.unit_stats(frame_cell, len(used), ref["tics"], np.ones(len(state)), grid,
                                 md_grid, ref["rmsd"], ref["q"], ref["rg"], folded,
                                 np.zeros((len(used), len(ref["pairs"]))))  # fmt: skip
    weights = np.asarray(ref["weights"], dtype=np.float64)
    state_weight = np.zeros(n_states)
    state_weight[state] = weights  # the same for every frame of a state
    return MsmUnits(cells, used // n_states, used % n_states, state_weight, reference_pieces(ref),
                    int(ref["msm_lag"]), n_states, ref["unit_pair_sums"])
