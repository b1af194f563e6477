"""Boltzmann inversion of bead statistics into the prior's parameters (torchmd conventions).

- Bonds: V = k (r − r0)², no ½, per ordered bead-type pair.
- Repulsion: V = B_ij / r⁶ with B_ij = 4 √(ε_i ε_j) σ⁶ and σ = 1 Å, one ε per bead type.
- Dihedrals: V = Σₙ kₙ (1 + cos(nφ − δₙ)), one shared term for all quadruples (the paper's),
  or with `prior.dihedral_types: per_quadruple` one per bead-type quadruple, the shared one
  kept as torchmd's (X, X, X, X) fallback for quadruples too sparse to fit. The network sees
  only distances, so it cannot tell a structure from its mirror image: the sign of each
  dihedral, i.e. the handedness of turns and strands, comes from this term alone.
- Angles (optional): V = k0 (θ − θ0)² in radians, one shared term for all triplets.

Each histogram becomes a free energy F = −kB T ln p with p the density per
unit volume (distances: divided by the spherical shell 4πr² dr, so a free
particle gives a flat F), per unit solid angle (bend angles: divided by sin θ dθ,
so a freely jointed chain gives a flat F) or per radian (dihedrals). Fits carry a free offset
and weight each bin by its count: the variance of −kB T ln p̂ is about
(kB T)² / count, so sparse bins at high F count little.
"""

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import curve_fit

from ..errors import CgthermoError
from ..units import kT_kcal
from .statistics import Histograms

log = logging.getLogger(__name__)

SIGMA = 1.0  # Å, RepulsionCG's σ (only ε is fitted)
MIN_BINS = 4  # populated bins a fit with an offset needs to be meaningful
RIDGE = 0.1  # pull of each type's ln ε towards the pooled value, relative to one well-sampled pair


@dataclass
class FreeEnergy:
    """Histogram free energy on the populated bins."""

    x: np.ndarray
    value: np.ndarray  # kcal/mol, arbitrary offset
    weight: np.ndarray  # 1/σ² of each value
    samples: int


@dataclass
class Fit:
    """One fitted term with its data, for the YAML and the plot."""

    label: str
    params: dict
    offset: float
    data: FreeEnergy
    source: str = "fit"  # "fit", or "pooled" where the pair was too sparse


def shell_free_energy(counts, edges, kT: float) -> FreeEnergy:
    """−kT ln of the distance density per unit volume (r² shell correction)."""
    counts = np.asarray(counts, dtype=np.float64)
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    return _free_energy(counts, 0.5 * (edges[1:] + edges[:-1]), shell, kT)


def angular_free_energy(counts, edges, kT: float) -> FreeEnergy:
    """−kT ln of the dihedral density per radian (no Jacobian for a torsion)."""
    counts = np.asarray(counts, dtype=np.float64)
    return _free_energy(counts, 0.5 * (edges[1:] + edges[:-1]), np.diff(edges), kT)


def bend_free_energy(counts, edges, kT: float) -> FreeEnergy:
    """−kT ln of the bend-angle density per unit solid angle (sin θ dθ = −d cos θ)."""
    counts = np.asarray(counts, dtype=np.float64)
    solid = np.cos(edges[:-1]) - np.cos(edges[1:])
    return _free_energy(counts, 0.5 * (edges[1:] + edges[:-1]), solid, kT)


def _free_energy(counts, centers, volume, kT) -> FreeEnergy:
    seen = counts > 0
    density = counts[seen] / (counts.sum() * volume[seen])
    return FreeEnergy(
        x=centers[seen],
        value=-kT * np.log(density),
        weight=counts[seen] / kT**2,
        samples=int(counts.sum()),
    )


def harmonic(r, k, r0, offset):
    return k * (r - r0) ** 2 + offset


