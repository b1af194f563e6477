"""Concurrent single-thread OpenMM CPU runs, free to migrate against one core each.

A CPU-platform context with Threads=1 still has two busy threads: the Python thread that
dispatches every force and integrator kernel and the pool thread that runs it, handing
over through a mutex and condition variable several times per step. With one aa_md job
per core (Snakemake `--cores N`, `threads: 1`) the 2N threads share N cores, and every
hand-over may cross cores. This starts one process per usable core, each running the
demo's chignolin OBC2 system (HMR, 4 fs) on the CPU platform, first with the scheduler
free to place the threads (what the rules do), then with each process and the pool
thread it starts held on a core of its own (os.sched_setaffinity before the context). It
prints the aggregate ns/day of each and their ratio; rounds alternate. With --processes
below the number of cores the other cores stay idle, as on a workstation with more cores
than aa jobs.

    python benchmarks/aa_cpu_pinning.py [--steps 20000] [--repeats 2] [--processes N]
"""

import argparse
import multiprocessing as mp
import os
import statistics
import time

import openmm
from openmm import unit

from cgthermo import config as cgconfig
from cgthermo.aa.build import complete_protein, fixer_from_sequence
from cgthermo.aa.dynamics import new_context
from cgthermo.aa.system import create_system

SEQUENCE = "YYDPETGTWY"
TIMESTEP_FS = 4.0
TEMPERATURE = 400.0


def demo_system():
    """(system XML, positions in nm, aa settings): the demo's all-atom system on the CPU platform."""
    aa = {"platform": "CPU", "friction_per_ps": 0.1, "timestep_fs": TIMESTEP_FS}
    cfg = cgconfig.validate({"proteins": [{"name": "p", "sequence": SEQUENCE}], "aa": aa})
    settings = cgconfig.aa_settings(cfg, "p")
    protein, positions = complete_protein(fixer_from_sequence(SEQUENCE), seed=1)
    _, positions, system = create_system(protein, positions, settings)
    xml = openmm.XmlSerializer.serialize(system)
    return xml, positions.value_in_unit(unit.nanometer), settings


def one_run(args) -> float:
    """ns/day of one process; `core` None leaves placement to the scheduler."""
    system_xml, positions, settings, steps, core, seed = args
    if core is not None:
        os.sched_setaffinity(0, {core})  # before the context: its pool thread inherits it
    system = openmm.XmlSerializer.deserialize(system_xml)
    context, integrator = new_context(system, settings, TEMPERATURE, seed, threads=1)
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context, maxIterations=200)
    context.setVelocitiesToTemperature(TEMPERATURE * unit.kelvin, seed)
    integrator.step(500)
    start = time.perf_counter()
    integrator.step(steps)
    seconds = time.perf_counter() - start
    return steps * TIMESTEP_FS * 1e-6 / seconds * 86400.0


def aggregate(demo: tuple, steps: int, cores: list, hold: bool) -> float:
    placement = cores if hold else [None] * len(cores)
    jobs = [(*demo, steps, core, seed) for seed, core in enumerate(placement, 1)]
    with mp.get_context("spawn").Pool(len(cores)) as pool:
        return sum(pool.map(one_run, jobs, chunksize=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--processes", type=int, default=0, help="default: one per usable core")
    args = parser.parse_args()
    usable = sorted(os.sched_getaffinity(0))
    cores = usable[: args.processes or len(usable)]
    demo = demo_system()
    print(f"{SEQUENCE}, OBC2, CPU platform, Threads=1, {len(cores)} concurrent processes, "
          f"{args.repeats} x {args.steps} steps of {TIMESTEP_FS} fs")  # fmt: skip
    speeds = {"free": [], "pinned": []}
    for _ in range(args.repeats):
        for mode in ("free", "pinned"):
            hold = mode == "pinned"
            speeds[mode].append(aggregate(demo, args.steps, cores, hold))
    print("each repeat, aggregate ns/day:", {k: [round(v, 1) for v in vs] for k, vs in speeds.items()})
    free, pinned = statistics.median(speeds["free"]), statistics.median(speeds["pinned"])
    print(f"scheduler places threads: {free:8.1f} ns/day")
    print(f"one core per process:     {pinned:8.1f} ns/day")
    print(f"ratio (pinned / free):    {pinned / free:8.2f}")


if __name__ == "__main__":
    main()
