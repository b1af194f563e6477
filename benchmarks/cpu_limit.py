"""The CPU path against its limit: how much of the machine's matrix-product rate one CG force
evaluation of the demo's network uses, and where the rest of its time goes.

For the demo's graph network (64 wide, 2 layers, 18 RBFs; untrained weights cost what
trained ones do) on 32 replicas of a 10-bead chain, float32, one thread, it prints

  FLOPs         of one force evaluation (energies, then forces by the backward pass), per
                replica, as torch's profiler counts them: matrix products only, the
                elementwise work is not counted
  time          of that evaluation, as cg_sim calls the network
  attained      FLOPs ÷ time, against the machine's measured float32 matrix-product rate
                at the network's own shapes (edges × width by width × width) and at a
                large square product (the peak one thread reaches)
  where it goes the operators that take the most of the evaluation's CPU time
                (torch.profiler, self time), and the matrix products' total share

    python benchmarks/cpu_limit.py [--replicas 32] [--beads 10] [--width 64] [--layers 2]
"""

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

# the untrained network is a test helper (tests/helpers), not part of the package; the
# test chain is the architecture comparison's (this script's folder is on sys.path)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from architectures import chain
from helpers.untrained import write_untrained_checkpoint

from cgthermo.cgsim.nnp import load_network, make_external

MATMUL_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul", "aten::linear",
              "aten::baddbmm")  # fmt: skip


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=32)
    parser.add_argument("--beads", type=int, default=10)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--top", type=int, default=8, help="operators listed")
    return parser.parse_args()


def cpu_seconds(fn, calls: int) -> float:
    for _ in range(3):
        fn()
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls


def matmul_rate(m: int, k: int, n: int, calls: int) -> float:
    """float32 FLOP/s of an (m × k) by (k × n) product on this thread."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    return 2.0 * m * k * n / cpu_seconds(lambda: a @ b, calls)


def counted_flops(call) -> int:
    """FLOPs torch's profiler attributes to the call's matrix products (its backward pass
    included: FlopCounterMode cannot follow the autograd.grad inside the network)."""
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        call()
    return int(sum(event.flops for event in prof.key_averages()))


def operator_shares(call, calls: int = 20) -> tuple[list, float]:
    """(operator, share of self CPU time) from the most costly down, and the products' share."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(calls):
            call()
    self_time = defaultdict(float)
    for event in prof.key_averages():
        self_time[event.key] += event.self_cpu_time_total
    total = sum(self_time.values())
    ranked = sorted(((k, v / total) for k, v in self_time.items()), key=lambda kv: -kv[1])
    products = sum(v for k, v in self_time.items() if k in MATMUL_OPS) / total
    return ranked, products


def edge_count(network, positions: torch.Tensor, beads: int) -> int:
    """Pairs within the network's cutoffs, both directions, as its message passing sees them."""
    rep = network.representation_model
    distances = torch.cdist(positions, positions)
    inside = (distances >= rep.cutoff_lower) & (distances <= rep.cutoff_upper)
    inside &= ~torch.eye(beads, dtype=torch.bool)
    return int(inside.sum())


def main():
    opts = parse()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = write_untrained_checkpoint(Path(tmp) / "cpu_limit.ckpt",
                                                embedding_dimension=opts.width,
                                                num_layers=opts.layers)  # fmt: skip
        network = load_network(checkpoint, dtype=torch.float32)
    types = [4, 4, 5, 8, 6, 13, 2, 13, 7, 4] * (opts.beads // 10 + 1)
    external = make_external(network, types[:opts.beads], opts.replicas, dtype=torch.float32)
    positions = chain(opts.beads, opts.replicas)

    def call():
        return external.calculate(positions)

    flops = counted_flops(call)
    seconds = cpu_seconds(call, opts.calls)
    edges = edge_count(network, positions, opts.beads)
    shaped = matmul_rate(edges, opts.width, opts.width, 2000)
    peak = matmul_rate(1024, 1024, 1024, 20)
    ranked, products = operator_shares(call)
    attained = flops / seconds
    print(f"cpu_limit: graph network {opts.width} wide, {opts.layers} layers, "
          f"{opts.replicas} x {opts.beads} beads, float32, 1 thread, process CPU clock")
    print(f"cpu_limit/FLOPs per force evaluation (matrix products): {flops / 1e6:.2f} M, "
          f"{flops / opts.replicas / 1e6:.3f} M per replica; {edges} directed pairs in the "
          f"cutoffs")
    print(f"cpu_limit/time per force evaluation: {1e3 * seconds:.2f} ms "
          f"({1e6 * seconds / opts.replicas:.1f} us per replica)")
    print(f"cpu_limit/attained: {attained / 1e9:.3f} GFLOP/s; matrix products at the "
          f"network's shape ({edges} x {opts.width} by {opts.width} x {opts.width}): "
          f"{shaped / 1e9:.2f} GFLOP/s, at 1024^3: {peak / 1e9:.2f} GFLOP/s")
    print(f"cpu_limit/attained over the shaped rate: {attained / shaped:.4f}; over the "
          f"1024^3 rate: {attained / peak:.4f}")
    print(f"cpu_limit/matrix products' share of the evaluation's CPU time: {products:.3f}")
    for name, share in ranked[:opts.top]:
        print(f"cpu_limit/operator {name}: {share:.3f}")


if __name__ == "__main__":
    main()