def fit_harmonic(fe: FreeEnergy) -> tuple[dict, float] | None:
    """k and r0 of V = k (r − r0)² (+ free offset) by weighted least squares; None without a well."""
    if len(fe.x) < MIN_BINS:
        return None
    a, b, c = np.polyfit(fe.x, fe.value, 2, w=np.sqrt(fe.weight))
    guess = (
        (a, -b / (2 * a), c - b**2 / (4 * a))
        if a > 0
        else (50.0, np.average(fe.x, weights=fe.weight), 0.0)
    )
    try:
        (k, r0, offset), _ = curve_fit(
            harmonic, fe.x, fe.value, p0=guess, sigma=1 / np.sqrt(fe.weight), maxfev=10_000
        )
    except RuntimeError:
        return None
    if not (k > 0 and fe.x[0] <= r0 <= fe.x[-1]):
        return None  # no well inside the histogram range
    return {"k0": float(k), "req": float(r0)}, float(offset)


def fit_inverse_sixth(fe: FreeEnergy) -> tuple[float, float] | None:
    """B and offset of F = B / r⁶ + offset (linear least squares); None if B is not positive."""
    if len(fe.x) < MIN_BINS:
        return None
    design = np.stack([fe.x**-6.0, np.ones_like(fe.x)], axis=1)
    w = np.sqrt(fe.weight)[:, None]
    (b, offset), *_ = np.linalg.lstsq(design * w, fe.value * w[:, 0], rcond=None)
    return (float(b), float(offset)) if b > 0 else None


def fourier_is_determined(fe: FreeEnergy, multiplicities) -> bool:
    """Enough populated bins for a cosine and a sine per multiplicity plus the offset."""
    return len(fe.x) >= 2 * len(multiplicities) + 1


def fit_fourier(fe: FreeEnergy, multiplicities) -> tuple[list[dict], float]:
    """Terms k_n (1 + cos(nφ − δ_n)) of a Fourier series fitted by weighted linear least squares.

    k_n (1 + cos(nφ − δ)) = k_n + a_n cos nφ + b_n sin nφ with a_n = k_n cos δ, b_n = k_n sin δ,
    so k_n = √(a_n² + b_n²) ≥ 0 and δ = atan2(b_n, a_n).
    """
    ns = [int(n) for n in multiplicities]
    if not fourier_is_determined(fe, ns):
        raise CgthermoError(
            f"dihedral histogram has only {len(fe.x)} populated bins for {len(ns)} Fourier terms",
            "give more frames or fewer prior.dihedral_terms",
        )
    columns = [np.ones_like(fe.x)]
    for n in ns:
        columns += [np.cos(n * fe.x), np.sin(n * fe.x)]
    design = np.stack(columns, axis=1)
    w = np.sqrt(fe.weight)[:, None]
    coef, *_ = np.linalg.lstsq(design * w, fe.value * w[:, 0], rcond=None)
    terms = []
    for i, n in enumerate(ns):
        a, b = coef[1 + 2 * i], coef[2 + 2 * i]
        terms.append(
            {"phi_k": float(np.hypot(a, b)), "phase": float(np.degrees(np.arctan2(b, a))), "per": n}
        )
    offset = float(coef[0] - sum(t["phi_k"] for t in terms))
    return terms, offset


def fourier(phi, terms) -> np.ndarray:
    """The torchmd dihedral energy of `terms` (phase in degrees)."""
    phi = np.asarray(phi, dtype=np.float64)
    return sum(t["phi_k"] * (1 + np.cos(t["per"] * phi - np.radians(t["phase"]))) for t in terms)


def per_type_epsilon(pair_b: dict, types, pooled_epsilon: float) -> dict:
    """ε per type from pair coefficients B_ij = 4 √(ε_i ε_j) σ⁶ (σ = 1).

    ln(B_ij / 4) = ½ ln ε_i + ½ ln ε_j is linear in ln ε: a weighted least-squares
    fit over the well-sampled pairs, with a weak pull of every type towards the
    pooled ε so that types seen only in too few pairs stay determined.
    """
    types = sorted(types)
    column = {t: i for i, t in enumerate(types)}
    rows, rhs, weights = [], [], []
    for (a, b), coef in pair_b.items():  # every pair here passed min_pair_samples: equal weight
        row = np.zeros(len(types))
        row[column[a]] += 0.5
        row[column[b]] += 0.5
        rows.append(row)
        rhs.append(np.log(coef / (4 * SIGMA**6)))
        weights.append(1.0)
    for t in types:
        row = np.zeros(len(types))
        row[column[t]] = 1.0
        rows.append(row)
        rhs.append(np.log(pooled_epsilon))
        weights.append(RIDGE)
    w = np.sqrt(np.array(weights))[:, None]
    log_eps, *_ = np.linalg.lstsq(np.array(rows) * w, np.array(rhs) * w[:, 0], rcond=None)
    return {t: float(np.exp(log_eps[column[t]])) for t in types}


