"""The prior in torchmd: its Parameters and Forces, and one evaluation of them."""

import torch
from torchmd.forcefields.forcefield import ForceField
from torchmd.forces import Forces
from torchmd.parameters import Parameters

from ..cgtopology import CGTopology
from ..errors import CgthermoError
from .naming import prior_types
from .yamlio import PRIOR_TERMS, read_prior, terms_of

PRIOR_EXCLUSIONS = ("bonds",)  # repulsion acts on every pair except 1-2 neighbours


def exclusions_of(params) -> tuple:
    """The repulsion's exclusions the prior was fitted with (its YAML's `exclusions`; a
    prior without the key leaves out the 1-2 pairs only)."""
    return tuple(getattr(params, "repulsion_exclusions", PRIOR_EXCLUSIONS))


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
        params = Parameters(ff, typed, terms=terms_of(sections), device=device,
                            precision=precision)  # fmt: skip
    except RuntimeError as err:
        raise CgthermoError(
            f"prior {prior_yaml} does not cover this chain ({err})",
            "refit the prior on data that contains every residue type of the protein",
        ) from None
    params.repulsion_exclusions = tuple(sections.get("exclusions") or PRIOR_EXCLUSIONS)
    return params


def build_forces(prior_yaml, topology: CGTopology, device="cpu", precision=torch.float64,
                 external=None, terms=None) -> Forces:
    """torchmd Forces for the prior terms, or only `terms` of them (plus an optional external NNP)."""
    params = load_parameters(prior_yaml, topology, device=device, precision=precision)
    # torchmd 1.1.2 only fills the pair tables when 'lj' is among the terms; RepulsionCG needs B
    params.A, params.B = params.get_AB()
    return Forces(params, terms=list(terms) if terms else force_terms(params), external=external,
                  exclusions=exclusions_of(params))


def zero_box(nsystems: int, device="cpu", precision=torch.float64) -> torch.Tensor:
    """An all-zero box: torchmd then applies no periodic wrapping."""
    return torch.zeros(nsystems, 3, 3, device=device, dtype=precision)


def evaluate(forces: Forces, positions: torch.Tensor):
    """Energies (nsystems,) in kcal/mol and forces (nsystems, beads, 3) in kcal/mol/Å."""
    out = torch.zeros_like(positions)
    box = zero_box(positions.shape[0], positions.device, positions.dtype)
    energy = forces.compute(positions, box, out, toNumpy=False)
    return energy.detach(), out
