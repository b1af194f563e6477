"""Throughput of the aa_md code path against bare OpenMM, same system, same process.

Chignolin (YYDPETGTWY) in OBC2 implicit solvent, Amber14, HMR, 4 fs. "ours" is
cgthermo.aa.md.run_replica with forces saved every --save-ps and checkpoints on;
"bare" is OpenMM's Simulation.step(n) with no reporters. Both start from the same
files, include their setup, and simulate the same length; runs alternate so load
changes on a shared machine hit both. Prints `aa_md/bare_openmm throughput ratio: X`
(medians; CPU seconds on the CPU platform, wall seconds on GPUs, see --clock).

    python benchmarks/aa_md.py [--length-ps 50] [--repeats 3] [--threads 1] [--clock auto]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import openmm
from openmm import app, unit

from cgthermo import config as cgconfig
from cgthermo.aa.md import run_replica
from cgthermo.aa.system import prepare_protein

SEQUENCE = "YYDPETGTWY"
TEMPERATURE = 340.0


def settings(args) -> dict:
    aa = {
        "solvent": "implicit", "implicit_model": "obc2", "platform": args.platform,
        "threads": args.threads, "length_ns": args.length_ps / 1000.0,
        "save_every_ps": args.save_ps, "checkpoint_every_ps": args.length_ps / 2,
        "report_every_ps": args.length_ps, "equilibration_ps": 0.0,
    }  # fmt: skip
    cfg = cgconfig.validate({"proteins": [{"name": "cln", "sequence": SEQUENCE}], "aa": aa})
    return cgconfig.aa_settings(cfg, "cln")


def bare_openmm(system_xml: Path, start: Path, s: dict, seed: int) -> tuple[float, float]:
    began, began_cpu = time.perf_counter(), time.process_time()
    system = openmm.XmlSerializer.deserialize(system_xml.read_text())
    pdb = app.PDBFile(str(start))
    integrator = openmm.LangevinMiddleIntegrator(
        TEMPERATURE * unit.kelvin, s["friction_per_ps"] / unit.picosecond,
        s["timestep_fs"] * unit.femtosecond,
    )  # fmt: skip
    integrator.setRandomNumberSeed(seed)
    platform = openmm.Platform.getPlatformByName(_platform_name(s))
    properties = {"Threads": str(s["threads"])} if platform.getName() == "CPU" else {}
    simulation = app.Simulation(pdb.topology, system, integrator, platform, properties)
    simulation.context.setPositions(pdb.positions)
    simulation.context.setVelocitiesToTemperature(TEMPERATURE * unit.kelvin, seed)
    simulation.step(round(s["length_ns"] * 1e6 / s["timestep_fs"]))
    simulation.context.getState(getPositions=True)  # wait for the device to finish
    return time.perf_counter() - began, time.process_time() - began_cpu


def _platform_name(s: dict) -> str:
    from cgthermo.aa.platform import select_platform

    return select_platform(s["platform"], s["precision"], s["threads"])[0].getName()


def ours(system_xml: Path, start: Path, s: dict, seed: int, out: Path) -> tuple[float, float]:
    began, began_cpu = time.perf_counter(), time.process_time()
    run_replica(system_xml, start, out / "0.h5", out / "0.xtc", s, TEMPERATURE,
                replica=0, seed=seed, threads=s["threads"])  # fmt: skip
    return time.perf_counter() - began, time.process_time() - began_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length-ps", type=float, default=50.0)
    parser.add_argument("--save-ps", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--platform", default="auto")
    parser.add_argument("--clock", choices=["auto", "wall", "cpu"], default="auto",
                        help="time behind the headline ratio (auto: cpu on the CPU platform)")
    args = parser.parse_args()
    s = settings(args)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        prepare_protein({"name": "cln", "sequence": SEQUENCE}, s, tmp / "structure.pdb",
                        tmp / "system.xml", threads=args.threads)  # fmt: skip
        system_xml, start = tmp / "system.xml", tmp / "structure.pdb"
        wall, cpu = {"bare": [], "ours": []}, {"bare": [], "ours": []}
        for repeat in range(args.repeats):
            measured = {  # evaluated in this order: bare, then ours
                "bare": bare_openmm(system_xml, start, s, 7),
                "ours": ours(system_xml, start, s, 7, tmp / f"run{repeat}"),
            }
            for name, (seconds, cpu_seconds) in measured.items():
                wall[name].append(seconds)
                cpu[name].append(cpu_seconds)
            print(f"repeat {repeat}: wall bare {wall['bare'][-1]:.2f} s, ours "
                  f"{wall['ours'][-1]:.2f} s; CPU bare {cpu['bare'][-1]:.2f} s, ours "
                  f"{cpu['ours'][-1]:.2f} s", flush=True)  # fmt: skip
    report(args, s, wall, cpu)


def report(args, s: dict, wall: dict, cpu: dict) -> None:
    """The headline ratio uses medians of the chosen clock. On the CPU platform the process's
    CPU seconds measure the work each path needs, whatever else shares the machine (on an
    idle machine they equal the wall time of a CPU-bound run); on GPUs only wall time counts."""
    ns = args.length_ps / 1000.0
    platform = _platform_name(s)
    clock = args.clock if args.clock != "auto" else ("cpu" if platform == "CPU" else "wall")
    print(f"platform {platform}, threads {args.threads}, {args.length_ps} ps per run, "
          f"save every {args.save_ps} ps, checkpoint every {args.length_ps / 2} ps, "
          f"{args.repeats} alternating repeats")  # fmt: skip
    for name, label in (("bare", "bare OpenMM"), ("ours", "aa_md")):
        print(f"{label:12s} median wall {statistics.median(wall[name]):.2f} s "
              f"({ns / statistics.median(wall[name]) * 86400:.1f} ns/day), "
              f"median CPU {statistics.median(cpu[name]):.2f} s "
              f"({ns / statistics.median(cpu[name]) * 86400:.1f} ns/day per CPU-day)")  # fmt: skip
    ratios = {
        "wall": statistics.median(wall["bare"]) / statistics.median(wall["ours"]),
        "cpu": statistics.median(cpu["bare"]) / statistics.median(cpu["ours"]),
    }
    print(f"wall-time ratio {ratios['wall']:.3f}, CPU-time ratio {ratios['cpu']:.3f}; "
          f"headline uses {clock} time")  # fmt: skip
    print(f"aa_md/bare_openmm throughput ratio: {ratios[clock]:.3f}")

if __name__ == "__main__":
    main()