@dataclass
class Prior:
    """Fitted prior parameters and the fits behind them."""

    temperature: float
    atomtypes: list[str]
    bonds: dict  # (A, B) → Fit
    pooled_bond: Fit
    epsilon: dict  # type → ε
    repulsion: dict  # (A, B) → Fit (pair B_ij fits that informed ε)
    pooled_repulsion: Fit
    dihedral: Fit
    frames: int = 0
    dihedral_types: dict = field(default_factory=dict)  # quadruple → Fit; empty: shared only
    angle: Fit | None = None  # k0 kcal/mol/rad², theta0 rad; None: no angle term
    notes: list = field(default_factory=list)
    exclusions: tuple = ("bonds",)  # the chain neighbours the repulsion leaves out (torchmd's)


def fit_prior(hist: Histograms, settings: dict) -> Prior:
    """Fit every prior term from accumulated histograms at their frame-weighted temperature."""
    if hist.frames == 0:
        raise CgthermoError("no frames to fit the prior on", "check the cg_map dataset")
    kT = kT_kcal(hist.temperature)
    bonds, pooled_bond = fit_bonds(hist, kT, settings["min_pair_samples"])
    epsilon, repulsion, pooled_rep = fit_repulsion(
        hist, kT, settings["min_pair_samples"], settings["repulsion_fallback_epsilon"]
    )
    dihedral = fit_dihedral(hist, kT, settings["dihedral_terms"])
    dihedral_types = {}
    if settings.get("dihedral_types", "shared") == "per_quadruple":
        dihedral_types = fit_dihedral_types(
            hist, kT, settings["dihedral_terms"], settings["min_pair_samples"]
        )
    angle = None
    if settings.get("angles"):
        bend_repulsion = None
        if settings.get("angle_fit", "boltzmann") == "residual":
            bend_repulsion = (mean_repulsion_b(epsilon), pooled_bond.params["req"])
        angle = fit_angle(hist, kT, bend_repulsion)
    atomtypes = sorted({t for pair in hist.bonds for t in pair})
    return Prior(
        hist.temperature,
        atomtypes,
        bonds,
        pooled_bond,
        epsilon,
        repulsion,
        pooled_rep,
        dihedral,
        hist.frames,
        angle=angle,
        dihedral_types=dihedral_types,
        exclusions=repulsion_exclusions(settings),
    )


def repulsion_exclusions(settings: dict) -> tuple:
    """torchmd's exclusions of the repulsion under `prior.repulsion_excludes`; leaving the
    1-3 pairs out needs the angle term that then alone shapes the bend."""
    from .statistics import EXCLUDED

    excludes = settings.get("repulsion_excludes", "bonds")
    if excludes == "angles" and not settings.get("angles"):
        raise CgthermoError("prior.repulsion_excludes is angles but prior.angles is false",
                            "set prior.angles: true, or repulsion_excludes: bonds")  # fmt: skip
    return EXCLUDED[excludes][0]


