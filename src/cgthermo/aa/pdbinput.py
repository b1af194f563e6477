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
CA_STEP_ANGSTROM = 3.8
# the median consecutive Cα distance of a chain in Å must lie here: 0.38 is a chain in nm
PLAUSIBLE_CA_STEP_ANGSTROM = (3.0, 4.2)
# heavy atoms of a hetero residue this close to a protein heavy atom are covalently bonded to it
# (C–N 1.33–1.47, C–C 1.54 Å; a metal ion's coordination bonds are 2.0 Å and longer)
COVALENT_ANGSTROM = 1.75
WATERS = {"HOH", "WAT", "H2O", "DOD", "TIP", "TIP3", "SOL"}
END_RECORDS = ("TER", "END", "ENDMDL", "CONECT", "MASTER")


@dataclass
class Contents:
    """What a structure file holds, residue by residue."""

    path: Path
    chains: dict = field(default_factory=dict)  # chain id → amino-acid residues (OpenMM)
    caps: list = field(default_factory=list)
    hetero: list = field(default_factory=list)  # ligands, waters and ions, as 'NAME chain id'
    modified: list = field(default_factory=list)  # HETATM amino acids, as 'NAME chain id'
    linked: list = field(default_factory=list)  # hetero residues bonded into the chain
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
    contents.linked = linked_hetero(fixer.topology, positions, contents.sequences)
    for chain, residues in contents.chains.items():
        contents.breaks += _breaks(chain, residues, positions)
    return contents


def linked_hetero(topology, positions_angstrom, sequences: dict) -> list[str]:
    """Hetero residues that are part of the chain: named in its SEQRES, or covalently bonded
    to an amino acid. A modified residue (e.g. GFP's chromophore CRO) whose atoms are not
    named N, CA and C is one of them: dropping it would join its neighbours by a false bond."""
    in_sequence = {name.upper() for names in sequences.values() for name in names}
    protein, candidates = [], []
    for residue in topology.residues():
        name = residue.name.upper()
        heavy = [a.index for a in residue.atoms() if a.element is None or a.element.symbol != "H"]
        if name in BEAD_TYPE or name in CAPS:
            protein += heavy
        elif name not in WATERS and len(heavy) > 1:  # ions have one atom and no covalent bond
            candidates.append((residue, heavy))
    linked = []
    protein_xyz = positions_angstrom[protein] if protein else np.zeros((0, 3))
    for residue, heavy in candidates:
        if residue.name.upper() in in_sequence:
            linked.append(label(residue))
            continue
        near = np.linalg.norm(positions_angstrom[heavy][:, None] - protein_xyz[None], axis=-1)
        if near.size and near.min() < COVALENT_ANGSTROM:
            linked.append(label(residue))
    return linked


def residue_number(residue) -> int | None:
    try:
        return int(str(residue.id).strip())
    except ValueError:
        return None


def ca_of(residue, positions_angstrom):
    index = next((a.index for a in residue.atoms() if a.name == "CA"), None)
    return None if index is None else np.asarray(positions_angstrom[index])


def geometry_problems(contents: Contents) -> list[CgthermoError]:
    """Coordinates in Å with Cα chains of the right spacing, and residue numbering that a
    break's Cα distance can span: two chains given one chain id fail the second."""
    path = contents.path
    found = []
    for chain, residues in contents.chains.items():
        ca = [ca_of(r, contents.positions) for r in residues]
        steps = [float(np.linalg.norm(b - a)) for a, b in zip(ca, ca[1:], strict=False)
                 if a is not None and b is not None]  # fmt: skip
        if not steps:
            continue
        median = float(np.median(steps))
        low, high = PLAUSIBLE_CA_STEP_ANGSTROM
        if not low <= median <= high:
            found.append(CgthermoError(
                f"{path}: consecutive Cα atoms of chain {chain} are {median:.3g} Å apart (median), "
                f"not ~{CA_STEP_ANGSTROM} Å" + (" (coordinates in nm?)" if 0.2 < median < 0.6 else ""),
                "give coordinates in Å, as PDB and mmCIF files store them (multiply nm by 10)"))
            continue
        found += numbering_problems(path, chain, residues, ca)
    return found


def numbering_problems(path, chain: str, residues: list, ca: list) -> list[CgthermoError]:
    for before, after, x, y in zip(residues, residues[1:], ca, ca[1:], strict=False):
        first, second = residue_number(before), residue_number(after)
        if x is None or y is None or first is None or second is None:
            continue
        distance = float(np.linalg.norm(y - x))
        if second < first:
            return [CgthermoError(
                f"{path}: chain {chain}'s residue numbers go back from {label(before)} to "
                f"{label(after)} ({distance:.1f} Å apart), as when two chains share one chain id",
                "give each chain its own id and keep one chain in the file")]
        # insertion codes (52, 52A) repeat a number for consecutive residues
        spanned = max(1, second - first) * CA_STEP_ANGSTROM + 1.0
        if distance > spanned:
            return [CgthermoError(
                f"{path}: chain {chain} has {label(before)} and {label(after)} {distance:.1f} Å "
                f"apart, farther than the {max(0, second - first - 1)} residues missing between "
                f"them can reach ({spanned - 1.0:.1f} Å), as when two chains share one chain id "
                "or residues are misnumbered",
                "give each chain its own id and keep one chain in the file, or correct the numbering")]
    return []


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
    if contents.linked:
        found.append(CgthermoError(
            f"{path} has hetero residues that are part of the chain (in its SEQRES, or bonded to "
            f"an amino acid): {_listed(contents.linked)}; dropping them would join their "
            "neighbours by a false peptide bond",
            "replace each with the standard residues it stands for (e.g. GFP's CRO by the "
            "residues of its sequence), or give the chain without it as separate proteins",
        ))
    found += geometry_problems(contents)
    if contents.hetero and hetero == "refuse":
        found.append(CgthermoError(
            f"{path} holds ligands, waters or ions ({_listed(contents.hetero)}) and aa.hetero is 'refuse'",
            "remove them from the file, or set aa.hetero: drop to have them dropped",
        ))
    # one protein chain is allowed, and mmCIF names its sequences by label_asym_id, not by
    # the chain id the reader reports: any sequence record covers the chain
    unfilled = contents.breaks if not contents.sequences else []
    if unfilled and not (contents.modified or contents.linked):  # they leave gaps of their own
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
