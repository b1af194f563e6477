"""Amino-acid names, one-letter codes and the paper's bead-type (embedding) numbers."""

from .errors import CgthermoError, raise_all

ONE_TO_THREE = {
    "A": "ALA", "R": "ARG", "N": "ASN", "D": "ASP", "C": "CYS", "Q": "GLN", "E": "GLU",
    "G": "GLY", "H": "HIS", "I": "ILE", "L": "LEU", "K": "LYS", "M": "MET", "F": "PHE",
    "P": "PRO", "S": "SER", "T": "THR", "W": "TRP", "Y": "TYR", "V": "VAL",
}  # fmt: skip

# Embedding numbers as in the paper's Cα topologies; NLE is typed as
# leucine in the prior but keeps its own embedding number.
BEAD_TYPE = {
    "ALA": 1, "GLY": 2, "PHE": 3, "TYR": 4, "ASP": 5, "GLU": 6, "TRP": 7, "PRO": 8,
    "ASN": 9, "GLN": 10, "HIS": 11, "HSD": 11, "HSE": 11, "HIE": 11, "HID": 11, "HIP": 11,
    "SER": 12, "THR": 13, "VAL": 14, "MET": 15, "CYS": 16, "CYX": 16, "NLE": 17,
    "ARG": 19, "LYS": 20, "LEU": 21, "ILE": 22, "ASH": 5, "GLH": 6, "LYN": 20,
}  # fmt: skip

# Non-standard residues the OpenMM force fields do not parameterize, with the
# substitution users of the paper's data make.
SUBSTITUTIONS = {"NLE": "LEU (or LYS for wild-type HP35 villin)"}


# Terminal caps the Amber and CHARMM files of OpenMM parameterize: kept in the all-atom
# system, never a bead (they have no Cα).
CAPS = {"ACE": "N-terminal acetyl", "NME": "C-terminal N-methylamide"}
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
# Dihedrals need four beads, and TICA at least two Cα pairs `analysis.min_sequence_separation`
# apart: shorter chains fail after the all-atom MD has run.
MIN_RESIDUES = 4


def min_residues(min_sequence_separation: int) -> int:
    """Fewest residues the prior (a dihedral) and the analysis (two TICA features) work with."""
    return max(MIN_RESIDUES, min_sequence_separation + 2)


def tokenize_sequence(sequence: str,
                      all_atom: bool = True) -> tuple[list[str], list[CgthermoError]]:
    """Residue names of 'YYD(NLE)…' and every problem of its syntax and content, all at once.

    `all_atom`: the sequence is built and simulated in the all-atom force fields; a CG
    prediction (False) needs a bead type for every residue, nothing more."""
    residues, problems, bad_letters, i = [], [], [], 0
    seq = sequence.strip().upper()
    while i < len(seq):
        ch = seq[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            end = seq.find(")", i)
            nested = seq.find("(", i + 1)
            if end < 0 or (0 <= nested < end):
                problems.append(CgthermoError(
                    f"sequence '{sequence}' has an unclosed '(' at position {i + 1}",
                    "close it, e.g. 'AA(NLE)AA'",
                ))  # fmt: skip
                break
            name = seq[i + 1 : end].strip()
            if not name:
                problems.append(CgthermoError(
                    f"sequence '{sequence}' has empty brackets at position {i + 1}",
                    "put a three-letter residue name inside, e.g. '(NLE)', or remove them",
                ))  # fmt: skip
            else:
                residues.append(name)
            i = end + 1
        elif ch == ")":
            problems.append(CgthermoError(
                f"sequence '{sequence}' has a ')' without '(' at position {i + 1}",
                "remove it or open the bracket, e.g. 'AA(NLE)AA'",
            ))  # fmt: skip
            i += 1
        elif ch in ONE_TO_THREE:
            residues.append(ONE_TO_THREE[ch])
            i += 1
        else:
            bad_letters.append(f"'{sequence.strip()[i]}' at position {i + 1}")
            i += 1
    if bad_letters:
        problems.append(CgthermoError(
            f"sequence '{sequence}' has {len(bad_letters)} letter(s) that are not amino acids: "
            + ", ".join(bad_letters),
            f"use the 20 one-letter codes ({AMINO_ACIDS}) and bracketed three-letter names",
        ))  # fmt: skip
    for name in dict.fromkeys(residues):
        if not all_atom:
            if name not in BEAD_TYPE:
                problems.append(CgthermoError(
                    f"residue {name} in sequence '{sequence}' has no CG bead type",
                    "use a standard amino acid, or NLE (its own bead type)"))
            continue
        try:
            check_parameterizable(name)
        except CgthermoError as err:
            problems.append(err)
            continue
        if name not in BUILDABLE:
            problems.append(CgthermoError(
                f"residue {name} in sequence '{sequence}' cannot be built from a sequence",
                f"write it as {one_letter_of(name)} (protonation follows pH 7) or give a PDB file",
            ))  # fmt: skip
    return residues, problems


BUILDABLE = set(ONE_TO_THREE.values())


def one_letter_of(name: str) -> str | None:
    """The one-letter code of a residue or of its protonation or disulfide variant (HID → H);
    None for a residue without one (NLE)."""
    number = BEAD_TYPE[name]
    return next((one for one, three in ONE_TO_THREE.items() if BEAD_TYPE[three] == number), None)


def sequence_text(names) -> str:
    """Residue names written as a config sequence: one-letter codes, others in brackets."""
    return "".join(one_letter_of(name) or f"({name})" for name in names)


def parse_sequence(sequence: str, all_atom: bool = True) -> list[str]:
    """Turn 'YYD(NLE)…' into three-letter residue names; every problem is raised at once."""
    residues, problems = tokenize_sequence(sequence, all_atom)
    raise_all(problems)
    if not residues:
        raise CgthermoError("the sequence is empty", "give at least one residue")
    return residues


def check_parameterizable(resname: str) -> None:
    """Fail early and by name on residues the all-atom force fields cannot handle."""
    if resname in SUBSTITUTIONS:
        raise CgthermoError(
            f"residue {resname} is not parameterized by the Amber/CHARMM force fields in OpenMM",
            f"substitute it in the sequence with {SUBSTITUTIONS[resname]}",
        )
    if resname not in BEAD_TYPE:
        raise CgthermoError(
            f"unknown residue {resname}",
            "use a standard amino acid (one-letter code, or its three-letter name in brackets)",
        )


def bead_type(resname: str) -> int:
    try:
        return BEAD_TYPE[resname]
    except KeyError:
        raise CgthermoError(
            f"no bead type for residue {resname}", "use a standard amino acid"
        ) from None
