"""Training beside a competing process: how much slower the train stage runs, and whether
that loss stays in proportion to the CPU it gets.

The competitor is one busy single-thread process at nice 19 in a session of its own, like a
job started from another terminal: the kernel schedules each login session as one group,
so that nice value no longer yields its core to the training. The train stage
(`cgthermo.train.train_model`, the demo's 64-wide two-layer graph network, batch 256,
synthetic chignolin-sized data) runs in a fresh process per reading, with two threads, under
each OpenMP wait policy:

  spin      the OpenMP runtime's own default (threads spin before they sleep): torch is
            imported before cgthermo, so the package's setting cannot apply
  passive   cgthermo's default (OMP_WAIT_POLICY=PASSIVE, set when the package is imported)

For each policy it prints the wall time alone and beside the competitor, their ratio (the
slowdown), the CPU the training got (process CPU seconds per wall second) in each, and

  slowdown ÷ CPU-share loss   1 when the training slows exactly as much as its CPU shrank;
                              above 1, time is lost waiting on a descheduled thread
                                                                       target ≤ 1.2

    python benchmarks/train_competition.py [--frames 2000] [--epochs 2] [--rounds 2]
"""

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
POLICIES = ("spin", "passive")


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000, help="frames in the dataset")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="readings per condition")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", choices=POLICIES, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def train_once(opts) -> dict:
    """One training in this process, with the OpenMP runtime loaded under opts.child."""
    if opts.child == "spin":
        importlib.import_module("torch")  # OpenMP loads before cgthermo chooses its policy
    importlib.import_module("cgthermo")  # sets the wait policy, unless torch came first
    import torch

    from cgthermo.config import validate
    from cgthermo.train import Outputs, train_model

    torch.set_num_threads(opts.threads)
    config = validate({
        "proteins": [{"name": "cln", "sequence": "YYDPETGTWY"}],
        "train": {"num_epochs": opts.epochs, "early_stopping_patience": opts.epochs + 1,
                  "batch_size": 256, "embedding_dimension": 64, "num_layers": 2},
    })  # fmt: skip
    with tempfile.TemporaryDirectory() as out:
        wall, cpu = time.perf_counter(), time.process_time()
        train_model(config, "specific", opts.data / "delta.h5",
                    {"cln": opts.data / "cln_dataset.h5"}, Outputs.in_folder(Path(out)), "cln")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall": wall, "cpu_per_wall": cpu / wall,
            "policy": os.environ.get("OMP_WAIT_POLICY", "runtime default")}


def make_data(folder: Path, frames: int) -> None:
    sys.path.insert(0, str(BENCHMARKS.parent / "tests"))
    from helpers import train_synthetic as synthetic

    chignolin = [4, 4, 5, 8, 6, 13, 2, 13, 7, 4]
    protein = synthetic.make_protein("cln", chignolin, 4, frames // 4, seed=1)
    synthetic.write_pair(folder, [protein])


def child_reading(policy: str, opts, data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    command = [sys.executable, __file__, "--child", policy, "--data", str(data),
               "--epochs", str(opts.epochs), "--threads", str(opts.threads)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_competitor() -> subprocess.Popen:
    """A one-thread busy loop at nice 19 in a new session (its own scheduling group)."""
    loop = "import os\nos.nice(19)\nwhile True:\n    pass\n"
    return subprocess.Popen([sys.executable, "-c", loop], start_new_session=True)


def readings(opts, data: Path, beside: bool) -> dict:
    competitor = start_competitor() if beside else None
    try:
        return {policy: [child_reading(policy, opts, data) for _ in range(opts.rounds)]
                for policy in POLICIES}
    finally:
        if competitor:
            competitor.kill()
            competitor.wait()


def median(values: list[dict], key: str) -> float:
    return statistics.median(v[key] for v in values)


def main():
    opts = parse()
    if opts.child:
        print(json.dumps(train_once(opts)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        make_data(data, opts.frames)
        child_reading("passive", opts, data)  # warms caches and kernels
        alone = readings(opts, data, beside=False)
        beside = readings(opts, data, beside=True)
    print(f"train_competition: {opts.frames} frames x {opts.epochs} epochs, 64x2 graph network, "
          f"batch 256, {opts.threads} threads; competitor: 1 busy thread, nice 19, own session; "
          f"{os.cpu_count()} CPUs, medians of {opts.rounds}")
    for policy in POLICIES:
        wall_alone, wall_beside = median(alone[policy], "wall"), median(beside[policy], "wall")
        cpu_alone = median(alone[policy], "cpu_per_wall")
        cpu_beside = median(beside[policy], "cpu_per_wall")
        slowdown = wall_beside / wall_alone
        print(f"train_competition/{policy}: alone {wall_alone:.1f} s (CPU {cpu_alone:.2f}/s), "
              f"beside {wall_beside:.1f} s (CPU {cpu_beside:.2f}/s), slowdown {slowdown:.2f}, "
              f"slowdown / CPU-share loss {slowdown / (cpu_alone / cpu_beside):.2f}")
    spin_alone, passive_alone = median(alone["spin"], "wall"), median(alone["passive"], "wall")
    print(f"train_competition/passive over spin, alone: {passive_alone / spin_alone:.2f} "
          f"(wall time; 1 = no cost on an idle machine)")


if __name__ == "__main__":
    main()
