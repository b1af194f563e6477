"""The prior as torchmd defines it, from a prior YAML: parameters, forces and many-frame evaluation."""

import numpy as np
import torch
from torchmd.forcefields.forcefield import ForceField
from torchmd.forces import Forces
from torchmd.parameters import Parameters

from .cgtopology import CGTopology, prior_naming
from .errors import CgthermoError

PRIOR_TERMS = ("bonds", "repulsioncg", "dihedrals")
OPTIONAL_TERMS = ("angles",)  # written only when the prior fits them (prior.angles)
PRIOR_EXCLUSIONS = ("bonds",)  # repulsion acts on every pair except 1-2 neighbours


def read_prior(prior_yaml) -> dict:
    """The sections of a prior YAML."""
    import yaml

    with open(prior_yaml) as fh:
        return yaml.safe_load(fh) or {}


def _terms_of(sections: dict) -> tuple:
    return PRIOR_TERMS + tuple(t for t in OPTIONAL_TERMS if sections.get(t))


def prior_terms(prior_yaml) -> tuple:
    """The torchmd force terms a prior YAML defines: the paper's three, plus angles if present."""
    return _terms_of(read_prior(prior_yaml))


def prior_types(prior_yaml, topology: CGTopology, sections: dict | None = None) -> CGTopology:
    """The chain typed the way the prior YAML names its beads: by residue name (ALA, …, what
    the prior stage writes) or by CA + one-letter code (CAA, …, the paper's files), told
    from its `atomtypes` (the `lj` table's types where it has none)."""
    sections = read_prior(prior_yaml) if sections is None else sections
    types = sections.get("atomtypes")
    if types is None:
        types = list(sections.get("lj") or {})
    return topology.typed_as(prior_naming(types, prior_yaml))


def force_terms(params) -> list:
    """The torchmd force terms of loaded parameters: angles only where the prior has them."""
    return list(PRIOR_TERMS) + (["angles"] if params.angle_params is not None else [])


def load_parameters(prior_yaml, topology: CGTopology, device="cpu", precision=torch.float64):
    """torchmd Parameters of our Cα chain from a prior YAML of either naming (prior_types),
    with a clear error for missing types."""
    sections = read_prior(prior_yaml)
    typed = prior_types(prior_yaml, topology, sections)
    try:
        ff = ForceField.create(typed, str(prior_yaml))
        return Parameters(ff, typed, terms=_terms_of(sections), device=device,
                          precision=precision)  # fmt: skip
    except RuntimeError as err:
        raise CgthermoError(
            f"prior {prior_yaml} does not cover this chain ({err})",
            "refit the prior on data that contains every residue type of the protein",
        ) from None


def build_forces(prior_yaml, topology: CGTopology, device="cpu", precision=torch.float64,
                 external=None, terms=None) -> Forces:
    """torchmd Forces for the prior terms, or only `terms` of them (plus an optional external NNP)."""
    params = load_parameters(prior_yaml, topology, device=device, precision=precision)
    # torchmd 1.1.2 only fills the pair tables when 'lj' is among the terms; RepulsionCG needs B
    params.A, params.B = params.get_AB()
    return Forces(params, terms=list(terms) if terms else force_terms(params), external=external,
                  exclusions=PRIOR_EXCLUSIONS)


def zero_box(nsystems: int, device="cpu", precision=torch.float64) -> torch.Tensor:
    """An all-zero box: torchmd then applies no periodic wrapping."""
    return torch.zeros(nsystems, 3, 3, device=device, dtype=precision)


def evaluate(forces: Forces, positions: torch.Tensor):
    """Energies (nsystems,) in kcal/mol and forces (nsystems, beads, 3) in kcal/mol/Å."""
    out = torch.zeros_like(positions)
    box = zero_box(positions.shape[0], positions.device, positions.dtype)
    energy = forces.compute(positions, box, out, toNumpy=False)
    return energy.detach(), out


# Frames × bead pairs per block of the batched prior: bounds its memory (~0.1 GB of float64
# pair tensors) whatever the chain length.
PAIR_ENTRIES_PER_BLOCK = 500_000


class PriorEvaluator:
    """A prior YAML's energies and forces on many frames, in float64, a block at a time.

    All terms: the batched prior that cg_sim integrates with (cgsim.batched, equal to
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
            from .cgsim.batched import build_batched_forces

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
