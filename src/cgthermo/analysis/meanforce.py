"""Mean forces along named collective variables: where a CG force field departs from the
all-atom one, located bin by bin.

For a collective variable ξ(x) of the Cα positions, the mean force at ξ is

    f(ξ) = −dA/dξ = ⟨ F·G + kT ∇·G ⟩_ξ,    G = ∇ξ / |∇ξ|²

(thermodynamic integration with the generalized force; kT ∇·G is the Jacobian term, 2kT/d
for a distance between two beads, (3N − 4)kT/Rg for the radius of gyration). Averaged over
the all-atom frames of a narrow bin of ξ, with F the mapped all-atom force it is the
all-atom mean force; with F the prior's force, or the prior's plus the network's, on the
same frames it is the mean force the CG model exerts there. All three use the same frames,
so their difference is the model's error at those configurations, whatever the populations
of the bins. Integrating the all-atom mean force gives a PMF that needs only local
equilibrium inside each bin, not converged populations across them.

Intervals resample whole all-atom replicas (the same resamples for every force source, so
differences pair up), on all replicas, the training replicas and the held-out ones.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..units import kT_kcal
from .bootstrap import LEVEL, MAX_UNDEFINED_RESAMPLES

# Å: central-difference step of the divergence, small against every variable's curvature
DIVERGENCE_STEP = 1e-3
BLOCK_FRAMES = 4096


@dataclass(frozen=True)
class Variable:
    """A collective variable: name, axis label, and (positions Å) → (values, gradients)."""

    name: str
    label: str
    evaluate: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def distance(i: int, j: int, name: str, label: str) -> Variable:
    def evaluate(pos):
        vec = pos[:, i] - pos[:, j]
        d = np.linalg.norm(vec, axis=1)
        grad = np.zeros_like(pos)
        grad[:, i] = vec / d[:, None]
        grad[:, j] = -grad[:, i]
        return d, grad

    return Variable(name, label, evaluate)


def radius_of_gyration() -> Variable:
    def evaluate(pos):
        centred = pos - pos.mean(axis=1, keepdims=True)
        n = pos.shape[1]
        rg = np.sqrt((centred**2).sum(axis=(1, 2)) / n)
        return rg, centred / (n * rg[:, None, None])

    return Variable("rg", "radius of gyration (Å)", evaluate)


def kabsch_rotated(reference: np.ndarray, centred: np.ndarray) -> np.ndarray:
    """The centred `reference` optimally rotated onto each centred frame (frames, beads, 3)."""
    ref = reference - reference.mean(axis=0)
    h = np.einsum("bi,fbj->fij", ref, centred)
    u, _, vt = np.linalg.svd(h)
    sign = np.sign(np.linalg.det(np.einsum("fij,fjk->fik", u, vt)))
    u[:, :, 2] *= sign[:, None]
    rotation = np.einsum("fij,fjk->fik", u, vt)
    return np.einsum("bi,fij->fbj", ref, rotation)


def rmsd_to(reference) -> Variable:
    """Cα RMSD after optimal superposition; its gradient holds the rotation fixed, which is
    exact at the optimum."""
    reference = np.asarray(reference, dtype=np.float64)

    def evaluate(pos):
        centred = pos - pos.mean(axis=1, keepdims=True)
        diff = centred - kabsch_rotated(reference, centred)
        n = pos.shape[1]
        rmsd = np.sqrt((diff**2).sum(axis=(1, 2)) / n)
        return rmsd, diff / (n * np.maximum(rmsd, 1e-12)[:, None, None])

    return Variable("rmsd", "Cα RMSD to the folded structure (Å)", evaluate)


def tica_component(mean, eigenvector, pairs, component: int = 1) -> Variable:
    """TIC `component` of the reference's fit: eigenvector · (pair distances − mean)."""
    mean, vec = np.asarray(mean, np.float64), np.asarray(eigenvector, np.float64)
    pairs = np.asarray(pairs)

    def evaluate(pos):
        diff = pos[:, pairs[:, 0]] - pos[:, pairs[:, 1]]
        d = np.linalg.norm(diff, axis=2)
        unit = diff * (vec / d)[:, :, None]
        grad = np.zeros_like(pos)
        np.add.at(grad, (slice(None), pairs[:, 0]), unit)
        np.add.at(grad, (slice(None), pairs[:, 1]), -unit)
        return (d - mean) @ vec, grad

    return Variable(f"tic{component}", f"TIC {component}", evaluate)


