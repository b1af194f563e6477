"""Delta forces: mapped forces minus the prior's forces, computed block by block."""

from dataclasses import replace

import numpy as np

from ..cgmap.dataset import CGData, LazyFrames
from ..cgtopology import CGTopology
from ..forcefield.evaluate import PriorEvaluator


class DeltaForces(LazyFrames):
    """Mapped − prior forces of one dataset group, as a read-only array of float32 that is
    computed block by block when sliced: the mapped forces and positions may stay on disk."""

    dtype = np.dtype(np.float32)

    def __init__(self, data: CGData, prior_yaml):
        self.pos, self.mapped = data.pos, data.forces
        self.prior = PriorEvaluator(prior_yaml, CGTopology(data.resnames))
        self.shape = tuple(self.mapped.shape)

    def __getitem__(self, frames: slice) -> np.ndarray:
        _, prior = self.prior(self.pos[frames])
        return (np.asarray(self.mapped[frames], dtype=np.float64) - prior).astype(np.float32)


def delta_data(data: CGData, prior_yaml) -> CGData:
    """The dataset group with forces = mapped − prior (float64 arithmetic, stored float32)."""
    return replace(data, forces=DeltaForces(data, prior_yaml),
                   extra_attrs={"forces": "mapped minus prior", "prior": str(prior_yaml)})  # fmt: skip