def fit_bonds(hist: Histograms, kT: float, min_samples: int) -> tuple[dict, Fit]:
    pooled_counts = sum(hist.bonds.values())
    pooled_fe = shell_free_energy(pooled_counts, hist.bond_edges, kT)
    result = fit_harmonic(pooled_fe)
    if result is None:
        raise CgthermoError(
            f"the {pooled_fe.samples} Cα–Cα bond lengths in {hist.bond_edges[0]}–{hist.bond_edges[-1]} Å "
            "show no harmonic well",
            "check prior.bond_range against the data (bonds are about 3.8 Å) or give more frames",
        )
    params, offset = result
    pooled = Fit("bond (all pairs)", params, offset, pooled_fe)
    log.info(
        "pooled bond: k0 %.2f kcal/mol/Å², req %.3f Å (%d samples)",
        params["k0"],
        params["req"],
        pooled_fe.samples,
    )
    fits = {}
    for pair, counts in sorted(hist.bonds.items()):
        fe = shell_free_energy(counts, hist.bond_edges, kT)
        label = f"bond {pair[0]}-{pair[1]}"
        result = fit_harmonic(fe) if fe.samples >= min_samples else None
        if result is not None:
            fits[pair] = Fit(label, result[0], result[1], fe)
        else:
            # the pooled curve drawn over this pair's data: its own offset by weighted mean
            off = _offset(fe, harmonic(fe.x, pooled.params["k0"], pooled.params["req"], 0.0))
            fits[pair] = Fit(label, dict(pooled.params), off, fe, source="pooled")
    sparse = [f"{a}-{b}" for (a, b), fit in fits.items() if fit.source == "pooled"]
    log.info(
        "bonds: %d of %d type pairs fitted; pooled fit for %s (below %d samples or no well)",
        len(fits) - len(sparse),
        len(fits),
        sparse or "none",
        min_samples,
    )
    return fits, pooled


def _offset(fe: FreeEnergy, model) -> float:
    if not len(fe.x):
        return 0.0
    return float(np.average(fe.value - model, weights=fe.weight))


def fit_repulsion(hist: Histograms, kT: float, min_samples: int, fallback_epsilon: float):
    """ε per type: pair coefficients B_ij from each well-sampled type pair, then `per_type_epsilon`.

    Short or little-sampled chains may show no repulsive wall below the cutoff
    (their few close pairs are 1-3 neighbours near its edge); the pooled ε is then
    `fallback_epsilon` rather than a fit to noise.
    """
    types = {t for pair in hist.bonds for t in pair}
    if not hist.repulsion:
        raise CgthermoError(
            "no non-bonded bead pairs to fit the repulsion on",
            "use proteins of at least 3 residues",
        )
    pooled_fe = shell_free_energy(sum(hist.repulsion.values()), hist.repulsion_edges, kT)
    pooled_fit = fit_inverse_sixth(pooled_fe)
    if pooled_fit is None:
        b = 4 * fallback_epsilon * SIGMA**6
        pooled_fit = (b, _offset(pooled_fe, b * pooled_fe.x**-6.0))
        log.warning(
            "repulsion: the %d non-bonded distances below %.1f Å show no repulsive wall; "
            "pooled ε = prior.repulsion_fallback_epsilon = %.1f",
            pooled_fe.samples,
            hist.repulsion_cutoff,
            fallback_epsilon,
        )
    pooled = Fit("repulsion (all pairs)", {"B": pooled_fit[0]}, pooled_fit[1], pooled_fe)
    pooled_epsilon = pooled_fit[0] / (4 * SIGMA**6)
    pair_b, fits = {}, {}
    for pair, counts in sorted(hist.repulsion.items()):
        fe = shell_free_energy(counts, hist.repulsion_edges, kT)
        result = fit_inverse_sixth(fe) if fe.samples >= min_samples else None
        if result is not None:
            pair_b[pair] = result[0]
        fits[pair] = fe
    epsilon = per_type_epsilon(pair_b, types, pooled_epsilon)
    curves = {}
    for pair, fe in fits.items():
        b = 4 * np.sqrt(epsilon[pair[0]] * epsilon[pair[1]]) * SIGMA**6
        curves[pair] = Fit(
            f"repulsion {pair[0]}-{pair[1]}",
            {"B": float(b)},
            _offset(fe, b * fe.x**-6.0),
            fe,
            source="fit" if pair in pair_b else "pooled",
        )
    log.info(
        "repulsion: pooled ε %.1f; %d of %d type pairs fitted; ε per type %s",
        pooled_epsilon,
        len(pair_b),
        len(fits),
        {t: round(e, 1) for t, e in epsilon.items()},
    )
    return epsilon, curves, pooled