def turn_pair(folded, min_separation: int = 4, cutoff: float = 8.0) -> tuple[int, int]:
    """The bead pair across the chain's turn: of the folded structure's contacts (Cα closer
    than `cutoff` Å, at least `min_separation` apart) that straddle the chain's middle, the
    one with the smallest separation, nearest the middle; the ends when none does."""
    folded = np.asarray(folded, dtype=np.float64)
    n = len(folded)
    middle = (n - 1) / 2
    best = None
    for i in range(n):
        for j in range(i + min_separation, n):
            if i <= middle <= j and np.linalg.norm(folded[i] - folded[j]) < cutoff:
                key = (j - i, abs((i + j) / 2 - middle), i)
                best = min(best or key, key)
    if best is None:
        return 0, n - 1
    separation, _, i = best
    return i, i + separation


def protein_variables(folded, tica_mean, tica_eigenvectors, pairs) -> list[Variable]:
    """RMSD to the folded structure, Rg, the distance across the turn (left out where the
    folded structure has no contact across the chain's middle but its ends), the end-to-end
    distance and TIC 1."""
    n = len(folded)
    i, j = turn_pair(folded)
    turn = [] if (i, j) == (0, n - 1) else [
        distance(i, j, "turn", f"Cα {i + 1}–{j + 1} distance across the turn (Å)")]
    return [
        rmsd_to(folded),
        radius_of_gyration(),
        *turn,
        distance(0, n - 1, "end_to_end", "end-to-end Cα distance (Å)"),
        tica_component(tica_mean, np.asarray(tica_eigenvectors)[:, 0], pairs),
    ]


def generalized(grad: np.ndarray) -> np.ndarray:
    """G = ∇ξ / |∇ξ|² of every frame."""
    norm2 = (grad**2).sum(axis=(1, 2))
    return grad / norm2[:, None, None]


def divergence(variable: Variable, pos: np.ndarray, step: float = DIVERGENCE_STEP) -> np.ndarray:
    """∇·G of every frame by central differences of the analytic gradient."""
    total = np.zeros(len(pos))
    for bead in range(pos.shape[1]):
        for axis in range(3):
            shifted = []
            for sign in (1.0, -1.0):
                moved = pos.copy()
                moved[:, bead, axis] += sign * step
                shifted.append(generalized(variable.evaluate(moved)[1])[:, bead, axis])
            total += (shifted[0] - shifted[1]) / (2.0 * step)
    return total


def projections(variable: Variable, pos, forces: dict, temperature_K: float) -> tuple:
    """(ξ, {source: F·G + kT ∇·G}) of every frame; `forces` maps a source name to its
    (frames, beads, 3) forces in kcal/mol/Å, `pos` in Å. Computed a block of frames at a time."""
    kT = kT_kcal(temperature_K)
    xi, out = [], {name: [] for name in forces}
    for start in range(0, len(pos), BLOCK_FRAMES):
        block = np.asarray(pos[start : start + BLOCK_FRAMES], dtype=np.float64)
        values, grad = variable.evaluate(block)
        g = generalized(grad)
        jacobian = kT * divergence(variable, block)
        xi.append(values)
        for name, f in forces.items():
            f = np.asarray(f[start : start + BLOCK_FRAMES], dtype=np.float64)
            out[name].append((f * g).sum(axis=(1, 2)) + jacobian)
    return np.concatenate(xi), {name: np.concatenate(v) for name, v in out.items()}


def bin_edges(values, n_bins: int, tail: float = 0.005) -> np.ndarray:
    """`n_bins` equal bins over the central 1 − 2·tail of the values."""
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return np.linspace(low, high, n_bins + 1)


