"""Protein structures for all-atom MD: an extended chain from a sequence, or a repaired PDB file."""

import io
import logging
import random

import numpy as np
import openmm

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
    random.seed(seed)
    fixer.platform = openmm.Platform.getPlatformByName("Reference")
    drop_hetero(fixer)
    fixer.findMissingResidues()
    _skip_terminal_gaps(fixer)
    fixer.findMissingAtoms()
    fixer.addMissingAtoms(seed=seed or 1)
    restore_l_handedness(fixer)
    fixer.addMissingHydrogens(PH)
    return fixer.topology, fixer.positions


BACKBONE = {"N", "CA", "C", "O", "OXT"}


def restore_l_handedness(fixer) -> list[str]:
    """Move the side chain of every D-handed Cα to the other side of its N–CA–C plane;
    return the residues.

    PDBFixer's loop building can place a residue's template as its mirror image, and its
    soft refinement cannot tell the two apart, so a filled gap may hold D residues. The
    side-chain heavy atoms (hydrogens come after) are mirrored through the backbone plane,
    which keeps every bond, proline's ring included. A Thr or Ile whose Cβ centre is right
    although its Cα is not has its side chain rotated instead, rigidly about the Cα, so the
    Cβ keeps its handedness; one whose Cβ centre alone is inverted has its two Cβ
    substituents trade places. The minimization that follows relaxes what a move strained.
    """
    from openmm import unit

    from .stereo import CHIRAL_SIDE_CHAINS, beta_is_l, chiral_volumes, residue_label

    xyz = np.asarray(fixer.positions.value_in_unit(unit.nanometer))
    inverted = {label for label, volume in chiral_volumes(fixer.topology, xyz).items()
                if volume < 0}  # fmt: skip
    for residue in fixer.topology.residues():
        if residue.name.upper() in CHIRAL_SIDE_CHAINS and residue_label(residue) not in inverted \
                and not beta_is_l(residue, xyz):  # fmt: skip
            _swap_beta_substituents(residue, xyz)
            inverted.add(f"{residue_label(residue)} Cβ")
        if residue_label(residue) in inverted:
            atoms = {a.name: a.index for a in residue.atoms()}
            side = [a.index for a in residue.atoms()
                    if a.name not in BACKBONE and not _is_hydrogen(a)]  # fmt: skip
            move = _rotate_side_chain if beta_is_l(residue, xyz) else _mirror_side_chain
            xyz[side] = move(xyz[side], *(xyz[atoms[k]] for k in ("N", "CA", "C", "CB")))
    if inverted:
        log.warning("moved the side chains of %d D-handed residue(s) PDBFixer built: %s",
                    len(inverted), ", ".join(sorted(inverted)))
        fixer.positions = unit.Quantity([openmm.Vec3(*p) for p in xyz], unit.nanometer)
    return sorted(inverted)


def _swap_beta_substituents(residue, xyz) -> None:
    """Invert a Thr or Ile Cβ centre alone: its two heavy substituents besides Cα trade
    places (Ile's Cδ1 moves with its Cγ1)."""
    from .stereo import CHIRAL_SIDE_CHAINS

    atoms = {a.name: a.index for a in residue.atoms()}
    other = CHIRAL_SIDE_CHAINS[residue.name.upper()]
    a, b = atoms[other], atoms["CG2"]
    shift = xyz[b] - xyz[a]
    xyz[[a, b]] = xyz[[b, a]]
    if "CD1" in atoms and other == "CG1":
        xyz[atoms["CD1"]] += shift


def _is_hydrogen(atom) -> bool:
    return atom.element is not None and atom.element.symbol == "H"


def _backbone_normal(n, ca, c) -> np.ndarray:
    normal = np.cross(n - ca, c - ca)
    return normal / np.linalg.norm(normal)


def _mirror_side_chain(points, n, ca, c, cb) -> np.ndarray:
    normal = _backbone_normal(n, ca, c)
    return points - 2.0 * np.outer((points - ca) @ normal, normal)


def _rotate_side_chain(points, n, ca, c, cb) -> np.ndarray:
    """The rigid rotation about the Cα that takes the Cβ to its mirror image."""
    u = cb - ca
    v = _mirror_side_chain(cb[None], n, ca, c, cb)[0] - ca
    axis = np.cross(u, v)
    if np.linalg.norm(axis) < 1e-12:  # Cβ in the backbone plane: nothing to turn
        return points
    axis /= np.linalg.norm(axis)
    angle = np.arccos(np.clip(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)), -1.0, 1.0))
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
    return (points - ca) @ rotation.T + ca


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
