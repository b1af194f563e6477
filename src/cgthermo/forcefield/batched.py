"""The CG prior (bonds, optional angles, RepulsionCG, periodic dihedrals) evaluated for all replicas at once.

torchmd's `Forces.compute` loops over replicas in Python and launches a dozen small
kernels per replica and term; with 32 replicas that, not the network, sets the step
time on a GPU. `BatchedPriorForces` keeps torchmd's parameters, conventions and call
signature, but evaluates each term once over a (replicas, terms) batch. Only
non-periodic systems are supported (the box is ignored), which is what a CG protein
in implicit solvent is.
"""

import torch
from torchmd.forces import Forces, evaluate_angles

from ..errors import CgthermoError
from .torchmd import exclusions_of, force_terms, load_parameters


def _columns(index):
    """The columns of an (n, k) index tensor as contiguous vectors (fast index_select/index_add)."""
    return tuple(index[:, c].contiguous() for c in range(index.shape[1]))


def _pair_vectors(pos, i, j):
    """Vectors pos[i] − pos[j], batched over replicas: (R, P, 3)."""
    return pos.index_select(1, i) - pos.index_select(1, j)


class BatchedPriorForces(Forces):
    """torchmd `Forces` for the CG prior whose `compute` is vectorized over replicas."""

    def __init__(self, parameters, external=None):
        super().__init__(parameters, terms=force_terms(parameters), external=external,
                         exclusions=exclusions_of(parameters))  # fmt: skip
        par = self.par
        self._angles = None
        if par.angle_params is not None:
            k0_theta0 = par.angle_params["params"][par.angle_params["map"][:, 1]]
            self._angles = (*_columns(par.angle_params["idx"]), k0_theta0[:, 0], k0_theta0[:, 1])
        self._bonds = None
        if par.bond_params is not None:
            k0_req = par.bond_params["params"][par.bond_params["map"][:, 1]]
            self._bonds = (*_columns(par.bond_params["idx"]), k0_req[:, 0], k0_req[:, 1])
        self._pairs = None
        if self.ava_idx is not None and len(self.ava_idx):
            types = par.mapped_atom_types.to(self.ava_idx.device)[self.ava_idx]
            self._pairs = (*_columns(self.ava_idx), par.B[types[:, 0], types[:, 1]])
        self._dihedrals = None
        if par.dihedral_params is not None:
            terms = par.dihedral_params["params"][par.dihedral_params["map"][:, 1]]
            if not torch.all(terms[:, 2] > 0):
                raise CgthermoError(
                    "the prior has dihedral terms with periodicity <= 0 (harmonic torsions)",
                    "use periodic (Fourier) dihedral terms with per >= 1 in prior.yaml",
                )
            self._dihedrals = (_columns(par.dihedral_params["idx"]),
                               par.dihedral_params["map"][:, 0].contiguous(),
                               terms[:, 0], terms[:, 1], terms[:, 2])

    def compute(self, pos, box, forces, returnDetails=False, explicit_forces=True,
                toNumpy=True, calculateForces=True):
        """Same contract as torchmd's `Forces.compute` (explicit forces only)."""
        if not explicit_forces:
            raise CgthermoError("BatchedPriorForces computes explicit forces only",
                                "call compute with explicit_forces=True")
        out = forces if forces is not None else torch.zeros_like(pos)
        out.zero_()
        terms = {
            "bonds": self._bond_energy(pos, out),
            **({"angles": self._angle_energy(pos, out)} if self._angles is not None else {}),
            "repulsioncg": self._repulsion_energy(pos, out),
            "dihedrals": self._dihedral_energy(pos, out),
        }
        if self.external:
            # the box is not passed: our External ignores it, the CG system is not periodic
            ext_energy, ext_forces = self.external.calculate(pos, None)
            terms["external"] = ext_energy.reshape(-1).to(pos.dtype)
            out += ext_forces.to(pos.dtype)
        if returnDetails:
            details = [{k: v[i] for k, v in terms.items()} for i in range(pos.shape[0])]
            if toNumpy:
                return [{k: v.cpu().item() for k, v in d.items()} for d in details]
            return details
        energy = torch.stack(list(terms.values())).sum(0)
        return [e.cpu().item() for e in energy] if toNumpy else energy

    def _bond_energy(self, pos, out):
        if self._bonds is None:
            return pos.new_zeros(pos.shape[0])
        i, j, k0, req = self._bonds
        vec = _pair_vectors(pos, i, j)
        dist = vec.norm(dim=-1)
        stretch = dist - req
        coeff = 2 * k0 * stretch
        force = vec * (coeff / dist).unsqueeze(-1)
        out.index_add_(1, i, -force)
        out.index_add_(1, j, force)
        return (k0 * stretch**2).sum(-1)

    def _angle_energy(self, pos, out):
        """torchmd's own angle term, on all replicas' triplets flattened into one batch."""
        i, j, k, k0, theta0 = self._angles
        nrep, nang = pos.shape[0], i.shape[0]
        r21 = _pair_vectors(pos, i, j).reshape(-1, 3)
        r23 = _pair_vectors(pos, k, j).reshape(-1, 3)
        params = torch.stack([k0, theta0], dim=1).repeat(nrep, 1)
        energy, (f_i, f_j, f_k) = evaluate_angles(r21, r23, params)
        out.index_add_(1, i, f_i.reshape(nrep, nang, 3))
        out.index_add_(1, j, f_j.reshape(nrep, nang, 3))
        out.index_add_(1, k, f_k.reshape(nrep, nang, 3))
        return energy.reshape(nrep, nang).sum(-1)

    def _repulsion_energy(self, pos, out):
        if self._pairs is None:
            return pos.new_zeros(pos.shape[0])
        i, j, coef = self._pairs
        vec = _pair_vectors(pos, i, j)
        dist2 = (vec * vec).sum(-1)
        energy = coef / dist2**3
        # dV/dr / r = −6 V / r²
        force = vec * (-6 * energy / dist2).unsqueeze(-1)
        out.index_add_(1, i, -force)
        out.index_add_(1, j, force)
        return energy.sum(-1)

    def _dihedral_energy(self, pos, out):
        if self._dihedrals is None:
            return pos.new_zeros(pos.shape[0])
        quads, term_dihedral, k, phase, per = self._dihedrals
        a, b, c, d = quads
        r12, r23, r34 = _pair_vectors(pos, a, b), _pair_vectors(pos, b, c), _pair_vectors(pos, c, d)
        cross_a = torch.linalg.cross(r12, r23, dim=-1)
        cross_b = torch.linalg.cross(r23, r34, dim=-1)
        cross_c = torch.linalg.cross(r23, cross_a, dim=-1)
        norm_a2 = (cross_a * cross_a).sum(-1)
        norm_b2 = (cross_b * cross_b).sum(-1)
        unit_b = cross_b / norm_b2.sqrt().unsqueeze(-1)
        cos_phi = (cross_a * unit_b).sum(-1) / norm_a2.sqrt()
        sin_phi = (cross_c * unit_b).sum(-1) / cross_c.norm(dim=-1)
        phi = -torch.atan2(sin_phi, cos_phi)  # torchmd's sign convention

        angle = per * phi[:, term_dihedral] - phase
        energy = (k * (1 + torch.cos(angle))).sum(-1)
        coeff = phi.new_zeros(phi.shape).index_add_(1, term_dihedral, -per * k * torch.sin(angle))

        # the OpenMM torsion force expressions torchmd uses, batched
        norm23 = r23.norm(dim=-1)
        f0 = (-coeff * norm23 / norm_a2).unsqueeze(-1) * cross_a
        f3 = (coeff * norm23 / norm_b2).unsqueeze(-1) * cross_b
        along12 = ((r12 * r23).sum(-1) / norm23**2).unsqueeze(-1)
        along34 = ((r34 * r23).sum(-1) / norm23**2).unsqueeze(-1)
        s = along12 * f0 - along34 * f3
        out.index_add_(1, a, -f0)
        out.index_add_(1, b, f0 + s)
        out.index_add_(1, c, f3 - s)
        out.index_add_(1, d, -f3)
        return energy


def build_batched_forces(prior_yaml, topology, device="cpu", precision=torch.float64,
                         external=None) -> BatchedPriorForces:
    """Batched prior forces (plus an optional external NNP) of our Cα chain."""
    params = load_parameters(prior_yaml, topology, device=device, precision=precision)
    # torchmd 1.1.2 fills the pair tables only for 'lj'; RepulsionCG needs B (see torchmd.build_forces)
    params.A, params.B = params.get_AB()
    return BatchedPriorForces(params, external=external)
