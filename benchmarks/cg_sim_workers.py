"""The cg_sim stage on a CPU: one process against N one-thread worker processes, and the
cost of fixed batches.

The demo's CG run (32 replicas of 10 beads under the prior and a 64-wide, 2-layer graph
network) is a stream of small tensor operations: most of a step is per-operation
overhead, which intra-op threads do not share out. A run's replicas are integrated in
fixed batches of `cgsim.batch_replicas` (so the trajectories do not depend on how they
are shared out), and on a CPU `simulate(..., workers=N)` gives whole batches to N
one-thread processes. This runs the same simulation (untrained network of the demo's size,
float32, checkpoints and outputs included) three ways, alternating rounds:

  one-batch  one process, all replicas in one batch (batch_replicas = replicas)
  one        one process, the demo's batches of 16 one after the other
  workers    `--cores` processes, the demo's batches shared between them (cg_sim's default)

and prints the aggregate ns/day of each, workers ÷ one and one ÷ one-batch.

    python benchmarks/cg_sim_workers.py [--steps 4000] [--repeats 3] [--cores 2]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

# the synthetic inputs are test helpers (tests/helpers), not part of the package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.cgsim_toy import write_dataset, write_prior
from helpers.untrained import write_untrained_checkpoint

from cgthermo.cgsim import SimInputs, SimOutputs, SimSettings, simulate
from cgthermo.cgsim.run import ns_per_day
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
                         workers: int) -> float:
    outputs = SimOutputs(folder / "traj.xtc", folder / "frames.csv", folder / "log.csv",
                         folder / "run.json")
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
    torch.set_num_threads(1)

    def settings(batch: int) -> SimSettings:
        return SimSettings(temperature_K=400.0, seed=1, replicas=args.replicas,
                           batch_replicas=batch, steps=args.steps, timestep_fs=2.0,
                           save_every=100, checkpoint_every=args.steps, precision="float32",
                           device="cpu")

    ways = {"one-batch": (settings(args.replicas), 1), "one": (settings(16), 1),
            "workers": (settings(16), args.cores)}
    rates = {name: [] for name in ways}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = demo_inputs(Path(tmp) / "inputs")
        for round_ in range(args.repeats):
            for name, (sim, workers) in ways.items():
                folder = Path(tmp) / f"{name}-{round_}"
                rates[name].append(aggregate_ns_per_day(inputs, sim, folder, workers))
                print(f"round {round_} {name}: {rates[name][-1]:.1f} ns/day aggregate",
                      flush=True)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(f"# {args.replicas} replicas x {args.steps} steps of 2 fs, 10 beads, demo network, "
          f"float32, {args.cores} cores; medians of {args.repeats} (wall clock, includes "
          f"process start-up and output)")
    for name, (sim, workers) in ways.items():
        print(f"{name}: {workers} process(es), batches of {sim.batch_replicas}: "
              f"{medians[name]:.1f} ns/day aggregate")
    print(f"workers / one: {medians['workers'] / medians['one']:.2f}; "
          f"one / one-batch: {medians['one'] / medians['one-batch']:.2f}")


if __name__ == "__main__":
    main()
