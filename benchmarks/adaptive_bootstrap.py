"""How well the trajectory bootstrap covers an equilibrium population estimated from
adaptive data, with the MSM frame weights held fixed (as the analysis holds them) or
estimated again on every resample.

A double well under overdamped Langevin dynamics with a known Boltzmann population of its
higher well (tests/helpers/double_well.py) is sampled adaptively, many times over. Each
repetition estimates that population with a reversible MSM over all its trajectories
(`cgthermo.analysis.kinetics`) and reads a 95 % percentile interval from resamples of whole
trajectories two ways:
  fixed  the frame weights of the one MSM kept, only which trajectories enter changes;
  refit  a new MSM on every resample's trajectories.
Prints how often each interval holds the true population, with its binomial 95 % range.

    python benchmarks/adaptive_bootstrap.py --repetitions 40
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

# the toy is a test helper (tests/helpers), not part of the package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.double_well import CENTRES, EDGES, adaptive, cluster, right_well_population  # noqa: E402

from cgthermo.analysis import kinetics  # noqa: E402

BARRIER, MSM_LAG, SAVE_EVERY = 4.0, 5, 10


def right_population(dtrajs) -> tuple[float, list]:
    """(the MSM's population of x > 0, every frame's MSM weight per trajectory)."""
    msm = kinetics.estimate_msm(dtrajs, MSM_LAG)
    pi = kinetics.state_stationary(msm, len(EDGES) - 1)
    return float(pi[CENTRES > 0].sum()), kinetics.frame_weights(dtrajs, pi)


def intervals(dtrajs, rng, fixed_resamples: int, refit_resamples: int) -> dict:
    _, weights = right_population(dtrajs)
    right = np.array([float(w @ (CENTRES[d] > 0)) for w, d in zip(weights, dtrajs, strict=True)])
    total = np.array([float(w.sum()) for w in weights])
    n = len(dtrajs)
    fixed = []
    for _ in range(fixed_resamples):
        pick = rng.integers(0, n, n)
        fixed.append(right[pick].sum() / total[pick].sum())
    refit = [right_population([dtrajs[k] for k in rng.integers(0, n, n)])[0]
             for _ in range(refit_resamples)]  # fmt: skip
    return {"fixed": np.percentile(fixed, [2.5, 97.5]), "refit": np.percentile(refit, [2.5, 97.5])}


def binomial_range(n: int, p: float = 0.95) -> tuple[int, int]:
    draws = np.random.default_rng(0).binomial(n, p, 100_000)
    return tuple(int(x) for x in np.percentile(draws, [2.5, 97.5]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--trajectories", type=int, default=8, help="per epoch")
    parser.add_argument("--steps", type=int, default=3000, help="per trajectory")
    parser.add_argument("--fixed-resamples", type=int, default=200)
    parser.add_argument("--refit-resamples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=123)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    truth = right_well_population(BARRIER)
    covered = {"fixed": 0, "refit": 0}
    began = time.perf_counter()
    for _ in range(args.repetitions):
        runs = adaptive(rng, args.epochs, args.trajectories, args.steps, BARRIER)
        dtrajs = [cluster(t[::SAVE_EVERY]) for t in runs]
        for name, (low, high) in intervals(dtrajs, rng, args.fixed_resamples,
                                            args.refit_resamples).items():  # fmt: skip
            covered[name] += int(low <= truth <= high)
    low, high = binomial_range(args.repetitions)
    print(f"double well, barrier {BARRIER} kT: true population of the higher well {truth:.3f}; "
          f"{args.repetitions} repetitions of {args.epochs} epochs x {args.trajectories} "
          f"trajectories x {args.steps} steps ({time.perf_counter() - began:.0f} s)")
    for name, hits in covered.items():
        print(f"{name:>5} MSM weights: covered {hits}/{args.repetitions} "
              f"({hits / args.repetitions:.2f}); a calibrated 95 % interval: {low}-{high}")


if __name__ == "__main__":
    main()
