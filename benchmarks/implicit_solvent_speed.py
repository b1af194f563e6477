"""All-atom OBC2 implicit-solvent speed: cgthermo's system against the force field's own.

`create_system` replaces implicit/obc2.xml's CustomGBForce with OpenMM's built-in
GBSAOBCForce (same energy, see tests/test_aa_build.py). This times Langevin steps of
both systems on the CPU platform, alternating, in one process, and prints the median
ns/day of each and their ratio.

    python benchmarks/implicit_solvent_speed.py [SEQUENCE] [--steps 5000] [--repeats 3]
"""

import argparse
import statistics
import time

import openmm
from openmm import app, unit

from cgthermo import config as cgconfig
from cgthermo.aa.build import complete_protein, fixer_from_sequence
from cgthermo.aa.system import _system_options, create_system, forcefield_files

TIMESTEP_FS = 4.0  # HMR, the aa stage's default
TEMPERATURE = 400.0


def ns_per_day(system, positions, steps: int, threads: int) -> float:
    integrator = openmm.LangevinMiddleIntegrator(
        TEMPERATURE * unit.kelvin, 1.0 / unit.picosecond, TIMESTEP_FS * unit.femtosecond
    )
    integrator.setRandomNumberSeed(1)
    platform = openmm.Platform.getPlatformByName("CPU")
    context = openmm.Context(system, integrator, platform, {"Threads": str(threads)})
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context)
    context.setVelocitiesToTemperature(TEMPERATURE * unit.kelvin, 1)
    integrator.step(200)
    start = time.perf_counter()
    integrator.step(steps)
    seconds = time.perf_counter() - start
    return steps * TIMESTEP_FS * 1e-6 / seconds * 86400.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sequence", nargs="?", default="YYDPETGTWY")
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cfg = cgconfig.validate({"proteins": [{"name": "p", "sequence": args.sequence}]})
    settings = cgconfig.aa_settings(cfg, "p")
    protein, positions = complete_protein(fixer_from_sequence(args.sequence), seed=1)
    topology, positions, ours = create_system(protein, positions, settings)
    # the same createSystem options as ours: the systems differ only in the GB force
    bare = app.ForceField(*forcefield_files(settings)).createSystem(
        topology, **_system_options(settings)
    )
    print(f"{args.sequence}: {ours.getNumParticles()} atoms, OBC2, CPU, {args.threads} thread(s), "
          f"{args.repeats} x {args.steps} steps of {TIMESTEP_FS} fs at {TEMPERATURE} K")  # fmt: skip
    speeds = {"bare": [], "ours": []}
    for _ in range(args.repeats):
        speeds["bare"].append(ns_per_day(bare, positions, args.steps, args.threads))
        speeds["ours"].append(ns_per_day(ours, positions, args.steps, args.threads))
    print("each repeat (ns/day):", {k: [round(v, 1) for v in vs] for k, vs in speeds.items()})
    bare_speed = statistics.median(speeds["bare"])
    our_speed = statistics.median(speeds["ours"])
    print(f"force field CustomGBForce: {bare_speed:8.1f} ns/day")
    print(f"cgthermo GBSAOBCForce:     {our_speed:8.1f} ns/day")
    print(f"ratio (ours / bare):       {our_speed / bare_speed:8.2f}")


if __name__ == "__main__":
    main()
