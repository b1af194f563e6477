"""Protein structures for all-atom MD: an extended chain from a sequence, or a repaired PDB file."""

import io
import logging
import random

from ..errors import raise_all
from ..residues import BEAD_TYPE, CAPS, MIN_RESIDUES, ONE_TO_THREE, parse_sequence
from . import pdbinput

log = logging.getLogger(__name__)
THREE_TO_ONE = {three: one for one, three in ONE_TO_THREE.items()}
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


def fixer_from_pdb(path, hetero: str = "drop", min_residues: int = MIN_RESIDUES):
    """PDBFixer of a user's PDB or mmCIF file (read once), refused in one line per problem."""
    contents = pdbinput.inspect(path)
    raise_all(pdbinput.contents_problems(contents, hetero, min_residues))
    return contents.fixer


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
    drop_hetero(fixer)
    fixer.findMissingResidues()
    _skip_terminal_gaps(fixer)
    fixer.findMissingAtoms()
    fixer.addMissingAtoms(seed=seed or 1)
    fixer.addMissingHydrogens(PH)
    return fixer.topology, fixer.positions


def drop_hetero(fixer) -> None:
    """Ligands, waters and ions removed (solvent is rebuilt from the config); caps kept."""
    from openmm import app

    dropped = [
        r for r in fixer.topology.residues() if r.name.upper() not in BEAD_TYPE | CAPS.keys()
    ]
    if dropped:
        log.warning("dropped %d hetero residue(s): %s", len(dropped),
                    ", ".join(pdbinput.label(r) for r in dropped))  # fmt: skip
        modeller = app.Modeller(fixer.topology, fixer.positions)
        modeller.delete(dropped)
        fixer.topology, fixer.positions = modeller.topology, modeller.positions


def _skip_terminal_gaps(fixer) -> None:
    """Unresolved chain ends would be built as floppy tails; only interior gaps are filled."""
    chains = list(fixer.topology.chains())
    for key in list(fixer.missingResidues):
        chain_index, position = key
        if position == 0 or position == len(list(chains[chain_index].residues())):
            del fixer.missingResidues[key]
