"""Amino-acid names, one-letter codes and the paper's bead-type (embedding) numbers."""

from .errors import CgthermoError

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


def parse_sequence(sequence: str) -> list[str]:
    """Turn 'YYD(NLE)…' into three-letter residue names; bracketed names are kept as given."""
    residues, i = [], 0
    seq = sequence.strip().upper()
    while i < len(seq):
        ch = seq[i]
        if ch == "(":
            end = seq.find(")", i)
            if end < 0:
                raise CgthermoError(
                    f"sequence '{sequence}' has an unclosed '('", "close it, e.g. '(NLE)'"
                )
            residues.append(seq[i + 1 : end])
            i = end + 1
            continue
        if ch.isspace():
            i += 1
            continue
        if ch not in ONE_TO_THREE:
            raise CgthermoError(
                f"sequence '{sequence}' has '{ch}' at position {i + 1}, not an amino acid",
                "use the 20 one-letter codes (ACDEFGHIKLMNPQRSTVWY)",
            )
        residues.append(ONE_TO_THREE[ch])
        i += 1
    for name in residues:
        check_parameterizable(name)
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
            "use a standard amino acid (one-letter code or its three-letter name)",
        )


def bead_type(resname: str) -> int:
    try:
        return BEAD_TYPE[resname]
    except KeyError:
        raise CgthermoError(
            f"no bead type for residue {resname}", "use a standard amino acid"
        ) from None
