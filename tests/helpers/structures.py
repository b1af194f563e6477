"""Small structure files as users' files really are, written by the tests themselves.

Each writer takes a folder and returns the path of one file: chignolin (CLN025) built as an
extended chain, and from it a two-chain complex, one with a ligand and waters, one capped
with ACE/NME, an mmCIF copy, cut and broken copies with and without SEQRES, one with an
alternate location and an insertion code, and one with a modified residue.
"""

from pathlib import Path

import numpy as np

from cgthermo.aa.build import extended_peptide_pdb

SEQUENCE = "YYDPETGTWY"  # CLN025, a fast folder
NAMES = ["TYR", "TYR", "ASP", "PRO", "GLU", "THR", "GLY", "THR", "TRP", "TYR"]


def atom_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("ATOM  ", "HETATM"))]


def seqres(chain: str, names: list[str]) -> list[str]:
    """SEQRES records (13 residue names a line) in the PDB format's columns."""
    lines = []
    for number, start in enumerate(range(0, len(names), 13), start=1):
        chunk = " ".join(f"{n:>3}" for n in names[start : start + 13])
        lines.append(f"SEQRES {number:>3} {chain} {len(names):>4}  {chunk}")
    return lines


def residue_number(line: str) -> int:
    return int(line[22:26])


def write(folder: Path, name: str, lines: list[str], end=True) -> Path:
    path = Path(folder) / name
    path.write_text("\n".join(lines + (["TER", "END"] if end else [])) + "\n")
    return path


def chignolin(folder) -> Path:
    return write(folder, "cln.pdb", atom_lines(extended_peptide_pdb(SEQUENCE)))


def two_chains(folder) -> Path:
    a = atom_lines(extended_peptide_pdb(SEQUENCE))
    b = [_shifted(line[:21] + "B" + line[22:], 30.0) for line in a]
    return write(folder, "complex.pdb", a + ["TER"] + b)


def _shifted(line: str, dz: float) -> str:
    z = float(line[46:54]) + dz
    return f"{line[:46]}{z:8.3f}{line[54:]}"


def with_ligand(folder) -> Path:
    ring = [(1.39 * np.cos(a), 1.39 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 7)[:-1]]
    ligand = [
        f"HETATM{900 + i:>5}  C{i + 1}  BNZ L 101    {x + 10:8.3f}{y + 10:8.3f}{10.0:8.3f}  1.00  0.00           C"
        for i, (x, y) in enumerate(ring)
    ]
    water = [
        f"HETATM{950 + i:>5}  O   HOH W {201 + i:>3}    {-10.0 - 3 * i:8.3f}{0.0:8.3f}{0.0:8.3f}  1.00  0.00           O"
        for i in range(2)
    ]
    return write(folder, "ligand.pdb", atom_lines(extended_peptide_pdb(SEQUENCE)) + ["TER"] + ligand + water)


def capped(folder) -> Path:
    """ACE-YYDPETGTWY-NME: PDBFixer builds the caps the SEQRES records name."""
    import io

    from openmm import app
    from pdbfixer import PDBFixer

    lines = seqres("A", ["ACE", *NAMES, "NME"]) + atom_lines(extended_peptide_pdb(SEQUENCE))
    fixer = PDBFixer(pdbfile=io.StringIO("\n".join(lines + ["TER", "END"]) + "\n"))
    fixer.findMissingResidues()
    fixer.findMissingAtoms()
    fixer.addMissingAtoms(seed=1)
    path = Path(folder) / "capped.pdb"
    with open(path, "w") as fh:
        app.PDBFile.writeFile(fixer.topology, fixer.positions, fh, keepIds=True)
    return path


def mmcif(folder) -> Path:
    from openmm import app

    pdb = app.PDBFile(str(chignolin(folder)))
    path = Path(folder) / "cln.cif"
    with open(path, "w") as fh:
        app.PDBxFile.writeFile(pdb.topology, pdb.positions, fh, keepIds=True)
    return path


def cut_at_line(folder) -> Path:
    """Chignolin with SEQRES, cut after residue 5 at a line boundary (no TER or END)."""
    atoms = [line for line in atom_lines(extended_peptide_pdb(SEQUENCE)) if residue_number(line) <= 5]
    return write(folder, "cut.pdb", seqres("A", NAMES) + atoms, end=False)


