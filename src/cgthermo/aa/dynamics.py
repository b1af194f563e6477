"""Langevin dynamics helpers shared by unfold and aa_md: contexts, chunked stepping, NaN checks."""

import contextlib

import numpy as np
import openmm
from openmm import app, unit

from ..errors import CgthermoError
from ..io import require_file
from ..residues import BEAD_TYPE
from .platform import select_platform


class SimulationBlewUp(CgthermoError):
    """Non-finite coordinates or energies: the run is unrecoverable from its own state."""


def load_start(pdb_path):
    """Topology, positions (nm, numpy) and box vectors (or None) of a start structure."""
    pdb = app.PDBFile(str(require_file(pdb_path)))
    return pdb.topology, pdb.getPositions(asNumpy=True), pdb.topology.getPeriodicBoxVectors()


def new_context(system, settings: dict, temperature: float, seed: int, threads: int):
    """A Langevin-middle context on the configured platform; returns (context, integrator)."""
    integrator = openmm.LangevinMiddleIntegrator(
        temperature * unit.kelvin,
        settings["friction_per_ps"] / unit.picosecond,
        settings["timestep_fs"] * unit.femtosecond,
    )
    integrator.setRandomNumberSeed(_nonzero(seed))  # OpenMM reads seed 0 as "pick one at random"
    platform, properties = select_platform(settings["platform"], settings["precision"], threads)
    return openmm.Context(system, integrator, platform, properties), integrator


def _nonzero(seed: int) -> int:
    return int(seed) or 1


def set_start(context, positions, box, temperature: float, seed: int, constraint_tol=1e-6) -> None:
    if box is not None:
        context.setPeriodicBoxVectors(*box)
    context.setPositions(positions)
    context.applyConstraints(constraint_tol)  # PDB coordinates are rounded to 1e-4 nm
    context.setVelocitiesToTemperature(temperature * unit.kelvin, _nonzero(seed))


def advance(integrator, context, steps: int, label: str) -> None:
    """Take `steps` steps in one call (no per-step Python); NaN failures name `label` and step."""
    with nan_as_error(context, label):
        integrator.step(steps)


@contextlib.contextmanager
def nan_as_error(context, label: str):
    """OpenMM's own NaN checks (CPU platform) become our one-line error naming the step."""
    try:
        yield
    except openmm.OpenMMException as err:
        if "nan" in str(err).lower():
            raise blew_up(label, context.getStepCount()) from None
        raise


def blew_up(label: str, step: int) -> SimulationBlewUp:
    return SimulationBlewUp(
        f"{label}: the simulation produced NaN coordinates or energy (detected at step {step})",
        "lower aa.timestep_fs, keep aa.constraints HBonds, or check the start structure",
    )


def state_arrays(context, atoms, label: str, forces: bool = True):
    """Positions and forces (nm, kJ/mol/nm as OpenMM reports them) of `atoms` at the current step."""
    with nan_as_error(context, label):
        state = context.getState(getPositions=True, getForces=forces, getEnergy=True)
    positions = state.getPositions(asNumpy=True).value_in_unit(unit.nanometer)
    energy = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    if not (np.isfinite(energy) and np.isfinite(positions).all()):
        raise blew_up(label, context.getStepCount())
    if not forces:
        return positions[atoms], None, state
    values = state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer)
    return positions[atoms], values[atoms], state


def check_finite(context, label: str):
    """The whole state is finite; returns the state (positions, energy) for writing."""
    _, _, state = state_arrays(context, slice(None), label, forces=False)
    return state


def protein_atom_table(topology) -> dict:
    """Saved atoms (amino-acid residues only, solvent and ions left out) and their residues."""
    table = {k: [] for k in ("atom_indices", "atom_names", "elements", "residue_index")}
    residue_names = []
    for residue in topology.residues():
        if residue.name.upper() not in BEAD_TYPE:
            continue
        for atom in residue.atoms():
            table["atom_indices"].append(atom.index)
            table["atom_names"].append(atom.name)
            table["elements"].append(atom.element.symbol if atom.element else "")
            table["residue_index"].append(len(residue_names))
        residue_names.append(residue.name)
    table["residue_names"] = residue_names
    return table


def check_matches(system, topology, start_path, system_path) -> None:
    if system.getNumParticles() != topology.getNumAtoms():
        raise CgthermoError(
            f"{start_path} has {topology.getNumAtoms()} atoms but {system_path} has "
            f"{system.getNumParticles()}",
            "rerun rules prepare and unfold for this protein (e.g. --forcerun prepare)",
        )
