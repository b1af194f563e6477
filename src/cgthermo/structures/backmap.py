"""All-atom models of CG frames (rule backmap).

PULCHRA (the `pulchra` package: a Python port of the C program) rebuilds the backbone and
the heavy side-chain atoms on a Cα trace from its rotamer statistics. PDBFixer adds what the
force field needs besides (hydrogens, the C-terminal oxygen). PULCHRA's statistical build
leaves some bonds and angles far from ideal and some atoms overlapping, so the model is
then minimized in the run's all-atom force field with every Cα held by a stiff harmonic
restraint: first under the bonded terms alone (geometry), then under the whole force field
(clashes). A model is kept only where every Cα stays within `TOLERANCE_A` of the CG frame and
every bond is of covalent length; otherwise it is reported as failed, with the reason.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..units import ANGSTROM_PER_NM

log = logging.getLogger("cgthermo.structures")

# kJ/mol/nm²: holds a Cα to about 0.1 Å against what the minimization pushes
CA_RESTRAINT = 5.0e4
TOLERANCE_A = 0.3  # the most a Cα of a kept model may move from the CG frame
BOND_RANGE_A = (0.9, 2.0)  # covalent bonds of a protein without disulfides (C–S 1.8 Å)
MINIMIZE_TOLERANCE = 10.0  # kJ/mol/nm
MINIMIZE_ITERATIONS = 2000
BONDED = ("HarmonicBondForce", "HarmonicAngleForce", "PeriodicTorsionForce")


@dataclass
class Model:
    """One backmapped frame: its topology and positions (nm), and how it passed."""

    topology: object
    positions: np.ndarray
    ca_shift_A: float
    bond_range_A: tuple
    energy_kj: float
    problem: str = ""

    @property
    def passed(self) -> bool:
        return not self.problem


def heavy_atom_pdb(ca_angstrom, sequence: str, path) -> Path:
    """PULCHRA's backbone and heavy side-chain atoms on the Cα trace, as a PDB file."""
    from pulchra import Pulchra
    from pulchra.io.pdb_writer import write_pdb

    # the Cα stay where the CG model put them: PULCHRA's own Cα refinement is off
    molecule = Pulchra(ca_optimize=False).reconstruct_coords(
        np.asarray(ca_angstrom, dtype=np.float64), sequence)
    write_pdb(str(path), molecule)
    return Path(path)


def completed(pdb_path):
    """PDBFixer with the atoms the force field needs added (hydrogens at pH 7, OXT)."""
    from pdbfixer import PDBFixer

    fixer = PDBFixer(filename=str(pdb_path))
    fixer.findMissingResidues()
    fixer.missingResidues = {}
    fixer.findMissingAtoms()
    fixer.addMissingAtoms()
    fixer.addMissingHydrogens(7.0)
    return fixer


def ca_indices(topology) -> list[int]:
    return [atom.index for atom in topology.atoms() if atom.name == "CA"]


def restrained_system(forcefield, topology, targets_nm, bonded_only: bool):
    """The force field's system (no cutoff, no constraints) with every Cα restrained."""
    import openmm
    from openmm import app

    system = forcefield.createSystem(topology, nonbondedMethod=app.NoCutoff, constraints=None)
    if bonded_only:
        for index in reversed(range(system.getNumForces())):
            if type(system.getForce(index)).__name__ not in BONDED:
                system.removeForce(index)
    restraint = openmm.CustomExternalForce("0.5*k_ca*((x-x0)^2+(y-y0)^2+(z-z0)^2)")
    restraint.addGlobalParameter("k_ca", CA_RESTRAINT)
    for name in ("x0", "y0", "z0"):
        restraint.addPerParticleParameter(name)
    for atom, target in zip(ca_indices(topology), targets_nm, strict=True):
        restraint.addParticle(atom, [float(v) for v in target])
    system.addForce(restraint)
    return system


