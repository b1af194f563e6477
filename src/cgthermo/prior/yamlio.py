"""A fitted prior as the sections of a torchmd force-field YAML (forcefield.yamlio writes them)."""

import numpy as np

from ..cgtopology import BEAD_MASS_AMU
from ..forcefield.yamlio import write_prior_sections
from .fitting import SIGMA, Prior


def prior_document(prior: Prior) -> dict:
    """torchmd's sections: bonds per ordered N→C pair, one (X, X, X, X) dihedral (plus one per
    bead-type quadruple when fitted: torchmd takes the entry with the fewest X), ε per type,
    and one (X, X, X) angle when fitted (theta0 in degrees, k0 per rad², as torchmd reads it)."""
    angles = {}
    if prior.angle is not None:
        angles["angles"] = {
            "(X, X, X)": {
                "k0": prior.angle.params["k0"],
                "theta0": float(np.degrees(prior.angle.params["theta0"])),
            }
        }
    return {
        "atomtypes": list(prior.atomtypes),
        "bonds": {
            f"({a}, {b})": {"k0": fit.params["k0"], "req": fit.params["req"]}
            for (a, b), fit in sorted(prior.bonds.items())
        },
        **angles,
        "dihedrals": {
            "(X, X, X, X)": {"terms": [dict(t) for t in prior.dihedral.params["terms"]]},
            **{
                "(" + ", ".join(key) + ")": {"terms": [dict(t) for t in fit.params["terms"]]}
                for key, fit in sorted(prior.dihedral_types.items())
            },
        },
        "electrostatics": {t: {"charge": 0.0} for t in prior.atomtypes},
        "lj": {t: {"epsilon": prior.epsilon[t], "sigma": SIGMA} for t in prior.atomtypes},
        "masses": {t: BEAD_MASS_AMU for t in prior.atomtypes},
        # not torchmd's key: what cgthermo passes to torchmd's Forces as `exclusions`
        "exclusions": list(prior.exclusions),
    }


def write_prior_yaml(path, prior: Prior) -> None:
    header = (
        "# cgthermo prior: Boltzmann inversion at "
        f"{prior.temperature:.1f} K over {prior.frames} frames.\n"
        "# Units Å, kcal/mol, degrees. Terms: Bonds V = k0 (r - req)^2, RepulsionCG V = 4 eps sigma^6 / r^6\n"
        "# (pair: 4 sqrt(eps_i eps_j)), Dihedrals V = sum phi_k (1 + cos(per phi - phase))"
        + (", Angles V = k0 (theta - theta0)^2, theta in rad.\n" if prior.angle else ".\n")
    )
    write_prior_sections(path, prior_document(prior), header)
