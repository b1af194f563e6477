"""Force-matching noise of the `slice`, `constraint-aware` and `optimized` Cα force maps.

The force-matching loss of the best possible CG model is the conditional
variance of the mapped force at fixed CG coordinates, E[|F − E[F | R]|²].
Here it is measured directly: the Cα atoms are held (stiff harmonic restraints
kept out of the mapped forces by force groups) at a few configurations of an
unrestrained run, the rest of the peptide samples at temperature, and the
variance of each map's force is averaged. The plain mean squared mapped force
of the unrestrained run (what cg_map logs) is printed beside it. The optimized
map's weights are fitted on the unrestrained frames only, so its conditional
variance on the held configurations is measured out of sample.

    python benchmarks/force_map_noise.py [SEQUENCE] [--configs 4] [--samples 200]

Prints kcal²/mol²/Å² per force component and each map's ratio to slice.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import openmm
from openmm import unit

# the tiny OpenMM run is a test helper (tests/helpers), not part of the package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.tinyrun import build_peptide

from cgthermo.cgmap.mapping import AtomTable, force_map_weights, force_second_moments, map_to_beads
from cgthermo.units import kj_per_mol_nm_to_kcal_per_mol_angstrom

RESTRAINT_KJ_NM2 = 1.0e5  # Cα positional spread sqrt(kT/k) ≈ 0.05 Å
TEMPERATURE = 340.0
TIMESTEP_FS = 4.0  # HMR, as the aa stage's default


def atom_table(topology) -> AtomTable:
    atoms = list(topology.atoms())
    return AtomTable(
        names=[a.name for a in atoms],
        elements=[a.element.symbol for a in atoms],
        residue_index=np.array([a.residue.index for a in atoms]),
        residue_names=[r.name for r in topology.residues()],
    )


def constraint_pairs(system) -> np.ndarray:
    return np.array(
        [system.getConstraintParameters(k)[:2] for k in range(system.getNumConstraints())]
    )


def restrained_context(system, ca, seed):
    restraint = openmm.CustomExternalForce("0.5*k*((x-x0)^2+(y-y0)^2+(z-z0)^2)")
    restraint.addGlobalParameter("k", 0.0)
    for name in ("x0", "y0", "z0"):
        restraint.addPerParticleParameter(name)
    for atom in ca:
        restraint.addParticle(int(atom), [0.0, 0.0, 0.0])
    restraint.setForceGroup(1)  # the mapped forces read group 0 only
    system.addForce(restraint)
    integrator = openmm.LangevinMiddleIntegrator(
        TEMPERATURE * unit.kelvin, 1.0 / unit.picosecond, TIMESTEP_FS * unit.femtosecond
    )
    integrator.setRandomNumberSeed(seed)
    context = openmm.Context(
        system, integrator, openmm.Platform.getPlatformByName("CPU"), {"Threads": "1"}
    )
    return context, integrator, restraint


def system_forces(context) -> np.ndarray:
    state = context.getState(getForces=True, groups={0})
    return state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sequence", nargs="?", default="YYDPETGTWY")
    parser.add_argument("--configs", type=int, default=4)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--stride", type=int, default=5, help="steps between samples")
    parser.add_argument(
        "--fit-samples", type=int, default=2000, help="unrestrained frames the optimized map is fitted on"
    )
    args = parser.parse_args()
    start = time.time()
    topology, positions, system = build_peptide(args.sequence)
    table = atom_table(topology)
    ca = table.ca_columns()
    pairs = constraint_pairs(system)
    context, integrator, restraint = restrained_context(system, ca, seed=1)
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context, 10.0, 500)
    context.setVelocitiesToTemperature(TEMPERATURE * unit.kelvin, 1)
    integrator.step(2500)  # 10 ps unrestrained
    fitting = []
    for _ in range(args.fit_samples):  # frames the optimized map is fitted on, and only it
        integrator.step(args.stride)
        fitting.append(system_forces(context))
    maps = {
        kind: force_map_weights(kind, table, pairs, force_second_moments(np.array(fitting)))
        for kind in ("slice", "constraint-aware", "optimized")
    }
    free = {k: [] for k in maps}
    conditional = {k: [] for k in maps}
    for _ in range(args.configs):
        for _ in range(args.samples):  # unrestrained frames between the held configurations
            integrator.step(args.stride)
            f = system_forces(context)[None]
            for kind, w in maps.items():
                free[kind].append(map_to_beads(f, w)[0])
        x = (
            context.getState(getPositions=True)
            .getPositions(asNumpy=True)
            .value_in_unit(unit.nanometer)
        )
        for i, atom in enumerate(ca):
            restraint.setParticleParameters(i, int(atom), list(x[atom]))
        restraint.updateParametersInContext(context)
        context.setParameter("k", RESTRAINT_KJ_NM2)
        integrator.step(250)  # 1 ps for the rest of the peptide to settle around the held Cα
        held = {k: [] for k in maps}
        for _ in range(args.samples):
            integrator.step(args.stride)
            f = system_forces(context)[None]
            for kind, w in maps.items():
                held[kind].append(map_to_beads(f, w)[0])
        for kind in maps:
            conditional[kind].append(
                np.var(kj_per_mol_nm_to_kcal_per_mol_angstrom(np.array(held[kind])), axis=0).mean()
            )
        context.setParameter("k", 0.0)
    print(
        f"{args.sequence} at {TEMPERATURE} K, {args.configs} held Cα configurations × {args.samples} samples "
        f"every {args.stride * TIMESTEP_FS:.0f} fs ({time.time() - start:.0f} s)"
    )
    print(
        "force map          conditional variance   mean squared force (unrestrained)   [kcal²/mol²/Å² per component]"
    )
    results = {}
    for kind in maps:
        msf = float(np.mean(kj_per_mol_nm_to_kcal_per_mol_angstrom(np.array(free[kind])) ** 2))
        results[kind] = (float(np.mean(conditional[kind])), msf)
        print(f"{kind:18s} {results[kind][0]:20.1f}   {msf:20.1f}")
    for kind in ("constraint-aware", "optimized"):
        ratio = [results[kind][i] / results["slice"][i] for i in range(2)]
        print(f"ratio {kind} / slice: noise {ratio[0]:.3f}, mean squared force {ratio[1]:.3f}")


if __name__ == "__main__":
    main()
