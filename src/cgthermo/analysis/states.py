"""Metastable states: PCCA+ macrostates of the all-atom MSM, and how a CG run populates them.

The states are the reference's: CG frames are assigned to the nearest reference microstate
centre in the reference TICA space and take its macrostate, so a model's state k is the
reference's state k and the two populations compare directly. Intervals resample whole
all-atom and CG replicas (the analysis's own resamples, so models pair up).
"""

import logging

import numpy as np

log = logging.getLogger("cgthermo.analysis")


def crisp_macrostates(msm, n_states: int, n_macrostates: int) -> np.ndarray:
    """Macrostate of every microstate (PCCA+ memberships, the largest one; −1 outside the
    MSM's largest connected set, or everywhere when PCCA+ cannot split it so)."""
    of_state = np.full(n_states, -1, dtype=np.int64)
    if len(msm.active_set) <= n_macrostates:
        log.warning("PCCA+: the MSM connects %d states, too few for %d macrostates",
                    len(msm.active_set), n_macrostates)  # fmt: skip
        return of_state
    try:
        msm.pcca(n_macrostates)
    except (ValueError, RuntimeError, np.linalg.LinAlgError) as err:
        log.warning("PCCA+ into %d macrostates failed (%s): no macrostates", n_macrostates, err)
        return of_state
    of_state[msm.active_set] = np.argmax(msm.metastable_memberships, axis=1)
    return of_state


MIN_MACROSTATE_POPULATION = 0.05  # the reference macrostates the factor-e check covers


def macrostate_metrics(ref: dict, cg_tics, ensemble, n_replicas_cg: int, m_ref, m_cg,
                       prefix: str = "") -> tuple[dict, dict]:  # fmt: skip
    """Population of every reference macrostate (PCCA+ of the reference's MSM) in
    the reference and in the CG run (frames assigned to the nearest microstate centre), the
    log ratio ln(p_cg / p_ref) with 95 % intervals, and how many macrostates holding at least
    5 % of the reference lie within a factor e (|ln ratio| ≤ 1) over their whole interval."""
    from . import bootstrap
    from .speedup import assign_states

    n_macro = int(np.max(ref["macrostate_of_state"])) + 1
    ref_pop = unit_populations(ref["frame_macrostate"], ref["frame_unit"], ref["weights"],
                               len(ref["unit_pair_sums"]), n_macro)  # fmt: skip
    micro = np.concatenate(assign_states([cg_tics], ref["cluster_centres"]))
    cg_unit = ensemble.frame_replica
    cg_pop = unit_populations(ref["macrostate_of_state"][micro], cg_unit, np.ones(len(micro)),
                              n_replicas_cg, n_macro)  # fmt: skip

    def shares(stats, m):
        hits, weight = stats
        with np.errstate(invalid="ignore", divide="ignore"):
            return (m @ hits) / (m @ weight)[..., None]

    p_ref = shares(ref_pop, np.ones(len(ref_pop[1])))
    p_cg = shares(cg_pop, np.ones(len(cg_pop[1])))
    r_ref, r_cg = shares(ref_pop, m_ref), shares(cg_pop, m_cg)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio, r_log = np.log(p_cg / p_ref), np.log(r_cg / r_ref)
    out, rows, within = {}, {}, 0
    for k in range(n_macro):
        for name, point, samples in (("population_aa", p_ref[k], r_ref[:, k]),
                                     ("population_cg", p_cg[k], r_cg[:, k]),
                                     ("log_ratio", log_ratio[k], r_log[:, k])):  # fmt: skip
            key = f"{prefix}macrostate{k}_{name}"
            samples = np.where(np.isfinite(samples), samples, np.nan)
            low, high, _ = bootstrap.percentile_interval(samples)
            out[key], out[f"{key}_ci_low"], out[f"{key}_ci_high"] = float(point), low, high
            rows[key] = samples
        low, high = (out[f"{prefix}macrostate{k}_log_ratio_ci_{end}"] for end in ("low", "high"))
        if p_ref[k] >= MIN_MACROSTATE_POPULATION:
            within += bool(np.isfinite(low) and -1.0 <= low and high <= 1.0)
    out[f"{prefix}macrostates"] = n_macro
    out[f"{prefix}macrostates_major"] = int((p_ref >= MIN_MACROSTATE_POPULATION).sum())
    out[f"{prefix}macrostates_within_e"] = within
    return out, rows


def unit_populations(frame_macrostate, frame_unit, weights, n_units: int,
                     n_macro: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(weight in each macrostate (units, macrostates), weight (units,)) per bootstrap unit;
    frames outside the connected set (macrostate −1) count in the weight only."""
    macro = np.asarray(frame_macrostate, dtype=np.int64)
    unit = np.asarray(frame_unit, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    inside = macro >= 0
    hits = np.bincount(unit[inside] * n_macro + macro[inside], weights=w[inside],
                       minlength=n_units * n_macro).reshape(n_units, n_macro)  # fmt: skip
    return hits, np.bincount(unit, weights=w, minlength=n_units)


