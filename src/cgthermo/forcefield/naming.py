"""The namings of a prior's bead types, and a Cα chain typed the way a prior names them.

A prior YAML types its beads by residue name (ALA, GLY, …: what the prior stage writes) or
by "CA" and the one-letter code (CAA, CAG, …: the paper's prior_force_field.yaml).
"""

from ..cgtopology import CA_CODES, RESIDUE_NAMES, CGTopology
from ..errors import CgthermoError
from ..residues import AMINO_ACIDS, BEAD_TYPE
from .yamlio import read_prior


def _is_ca_code(atomtype: str) -> bool:
    return len(atomtype) == 3 and atomtype.startswith("CA") and atomtype[2] in AMINO_ACIDS


def prior_naming(atomtypes, source) -> str:
    """The naming (RESIDUE_NAMES or CA_CODES) of a prior's atom types; `source` names the file
    in the one-line error for types of neither naming or of both."""
    fix = ("type every bead one way, in atomtypes and in every section: by residue name "
           "(ALA, GLY, …; norleucine LEU) as the prior stage writes, or by CA + one-letter "
           "code (CAA, CAG, …; norleucine CAL) as the paper's prior_force_field.yaml")  # fmt: skip
    if isinstance(atomtypes, (str, bytes)) or not isinstance(atomtypes, (list, tuple)):
        raise CgthermoError(f"prior {source}: atomtypes is not a list of type names", fix)
    types = [str(t) for t in atomtypes]
    codes = [t for t in types if _is_ca_code(t)]
    names = [t for t in types if t in BEAD_TYPE]
    unknown = [t for t in types if t not in codes and t not in names]
    if unknown:
        raise CgthermoError(
            f"prior {source} has atom types of neither naming: {', '.join(unknown)}", fix)
    if codes and names:
        # the fewer of the two are named as the odd ones
        odd, kind, other = ((codes, "CA + one-letter codes", "residue names")
                            if len(codes) <= len(names)
                            else (names, "residue names", "CA + one-letter codes"))  # fmt: skip
        raise CgthermoError(
            f"prior {source} mixes atom-type namings: {', '.join(odd)} are {kind}, "
            f"its other {len(types) - len(odd)} types {other}", fix)
    return CA_CODES if codes else RESIDUE_NAMES


def prior_types(prior_yaml, topology: CGTopology, sections: dict | None = None) -> CGTopology:
    """The chain typed the way the prior YAML names its beads: by residue name (ALA, …, what
    the prior stage writes) or by CA + one-letter code (CAA, …, the paper's files), told
    from its `atomtypes` (the `lj` table's types where it has none)."""
    sections = read_prior(prior_yaml) if sections is None else sections
    types = sections.get("atomtypes")
    if types is None:
        types = list(sections.get("lj") or {})
    return topology.typed_as(prior_naming(types, prior_yaml))
