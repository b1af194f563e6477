"""A user's structure file (PDB or mmCIF) read and judged before any job runs.

What is accepted (docs/inputs.md has the table):
- one protein chain; a second chain with amino acids is refused, since the Cα model
  would bond the end of one chain to the start of the next;
- ACE and NME caps, which the force fields parameterize: kept in the all-atom system,
  never a bead;
- ligands, waters and ions (`aa.hetero`): `drop` removes them and logs the list
  (solvent is rebuilt from the config), `refuse` stops with their names;
- modified amino acids inside the chain (e.g. MSE) are refused with the parent to use;
- a break in the chain (consecutive Cα more than 4.5 Å apart) is filled by PDBFixer from
  the SEQRES records (mmCIF: entity_poly_seq); without them it is refused;
- a PDB file must end its coordinates with TER or END, so a file cut at a line boundary
  is caught; SEQRES, where present, says how much is missing;
- alternate locations: the first listed is kept (OpenMM's reader); insertion codes: each
  inserted residue is a residue of the chain like any other.
"""

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CgthermoError
from ..residues import BEAD_TYPE, CAPS, SUBSTITUTIONS

MMCIF_SUFFIXES = {".cif", ".mmcif"}
# Consecutive Cα are 3.8 Å apart (2.9 Å for a cis peptide bond); farther means residues are missing.
MAX_CA_STEP_ANGSTROM = 4.5
END_RECORDS = ("TER", "END", "ENDMDL", "CONECT", "MASTER")


@dataclass
class Contents:
    """What a structure file holds, residue by residue."""

    path: Path
    chains: dict = field(default_factory=dict)  # chain id → amino-acid residues (OpenMM)
    caps: list = field(default_factory=list)
    hetero: list = field(default_factory=list)  # ligands, waters and ions, as 'NAME chain id'
    modified: list = field(default_factory=list)  # HETATM amino acids, as 'NAME chain id'
    unparameterized: list = field(default_factory=list)  # e.g. NLE
    sequences: dict = field(default_factory=dict)  # chain id → SEQRES residue names
    breaks: list = field(default_factory=list)  # 'chain A between … and … (9.1 Å)'
    positions: np.ndarray | None = None  # (atoms, 3) Å
    fixer: object = None  # the PDBFixer that read the file, for the prepare job to go on with

    @property
    def n_residues(self) -> int:
        return sum(len(residues) for residues in self.chains.values())


def label(residue) -> str:
    code = (residue.insertionCode or "").strip()
    return f"{residue.name} {residue.chain.id} {residue.id}{code}"


def open_fixer(path):
    """PDBFixer of a PDB or mmCIF file; an unreadable file is one line naming it."""
    from pdbfixer import PDBFixer

    path = Path(path)
    text = read_text(path)
    try:
        if path.suffix.lower() in MMCIF_SUFFIXES:
            return PDBFixer(pdbxfile=io.StringIO(text))
        return PDBFixer(pdbfile=io.StringIO(text))
    except Exception as err:  # the readers raise many types on malformed records
        raise CgthermoError(
            f"structure file {path} cannot be read ({type(err).__name__}: {first_line(err)})",
            "give a valid PDB or mmCIF file (e.g. as downloaded from rcsb.org)",
        ) from None


def read_text(path: Path) -> str:
    if path.is_dir():
        raise CgthermoError(f"{path} is a directory, not a structure file", "give the path of a .pdb or .cif file")
    if not path.is_file():
        raise CgthermoError(f"structure file {path} does not exist", "correct the path (relative to the working directory)")
    try:
        text = path.read_text()
    except (UnicodeDecodeError, OSError) as err:
        raise CgthermoError(f"structure file {path} cannot be read ({first_line(err)})", "give a text PDB or mmCIF file") from None
    if path.suffix.lower() not in MMCIF_SUFFIXES:
        check_pdb_text(text, path)
    return text  # fmt: skip


def check_pdb_text(text: str, path: Path) -> None:
    """Coordinates present, no record cut short, and a TER or END after the last of them."""
    lines = text.splitlines()
    atoms = [n for n, line in enumerate(lines) if line.startswith(("ATOM  ", "HETATM"))]
    if not atoms:
        raise CgthermoError(f"PDB file {path} has no ATOM records", "give a PDB file with a protein")
    for number in atoms:
        if len(lines[number].rstrip()) < 54:
            raise CgthermoError(
                f"PDB file {path} is truncated: line {number + 1} is an atom record without "
                "complete x, y, z coordinates",
                "download or copy the PDB file again",
            )
    if not any(line.startswith(END_RECORDS) for line in lines[atoms[-1] + 1 :]):
        raise CgthermoError(
            f"PDB file {path} is truncated: no TER or END record after its last atom "
            f"(line {atoms[-1] + 1}){_seqres_note(lines)}",
            "download or copy the PDB file again, or end a file you wrote with an END line",
        )


def _seqres_note(lines) -> str:
    listed = sum(len(line[19:].split()) for line in lines if line.startswith("SEQRES"))
    residues = {line[17:27] for line in lines if line.startswith("ATOM  ")}
    if listed:
        return f"; its SEQRES lists {listed} residues, its atoms reach {len(residues)}"
    return ""


