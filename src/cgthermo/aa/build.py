"""Protein structures for all-atom MD: an extended chain from a sequence, or a repaired PDB file."""

import io
import random
from pathlib import Path

from ..errors import CgthermoError
from ..residues import BEAD_TYPE, ONE_TO_THREE, check_parameterizable, parse_sequence

THREE_TO_ONE = {three: one for one, three in ONE_TO_THREE.items()}
WATER_NAMES = {"HOH", "WAT", "H2O", "TIP3", "SOL", "DOD"}
PH = 7.0


def extended_peptide_pdb(sequence: str) -> str:
    """PDB text of the sequence as an extended chain (heavy atoms only, trans peptide bonds)."""
    import PeptideBuilder
    from Bio.PDB import PDBIO

    residues = parse_sequence(sequence)
    one_letter = "".join(THREE_TO_ONE[name] for name in residues)
    structure = PeptideBuilder.make_extended_structure(one_letter)
    writer = PDBIO()
    writer.set_structure(structure)
    text = io.StringIO()
    writer.save(text)
    return text.getvalue()


def fixer_from_sequence(sequence: str):
    from pdbfixer import PDBFixer

    return PDBFixer(pdbfile=io.StringIO(extended_peptide_pdb(sequence)))


def fixer_from_pdb(path) -> "PDBFixer":  # noqa: F821
    """Read a user PDB, refusing unreadable, truncated or non-protein content with one line."""
    from pdbfixer import PDBFixer

    path = Path(path)
    text = _read_pdb_text(path)
    try:
        fixer = PDBFixer(pdbfile=io.StringIO(text))
    except Exception as err:  # the PDB reader raises many types on malformed records
        raise CgthermoError(
            f"PDB file {path} cannot be read ({type(err).__name__}: {_first_line(err)})",
            "give a valid PDB file (e.g. as downloaded from rcsb.org)",
        ) from None
    check_pdb_residues(fixer.topology, path)
    return fixer


def _read_pdb_text(path: Path) -> str:
    if not path.is_file():
        raise CgthermoError(f"PDB file {path} does not exist", "correct the protein's 'pdb' path")
    try:
        text = path.read_text()
    except (UnicodeDecodeError, OSError) as err:
        raise CgthermoError(
            f"PDB file {path} cannot be read ({_first_line(err)})", "give a text PDB file"
        ) from None
    if not any(line.startswith(("ATOM  ", "HETATM")) for line in text.splitlines()):
        raise CgthermoError(f"PDB file {path} has no ATOM records", "give a PDB file with a protein")
    _check_not_truncated(text, path)
    return text


def _check_not_truncated(text: str, path: Path) -> None:
    """A coordinate record cut short means the file was cut while being written or copied."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(("ATOM  ", "HETATM")) and len(line.rstrip()) < 54:
            raise CgthermoError(
                f"PDB file {path} is truncated: line {number} is an atom record without "
                "complete x, y, z coordinates",
                "download or copy the PDB file again",
            )


def check_pdb_residues(topology, path) -> None:
    """Every residue must be water, an ion or an amino acid the force fields know."""
    for residue in topology.residues():
        name = residue.name.upper()
        if name in WATER_NAMES or _is_ion(residue):
            continue
        try:
            check_parameterizable(name)
        except CgthermoError as err:
            raise CgthermoError(
                f"PDB file {path}, chain {residue.chain.id} residue {residue.id}: {err.what}",
                f"{err.fix}, or remove it from the PDB file",
            ) from None


def _is_ion(residue) -> bool:
    return len(list(residue.atoms())) == 1 and residue.name.upper() not in BEAD_TYPE


def complete_protein(fixer, seed: int) -> tuple:
    """Missing residues, heavy atoms, terminal atoms and hydrogens added; water and ions removed.

    Solvent is always rebuilt by the caller, so crystallographic water is dropped here.
    PDBFixer places new atoms with Python's `random`, hence the seed. Its hydrogen and
    new-atom minimizations run on the Reference platform: on the default (CPU, all
    threads) the result depended on the thread count, so one seed gave different
    structures, and from them different all-atom trajectories, on different runs.
    """
    import openmm

    random.seed(seed)
    fixer.platform = openmm.Platform.getPlatformByName("Reference")
    fixer.removeHeterogens(keepWater=False)
    fixer.findMissingResidues()
    _skip_terminal_gaps(fixer)
    fixer.findMissingAtoms()
    fixer.addMissingAtoms(seed=seed or 1)
    fixer.addMissingHydrogens(PH)
    return fixer.topology, fixer.positions


def _skip_terminal_gaps(fixer) -> None:
    """Unresolved chain ends would be built as floppy tails; only interior gaps are filled."""
    chains = list(fixer.topology.chains())
    for key in list(fixer.missingResidues):
        chain_index, position = key
        if position == 0 or position == len(list(chains[chain_index].residues())):
            del fixer.missingResidues[key]


def _first_line(err) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else "no detail"
