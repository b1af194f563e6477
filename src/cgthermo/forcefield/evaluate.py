"""A prior's energies and forces on many frames, a block at a time (delta forces, noise labels)."""

import numpy as np
import torch

from ..cgtopology import CGTopology
from .batched import build_batched_forces
from .torchmd import build_forces, evaluate

# Frames × bead pairs per block of the batched prior: bounds its memory (~0.1 GB of float64
# pair tensors) whatever the chain length.
PAIR_ENTRIES_PER_BLOCK = 500_000


class PriorEvaluator:
    """A prior YAML's energies and forces on many frames, in float64, a block at a time.

    All terms: the batched prior that cg_sim integrates with (forcefield.batched, equal to
    torchmd's own terms to 1e-6), so the delta forces the network learns and the forces it
    is simulated with come from one implementation. Only `terms`: torchmd's own force
    terms (a diagnostic of single terms).
    """

    def __init__(self, prior_yaml, topology: CGTopology, terms=None, chunk: int | None = None):
        self.beads = topology.numAtoms
        if terms:
            self.forces = build_forces(prior_yaml, topology, terms=terms)
            self.chunk = chunk or 256  # torchmd loops over the frames of a block in Python
        else:
            self.forces = build_batched_forces(prior_yaml, topology)
            pairs = max(1, self.beads * (self.beads - 1) // 2)
            self.chunk = chunk or max(1, PAIR_ENTRIES_PER_BLOCK // pairs)

    def __call__(self, positions_angstrom) -> tuple[np.ndarray, np.ndarray]:
        """(energies (frames,), forces (frames, beads, 3)); `positions_angstrom` may be an
        h5py dataset or a memory map, read one block at a time."""
        pos = positions_angstrom
        energies = np.empty(len(pos))
        result = np.empty((len(pos), self.beads, 3))
        for start in range(0, len(pos), self.chunk):
            block = torch.as_tensor(np.asarray(pos[start : start + self.chunk], dtype=np.float64))
            energy, force = evaluate(self.forces, block)
            energies[start : start + len(block)] = energy.numpy()
            result[start : start + len(block)] = force.numpy()
        return energies, result


def prior_forces(prior_yaml, topology: CGTopology, positions_angstrom, chunk: int | None = None,
                 terms=None):
    """Prior energies and forces (kcal/mol, kcal/mol/Å) of many frames (PriorEvaluator)."""
    return PriorEvaluator(prior_yaml, topology, terms=terms, chunk=chunk)(positions_angstrom)
