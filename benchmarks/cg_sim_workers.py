"""The cg_sim stage on a CPU: one process with N torch threads against N one-thread processes.

The demo's CG run (32 replicas of 10 beads under the prior and a 64-wide, 2-layer graph
network) is a stream of small tensor operations: most of a step is per-operation
overhead, which intra-op threads do not share out. `cgthermo.cgsim.simulate(...,
workers=N)` splits the replicas over N one-thread processes instead. This runs the same
simulation (untrained network of the demo's size, float32, torchmd Langevin, checkpoints
and outputs included) three ways in one process tree, alternating rounds:

  threads   one process, all replicas, `--cores` torch threads (cg_sim before session 11)
  one       one process, all replicas, one torch thread
  workers   `--cores` processes of one thread, the replicas split between them (cg_sim now)

and prints the aggregate ns/day of each, and workers ÷ threads.

    python benchmarks/cg_sim_workers.py [--steps 4000] [--repeats 3] [--cores 2]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from cgthermo.cgsim import SimInputs, SimOutputs, SimSettings, simulate
from cgthermo.cgsim.nnp import write_untrained_checkpoint
from cgthermo.cgsim.run import ns_per_day
from cgthermo.cgsim.toy import write_dataset, write_prior
from cgthermo.residues import parse_sequence

CHIGNOLIN = "YYDPETGTWY"
DEMO_NETWORK = {"embedding_dimension": 64, "num_layers": 2, "num_rbf": 18}


def demo_inputs(folder: Path) -> SimInputs:
    resnames = parse_sequence(CHIGNOLIN)
    dataset, topology = write_dataset(folder, "cln", resnames, frames=64, replicas=8)
    prior = write_prior(folder / "prior.yaml", resnames)
    checkpoint = write_untrained_checkpoint(folder / "model.ckpt", **DEMO_NETWORK)
    return SimInputs("cln", dataset, topology, prior, checkpoint)


def aggregate_ns_per_day(inputs: SimInputs, settings: SimSettings, folder: Path,
                         threads: int, workers: int) -> float:
    torch.set_num_threads(threads)
    outputs = SimOutputs(folder / "traj.xtc", folder / "frames.csv", folder / "log.csv")
    start = time.perf_counter()
    simulate(inputs, settings, outputs, folder / "work", workers=workers)
    seconds = time.perf_counter() - start
    return settings.replicas * ns_per_day(settings.steps, seconds, settings.timestep_fs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--replicas", type=int, default=32)
    args = parser.parse_args()
    settings = SimSettings(temperature_K=400.0, seed=1, replicas=args.replicas, steps=args.steps,
                           timestep_fs=2.0, save_every=100, checkpoint_every=args.steps,
                           precision="float32", device="cpu")
    ways = {"threads": (args.cores, 1), "one": (1, 1), "workers": (1, args.cores)}
    rates = {name: [] for name in ways}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = demo_inputs(Path(tmp) / "inputs")
        for round_ in range(args.repeats):
            for name, (threads, workers) in ways.items():
                folder = Path(tmp) / f"{name}-{round_}"
                rates[name].append(aggregate_ns_per_day(inputs, settings, folder, threads,
                                                        workers))
                print(f"round {round_} {name}: {rates[name][-1]:.1f} ns/day aggregate",
                      flush=True)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(f"# {args.replicas} replicas x {args.steps} steps of 2 fs, 10 beads, demo network, "
          f"float32, {args.cores} cores; medians of {args.repeats} (wall clock, includes "
          f"process start-up and output)")
    for name, (threads, workers) in ways.items():
        print(f"{name}: {workers} process(es) x {threads} thread(s): "
              f"{medians[name]:.1f} ns/day aggregate")
    print(f"workers / threads: {medians['workers'] / medians['threads']:.2f}; "
          f"one / threads: {medians['one'] / medians['threads']:.2f}")


if __name__ == "__main__":
    main()
