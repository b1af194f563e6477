"""Delta forces: mapped forces minus the prior's forces, computed by torchmd itself."""

import numpy as np

from ..cgmap.dataset import CGData
from ..cgtopology import CGTopology
from ..priorforces import prior_forces


def delta_data(data: CGData, prior_yaml) -> CGData:
    """The dataset with forces = mapped − prior (float64 arithmetic, stored float32)."""
    _, prior = prior_forces(prior_yaml, CGTopology(data.resnames), data.pos)
    delta = data.with_forces(np.asarray(data.forces, dtype=np.float64) - prior)
    delta.extra_attrs = {"forces": "mapped minus prior", "prior": str(prior_yaml)}
    return delta
