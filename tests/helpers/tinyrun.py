"""A tiny implicit-solvent OpenMM run written in the aa/md layout (docs/artifacts.md).

For the unit tests of the mapping and for the force-map noise benchmark: real
OpenMM forces of a few-residue peptide in seconds, without the workflow.
"""

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import openmm
from openmm import app, unit

from cgthermo.io import atomic_path


@dataclass
class TinyRun:
    system: openmm.System
    topology: app.Topology
    positions_nm: np.ndarray  # last frame, all atoms
    system_xml: Path
    md_file: Path
    temperature: float


def build_peptide(sequence: str, constraints: str = "HBonds", hmr: bool = True):
    """Topology, positions and system of an extended amber14/OBC2 peptide (one-letter sequence)."""
    from cgthermo.aa.build import complete_protein, fixer_from_sequence

    topology, positions = complete_protein(fixer_from_sequence(sequence), seed=1)
    forcefield = app.ForceField("amber14-all.xml", "implicit/obc2.xml")
    system = forcefield.createSystem(
        topology,
        nonbondedMethod=app.NoCutoff,
        constraints=app.HBonds if constraints == "HBonds" else None,
        hydrogenMass=3.0 * unit.amu if hmr else None,
    )
    return topology, positions, system


def run_tiny(
    outdir,
    sequence="AGYA",
    frames=20,
    steps_per_frame=25,
    temperature=340.0,
    seed=1,
    constraints="HBonds",
    timestep_fs=2.0,
    replica=0,
) -> TinyRun:
    """Minimize, then sample `frames` frames of positions and forces with Langevin dynamics."""
    outdir = Path(outdir)
    topology, positions, system = build_peptide(sequence, constraints)
    integrator = openmm.LangevinMiddleIntegrator(
        temperature * unit.kelvin, 1.0 / unit.picosecond, timestep_fs * unit.femtosecond
    )
    integrator.setRandomNumberSeed(seed)
    platform = openmm.Platform.getPlatformByName("CPU")
    context = openmm.Context(system, integrator, platform, {"Threads": "1"})
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context, 10.0, 500)
    context.setVelocitiesToTemperature(temperature * unit.kelvin, seed)
    pos, frc, time = [], [], []
    for _ in range(frames):
        integrator.step(steps_per_frame)
        state = context.getState(getPositions=True, getForces=True)
        pos.append(state.getPositions(asNumpy=True).value_in_unit(unit.nanometer))
        frc.append(
            state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer)
        )
        time.append(state.getTime().value_in_unit(unit.picosecond))
    xml = outdir / "system.xml"
    with atomic_path(xml) as tmp:
        tmp.write_text(openmm.XmlSerializer.serialize(system))
    md = outdir / "md" / f"{replica}.h5"
    write_aa_h5(md, topology, np.array(pos), np.array(frc), np.array(time), temperature, replica)
    return TinyRun(system, topology, np.array(pos[-1]), xml, md, temperature)


def write_aa_h5(path, topology, positions_nm, forces_kj, time_ps, temperature, replica=0) -> None:
    """Protein atoms of all frames in the aa/md layout of docs/artifacts.md."""
    atoms = list(topology.atoms())
    residues = list(topology.residues())
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
        h5.create_dataset("positions", data=np.asarray(positions_nm, np.float32)).attrs["units"] = (
            "nm"
        )
        h5.create_dataset("forces", data=np.asarray(forces_kj, np.float32)).attrs["units"] = (
            "kJ/mol/nm"
        )
        h5.create_dataset("time", data=np.asarray(time_ps, np.float64)).attrs["units"] = "ps"
        h5["atom_indices"] = np.array([a.index for a in atoms], dtype=np.int64)
        h5["atom_names"] = np.array([a.name.encode() for a in atoms])
        h5["elements"] = np.array([a.element.symbol.encode() for a in atoms])
        h5["residue_index"] = np.array([a.residue.index for a in atoms], dtype=np.int64)
        h5["residue_names"] = np.array([r.name.encode() for r in residues])
        h5.attrs["temperature_K"] = float(temperature)
        h5.attrs["replica"] = int(replica)