def unit_sums(xi, projected, unit, n_units: int, edges) -> tuple[np.ndarray, np.ndarray]:
    """(counts, sums of `projected`), each (units, bins): frames outside the edges left out."""
    n_bins = len(edges) - 1
    which = np.digitize(xi, edges) - 1
    inside = (which >= 0) & (which < n_bins)
    flat = np.asarray(unit)[inside] * n_bins + which[inside]
    counts = np.bincount(flat, minlength=n_units * n_bins).reshape(n_units, n_bins)
    sums = np.bincount(flat, weights=np.asarray(projected)[inside],
                       minlength=n_units * n_bins).reshape(n_units, n_bins)  # fmt: skip
    return counts.astype(np.float64), sums


def binned_means(counts, sums, multiplicity, min_frames: int) -> np.ndarray:
    """Per-bin mean over the units weighted by `multiplicity` (resamples, units) or (units,);
    NaN where fewer than `min_frames` frames."""
    n = np.asarray(multiplicity, dtype=np.float64) @ counts
    s = np.asarray(multiplicity, dtype=np.float64) @ sums
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= min_frames, s / n, np.nan)


def interval(samples: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Per-column percentile interval of resampled rows; NaN where more than 5 % of a
    column's resamples are undefined."""
    import warnings

    tail = 100.0 * (1.0 - level) / 2.0
    enough = np.isfinite(samples).mean(axis=0) >= 1.0 - MAX_UNDEFINED_RESAMPLES
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        low = np.nanpercentile(samples, tail, axis=0)
        high = np.nanpercentile(samples, 100.0 - tail, axis=0)
    return np.where(enough, low, np.nan), np.where(enough, high, np.nan)


def integrate(mean_force: np.ndarray, edges) -> np.ndarray:
    """PMF A(ξ) = −∫ f dξ at the bin centres (trapezoid rule) over the longest run of defined
    bins, its minimum at 0; NaN elsewhere. Rows are integrated independently."""
    f = np.atleast_2d(mean_force)
    centres_step = np.diff(0.5 * (edges[1:] + edges[:-1]))
    out = np.full(f.shape, np.nan)
    start, stop = longest_run(np.isfinite(f[0]))
    if stop - start < 2:
        return out[0] if np.ndim(mean_force) == 1 else out
    seg = f[:, start:stop]
    steps = -0.5 * (seg[:, 1:] + seg[:, :-1]) * centres_step[start : stop - 1]
    a = np.concatenate([np.zeros((len(f), 1)), np.cumsum(steps, axis=1)], axis=1)
    out[:, start:stop] = a - np.nanmin(a, axis=1, keepdims=True)
    return out[0] if np.ndim(mean_force) == 1 else out


def longest_run(mask) -> tuple[int, int]:
    """(start, stop) of the longest run of True (0, 0 when none)."""
    best, start = (0, 0), None
    for k, ok in enumerate([*mask, False]):
        if ok and start is None:
            start = k
        elif not ok and start is not None:
            if k - start > best[1] - best[0]:
                best = (start, k)
            start = None
    return best


def population_pmf(xi, edges, temperature_K: float, weights=None) -> np.ndarray:
    """−kT ln p(ξ) at the bin centres, minimum 0; NaN in empty bins."""
    counts, _ = np.histogram(xi, bins=edges, weights=weights)
    with np.errstate(divide="ignore"):
        a = -kT_kcal(temperature_K) * np.log(counts / counts.sum())
    a[~np.isfinite(a)] = np.nan
    return a - np.nanmin(a) if np.isfinite(a).any() else a


@dataclass
class Frames:
    """All-atom frames with the forces of every source on them, and their bootstrap units."""

    pos: np.ndarray  # (frames, beads, 3) Å
    forces: dict  # source → (frames, beads, 3) kcal/mol/Å; "mapped" is the all-atom one
    unit: np.ndarray  # (frames,) replica position 0…
    n_units: int
    temperature_K: float


def split_multiplicities(rng, n_resamples: int, units, n_units: int) -> tuple:
    """(point multiplicity, resampled multiplicities) of the replicas `units` alone."""
    from .bootstrap import multiplicities

    units = np.asarray(units, dtype=np.int64)
    point = np.zeros(n_units)
    point[units] = 1.0
    draws = np.zeros((n_resamples, n_units))
    draws[:, units] = multiplicities(rng, n_resamples, len(units))
    return point, draws


def deviation(f_source, f_mapped, counts) -> np.ndarray:
    """Frame-weighted RMS of (source − mapped) over the bins where both are defined, per row."""
    f_source, f_mapped, counts = (np.atleast_2d(x) for x in (f_source, f_mapped, counts))
    both = np.isfinite(f_source) & np.isfinite(f_mapped)
    w = np.where(both, counts, 0.0)
    sq = np.where(both, (f_source - f_mapped) ** 2, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt((w * sq).sum(axis=1) / w.sum(axis=1))


def variable_tables(variable: Variable, frames: Frames, splits: dict, cg_pos, settings: dict,
                    seed: int) -> tuple[list, list, dict]:  # fmt: skip
    """(mean-force rows, PMF rows, deviations) of one variable."""
    xi, projected = projections(variable, frames.pos, frames.forces, frames.temperature_K)
    edges = bin_edges(xi, settings["bins"])
    centres = 0.5 * (edges[1:] + edges[:-1])
    sums = {s: unit_sums(xi, p, frames.unit, frames.n_units, edges) for s, p in projected.items()}
    force_rows, summary, mapped_all = [], {}, None
    for index, (split, units) in enumerate(splits.items()):
        rng = np.random.default_rng([seed, index])
        point_m, draws = split_multiplicities(rng, settings["resamples"], units, frames.n_units)
        counts = point_m @ sums["mapped"][0]
        means = {s: (binned_means(*sums[s], point_m, settings["min_frames"]),
                     binned_means(*sums[s], draws, settings["min_frames"])) for s in sums}  # fmt: skip
        for source, (point, samples) in means.items():
            low, high = interval(samples)
            force_rows += [{"variable": variable.name, "split": split, "source": source,
                            "bin_centre": c, "n_frames": int(n), "mean_force": f,
                            "ci_low": lo, "ci_high": hi}
                           for c, n, f, lo, hi in zip(centres, counts, point, low, high, strict=True)]  # fmt: skip
            if source == "mapped":
                continue
            key = f"{variable.name}_{split}_{source}_rms_kcal_per_unit"
            resampled = deviation(samples, means["mapped"][1], draws @ sums["mapped"][0])
            summary[key] = float(deviation(point, means["mapped"][0], counts)[0])
            summary[f"{key}_ci_low"], summary[f"{key}_ci_high"] = (
                float(v[0]) for v in interval(resampled[:, None]))
        if split == "all":
            mapped_all = means["mapped"]
    pmf_rows = pmf_table(variable, xi, edges, mapped_all, cg_pos, frames.temperature_K)
    return force_rows, pmf_rows, summary


def pmf_table(variable: Variable, xi, edges, mapped, cg_pos, temperature_K: float) -> list:
    """The thermodynamic-integration PMF of the mapped mean force (with its interval), the
    all-atom population PMF and the CG run's, at the bin centres."""
    point, samples = mapped
    ti = integrate(point, edges)
    low, high = interval(integrate(samples, edges))
    aa = population_pmf(xi, edges, temperature_K)
    cg = (population_pmf(variable.evaluate(np.asarray(cg_pos, np.float64))[0], edges,
                         temperature_K) if cg_pos is not None and len(cg_pos)
          else np.full(len(edges) - 1, np.nan))  # fmt: skip
    centres = 0.5 * (edges[1:] + edges[:-1])
    return [{"variable": variable.name, "label": variable.label, "bin_centre": c,
             "pmf_ti_kcal": a, "pmf_ti_ci_low": lo, "pmf_ti_ci_high": hi,
             "pmf_aa_population_kcal": p, "pmf_cg_kcal": q}
            for c, a, lo, hi, p, q in zip(centres, ti, low, high, aa, cg, strict=True)]  # fmt: skip


def diagnose(variables, frames: Frames, splits: dict, cg_pos, settings: dict, seed: int):
    """(mean-force table, PMF table, deviations) of every variable (`settings`: bins,
    min_frames, resamples)."""
    import pandas as pd

    force_rows, pmf_rows, summary = [], [], {}
    for variable in variables:
        f, p, s = variable_tables(variable, frames, splits, cg_pos, settings, seed)
        force_rows += f
        pmf_rows += p
        summary.update(s)
    return pd.DataFrame(force_rows), pd.DataFrame(pmf_rows), summary
