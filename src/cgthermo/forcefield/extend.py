"""The prior of a model, extended to a sequence it was not fitted on.

A prior YAML covers the bead types, bonded type pairs and dihedral quadruples of the data it
was fitted on. For another sequence, what it lacks is filled in, every filled entry logged:

- a bead type without repulsion, mass or charge: the median ε of the prior's types (same
  σ), the prior's mass, charge 0;
- a bonded pair without its own bond: a generic `(X, X)` bond with the mean k0 and req of
  the prior's bonds (torchmd uses a pair's own entry first, the generic one otherwise);
- a dihedral quadruple without its own term, where the prior has no generic `(X, X, X, X)`:
  one, the mean of the prior's terms in the cos/sin basis (the pooled dihedral);
- angles are one shared `(X, X, X)` term in cgthermo's priors and need nothing.

A prior without any bond, or without any repulsion parameter to take a median of, cannot
be extended: one line says so.
"""

import logging
from statistics import median

import numpy as np

from ..cgtopology import CGTopology
from ..errors import CgthermoError
from .naming import prior_types
from .yamlio import read_prior, write_prior_sections

log = logging.getLogger(__name__)


def pair_key(*types) -> str:
    return f"({', '.join(types)})"


def has_term(section: dict, types) -> bool:
    """Whether torchmd finds an entry for `types` in `section`: the key, reversed, or with
    X wildcards (ff_yaml's lookup)."""
    from itertools import product

    for ordered in (tuple(types), tuple(types)[::-1]):
        for mask in product((False, True), repeat=len(ordered)):
            key = pair_key(*("X" if m else t for t, m in zip(ordered, mask, strict=True)))
            if key in section:
                return True
    return False


def has_own_term(section: dict, types) -> bool:
    """Whether `section` has an entry for exactly these types (either direction), no X."""
    return pair_key(*types) in section or pair_key(*reversed(tuple(types))) in section


def own_term(section: dict, types):
    return section.get(pair_key(*types), section.get(pair_key(*reversed(tuple(types)))))


def extend_prior(sections: dict, resnames, source="prior",
                 parent=None) -> tuple[dict, list[str]]:  # fmt: skip
    """(the prior's sections extended to the chain `resnames`, one line per filled entry).

    `parent`: the residues of a same-length chain the prior covers (a mutant's wild type).
    A bond or dihedral of the chain without a term of its own types then takes the term the
    parent has at the same position: a point mutation keeps the bend and handedness of every
    dihedral through it, which the pooled terms would average away."""
    sections = {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
                for k, v in sections.items()}  # fmt: skip
    chain = typed_chain(source, resnames, sections)
    filled = _fill_types(sections, chain, source)
    if parent is not None:
        if len(parent) != len(resnames):
            raise CgthermoError(f"the parent has {len(parent)} residues, the chain "
                                f"{len(resnames)}", "extend by position only for a same-length parent")
        parent_chain = typed_chain(source, parent, sections)
        filled += _fill_by_position(sections, "bonds", chain, parent_chain, 2)
        filled += _fill_by_position(sections, "dihedrals", chain, parent_chain, 4)
    filled += _fill_bonds(sections, chain, source)
    filled += _fill_dihedrals(sections, chain)
    return sections, filled


def typed_chain(source, resnames, sections) -> list[str]:
    """The prior's type name of every bead of `resnames`, in the prior's naming."""
    return [str(t) for t in prior_types(source, CGTopology(list(resnames)), sections).atomtype]


def _fill_by_position(sections: dict, section: str, chain: list, parent: list,
                      width: int) -> list[str]:  # fmt: skip
    """Terms of `section` (bonds: 2 beads, dihedrals: 4) the chain lacks, from the parent's
    term at the same position; one line per filled entry."""
    entries = sections.get(section) or {}
    taken, filled = {}, []
    for i in range(len(chain) - width + 1):
        ours, theirs = tuple(chain[i : i + width]), tuple(parent[i : i + width])
        if ours == theirs or has_own_term(entries, ours) and ours not in taken:
            continue
        term = own_term(entries, theirs)
        if term is None:
            continue
        if ours in taken:
            if term != taken[ours][1]:
                filled.append(f"{section} {pair_key(*ours)} at position {i + 1} as well, where the "
                              f"parent's {pair_key(*theirs)} differs: the term of position "
                              f"{taken[ours][0] + 1} is kept")
            continue
        taken[ours] = (i, term)
        entries[pair_key(*ours)] = term
        filled.append(f"{section} {pair_key(*ours)}: the parent's {pair_key(*theirs)} at "
                      f"position {i + 1}")
    sections[section] = entries
    return filled


