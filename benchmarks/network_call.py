"""The network call of a CG step: torchmd-net's External against cgthermo's direct caller.

cg_sim evaluates its network once per step for a batch of replicas. For a network of the
demo's shape (the architecture keys of config/config.yaml's `train:`, untrained weights,
which cost the same as trained ones), float32, 16 replicas of a 10-bead (chignolin) and an
80-bead chain (λ-repressor), this times, in alternating rounds on the same positions:

  External     torchmd-net's `External.calculate` (cgthermo's NoBoxExternal): the old path
  direct       `make_external(...).calculate`: the model called on precomputed vectors
  bare model   `network(z, pos, batch)` on already flattened positions: the floor
  compiled     the direct caller around `torch.compile(network)` (80 beads by default;
               skipped, with the reason printed, where compilation fails)

and one force evaluation of a CG step, the batched prior alone and prior + network through
each caller, from which the network's share of the step's force time; and the callers' own
work, with the network replaced by a stub that returns fixed outputs. A time is the median
over rounds of the mean of `--calls` calls (which cycle through 8 noisy copies of the chains,
so that the neighbour lists change from call to call as in a run); a ratio is the median,
with its interquartile range, of the ratios to External's time in the same round. Short
rounds, many of them, in rotating order, keep the ratios steady on a busy machine.

    python benchmarks/network_call.py [--replicas 16] [--beads 10 80] [--rounds 60]
                                      [--calls 8] [--threads 1] [--clock wall|cpu]
                                      [--no-compile]

`--clock cpu` times with the process CPU clock: on a shared machine it gives what an idle
one would show (with --threads 1).
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

# the synthetic inputs are test helpers (tests/helpers), not part of the package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.cgsim_toy import write_prior
from helpers.untrained import write_untrained_checkpoint

from cgthermo import config as cgconfig
from cgthermo.cgsim.nnp import NoBoxExternal, load_network, make_external
from cgthermo.cgtopology import CGTopology
from cgthermo.forcefield.batched import build_batched_forces
from cgthermo.residues import parse_sequence

ROOT = Path(__file__).resolve().parents[1]
CHIGNOLIN = "YYDPETGTWY"
LAMBDA_REPRESSOR = ("PLTQEQLEDARRLKAIYEKKKNELGLSQESVADKMGMGQSGVGALFNGINALNAYNAALLAKILKVS"
                    "VEEFSPSIAREIY")
ARCHITECTURE = ("model", "embedding_dimension", "num_layers", "num_rbf", "rbf_type",
                "trainable_rbf", "activation", "cutoff_lower", "cutoff_upper",
                "max_num_neighbors")
DTYPE = torch.float32
VARIANTS = 8
STUB_CALLS = 2000
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter


def demo_architecture(config_path: Path) -> dict:
    train = cgconfig.load(config_path)["train"]
    return {key: train[key] for key in ARCHITECTURE}


def chains(replicas: int, beads: int, rng) -> list[torch.Tensor]:
    """Random-walk Cα chains (3.8 Å bonds, about as compact as a folded protein) and
    `VARIANTS` copies with 0.1 Å thermal noise: (replicas, beads, 3) each."""
    steps = rng.normal(size=(replicas, beads - 1, 3))
    steps *= 3.8 / np.linalg.norm(steps, axis=-1, keepdims=True)
    pos = np.concatenate([np.zeros((replicas, 1, 3)), np.cumsum(steps, axis=1)], axis=1)
    return [torch.tensor(pos + rng.normal(0, 0.1, pos.shape), dtype=DTYPE)
            for _ in range(VARIANTS)]


def neighbours_per_bead(pos: torch.Tensor, cutoff: float) -> float:
    beads = pos.shape[0] * pos.shape[1]
    return float(((torch.cdist(pos, pos) < cutoff).sum() - beads) / beads)  # less self-pairs


class StubNetwork(torch.nn.Module):
    """Returns fixed outputs: what is left to time is the caller's own work."""

    def __init__(self, energy, forces):
        super().__init__()
        self.energy, self.forces = energy, forces.reshape(-1, 3)

    def forward(self, z, pos, batch=None, box=None, num_systems=None):
        return self.energy, self.forces


