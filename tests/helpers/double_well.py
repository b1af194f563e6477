"""A double well under overdamped Langevin dynamics, sampled plainly or adaptively: a toy
with known equilibrium populations for the adaptive-sampling tests and benchmark.

U(x) = h (x² − 1)² + t x: two wells at x ≈ ±1, the right one higher by about 2t, a barrier
of about h. Every trajectory starts in the left well, as the all-atom replicas start
unfolded; clusters are 40 bins along x.
"""

import numpy as np

from cgthermo.adaptive.counts import choose_restarts

H, TILT, KT, DT = 6.0, 0.6, 1.0, 1e-3  # barrier 6 kT, right well ~1.2 kT higher
EDGES = np.linspace(-2.0, 2.0, 41)  # 40 clusters along x


def force(x, barrier: float):
    return -(4.0 * barrier * x * (x**2 - 1.0) + TILT)


def run(starts, steps: int, rng, barrier: float = H) -> np.ndarray:
    """(trajectories, steps) positions of overdamped Langevin runs from `starts`."""
    x = np.array(starts, dtype=np.float64)
    out = np.empty((len(x), steps))
    noise = np.sqrt(2.0 * KT * DT)
    for k in range(steps):
        x = x + force(x, barrier) * DT + noise * rng.standard_normal(len(x))
        out[:, k] = x
    return out


def cluster(x) -> np.ndarray:
    return np.clip(np.digitize(x, EDGES) - 1, 0, len(EDGES) - 2)


def first_crossing(trajectories) -> float:
    """Total steps spent (trajectory after trajectory) until one reaches x > 0.9; inf if none."""
    spent = 0
    for traj in trajectories:
        hit = np.flatnonzero(traj > 0.9)
        if hit.size:
            return spent + hit[0] + 1
        spent += len(traj)
    return float("inf")


def plain(rng, n_traj: int, length: int) -> list:
    return list(run(np.full(n_traj, -1.0), length, rng))


def adaptive(rng, epochs: int, per_epoch: int, length: int, barrier: float = H) -> list:
    """Epoch 0 from the left well; each later epoch from `choose_restarts` on all frames."""
    trajectories = list(run(np.full(per_epoch, -1.0), length, rng, barrier))
    for _ in range(epochs - 1):
        frames = np.concatenate(trajectories)
        picked, _ = choose_restarts(cluster(frames), per_epoch, rng)
        trajectories += list(run(frames[picked], length, rng, barrier))
    return trajectories


def right_well_population(barrier: float = H) -> float:
    """The Boltzmann probability of x > 0."""
    x = np.linspace(-2.0, 2.0, 20001)
    boltzmann = np.exp(-(barrier * (x**2 - 1.0) ** 2 + TILT * x) / KT)
    return float(boltzmann[x > 0].sum() / boltzmann.sum())


CENTRES = 0.5 * (EDGES[1:] + EDGES[:-1])