def _fill_types(sections: dict, chain: list, source) -> list[str]:
    lj = sections.setdefault("lj", {})
    eps = [float(v["epsilon"]) for v in lj.values() if "epsilon" in v]
    sig = [float(v["sigma"]) for v in lj.values() if "sigma" in v]
    masses = sections.setdefault("masses", {})
    charges = sections.setdefault("electrostatics", {})
    known = list(sections.get("atomtypes") or [])
    filled = []
    typical_mass = float(median(masses.values())) if masses else 12.0
    for bead in dict.fromkeys(chain):
        added = []
        if bead not in lj:
            if not eps:
                raise CgthermoError(f"prior {source} has no repulsion (lj) parameters to extend "
                                    f"to bead type {bead}", "use a prior fitted with repulsion terms")
            lj[bead] = {"epsilon": median(eps), "sigma": median(sig) if sig else 1.0}
            added.append(f"repulsion ε {median(eps):.4g} (median of the prior's types)")
        if bead not in masses:
            masses[bead] = typical_mass
            added.append(f"mass {typical_mass:g}")
        if bead not in charges:
            charges[bead] = {"charge": 0.0}
            added.append("charge 0")
        if bead not in known:
            known.append(bead)
        if added:
            filled.append(f"bead type {bead}: {', '.join(added)}")
    sections["atomtypes"] = known
    return filled


def _fill_bonds(sections: dict, chain: list, source) -> list[str]:
    bonds = sections.get("bonds") or {}
    if not bonds:
        raise CgthermoError(f"prior {source} has no bonds", "use a prior with a bond term")
    missing = [pair for pair in zip(chain, chain[1:], strict=False) if not has_term(bonds, pair)]
    if not missing:
        return []
    k0 = float(np.mean([float(v["k0"]) for v in bonds.values()]))
    req = float(np.mean([float(v["req"]) for v in bonds.values()]))
    sections["bonds"] = {**bonds, pair_key("X", "X"): {"k0": k0, "req": req}}
    pairs = ", ".join(pair_key(*p) for p in dict.fromkeys(missing))
    return [f"bonds {pairs}: the pooled bond (X, X), k0 {k0:.4g} kcal/mol/Å², req {req:.4g} Å "
            f"(mean of the prior's {len(bonds)} bonds)"]


def _fill_dihedrals(sections: dict, chain: list) -> list[str]:
    dihedrals = sections.get("dihedrals") or {}
    quads = [tuple(chain[i : i + 4]) for i in range(len(chain) - 3)]
    missing = [q for q in quads if not has_term(dihedrals, q)]
    if not missing and dihedrals:
        return _shared_dihedral_note(dihedrals, quads)
    if not missing:
        return []
    pooled = pooled_dihedral(list(dihedrals.values()))
    sections["dihedrals"] = {**dihedrals, pair_key("X", "X", "X", "X"): {"terms": pooled}}
    return [f"dihedrals {', '.join(pair_key(*q) for q in dict.fromkeys(missing))}: the pooled "
            f"dihedral (X, X, X, X), the mean of the prior's {len(dihedrals)} terms"]


def _shared_dihedral_note(dihedrals: dict, quads: list) -> list[str]:
    """Where a prior has terms of its own for some quadruples, the chain's quadruples without
    one run under the shared term: their handedness is the pooled data's, not their own."""
    if not any("X" not in key for key in dihedrals):
        return []  # a shared-only prior (the paper's): every quadruple is alike
    shared = [q for q in dict.fromkeys(quads) if not has_own_term(dihedrals, q)]
    if not shared:
        return []
    return [f"dihedrals {', '.join(pair_key(*q) for q in shared)}: no term of their own; the "
            "shared (X, X, X, X) term sets their handedness (that of all quadruples pooled)"]


def pooled_dihedral(entries: list) -> list:
    """The mean of Fourier dihedral terms Σ φk (1 + cos(n φ − phase)), averaged as the linear
    coefficients a cos(nφ) + b sin(nφ) per multiplicity n, back in torchmd's term form."""
    sums: dict[int, np.ndarray] = {}
    for item in entries:
        for term in item["terms"]:
            n, phi_k, phase = int(term["per"]), float(term["phi_k"]), np.radians(float(term["phase"]))
            sums.setdefault(n, np.zeros(2))
            sums[n] += phi_k * np.array([np.cos(phase), np.sin(phase)])
    terms = []
    for n, (a, b) in sorted(sums.items()):
        a, b = a / len(entries), b / len(entries)
        # φk (1 + cos(nφ − phase)) = φk + φk cos(phase) cos(nφ) + φk sin(phase) sin(nφ)
        terms.append({"per": n, "phi_k": float(np.hypot(a, b)),
                      "phase": float(np.degrees(np.arctan2(b, a)))})  # fmt: skip
    return terms


def write_extended_prior(prior_yaml, resnames, out_yaml, parent=None) -> list[str]:
    """Write the prior extended to `resnames` (by position from `parent`, a same-length
    wild type, where given) to `out_yaml`; log and return what was filled."""
    sections, filled = extend_prior(read_prior(prior_yaml), resnames, prior_yaml, parent)
    for line in filled:
        log.warning("prior %s lacks %s", prior_yaml, line)
    header = f"# {prior_yaml} extended to {len(resnames)} beads; filled: {len(filled)} entries\n"
    header += "".join(f"#   {line}\n" for line in filled)
    write_prior_sections(out_yaml, sections, header)
    return filled