def seconds_per_call(fn, inputs, calls: int, first: int = 0) -> float:
    start = clock()
    for i in range(first, first + calls):
        fn(inputs[i % len(inputs)])
    return (clock() - start) / calls


def compiled_caller(network, embeddings, replicas, positions, reference):
    """The direct caller around torch.compile(network), compiled and checked, or the reason
    it could not be."""
    try:
        start = time.perf_counter()
        caller = make_external(torch.compile(network), embeddings, replicas, "cpu", DTYPE)
        for _ in range(2):  # the second pass sees the neighbour counts vary: dynamic shapes
            for pos in positions:
                caller.calculate(pos)
        seconds = time.perf_counter() - start
        energy, forces = caller.calculate(positions[0])
    except Exception as err:  # noqa: BLE001 - any compiler failure only skips this row
        return None, f"{type(err).__name__}: {str(err).strip().splitlines()[0][:200]}"
    diff = float((forces - reference[1]).abs().max() / reference[1].abs().max())
    return caller, f"compiled in {seconds:.0f} s, largest force difference {diff:.1e} (relative)"


def measure(folder: Path, sequence: str, network, cutoff: float, args, compile_it: bool) -> dict:
    resnames = parse_sequence(sequence)
    topology = CGTopology(resnames)
    embeddings, replicas = topology.embeddings, args.replicas
    positions = chains(replicas, len(resnames), np.random.default_rng(len(resnames)))
    flat = [pos.reshape(-1, 3).clone() for pos in positions]

    external = NoBoxExternal(network, torch.as_tensor(embeddings).repeat(replicas, 1),
                             device="cpu", dtype=DTYPE)
    direct = make_external(network, embeddings, replicas, "cpu", DTYPE)
    z, batch = direct.z, direct.batch
    old, new = external.calculate(positions[0]), direct.calculate(positions[0])
    assert torch.equal(old[0], new[0]) and torch.equal(old[1], new[1]), "callers disagree"

    prior = write_prior(folder / "prior.yaml", resnames, angle=(12.0, 115.0))
    prior_only = build_batched_forces(prior, topology, "cpu", DTYPE)
    with_external = build_batched_forces(prior, topology, "cpu", DTYPE, external=external)
    with_direct = build_batched_forces(prior, topology, "cpu", DTYPE, external=direct)
    scratch = torch.zeros_like(positions[0])

    def step_forces(forces):
        return lambda pos: forces.compute(pos, None, scratch, toNumpy=False)

    calls = {
        "External": (lambda pos: external.calculate(pos, None), positions),
        "direct": (lambda pos: direct.calculate(pos, None), positions),
        "bare model": (lambda x: network(z, x, batch), flat),
        "prior only": (step_forces(prior_only), positions),
        "prior + External": (step_forces(with_external), positions),
        "prior + direct": (step_forces(with_direct), positions),
    }
    note = None
    if compile_it:
        compiled, note = compiled_caller(network, embeddings, replicas, positions, old)
        if compiled is not None:
            calls["direct, compiled"] = (lambda pos: compiled.calculate(pos, None), positions)

    ncalls = args.calls if len(resnames) <= 20 else max(1, args.calls // 8)
    for fn, inputs in calls.values():  # warm-up: every input once
        for x in inputs:
            fn(x)
    stub = StubNetwork(*old)
    wrappers = {
        "External": NoBoxExternal(stub, torch.as_tensor(embeddings).repeat(replicas, 1),
                                  device="cpu", dtype=DTYPE).calculate,
        "direct": make_external(stub, embeddings, replicas, "cpu", DTYPE).calculate,
    }
    # rounds interleave the measurements so that a busy machine slows them alike, and each
    # round starts at the next measurement so that none always runs first
    rounds = {name: [] for name in calls}
    stubbed = {name: [] for name in wrappers}
    names = list(calls)
    for k in range(args.rounds):
        for name in names[k % len(names):] + names[:k % len(names)]:
            fn, inputs = calls[name]
            rounds[name].append(seconds_per_call(fn, inputs, ncalls, first=k * ncalls))
        for name, fn in wrappers.items():
            stubbed[name].append(seconds_per_call(fn, positions, STUB_CALLS, first=k))
    return {"beads": len(resnames), "calls": ncalls, "compile_note": note,
            "neighbours": neighbours_per_bead(positions[0], cutoff),
            "rounds": rounds, "stubbed": stubbed}


def ratio_quartiles(times: list, reference: list) -> str:
    """Median of the per-round ratios [interquartile range]."""
    ratios = [t / ref for t, ref in zip(times, reference, strict=True)]
    low, mid, high = np.quantile(ratios, [0.25, 0.5, 0.75])
    return f"{mid:.3f} [{low:.3f}, {high:.3f}]"


def report(name: str, r: dict, args) -> None:
    """Medians over rounds; a ratio is the median of its per-round ratios."""
    rounds = r["rounds"]
    ref = rounds["External"]
    print(f"{name}: {args.replicas} replicas x {r['beads']} beads, "
          f"{r['neighbours']:.1f} neighbours per bead within the cutoff, "
          f"{args.rounds} rounds x {r['calls']} calls")
    print(f"  {'network call':<24} {'ms/call':>9}   ÷ External, per round [interquartile]")
    for key in ("External", "direct", "bare model", "direct, compiled"):
        if key in rounds:
            print(f"  {key:<24} {1e3 * statistics.median(rounds[key]):>9.3f}   "
                  f"{ratio_quartiles(rounds[key], ref)}")
    if r["compile_note"] is not None:
        print(f"  torch.compile: {r['compile_note']}"
              + ("" if "direct, compiled" in rounds else " (skipped)"))
    stub = {key: 1e6 * statistics.median(times) for key, times in r["stubbed"].items()}
    print(f"  the callers' own work (network replaced by a stub that returns fixed outputs): "
          f"External {stub['External']:.1f} µs, direct {stub['direct']:.1f} µs per call")
    prior = statistics.median(rounds["prior only"])
    print(f"  {'force evaluation':<24} {'ms/call':>9}   network share")
    print(f"  {'prior only':<24} {1e3 * prior:>9.3f}")
    for key in ("prior + External", "prior + direct"):
        step = statistics.median(rounds[key])
        print(f"  {key:<24} {1e3 * step:>9.3f}   {1 - prior / step:.1%}")
    print("  prior + direct ÷ prior + External, per round: "
          f"{ratio_quartiles(rounds['prior + direct'], rounds['prior + External'])}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=16)
    parser.add_argument("--beads", type=int, nargs="+", default=[10, 80], choices=[10, 80],
                        help="chains: 10 (chignolin) and/or 80 (λ-repressor)")
    parser.add_argument("--calls", type=int, default=8,
                        help="calls per measurement at 10 beads (an eighth of it at 80)")
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument("--compile-beads", type=int, nargs="*", default=[80],
                        help="chain lengths to time torch.compile at")
    parser.add_argument("--no-compile", action="store_true", help="no torch.compile row")
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "config.yaml",
                        help="config whose train: section sets the network's shape")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    torch.set_num_threads(args.threads)

    arch = demo_architecture(args.config)
    print(f"# network call benchmark: {arch['model']} {arch['embedding_dimension']} wide, "
          f"{arch['num_layers']} layers, {arch['num_rbf']} RBFs (untrained), float32, "
          f"torch {torch.__version__}, {args.threads} thread(s), {args.clock} clock")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        checkpoint = write_untrained_checkpoint(tmp / "demo.ckpt", **arch)
        network = load_network(checkpoint, "cpu", DTYPE)
        chains_by_size = {10: ("chignolin", CHIGNOLIN), 80: ("lambda", LAMBDA_REPRESSOR)}
        for beads in args.beads:
            name, sequence = chains_by_size[beads]
            folder = tmp / name
            folder.mkdir()
            compile_it = not args.no_compile and beads in args.compile_beads
            cutoff = float(arch["cutoff_upper"])
            report(name, measure(folder, sequence, network, cutoff, args, compile_it), args)


if __name__ == "__main__":
    main()
