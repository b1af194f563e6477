"""Delta forces at scale: the prior's forces on every frame of a dataset, two ways.

The prior stage subtracts the prior's forces from every mapped frame before training. This
times, for a 10-bead (chignolin) and an 80-bead chain (λ-repressor) with the demo's prior
terms (bonds, angle, RepulsionCG, per-quadruple dihedrals), in one run, alternating rounds:

  torchmd   torchmd's `Forces.compute` in blocks of 256 frames (it loops over frames)
  batched   cgthermo's `prior_forces`: the batched prior cg_sim integrates with, in
            blocks of frames × bead pairs ≤ 5·10⁵ (what the prior stage runs)

and prints frames/s of each, batched ÷ torchmd, the largest force difference relative to the largest force, and the
projected time for chignolin's 1,868,861 paper frames.

    python benchmarks/delta_forces.py [--frames 20000] [--rounds 2] [--threads 1]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.cgsim_toy import CHIGNOLIN, write_prior

from cgthermo.cgtopology import CGTopology
from cgthermo.forcefield.evaluate import prior_forces
from cgthermo.forcefield.torchmd import build_forces, evaluate

PAPER_CHIGNOLIN_FRAMES = 1_868_861


def chains(beads: int, frames: int, rng) -> np.ndarray:
    """Random-walk Cα chains (3.8 Å bonds) with thermal noise: every term's forces are non-zero."""
    steps = rng.normal(size=(frames, beads - 1, 3))
    steps *= 3.8 / np.linalg.norm(steps, axis=-1, keepdims=True)
    pos = np.concatenate([np.zeros((frames, 1, 3)), np.cumsum(steps, axis=1)], axis=1)
    return pos + rng.normal(0, 0.1, pos.shape)


def torchmd_forces(prior, topology, pos, chunk=256) -> np.ndarray:
    forces = build_forces(prior, topology)
    out = np.empty_like(pos)
    for start in range(0, len(pos), chunk):
        out[start : start + chunk] = evaluate(forces, torch.as_tensor(pos[start : start + chunk]))[1]
    return out


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000, help="frames of the 10-bead chain")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"{'chain':10} {'frames':>7} {'torchmd fr/s':>13} {'batched fr/s':>13} {'ratio':>7} "
          f"{'max |ΔF| rel':>9}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for name, resnames, frames in (("10 beads", CHIGNOLIN, args.frames),
                                       ("80 beads", (CHIGNOLIN * 8)[:80], args.frames // 8)):  # fmt: skip
            prior = write_prior(Path(tmp) / f"{len(resnames)}.yaml", resnames, angle=(12.0, 115.0))
            topology = CGTopology(list(resnames))
            pos = chains(len(resnames), frames, rng)
            ours, theirs = [], []
            for _ in range(args.rounds):
                t, reference = timed(torchmd_forces, prior, topology, pos)
                theirs.append(t)
                t, (_, batched) = timed(prior_forces, prior, topology, pos)
                ours.append(t)
            a, b = frames / statistics.median(theirs), frames / statistics.median(ours)
            difference = np.abs(batched - reference).max() / np.abs(reference).max()
            print(f"{name:10} {frames:7d} {a:13.0f} {b:13.0f} {b / a:7.1f} {difference:9.1e}")
            if name == "10 beads":
                projected = PAPER_CHIGNOLIN_FRAMES / np.array([a, b]) / 60
                print(f"  chignolin's {PAPER_CHIGNOLIN_FRAMES:,} paper frames: torchmd "
                      f"{projected[0]:.1f} min, batched {projected[1]:.1f} min")


if __name__ == "__main__":
    main()
