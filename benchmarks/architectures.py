"""TensorNet against the graph network on the CPU: what torchmd-net's current architecture
costs cgthermo's two network-bound stages at equal size.

For each architecture (the same embedding width, layers and radial basis), in this process,
with the same threads:

  cg_sim     one force evaluation (energies and forces) of 32 replicas, the network as
             cg_sim calls it, for 10 beads (chignolin) and 80 (λ-repressor); float32
  train      the train stage (`cgthermo.train.train_model`) end to end on the same
             synthetic chignolin-sized frames: training frames/s

and prints each, with TensorNet ÷ graph network. Untrained weights cost what trained ones
do. The rounds alternate the architectures, so a load change hits both.

    python benchmarks/architectures.py [--width 64] [--layers 2] [--threads 1] [--clock cpu]
                                       [--device cuda --clock wall]
"""

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

# the synthetic inputs are test helpers (tests/helpers), not part of the package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import train_synthetic as synthetic
from helpers.untrained import write_untrained_checkpoint

from cgthermo.cgsim.nnp import load_network, make_external

ARCHITECTURES = ("graph-network", "tensornet")
CHIGNOLIN_TYPES = [4, 4, 5, 8, 6, 13, 2, 13, 7, 4]
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=64, help="embedding_dimension")
    parser.add_argument("--layers", type=int, default=2, help="num_layers")
    parser.add_argument("--replicas", type=int, default=32)
    parser.add_argument("--beads", type=int, nargs="+", default=[10, 80])
    parser.add_argument("--calls", type=int, default=20, help="force evaluations per round")
    parser.add_argument("--frames", type=int, default=1000, help="training frames")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cuda: force calls on the GPU and training with train.device: gpu "
                             "(use --clock wall)")  # fmt: skip
    return parser.parse_args()


def chain(beads: int, replicas: int) -> torch.Tensor:
    """Replicas of a random chain with 3.8 Å bonds, centred."""
    generator = torch.Generator().manual_seed(beads)
    steps = torch.nn.functional.normalize(torch.randn(replicas, beads, 3, generator=generator),
                                          dim=-1) * 3.8  # fmt: skip
    positions = steps.cumsum(dim=1)
    return positions - positions.mean(dim=1, keepdim=True)


def force_callers(opts, folder: Path) -> dict:
    callers = {}
    for model in ARCHITECTURES:
        checkpoint = write_untrained_checkpoint(folder / f"{model}.ckpt", model=model,
                                                embedding_dimension=opts.width,
                                                num_layers=opts.layers)  # fmt: skip
        network = load_network(checkpoint, device=opts.device, dtype=torch.float32)
        for beads in opts.beads:
            types = [CHIGNOLIN_TYPES[i % 10] for i in range(beads)]
            external = make_external(network, types, opts.replicas, device=opts.device,
                                     dtype=torch.float32)  # fmt: skip
            positions = chain(beads, opts.replicas).to(opts.device)
            callers[model, beads] = lambda ext=external, pos=positions: ext.calculate(pos)
    return callers


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def seconds_per_call(fn, calls: int, clock) -> float:
    for _ in range(2):
        fn()
    sync()
    start = clock()
    for _ in range(calls):
        fn()
    sync()
    return (clock() - start) / calls


def training_seconds(model: str, opts, data: dict, folder: Path, clock) -> tuple[float, int]:
    from cgthermo.config import validate
    from cgthermo.train import Outputs, train_model

    config = validate({
        "proteins": [{"name": "cln", "sequence": "YYDPETGTWY"}],
        "train": {"model": model, "num_epochs": opts.epochs, "batch_size": 256,
                  "early_stopping_patience": opts.epochs + 1,
                  "embedding_dimension": opts.width, "num_layers": opts.layers,
                  "device": "gpu" if opts.device == "cuda" else "cpu"},
    })  # fmt: skip
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):  # fmt: skip
        start = clock()
        report = train_model(config, "specific", data["delta"], data["mapped"],
                             Outputs.in_folder(folder), "cln")  # fmt: skip
        seconds = clock() - start
    return seconds, report["frames"]["train"]


def main():
    opts = parse()
    torch.set_num_threads(opts.threads)
    clock = CLOCKS[opts.clock]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        callers = force_callers(opts, tmp)
        protein = synthetic.make_protein("cln", CHIGNOLIN_TYPES, 4, opts.frames // 4, seed=1)
        data = synthetic.write_pair(tmp / "data", [protein])
        force = {key: [] for key in callers}
        train = {model: [] for model in ARCHITECTURES}
        frames = 0
        for rnd in range(opts.rounds):
            for key, call in callers.items():
                force[key].append(seconds_per_call(call, opts.calls, clock))
            for model in ARCHITECTURES:
                seconds, frames = training_seconds(model, opts, data, tmp / f"{model}{rnd}",
                                                   clock)  # fmt: skip
                train[model].append(seconds)
    print(f"architectures: {opts.width} wide, {opts.layers} layers, {opts.threads} threads, "
          f"device {opts.device}, {opts.clock} clock, medians of {opts.rounds} alternating rounds")
    for beads in opts.beads:
        gn, tn = (statistics.median(force[m, beads]) for m in ARCHITECTURES)
        print(f"cg_sim force call, {opts.replicas} x {beads} beads: graph-network "
              f"{1000 * gn:.2f} ms, tensornet {1000 * tn:.2f} ms, tensornet / graph-network "
              f"{tn / gn:.2f}")
    gn, tn = (frames * opts.epochs / statistics.median(train[m]) for m in ARCHITECTURES)
    print(f"train stage, {frames} frames x {opts.epochs} epochs, batch 256: graph-network "
          f"{gn:.1f} frames/s, tensornet {tn:.1f} frames/s, tensornet / graph-network time "
          f"{gn / tn:.2f}")


if __name__ == "__main__":
    main()
