"""Parameterize, solvate and minimize a protein; write aa/structure.pdb and aa/system.xml."""

import logging

import numpy as np
import openmm
from openmm import app, unit

from ..errors import CgthermoError
from ..io import atomic_path
from . import build, pdbinput, stereo
from .forcefields import forcefield_files
from .platform import select_platform

log = logging.getLogger(__name__)

EXPLICIT_CUTOFF_NM = 1.0
MAX_MINIMIZE_ITERATIONS = 5000
# implicit/obc2.xml stores each atom's radius less this dielectric offset (`or`) and the
# scaled radius `sr` = scale * or; OpenMM's GBSAOBCForce takes the radius and the scale
OBC_DIELECTRIC_OFFSET_NM = 0.009
OBC2_PARAMETERS = ("charge", "or", "sr")


def starting_fixer(entry: dict, hetero: str = "drop"):
    """PDBFixer holding the protein of a config entry (sequence or pdb)."""
    if "sequence" in entry:
        return build.fixer_from_sequence(entry["sequence"])
    if "pdb" in entry:
        return build.fixer_from_pdb(entry["pdb"], hetero)
    raise CgthermoError(
        f"protein '{entry['name']}' has neither 'sequence' nor 'pdb'",
        "give one of them (imported proteins skip the all-atom stages)",
    )


def create_system(topology, positions, settings: dict):
    """Return (topology, positions, system) with solvent added for explicit runs."""
    forcefield = app.ForceField(*forcefield_files(settings))
    modeller = app.Modeller(topology, positions)
    if settings["solvent"] == "explicit":
        # ions replace randomly picked waters (Python's `random`, seeded by complete_protein)
        modeller.addSolvent(
            forcefield,
            model=settings["water_model"],
            padding=settings["padding_nm"] * unit.nanometer,
            ionicStrength=settings["ionic_strength_molar"] * unit.molar,
            neutralize=True,
        )
    try:
        system = forcefield.createSystem(modeller.topology, **_system_options(settings))
    except ValueError as err:  # OpenMM reports missing templates as ValueError
        raise CgthermoError(
            f"force field {settings['forcefield']} ({settings['solvent']} solvent) cannot "
            f"parameterize the structure: {pdbinput.first_line(err)}",
            "use standard amino acids, or another aa.forcefield / aa.solvent",
        ) from None
    if settings["solvent"] == "implicit" and settings["implicit_model"] == "obc2":
        use_native_obc2(system)
    return modeller.topology, modeller.positions, system


def use_native_obc2(system) -> None:
    """Swap the force field's CustomGBForce for OpenMM's built-in GBSAOBCForce.

    Both are OBC2 with the same radii, scales and ACE surface term; the built-in kernel
    is about 3x faster on the CPU platform (benchmarks/implicit_solvent_speed.py), which
    is most of an implicit-solvent step for a small protein.
    """
    index, custom = _custom_gb_force(system)
    native = openmm.GBSAOBCForce()
    native.setNonbondedMethod(openmm.GBSAOBCForce.NoCutoff)
    native.setSoluteDielectric(1.0)
    native.setSolventDielectric(78.5)
    for atom in range(custom.getNumParticles()):
        charge, offset_radius, scaled_radius = custom.getParticleParameters(atom)
        native.addParticle(charge, offset_radius + OBC_DIELECTRIC_OFFSET_NM,
                           scaled_radius / offset_radius)  # fmt: skip
    native.setForceGroup(custom.getForceGroup())
    system.removeForce(index)
    system.addForce(native)


def _custom_gb_force(system):
    for index, force in enumerate(system.getForces()):
        if isinstance(force, openmm.CustomGBForce):
            names = tuple(
                force.getPerParticleParameterName(i)
                for i in range(force.getNumPerParticleParameters())
            )
            if names != OBC2_PARAMETERS:
                raise CgthermoError(
                    f"implicit/obc2.xml gave per-atom parameters {names}, not {OBC2_PARAMETERS}",
                    "use an OpenMM release whose obc2.xml matches, or aa.implicit_model gbn2",
                )
            return index, force
    raise CgthermoError(
        "implicit/obc2.xml added no CustomGBForce to the system",
        "use an OpenMM release whose obc2.xml defines one, or aa.implicit_model gbn2",
    )