def broken(folder, with_seqres: bool) -> Path:
    """Residues 5 and 6 missing from the middle of the chain."""
    atoms = [line for line in atom_lines(extended_peptide_pdb(SEQUENCE)) if residue_number(line) not in (5, 6)]
    header = seqres("A", NAMES) if with_seqres else []
    return write(folder, "gap-seqres.pdb" if with_seqres else "gap.pdb", header + atoms)


def altloc_and_insertion(folder) -> Path:
    """Residue 3's CA in two alternate locations (A kept), residue 10 numbered 9A."""
    lines = []
    for line in atom_lines(extended_peptide_pdb(SEQUENCE)):
        if residue_number(line) == 3 and line[12:16].strip() == "CA":
            lines.append(line[:16] + "A" + line[17:54] + "  0.60" + line[60:])
            lines.append(_shifted(line[:16] + "B" + line[17:54] + "  0.40" + line[60:], 0.5))
        elif residue_number(line) == 10:
            lines.append(line[:22] + "   9A" + line[27:])
        else:
            lines.append(line)
    return write(folder, "altloc.pdb", lines)


def modified_residue(folder) -> Path:
    """Residue 2 as selenomethionine (HETATM MSE), as crystal structures carry it."""
    lines = []
    for line in atom_lines(extended_peptide_pdb(SEQUENCE)):
        if residue_number(line) == 2:
            line = "HETATM" + line[6:17] + "MSE" + line[20:]
        lines.append(line)
    return write(folder, "mse.pdb", lines)


def scaled(folder, factor: float, name: str) -> Path:
    """Chignolin with every coordinate multiplied by `factor` (0.1: nm written as Å)."""
    lines = []
    for line in atom_lines(extended_peptide_pdb(SEQUENCE)):
        x, y, z = (float(line[c : c + 8]) * factor for c in (30, 38, 46))
        lines.append(f"{line[:30]}{x:8.3f}{y:8.3f}{z:8.3f}{line[54:]}")
    return write(folder, name, lines)


def two_chains_one_id(folder) -> Path:
    """Two copies of chignolin 30 Å apart, both chain A, and SEQRES listing all 20 residues."""
    a = atom_lines(extended_peptide_pdb(SEQUENCE))
    b = [_shifted(line, 30.0) for line in a]
    return write(folder, "one-id.pdb", seqres("A", NAMES + NAMES) + a + b)


def linked_chromophore(folder) -> Path:
    """Residues 5–6 as one hetero residue CRO whose atoms are not named N, CA and C, bonded
    into the chain and listed in SEQRES, as GFP's chromophore is."""
    lines, count = [], 0
    for line in atom_lines(extended_peptide_pdb(SEQUENCE)):
        if residue_number(line) in (5, 6):
            count += 1
            atom = f"{line[12:16].strip()[0]}{count}"  # N1, C2, …: never N, CA or C
            line = f"HETATM{line[6:12]} {atom:<3} CRO A   5{line[26:]}"
        lines.append(line)
    names = [*NAMES[:4], "CRO", *NAMES[6:]]
    return write(folder, "cro.pdb", seqres("A", names) + lines)


def ca_psf(folder, names=NAMES, name="ca.psf") -> Path:
    """A Cα-only psf in the layout of the paper's published topologies: the atoms keep
    their all-atom serial numbers (non-sequential), the bonds count atoms in file order."""
    serials = np.cumsum([2, *([12] * (len(names) - 1))])
    lines = ["PSF NAMD", "", "       0 !NTITLE", "", f"{len(names):8d} !NATOM"]
    for index, (residue, serial) in enumerate(zip(names, serials, strict=True), start=1):
        lines.append(f"{serial:10d} A        {index:<8d} {residue:<8} CA       CA{residue[0]}"
                     "      0.000000        0.0000           0 ")
    pairs = [f"{i:10d}{i + 1:10d}" for i in range(1, len(names))]
    lines += ["", "", f"{len(pairs):10d} !NBOND: bonds"]
    lines += ["".join(pairs[k : k + 4]) for k in range(0, len(pairs), 4)]
    for section in ("!NTHETA: angles", "!NPHI: dihedrals", "!NIMPHI: impropers"):
        lines += ["", "", f"         0 {section}"]
    lines += ["", "", "         0 !NDON: donors", "", "         0 !NACC: acceptors", "",
              "         0 !NNB", "", "", "         0          0 !NGRP", ""]
    path = Path(folder) / name
    path.write_text("\n".join(lines) + "\n")
    return path