def fit_dihedral(hist: Histograms, kT: float, multiplicities) -> Fit:
    if hist.dihedrals is None or hist.dihedrals.sum() == 0:
        raise CgthermoError("no Cα dihedrals to fit", "use proteins of at least 4 residues")
    fe = angular_free_energy(hist.dihedrals, hist.dihedral_edges, kT)
    terms, offset = fit_fourier(fe, multiplicities)
    log.info("dihedral (X, X, X, X): %s", terms)
    return Fit("dihedral (X, X, X, X)", {"terms": terms}, offset, fe)


def fit_dihedral_types(hist: Histograms, kT: float, multiplicities, min_samples: int) -> dict:
    """One Fourier dihedral per bead-type quadruple with at least `min_samples` dihedrals;
    sparser quadruples get no entry, so torchmd falls back to the shared (X, X, X, X) term."""
    fits, sparse = {}, []
    for key, counts in sorted(hist.dihedral_types.items()):
        fe = angular_free_energy(counts, hist.dihedral_edges, kT)
        label = "dihedral (" + ", ".join(key) + ")"
        if fe.samples < min_samples or not fourier_is_determined(fe, multiplicities):
            sparse.append(label)
            continue
        terms, offset = fit_fourier(fe, multiplicities)
        fits[key] = Fit(label, {"terms": terms}, offset, fe)
    log.info("dihedrals: %d of %d bead-type quadruples fitted; shared fit for %s",
             len(fits), len(hist.dihedral_types), sparse or "none")  # fmt: skip
    return fits


def mean_repulsion_b(epsilon: dict) -> float:
    """B = 4 ε σ⁶ of the repulsion between two beads of the mean fitted ε."""
    return float(4.0 * np.mean(list(epsilon.values())) * SIGMA**6)


def across_the_bend(theta, b: float, bond: float) -> np.ndarray:
    """The repulsion between a bend's two outer beads, B / d₁₃⁶, at bond length `bond`:
    d₁₃ = 2 b sin(θ/2)."""
    return b * (2.0 * bond * np.sin(np.asarray(theta) / 2.0)) ** -6.0


def fit_angle(hist: Histograms, kT: float, bend_repulsion: tuple | None = None) -> Fit:
    """One harmonic bend-angle term for all triplets (θ in radians). With `bend_repulsion`
    (B, bond length) it is fitted to what the repulsion between the bend's outer beads
    leaves of the bend free energy, so the two terms together give the bend statistics
    once (prior.angle_fit: residual); without it, to the whole bend free energy."""
    if hist.angles is None or hist.angles.sum() == 0:
        raise CgthermoError("no Cα bend angles to fit", "use proteins of at least 3 residues")
    fe = bend_free_energy(hist.angles, hist.angle_edges, kT)
    if bend_repulsion is not None:
        fe = FreeEnergy(fe.x, fe.value - across_the_bend(fe.x, *bend_repulsion), fe.weight,
                        fe.samples)  # fmt: skip
    result = fit_harmonic(fe)
    if result is None and bend_repulsion is not None:
        raise CgthermoError(
            f"the {fe.samples} Cα bend angles less the repulsion across the bend show no "
            "harmonic well: the repulsion alone counts more than the bend statistics hold",
            "use prior.angle_fit: boltzmann")
    if result is None:
        raise CgthermoError(
            f"the {fe.samples} Cα bend angles show no harmonic well",
            "set prior.angles: false or give more frames",
        )
    (params, offset) = result
    params = {"k0": params["k0"], "theta0": params["req"]}
    log.info("angle (X, X, X): k0 %.3f kcal/mol/rad², theta0 %.1f°", params["k0"],
             np.degrees(params["theta0"]))  # fmt: skip
    return Fit("angle (X, X, X)", params, offset, fe)
