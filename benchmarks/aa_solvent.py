"""All-atom MD speed of chignolin in implicit (OBC2) against explicit (TIP3P, PME) solvent.

The paper compared its CG model's speed with explicit-solvent all-atom MD; the demo runs
implicit solvent. This builds chignolin (YYDPETGTWY, 400 K) both ways with the workflow's
own code, the demo config's `aa` settings otherwise (`aa.system.prepare_protein`: build,
solvate for explicit, parameterize, minimize), then runs each through the aa_md rule's
own `aa.md.run_replica`: a short equilibration, then --steps production steps, on the same
platform and thread count (repeated, fresh from the same prepared system, and the median
taken: 5 times for implicit solvent, whose runs take seconds, once for explicit). The speed printed is the `ns_per_day` that run_replica records
in the replica's h5 (production steps and frame reads on the wall clock, docs/artifacts.md),
i.e. what the workflow's artifacts would report for such a run. Beside it, the rate on the
process CPU clock from the first saved frame to the last (those steps, frame reads and
the final checkpoint), which load from other jobs on a shared machine does not distort on
the CPU platform; it is meaningless on a GPU.

    python benchmarks/aa_solvent.py [--steps 1350] [--equilibration-ps 1] [--threads 1]
                                    [--platform CPU] [--repeats-implicit 5]
                                    [--repeats-explicit 1] [--keep DIR]
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import h5py
import openmm
import yaml

from cgthermo import config as cgconfig
from cgthermo import seeds
from cgthermo.aa.md import run_replica
from cgthermo.aa.system import prepare_protein

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = ROOT / "config" / "config.yaml"
PROTEIN = {"name": "chignolin", "sequence": "YYDPETGTWY", "temperature": 400}
SOLVENTS = ("implicit", "explicit")


def settings(args, solvent: str) -> tuple[dict, dict]:
    """(validated config, aa settings): the demo's aa block with the solvent and run length
    of this benchmark; production is --steps rounded up to whole save strides."""
    demo = yaml.safe_load(DEMO_CONFIG.read_text())
    aa = dict(demo["aa"])
    stride_steps = round(aa["save_every_ps"] * 1000.0 / aa.get("timestep_fs", 4.0))
    steps = -(-args.steps // stride_steps) * stride_steps
    length_ps = steps * aa["save_every_ps"] / stride_steps
    aa.update(solvent=solvent, platform=args.platform, threads=args.threads,
              length_ns=length_ps / 1000.0, equilibration_ps=args.equilibration_ps,
              checkpoint_every_ps=length_ps, report_every_ps=length_ps)  # fmt: skip
    cfg = cgconfig.validate({"seed": demo.get("seed", 1), "proteins": [PROTEIN], "aa": aa})
    return cfg, cgconfig.aa_settings(cfg, PROTEIN["name"])


def run_solvent(args, solvent: str, work: Path) -> dict:
    """Prepare the system once, then time `repeats` production runs of it; medians."""
    cfg, s = settings(args, solvent)
    folder = work / solvent
    structure, system_xml = folder / "structure.pdb", folder / "system.xml"
    began = time.perf_counter()
    prepare_protein(PROTEIN, s, structure, system_xml, threads=args.threads,
                    seed=seeds.prepare(cfg["seed"], PROTEIN["name"]))  # fmt: skip
    prepared = time.perf_counter() - began
    atoms = openmm.XmlSerializer.deserialize(system_xml.read_text()).getNumParticles()
    repeats = args.repeats_implicit if solvent == "implicit" else args.repeats_explicit
    runs = [timed_run(cfg, s, structure, system_xml, folder / f"md{r}", args.threads)
            for r in range(max(1, repeats))]  # fmt: skip
    result = {
        "solvent": solvent,
        "atoms": atoms,
        "steps": round(s["length_ns"] * 1e6 / s["timestep_fs"]),
        "ns_per_day": statistics.median(r["ns_per_day"] for r in runs),
        "cpu_ns_per_day": statistics.median(r["cpu_ns_per_day"] for r in runs),
        "platform": runs[0]["platform"],
        "threads": runs[0]["threads"],
    }
    print(f"{solvent:8s}: {atoms:6d} atoms ({runs[0]['protein_atoms']} protein), prepared in "
          f"{prepared:.0f} s; {len(runs)} run(s) of {s['equilibration_ps']} ps equilibration + "
          f"{result['steps']} steps of {s['timestep_fs']} fs on {result['platform']} with "
          f"{result['threads']} thread(s)", flush=True)  # fmt: skip
    for r in runs:
        print(f"    {r['ns_per_day']:8.2f} ns/day (process CPU clock {r['cpu_ns_per_day']:8.2f}), "
              f"run {r['run_s']:.0f} s, load average {r['load'][0]:.2f} -> {r['load'][1]:.2f}",
              flush=True)  # fmt: skip
    print(f"    median {result['ns_per_day']:.2f} ns/day = "
          f"{result['ns_per_day'] / result['threads']:.2f} ns/day per core (process CPU clock "
          f"{result['cpu_ns_per_day']:.2f})", flush=True)  # fmt: skip
    return result


def timed_run(cfg, s: dict, structure: Path, system_xml: Path, out: Path, threads: int) -> dict:
    """One aa_md replica of the prepared system; its recorded speed, and the process CPU
    clock from its first saved frame to its last."""
    load_before = os.getloadavg()[0]
    cpu_at_frame = {}

    def on_frame(frame):
        cpu_at_frame[frame] = time.process_time()

    began = time.perf_counter()
    run_replica(system_xml, structure, out / "0.h5", out / "0.xtc", s, PROTEIN["temperature"],
                replica=0, seed=seeds.aa_md(cfg["seed"], PROTEIN["name"], 0),
                threads=threads, on_frame=on_frame)  # fmt: skip
    ran = time.perf_counter() - began
    first, last = min(cpu_at_frame), max(cpu_at_frame)
    cpu_days = (cpu_at_frame[last] - cpu_at_frame[first]) / 86400.0
    with h5py.File(out / "0.h5", "r") as h5:
        attrs = dict(h5.attrs)
        protein_atoms = h5["positions"].shape[1]
    return {
        "ns_per_day": float(attrs["ns_per_day"]),
        "cpu_ns_per_day": (last - first) * s["save_every_ps"] / 1000.0 / cpu_days,
        "platform": str(attrs["platform"]),
        "threads": int(attrs["threads"]),
        "protein_atoms": protein_atoms,
        "run_s": ran,
        "load": (load_before, os.getloadavg()[0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Default run: about 4 minutes on a 2-core CPU workstation, most of it "
               "preparing (minimizing) the explicit system.",
    )
    parser.add_argument("--steps", type=int, default=1350,
                        help="production steps per solvent, rounded up to whole save strides "
                             "(default 1350: 5.4 ps at 4 fs)")  # fmt: skip
    parser.add_argument("--equilibration-ps", type=float, default=1.0,
                        help="equilibration before the timed steps (default 1 ps)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1,
                        help="OpenMM CPU threads, both runs (default 1)")  # fmt: skip
    parser.add_argument("--platform", default="CPU",
                        help="OpenMM platform, both runs: CPU (default), CUDA, OpenCL, auto")  # fmt: skip
    parser.add_argument("--repeats-implicit", type=int, default=5,
                        help="timed runs of the implicit system, median (default 5: they "
                             "take seconds)")  # fmt: skip
    parser.add_argument("--repeats-explicit", type=int, default=1,
                        help="timed runs of the explicit system, median (default 1)")  # fmt: skip
    parser.add_argument("--keep", type=Path, default=None,
                        help="write the systems and trajectories here instead of a temporary folder")  # fmt: skip
    args = parser.parse_args()
    print(f"# chignolin {PROTEIN['sequence']} at {PROTEIN['temperature']} K, aa settings of "
          f"{DEMO_CONFIG.relative_to(ROOT)} but solvent; openmm {openmm.__version__}, "
          f"{os.cpu_count()} CPUs", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        results = {solvent: run_solvent(args, solvent, work) for solvent in SOLVENTS}
    implicit, explicit = results["implicit"], results["explicit"]
    print(f"implicit / explicit ns/day: {implicit['ns_per_day'] / explicit['ns_per_day']:.1f} "
          f"(wall clock, as recorded), "
          f"{implicit['cpu_ns_per_day'] / explicit['cpu_ns_per_day']:.1f} "
          f"(process CPU clock); {implicit['atoms']} against {explicit['atoms']} atoms")  # fmt: skip


if __name__ == "__main__":
    main()
