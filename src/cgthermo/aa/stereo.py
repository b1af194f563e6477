"""Stereochemistry of a prepared protein: every Cα of L handedness, and no cis peptide bond
that the input did not have (but before proline, where cis is common).

Minimizing a structure that was badly wrong (e.g. coordinates in nm read as Å) can end in
a local minimum with inverted Cα centres and cis peptides; the force field holds them, and
the all-atom run would sample a different molecule.
"""

import numpy as np

from ..errors import CgthermoError

CIS_DEGREES = 30.0  # |ω| below this is a cis peptide bond
# side chains with a stereocentre of their own at Cβ, and the two Cβ substituents besides
# Cα whose volume (CA − CB)·((X − CB) × (CG2 − CB)) is positive in the L amino acid
CHIRAL_SIDE_CHAINS = {"THR": "OG1", "ILE": "CG1"}


class StereoError(CgthermoError):
    """A prepared structure with an inverted Cα or a new cis peptide bond."""


def _atoms(residue) -> dict:
    return {atom.name: atom.index for atom in residue.atoms()}


def chiral_volumes(topology, positions) -> dict:
    """Signed volume (N − CA)·((C − CA) × (CB − CA)) of every residue with a Cβ, by label:
    positive for L amino acids (+2.5 Å³)."""
    xyz = np.asarray(positions, dtype=np.float64)
    volumes = {}
    for residue in topology.residues():
        atoms = _atoms(residue)
        if {"N", "CA", "C", "CB"} <= atoms.keys():
            ca = xyz[atoms["CA"]]
            n, c, cb = (xyz[atoms[k]] - ca for k in ("N", "C", "CB"))
            volumes[residue_label(residue)] = float(np.dot(n, np.cross(c, cb)))
    return volumes


def omega_degrees(topology, positions) -> dict:
    """ω = CA(i)–C(i)–N(i+1)–CA(i+1) of every peptide bond, keyed by (label i, label i+1, is
    residue i+1 a proline)."""
    xyz = np.asarray(positions, dtype=np.float64)
    omegas = {}
    for chain in topology.chains():
        residues = list(chain.residues())
        for before, after in zip(residues, residues[1:], strict=False):
            a, b = _atoms(before), _atoms(after)
            if not ({"CA", "C"} <= a.keys() and {"N", "CA"} <= b.keys()):
                continue
            p = xyz[[a["CA"], a["C"], b["N"], b["CA"]]]
            key = (residue_label(before), residue_label(after), after.name.upper() == "PRO")
            omegas[key] = dihedral_degrees(*p)
    return omegas


def beta_is_l(residue, xyz) -> bool:
    """Whether a Thr or Ile has its Cβ centre as in the L amino acid (False for others)."""
    other = CHIRAL_SIDE_CHAINS.get(residue.name.upper())
    atoms = {a.name: a.index for a in residue.atoms()}
    if other is None or not {"CA", "CB", other, "CG2"} <= atoms.keys():
        return False
    cb = xyz[atoms["CB"]]
    arms = (xyz[atoms[k]] - cb for k in ("CA", other, "CG2"))
    ca, x, cg2 = arms
    return float(np.dot(ca, np.cross(x, cg2))) > 0



def dihedral_degrees(p0, p1, p2, p3) -> float:
    b0, b1, b2 = p0 - p1, p2 - p1, p3 - p2
    b1 = b1 / np.linalg.norm(b1)
    v, w = b0 - np.dot(b0, b1) * b1, b2 - np.dot(b2, b1) * b1
    return float(np.degrees(np.arctan2(np.dot(np.cross(b1, v), w), np.dot(v, w))))


def residue_label(residue) -> str:
    return f"{residue.name}{residue.id}"


def cis_bonds(omegas: dict) -> set:
    """The cis peptide bonds that are not before a proline."""
    return {(a, b) for (a, b, pro), omega in omegas.items()
            if abs(omega) < CIS_DEGREES and not pro}  # fmt: skip


def check_stereo(name: str, topology, positions, input_cis: set = frozenset()) -> None:
    """Refuse a prepared structure with a D residue, or a non-proline cis peptide bond the
    input did not have; one line naming them."""
    inverted = sorted(label for label, v in chiral_volumes(topology, positions).items() if v < 0)
    xyz = np.asarray(positions, dtype=np.float64)
    inverted += sorted(f"{residue_label(r)} Cβ" for r in topology.residues()
                       if r.name.upper() in CHIRAL_SIDE_CHAINS and not beta_is_l(r, xyz))
    new_cis = sorted(cis_bonds(omega_degrees(topology, positions)) - set(input_cis))
    if not (inverted or new_cis):
        return
    parts = []
    if inverted:
        parts.append(f"inverted stereocentres (the Cα unless a Cβ is named) at "
                     f"{', '.join(inverted)}")
    if new_cis:
        parts.append("cis peptide bonds not before a proline at "
                     + ", ".join(f"{a}–{b}" for a, b in new_cis))
    raise StereoError(
        f"protein {name}: the prepared structure has {'; '.join(parts)}",
        "check the input structure (coordinates in Å, no overlapping atoms); a sequence start "
        "never has them, so report it if the input was a sequence")