def inspect(path) -> Contents:
    """Read the file and sort its residues; raises only for an unreadable file."""
    fixer = open_fixer(path)
    positions = np.asarray(fixer.positions.value_in_unit_system(_md_unit_system())) * 10.0
    contents = Contents(Path(path), positions=positions, fixer=fixer)
    for residue in fixer.topology.residues():
        name = residue.name.upper()
        atom_names = {a.name for a in residue.atoms()}
        if name in SUBSTITUTIONS:
            contents.unparameterized.append(label(residue))
        if name in BEAD_TYPE:
            contents.chains.setdefault(residue.chain.id, []).append(residue)
        elif name in CAPS:
            contents.caps.append(label(residue))
        elif {"N", "CA", "C"} <= atom_names:
            contents.modified.append(label(residue))
        else:
            contents.hetero.append(label(residue))
    # SEQRES (PDB) or entity_poly_seq (mmCIF) records, by chain
    contents.sequences = {s.chainId: list(s.residues) for s in fixer.sequences}
    for chain, residues in contents.chains.items():
        contents.breaks += _breaks(chain, residues, positions)
    return contents


def _md_unit_system():
    from openmm import unit

    return unit.md_unit_system


def _breaks(chain: str, residues: list, positions_angstrom) -> list[str]:
    ca = []
    for residue in residues:
        index = next((a.index for a in residue.atoms() if a.name == "CA"), None)
        ca.append(None if index is None else positions_angstrom[index])
    found = []
    for before, after, x, y in zip(residues, residues[1:], ca, ca[1:], strict=False):
        if x is not None and y is not None:
            step = float(np.linalg.norm(np.asarray(y) - np.asarray(x)))
            if step > MAX_CA_STEP_ANGSTROM:
                found.append(f"chain {chain} between {label(before)} and {label(after)} ({step:.1f} Å)")
    return found


def ca_positions_angstrom(path) -> np.ndarray:
    """(residues, 3) Cα positions of the amino-acid residues, in file order (caps have none)."""
    contents = inspect(path)
    residues = [r for chain in contents.chains.values() for r in chain]
    return np.array(
        [contents.positions[a.index] for r in residues for a in r.atoms() if a.name == "CA"]
    )


def problems(path, hetero: str, min_residues: int) -> list[CgthermoError]:
    """Every reason the file cannot be modelled as it is, each with its fix."""
    try:
        contents = inspect(path)
    except CgthermoError as err:
        return [err]
    return contents_problems(contents, hetero, min_residues)


def contents_problems(contents: Contents, hetero: str, min_residues: int) -> list[CgthermoError]:
    path = contents.path
    found = []
    if not contents.chains:
        found.append(CgthermoError(f"{path} has no amino-acid residues", "give the structure of a protein"))
        return found
    if len(contents.chains) > 1:
        sizes = ", ".join(f"{c}: {len(r)} residues" for c, r in contents.chains.items())
        found.append(CgthermoError(
            f"{path} has {len(contents.chains)} protein chains ({sizes}); the Cα model is one chain",
            "keep one chain in the file, or give each chain as its own protein",
        ))
    if contents.n_residues < min_residues:
        found.append(CgthermoError(
            f"{path} has {contents.n_residues} amino-acid residue(s); the prior and the analysis need at least {min_residues}",
            "give a longer protein",
        ))
    for item in contents.unparameterized:
        name = item.split()[0]
        found.append(CgthermoError(
            f"{path}: residue {item} is not parameterized by the Amber/CHARMM force fields in OpenMM",
            f"substitute it with {SUBSTITUTIONS[name]} in the file",
        ))
    if contents.modified:
        found.append(CgthermoError(
            f"{path} has modified amino acids in the chain ({', '.join(contents.modified)})",
            "replace each with its standard parent residue (e.g. MSE by MET) in the file",
        ))
    if contents.hetero and hetero == "refuse":
        found.append(CgthermoError(
            f"{path} holds ligands, waters or ions ({_listed(contents.hetero)}) and aa.hetero is 'refuse'",
            "remove them from the file, or set aa.hetero: drop to have them dropped",
        ))
    # one protein chain is allowed, and mmCIF names its sequences by label_asym_id, not by
    # the chain id the reader reports: any sequence record covers the chain
    unfilled = contents.breaks if not contents.sequences else []
    if unfilled and not contents.modified:  # a modified residue leaves a gap of its own
        found.append(CgthermoError(
            f"{path} has a break in {unfilled[0]}{' and more' if len(unfilled) > 1 else ''} "
            "and no SEQRES records to fill it from",
            "add SEQRES records for the chain (PDBFixer then builds the missing residues) or model them",
        ))
    return found  # fmt: skip


def _listed(items: list[str], most: int = 6) -> str:
    shown = ", ".join(items[:most])
    return shown if len(items) <= most else f"{shown} and {len(items) - most} more"


def first_line(err) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else "no detail"