def _system_options(settings: dict) -> dict:
    options = {
        "constraints": app.HBonds if settings["constraints"] == "HBonds" else None,
        "rigidWater": True,
    }
    if settings["hmr"]:
        options["hydrogenMass"] = settings["hydrogen_mass_amu"] * unit.amu
    if settings["solvent"] == "explicit":
        options["nonbondedMethod"] = app.PME
        options["nonbondedCutoff"] = EXPLICIT_CUTOFF_NM * unit.nanometer
    else:
        options["nonbondedMethod"] = app.NoCutoff
    return options


def minimize(system, topology, positions, settings: dict, threads: int):
    """Local energy minimization; returns the minimized positions (nm, numpy)."""
    platform, properties = select_platform(settings["platform"], settings["precision"], threads)
    context = openmm.Context(system, openmm.VerletIntegrator(0.001), platform, properties)
    if topology.getPeriodicBoxVectors() is not None:
        context.setPeriodicBoxVectors(*topology.getPeriodicBoxVectors())
    context.setPositions(positions)
    before = _potential(context)
    openmm.LocalEnergyMinimizer.minimize(
        context, settings["minimize_tolerance"], MAX_MINIMIZE_ITERATIONS
    )
    after = _potential(context)
    log.info("minimized: potential %.1f -> %.1f kJ/mol", before, after)
    if not np.isfinite(after):
        raise CgthermoError(
            f"energy minimization gave a non-finite energy ({after})",
            "check the input structure for overlapping atoms",
        )
    return context.getState(getPositions=True).getPositions(asNumpy=True)


def _potential(context) -> float:
    state = context.getState(getEnergy=True)
    return state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)


# PDBFixer builds missing residues at random (seeded); a build whose minimization ends with a
# new cis peptide bond is tried again with the next seeds, up to this many builds in all
BUILD_ATTEMPTS = 4


def prepare_protein(entry: dict, settings: dict, structure_path, system_path, threads: int = 1,
                    seed: int = 1) -> None:  # fmt: skip
    """Build or repair, parameterize, minimize, then write both artifacts atomically.

    `seed` fixes where PDBFixer and Modeller put new atoms and ions. A structure that comes
    out of the minimization with a D-handed Cα or a new non-proline cis peptide bond
    (`stereo`) is built again with the following seeds; the first seed's structure is kept
    whenever it is sound, so only such builds change.
    """
    select_platform(settings["platform"], settings["precision"], threads)  # fail before work
    for attempt in range(BUILD_ATTEMPTS):
        try:
            topology, positions, system = build_minimized(entry, settings, threads, seed + attempt)
            break
        except stereo.StereoError as err:
            if attempt == BUILD_ATTEMPTS - 1:
                raise
            log.warning("%s; building again with seed %d", err.what, seed + attempt + 1)
    write_structure(topology, positions, structure_path)
    write_system(system, system_path)


def build_minimized(entry: dict, settings: dict, threads: int, seed: int) -> tuple:
    """(topology, positions, system) of the protein built with `seed`, solvated, minimized and
    checked for its stereochemistry."""
    fixer = starting_fixer(entry, settings.get("hetero", "drop"))
    input_cis = stereo.cis_bonds(stereo.omega_degrees(fixer.topology, _nm(fixer.positions)))
    topology, positions = build.complete_protein(fixer, seed)
    log.info("protein %s: %d residues", entry["name"], topology.getNumResidues())
    topology, positions, system = create_system(topology, positions, settings)
    log.info("system: %d atoms (%s solvent)", system.getNumParticles(), settings["solvent"])
    positions = minimize(system, topology, positions, settings, threads)
    stereo.check_stereo(entry["name"], topology, _nm(positions), input_cis)
    return topology, positions, system


def _nm(positions) -> np.ndarray:
    return np.asarray(positions.value_in_unit(unit.nanometer))


def write_structure(topology, positions, path) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        app.PDBFile.writeFile(topology, positions, fh, keepIds=True)


def write_system(system, path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(openmm.XmlSerializer.serialize(system))


def load_system(path):
    from ..io import require_file

    return openmm.XmlSerializer.deserialize(require_file(path, "rule prepare").read_text())