def relax(forcefield, topology, positions_nm, targets_nm) -> tuple[np.ndarray, float]:
    """(positions nm, potential kJ/mol) after the two restrained minimizations."""
    import openmm
    from openmm import unit

    positions = np.asarray(positions_nm)
    energy = float("nan")
    for bonded_only in (True, False):
        system = restrained_system(forcefield, topology, targets_nm, bonded_only)
        context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                                 openmm.Platform.getPlatformByName("CPU"), {"Threads": "1"})  # fmt: skip
        context.setPositions(positions)
        openmm.LocalEnergyMinimizer.minimize(context, MINIMIZE_TOLERANCE, MINIMIZE_ITERATIONS)
        state = context.getState(getEnergy=True, getPositions=True)
        positions = state.getPositions(asNumpy=True).value_in_unit(unit.nanometer)
        energy = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    return np.asarray(positions), float(energy)


def bond_lengths_A(topology, positions_nm) -> np.ndarray:
    pairs = np.array([(a.index, b.index) for a, b in topology.bonds()])
    pos = np.asarray(positions_nm)
    return np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1) * ANGSTROM_PER_NM


def problem_of(ca_shift: float, bonds: np.ndarray, energy: float) -> str:
    """Why a relaxed model is no model of the frame ('' when it is one)."""
    low, high = BOND_RANGE_A
    if not np.isfinite(energy):
        return f"the minimized energy is {energy}"
    if ca_shift > TOLERANCE_A:
        return f"a Cα moved {ca_shift:.2f} Å from the CG frame (more than {TOLERANCE_A} Å)"
    if bonds.min() < low or bonds.max() > high:
        return (f"bond lengths {bonds.min():.2f}–{bonds.max():.2f} Å after minimization "
                f"(atoms left overlapping or pulled apart), outside {low}–{high} Å")
    return ""


def backmap(ca_angstrom, sequence: str, forcefield, work: Path) -> Model:
    """The all-atom model of one Cα frame (Å) of `sequence` (one-letter codes)."""
    from openmm import unit

    fixer = completed(heavy_atom_pdb(ca_angstrom, sequence, Path(work) / "pulchra.pdb"))
    start = np.asarray(fixer.positions.value_in_unit(unit.nanometer))
    targets = np.asarray(ca_angstrom, dtype=np.float64) / ANGSTROM_PER_NM
    positions, energy = relax(forcefield, fixer.topology, start, targets)
    ca = positions[ca_indices(fixer.topology)] * ANGSTROM_PER_NM
    shift = float(np.linalg.norm(ca - np.asarray(ca_angstrom), axis=1).max())
    bonds = bond_lengths_A(fixer.topology, positions)
    return Model(fixer.topology, positions, shift, (float(bonds.min()), float(bonds.max())),
                 energy, problem_of(shift, bonds, energy))


def write_models(models: list[Model], path,
                 none: str = "no frame could be backmapped: backmapped.json says why") -> None:  # fmt: skip
    """The models as one multi-model PDB (written atomically); without models, a file that
    says why (`none`)."""
    from openmm import app, unit

    from ..io import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        if not models:
            fh.write(f"REMARK   {none}\nEND\n")
            return
        app.PDBFile.writeHeader(models[0].topology, fh)
        for number, model in enumerate(models, start=1):
            app.PDBFile.writeModel(model.topology, model.positions * unit.nanometer, fh,
                                   modelIndex=number)  # fmt: skip
        app.PDBFile.writeFooter(models[0].topology, fh)


def chosen_frames(rmsd_to_folded: np.ndarray, count: int) -> list[int]:
    """The frame closest to the folded structure, then `count` − 1 evenly spaced frames."""
    n = len(rmsd_to_folded)
    if n == 0 or count < 1:
        return []
    closest = int(np.argmin(rmsd_to_folded))
    spaced = [int(k) for k in np.linspace(0, n - 1, count + 1)[:-1]]
    return list(dict.fromkeys([closest, *spaced]))[:count]
