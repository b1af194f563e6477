"""Forces + noise training labels for the CG network: the estimator of docs/noise.md.

Every CG frame x (Å) with its mapped force F(x) (kcal/mol/Å) gives noised copies
x̃ = x + σε, ε ~ N(0, I). Treat (x, x̃) as one system with density p(x)·N(x̃; x, σ²I) and x̃ as
its CG coordinate: at temperature T the force on x̃ is the noise force

    n = kT ∇_x̃ log N(x̃; x, σ²I) = −kT (x̃ − x)/σ² = −kT ε/σ,

and the one on x is F(x) − n. Every force map of that system with weight 1 on x̃ gives an
unbiased estimate of the mean force of the noised density p_σ = p ∗ N(0, σ²I) at x̃:

    label = n + W (F − n),   E[label | x̃] = kT ∇ log p_σ(x̃)   for any W,

because E[F − n | x̃] = 0. A scalar W = w is the mixture w·F + (1 − w)·n: w = 1 is force
matching at the noised positions, w = 0 denoising score matching. A model trained on such
labels is the PMF of p_σ, −kT log p_σ, not that of p: σ is a length in Å, and features of the
PMF narrower than σ (Cα–Cα bond lengths first) come out broadened.

The optimal weight is the map of smallest mean squared label over the data. Since
E[label | x̃] does not depend on W, it is the weight of least label variance at fixed x̃, and
subtracting a prior force evaluated at x̃ leaves it unchanged.

Units: Å, kcal/mol, kcal/mol/Å, K (kT from cgthermo.units). Pure numpy; no file is read or
written here.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..units import kT_kcal

WEIGHTINGS = ("force", "noise", "optimal")
SCOPES = ("global", "bead", "matrix")


@dataclass(frozen=True)
class NoisedFrames:
    """Noised copies of CG frames at one noise level, each row with its source frame's force.

    positions: x̃ (n, beads, 3) Å; forces: F(x) of the source frame (n, beads, 3) kcal/mol/Å;
    noise_forces: n = −kT (x̃ − x)/σ² (n, beads, 3) kcal/mol/Å; source: (n,) index of the
    source frame; sigma: σ in Å; kT in kcal/mol.
    """

    positions: np.ndarray
    forces: np.ndarray
    noise_forces: np.ndarray
    source: np.ndarray
    sigma: float
    kT: float

    @property
    def real_forces(self) -> np.ndarray:
        """F − n: the force on the clean copy x in the joint system; zero mean at fixed x̃."""
        return self.forces - self.noise_forces


def noise_forces(noised, clean, sigma: float, temperature_K: float) -> np.ndarray:
    """The denoising label −kT (x̃ − x)/σ² (kcal/mol/Å) of noised positions x̃ drawn around x (Å)."""
    _check_sigma(sigma)
    return -kT_kcal(temperature_K) * (np.asarray(noised, float) - np.asarray(clean, float)) / sigma**2


def noised_frames(clean, noised, forces, sigma: float, temperature_K: float,
                  source=None) -> NoisedFrames:
    """NoisedFrames of given pairs (x, x̃) and the forces F(x) of the clean frames."""
    clean, noised, forces = (np.asarray(a, dtype=np.float64) for a in (clean, noised, forces))
    if not (clean.shape == noised.shape == forces.shape) or clean.ndim != 3 or clean.shape[2] != 3:
        raise ValueError(
            f"clean {clean.shape}, noised {noised.shape} and forces {forces.shape} must all be "
            "(frames, beads, 3)"
        )
    source = np.arange(len(clean)) if source is None else np.asarray(source, dtype=np.int64)
    return NoisedFrames(noised, forces, noise_forces(noised, clean, sigma, temperature_K),
                        source, float(sigma), kT_kcal(temperature_K))  # fmt: skip


def draw_noised(positions, forces, sigma: float, copies: int, rng: np.random.Generator,
                temperature_K: float) -> NoisedFrames:
    """`copies` noised copies x̃ = x + σε of every frame, frame-major (frame 0's copies first).

    positions (frames, beads, 3) Å, forces (frames, beads, 3) kcal/mol/Å: the mapped forces F(x)
    (not delta forces: the prior is subtracted at x̃ afterwards, `subtract_prior`); σ in Å;
    `rng` a seeded numpy Generator, the one source of randomness.
    """
    _check_sigma(sigma)
    if copies < 1:
        raise ValueError(f"copies must be at least 1, got {copies}")
    positions = np.asarray(positions, dtype=np.float64)
    forces = np.asarray(forces, dtype=np.float64)
    clean = np.repeat(positions, copies, axis=0)
    noised = clean + sigma * rng.standard_normal(clean.shape)
    source = np.repeat(np.arange(len(positions)), copies)
    return noised_frames(clean, noised, np.repeat(forces, copies, axis=0), sigma, temperature_K,
                         source)  # fmt: skip


def optimal_weight(frames: NoisedFrames, scope: str = "global", l2: float = 0.0):
    """The weight W of least mean squared label n + W (F − n) over `frames` (one noise level).

    The least-squares solution over every row and Cartesian component of the data, the drawn
    noise included (the empirical cross term n·F, zero in expectation, is kept), estimated per
    noise level: call it once per σ (`WeightSums` gives the same over data read in blocks).

    scope: "global", one scalar w for every bead and component (the mixture w·F + (1 − w)·n);
    "bead", one w per bead (beads,), shared by x, y, z; "matrix", a (beads, beads) matrix that
    also mixes the other beads' F − n into a bead's label, shared by x, y, z (the most general
    linear map with one weight per pair of beads). `l2` ≥ 0 adds l2·|W|² to the mean squared
    label (ridge; 0: none).

    In expectation the global weight is s²/(⟨F²⟩ + s²), s = kT/σ and ⟨F²⟩ the mean square of
    one Cartesian component of F: 1 as σ → 0 (force matching), 0 for large σ (denoising).
    """
    sums = WeightSums(scope)
    sums.add(frames)
    return sums.solve(l2)


class WeightSums:
    """The sums of the least-squares problem of `optimal_weight`, added up a block of frames
    at a time, so the weight of a data set larger than memory is that of the whole set."""

    def __init__(self, scope: str = "global"):
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
        self.scope, self.cross, self.gram, self.rows, self.beads = scope, 0.0, 0.0, 0, None

    def add(self, frames: NoisedFrames) -> None:
        n, h = frames.noise_forces, frames.real_forces
        self.rows += n.shape[0] * n.shape[2]
        self.beads = n.shape[1]
        if self.scope == "global":
            self.cross += float(np.sum(n * h))
            self.gram += float(np.sum(h * h))
        elif self.scope == "bead":
            self.cross = self.cross + np.sum(n * h, axis=(0, 2))
            self.gram = self.gram + np.sum(h * h, axis=(0, 2))
        else:
            self.cross = self.cross + np.einsum("fid,fjd->ij", n, h)
            self.gram = self.gram + np.einsum("fid,fjd->ij", h, h)

    def solve(self, l2: float = 0.0):
        if self.rows == 0:
            raise ValueError("no frames were added to estimate the optimal weight from")
        if self.scope == "global":
            return float(-self.cross / (self.gram + l2 * self.rows * self.beads))
        if self.scope == "bead":
            return -self.cross / (self.gram + l2 * self.rows)
        gram = self.gram + l2 * self.rows * np.eye(self.beads)
        return -np.linalg.solve(gram, self.cross.T).T


def mixed_labels(frames: NoisedFrames, weighting="optimal", scope: str = "global",
                 l2: float = 0.0):
    """(labels (n, beads, 3) kcal/mol/Å, the weight used) for a weighting of F and n.

    weighting: "force" (w = 1: F, force matching at x̃), "noise" (w = 0: n, denoising),
    "optimal" (`optimal_weight` of `frames` with `scope` and `l2`), a number w (w·F + (1 − w)·n),
    or an array: (beads,) per-bead weights or a (beads, beads) matrix W.
    """
    if isinstance(weighting, str):
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, a number or an array, "
                             f"got {weighting!r}")  # fmt: skip
        weight = {"force": 1.0, "noise": 0.0}.get(weighting)
        if weight is None:
            weight = optimal_weight(frames, scope, l2)
    else:
        weight = weighting
    return apply_weight(frames, weight), weight


def apply_weight(frames: NoisedFrames, weight) -> np.ndarray:
    """n + W (F − n) for a scalar, per-bead (beads,) or (beads, beads) weight W."""
    n, h = frames.noise_forces, frames.real_forces
    weight = np.asarray(weight, dtype=np.float64)
    beads = n.shape[1]
    if weight.ndim == 0:  # w·F + (1 − w)·n: exactly F for w = 1 and n for w = 0
        return float(weight) * frames.forces + (1.0 - float(weight)) * n
    if weight.shape == (beads,):
        return n + weight[None, :, None] * h
    if weight.shape == (beads, beads):
        return n + np.einsum("ij,fjd->fid", weight, h)
    raise ValueError(f"weight of shape {weight.shape} fits neither (), ({beads},) nor "
                     f"({beads}, {beads})")  # fmt: skip


PriorForces = Callable[[np.ndarray], tuple]


def subtract_prior(positions, labels, prior: PriorForces) -> np.ndarray:
    """Delta labels: labels − the prior's force at the same (noised) positions x̃.

    `prior(positions_angstrom) -> (energies, forces)`, the interface of
    cgthermo.forcefield.evaluate.PriorEvaluator. The prior must be evaluated at x̃, where the label
    estimates the mean force, not at the clean x of the dataset's delta forces: a network
    trained on these labels plus the prior is then the PMF of p_σ.
    """
    _, prior_forces = prior(np.asarray(positions, dtype=np.float64))
    return np.asarray(labels, dtype=np.float64) - np.asarray(prior_forces, dtype=np.float64)


@dataclass(frozen=True)
class NoiseLabels:
    """Training rows of one or several noise levels: positions x̃ (Å), labels (kcal/mol/Å, delta
    labels where a prior was given), per row the source frame and σ, and the weight used per σ."""

    positions: np.ndarray
    labels: np.ndarray
    source: np.ndarray
    sigma: np.ndarray
    weights: dict


def forces_and_noise(positions, forces, sigmas: Sequence[float], copies: int,
                     rng: np.random.Generator, temperature_K: float, weighting="optimal",
                     scope: str = "global", prior: PriorForces | None = None,
                     l2: float = 0.0) -> NoiseLabels:
    """Noised copies and their labels for each σ in `sigmas`, the rows of all levels together.

    Per σ: `copies` copies of every frame (`draw_noised`), the labels of `weighting`
    (`mixed_labels`; "optimal" is estimated separately at each σ) and, with a `prior`, the
    prior's force at x̃ subtracted (`subtract_prior`). Everything is held in memory:
    frames × copies × len(sigmas) rows.
    """
    parts, weights = [], {}
    for sigma in sigmas:
        frames = draw_noised(positions, forces, sigma, copies, rng, temperature_K)
        labels, weights[float(sigma)] = mixed_labels(frames, weighting, scope, l2)
        if prior is not None:
            labels = subtract_prior(frames.positions, labels, prior)
        parts.append((frames, labels))
    return NoiseLabels(
        positions=np.concatenate([f.positions for f, _ in parts]),
        labels=np.concatenate([labels for _, labels in parts]),
        source=np.concatenate([f.source for f, _ in parts]),
        sigma=np.concatenate([np.full(len(f.source), f.sigma) for f, _ in parts]),
        weights=weights,
    )


def _check_sigma(sigma: float) -> None:
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be a positive length in Å, got {sigma}")
