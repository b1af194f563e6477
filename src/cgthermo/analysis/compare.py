"""One CG model against the all-atom reference: metrics.json, fes.png, tica_1d.png, rmsd.png."""

import json
import logging
import math

import numpy as np

from ..config import schema_default
from ..errors import CgthermoError
from ..io import atomic_path
from . import (
    bootstrap,
    converged,
    convergence,
    emulation,
    features,
    fes,
    folding_kinetics,
    inputs,
    kinetics,
    metrics,
    plots,
    refit,
    speedup,
    states,
    structure,
)
from .reference import load_reference_npz

log = logging.getLogger("cgthermo.analysis")


def finite_or_none(value):
    """JSON has no NaN/inf: undefined numbers become null."""
    if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def project_cg(ref: dict, ensemble, topology) -> np.ndarray:
    """CG frames in the reference TICA space (the stored fit, no refit)."""
    tica = kinetics.TicaModel.from_arrays(ref)
    return np.concatenate([kinetics.project_piece(tica, p, ref["pairs"], topology)
                           for p in ensemble.pieces])  # fmt: skip


def surfaces(ref: dict, cg_tics) -> dict:
    """Probabilities and free energies of reference and model on the reference grid."""
    grid = fes.Grid(ref["x_edges"], ref["y_edges"])
    T = float(ref["temperature_K"])
    p_ref, out_ref = fes.probabilities_2d(ref["tics"], grid, ref["weights"])
    p_cg, out_cg = fes.probabilities_2d(cg_tics, grid)
    p1_ref, out1_ref = fes.probabilities_1d(ref["tics"][:, 0], grid.x_edges, ref["weights"])
    p1_cg, out1_cg = fes.probabilities_1d(cg_tics[:, 0], grid.x_edges)
    return {
        "grid": grid,
        "p_ref": p_ref, "out_ref": out_ref, "p_cg": p_cg, "out_cg": out_cg,
        "f_ref": fes.free_energy(p_ref, T), "f_cg": fes.free_energy(p_cg, T),
        "p1_ref": p1_ref, "out1_ref": out1_ref, "p1_cg": p1_cg, "out1_cg": out1_cg,
        "f1_ref": fes.free_energy(p1_ref, T), "f1_cg": fes.free_energy(p1_cg, T),
    }  # fmt: skip


def reference_floor(ref: dict) -> dict:
    """The split-half noise floor of the FES metrics (NaN for references built before it)."""
    keys = ("fes_mae_aa_split_kcal", "fes_mae_weighted_aa_split_kcal", "js_divergence_aa_split")
    return {key: float(ref[key]) if key in ref else float("nan") for key in keys}


def model_floor(ref: dict, cg_tics, ensemble, m_cg: np.ndarray | None = None,
                seed: int = 0) -> tuple[dict, dict]:
    """The model's own split-half numbers on the reference grid, and the resampled JS ones.
    Even vs odd CG replicas (`*_cg_split`): how far its FES metrics would move with another
    set of CG runs of the same length. Earlier vs later half of every replica (`*_cg_drift`):
    how far the runs still move away from their starts, i.e. whether they are long enough
    to describe the model's own equilibrium rather than where they began. The two JS
    divergences carry 95 % intervals (`convergence`)."""
    lengths = [len(p) for p in ensemble.pieces]
    frame_replica = np.repeat(ensemble.replicas, lengths)
    grid = fes.Grid(ref["x_edges"], ref["y_edges"])
    weights, T = np.ones(len(cg_tics)), float(ref["temperature_K"])
    earlier, later = metrics.time_halves(lengths)
    n_replicas = ensemble.n_units
    if m_cg is None:
        resamples = schema_default("analysis", "bootstrap_resamples")
        m_cg = bootstrap.multiplicities(np.random.default_rng(seed), resamples, n_replicas)
    js, resampled = convergence.convergence_metrics(cg_tics, frame_replica, earlier, n_replicas,
                                                   grid, m_cg, seed)
    return {
        **metrics.split_floor(cg_tics, frame_replica, weights, grid, T, "cg_split"),
        **metrics.halves_metrics(cg_tics, (earlier, later), weights, grid, T, "cg_drift"),
        **js,
    }, resampled


def reference_units(ref: dict, md_grid) -> bootstrap.UnitStats:
    """The all-atom replicas as bootstrap units; with MSM weights every resample estimates
    the MSM again (msm_units)."""
    if "frame_unit" not in ref:
        raise CgthermoError("the reference.npz predates the bootstrap intervals",
                            "rerun analysis_reference")
    folded = ref["rmsd"] < float(ref["folded_rmsd"])
    if str(ref["reweight"]) == "msm" and "dtraj" in ref:
        from .msm_units import msm_units

        return msm_units(ref, _grid(ref), md_grid, folded)
    return bootstrap.unit_stats(ref["frame_unit"], len(ref["unit_pair_sums"]), ref["tics"],
                                ref["weights"], _grid(ref), md_grid, ref["rmsd"], ref["q"],
                                ref["rg"], folded, ref["unit_pair_sums"])


def model_units(ref: dict, cg_tics, cg: dict, ensemble, n_replicas: int, topology,
                md_grid) -> bootstrap.UnitStats:
    """The CG replicas as bootstrap units (a replica without kept frames weighs nothing)."""
    lengths = [len(p) for p in ensemble.pieces]
    unit = np.repeat(ensemble.replicas, lengths)
    pair_sums = np.zeros((n_replicas, len(ref["pairs"])))
    for piece, replica in zip(ensemble.pieces, ensemble.replicas, strict=True):
        for _, distances in features.distance_blocks(piece, ref["pairs"], topology):
            pair_sums[replica] += distances.sum(axis=0)
    folded = cg["rmsd"] < float(ref["folded_rmsd"])
    return bootstrap.unit_stats(unit, n_replicas, cg_tics, np.ones(len(cg_tics)), _grid(ref),
                                md_grid, cg["rmsd"], cg["q"], cg["rg"], folded,
                                pair_sums)


def _grid(ref: dict) -> fes.Grid:
    return fes.Grid(ref["x_edges"], ref["y_edges"])


def msm_undefined(ref: dict, settings: dict) -> str:
    """Why MSM-weighted metrics mean nothing here ('' when they do)."""
    if str(ref["reweight"]) != "msm":
        return ""
    active, total = int(ref["msm_active_states"]), len(ref["state_pi"])
    if active < settings["min_connected_fraction"] * total:
        return (f"the all-atom MSM connects {active} of its {total} states, fewer than "
                f"analysis.min_connected_fraction = {settings['min_connected_fraction']} of "
                f"them, so its frame weights are not an equilibrium")
    return ""


def interval_units(ref_point: np.ndarray, n_cg: int) -> int:
    """The units an interval rests on: the fewer of the all-atom replicas resampled (those
    in the point value) and the CG replicas."""
    return int(min(np.count_nonzero(ref_point), n_cg))


def metrics_with_intervals(ref_units, cg_units, ref: dict, md_grid, settings: dict,
                           m_ref: np.ndarray, m_cg: np.ndarray,
                           ref_point: np.ndarray | None = None, refit=None,
                           cg_point: np.ndarray | None = None) -> tuple[dict, dict, np.ndarray]:  # fmt: skip
    """(values with *_ci_low/*_ci_high, reasons for the undefined, resampled rows) over the
    bootstrap multiplicities `m_ref`, `m_cg` (bootstrap.draw_resamples). `ref_point`: the
    multiplicity of each all-atom replica in the point value (default: every replica once),
    `cg_point` that of each CG replica. `refit`: a `refit.RefitSpace`, whose resamples each
    fit TICA and the grids again."""
    T = float(ref["temperature_K"])
    support = bootstrap.Support.from_settings(settings)
    if ref_point is None:
        ref_point = np.ones(ref_units.n_units)
    if cg_point is None:
        cg_point = np.ones(cg_units.n_units)
    values, why = bootstrap.evaluate(ref_units.totals(ref_point), cg_units.totals(cg_point), T,
                                     md_grid, support)
    msm = msm_undefined(ref, settings)
    if msm:
        for name in bootstrap.METRICS:
            if name not in bootstrap.MODEL_ONLY:
                why.setdefault(name, msm)
    if refit is not None:
        rows = refit.rows(m_ref, m_cg, T, support)
    else:
        rows = bootstrap.resampled_rows(ref_units, cg_units, T, md_grid, support, m_ref, m_cg)
    if msm:
        rows[:, [i for i, name in enumerate(bootstrap.METRICS)
                 if name not in bootstrap.MODEL_ONLY]] = np.nan
    point = dict(zip(bootstrap.METRICS, bootstrap.as_row(values, why), strict=True))
    method = settings.get("interval", "percentile")
    units = interval_units(ref_point, int(np.count_nonzero(cg_point)))
    result = {}
    for index, name in enumerate(bootstrap.METRICS):
        result[name] = point[name]
        if name not in bootstrap.INTERVAL_METRICS:
            continue
        low, high, defined = bootstrap.interval(rows[:, index], units, method)
        if not np.isfinite(point[name]):
            low = high = float("nan")
        elif not np.isfinite(low):
            why.setdefault(f"{name}_ci", f"undefined in {100 * (1 - defined):.0f} % of the "
                                         f"resamples")
        result[f"{name}_ci_low"], result[f"{name}_ci_high"] = low, high
    reasons = dict(why)
    if "*" in reasons:
        reasons = {name: reasons["*"] for name in bootstrap.METRICS}
    return result, reasons, rows


def network_multiplicities(seed: int, resamples: int, group: range, n_units: int) -> np.ndarray:
    """Resamples of one network's CG replicas only (zero elsewhere), drawn alike for every
    model of a protein, so a network model's share pairs with the baseline's same replicas."""
    m = np.zeros((resamples, n_units))
    rng = np.random.default_rng([int(seed), group.start, group.stop])
    m[:, group.start:group.stop] = bootstrap.multiplicities(rng, resamples, len(group))
    return m


def network_metrics(ref_units, cg_units, ref: dict, md_grid, settings: dict, m_ref,
                    seed: int, networks: int, space=None) -> tuple[dict, dict]:  # fmt: skip
    """The verdict metrics on each network's share of the CG replicas (`train.networks` > 1):
    values and resampled columns prefixed `network{j}_`. Every model gets them, the baseline
    included, so each network's share has its paired verdict."""
    from ..config import network_groups

    values, columns = {}, {}
    if networks < 2:
        return values, columns
    index = [bootstrap.METRICS.index(name) for name in bootstrap.HEADLINE]
    for j, group in enumerate(network_groups(cg_units.n_units, networks)):
        share = np.zeros(cg_units.n_units)
        share[group.start:group.stop] = 1
        m_cg = network_multiplicities(seed, len(m_ref), group, cg_units.n_units)
        found, _, rows = metrics_with_intervals(ref_units, cg_units, ref, md_grid, settings,
                                                m_ref, m_cg, refit=space, cg_point=share)  # fmt: skip
        prefix = bootstrap.NETWORK_PREFIX.format(j)
        for name, k in zip(bootstrap.HEADLINE, index, strict=True):
            values.update({f"{prefix}{name}{end}": found[f"{name}{end}"]
                           for end in ("", "_ci_low", "_ci_high")})  # fmt: skip
            columns[f"{prefix}{name}"] = rows[:, k]
    values["networks"] = networks
    return values, columns


def converged_folding(ref: dict, cg_rmsd, ensemble, n_replicas_cg: int, m_ref, m_cg,
                      sampler: str) -> tuple[dict, dict, dict]:  # fmt: skip
    """The folding kinetics (folding_kinetics) of the CG run against the converged
    reference's replicas, whose kept frames lie `converged_stride` frames apart."""
    if sampler != "langevin":
        return folding_kinetics.undefined(speedup.NO_DYNAMICS)
    unit = np.asarray(ref["frame_unit"])
    bounds = np.flatnonzero(np.diff(unit)) + 1
    spacing_fs = float(ref["frame_fs"]) * int(ref.get("converged_stride", 1))
    cg_bounds = np.cumsum([len(p) for p in ensemble.pieces])[:-1]
    return folding_kinetics.folding_acceleration(
        np.split(np.asarray(ref["rmsd"]), bounds), [int(u[0]) for u in np.split(unit, bounds)],
        len(ref["unit_pair_sums"]), spacing_fs, np.split(cg_rmsd, cg_bounds), ensemble.replicas,
        n_replicas_cg, ensemble.frame_fs, float(ref["folded_rmsd"]), m_ref, m_cg)


def converged_metrics(ref: dict, ensemble, topology, n_replicas_cg: int, settings: dict,
                      m_cg: np.ndarray, seed: int, sampler: str = "langevin",
                      networks: int = 1) -> tuple[dict, dict, dict]:  # fmt: skip
    """(values, reasons, resampled columns) of the CG ensemble against a converged reference
    artifact (analysis.converged), every key prefixed `converged_`; the CG side is resampled
    by `m_cg`, the run's own CG resamples, so models pair up. With several networks each
    network's share is scored against it too (`converged_network{j}_`). With Langevin
    dynamics the folding kinetics come as well, against the reference's own."""
    prefix = converged.PREFIX
    cg_tics = project_cg(ref, ensemble, topology)
    md_grid = emulation.grid_for_reference(ref["tics"], ref["weights"])
    cg = structure.frame_observables(ensemble.pieces, ref["reference_structure"],
                                     ref["contact_pairs"], float(ref["native_cutoff"]),
                                     topology)  # fmt: skip
    ref_units = reference_units(ref, md_grid)
    cg_units = model_units(ref, cg_tics, cg, ensemble, n_replicas_cg, topology, md_grid)
    m_ref = converged.resamples(seed, len(m_cg), ref_units.n_units)
    values, reasons, rows = metrics_with_intervals(ref_units, cg_units, ref, md_grid, settings,
                                                   m_ref, m_cg)  # fmt: skip
    column = {name: i for i, name in enumerate(bootstrap.METRICS)}
    compared = converged.compared_metrics()
    out = {f"{prefix}{k}": v for k, v in values.items()
           if k.removesuffix("_ci_low").removesuffix("_ci_high") in compared}  # fmt: skip
    out.update({f"{prefix}fes_mae_weighted_aa_split_kcal": float(ref["fes_mae_weighted_aa_split_kcal"]),
                f"{prefix}n_frames_aa": int(ref["converged_frames_full"]),
                f"{prefix}n_replicas_aa": int(ref_units.n_units)})  # fmt: skip
    why = {f"{prefix}{k}": v for k, v in reasons.items() if k.removesuffix("_ci") in compared}
    resampled = {f"{prefix}{k}": rows[:, column[k]] for k in compared}
    shares, share_rows = network_metrics(ref_units, cg_units, ref, md_grid, settings, m_ref,
                                         seed, networks)  # fmt: skip
    shares.pop("networks", None)
    out.update({f"{prefix}{k}": v for k, v in shares.items()})
    resampled.update({f"{prefix}{k}": v for k, v in share_rows.items()})
    if "frame_macrostate" in ref:
        macro, macro_rows = states.macrostate_metrics(ref, cg_tics, ensemble, n_replicas_cg,
                                                      m_ref, m_cg, prefix)  # fmt: skip
        out.update(macro)
        resampled.update(macro_rows)
    if np.isfinite(ensemble.frame_fs) and ensemble.frame_fs > 0:
        fold, fold_why, fold_rows = converged_folding(ref, cg["rmsd"], ensemble, n_replicas_cg,
                                                      m_ref, m_cg, sampler)  # fmt: skip
        out.update({f"{prefix}{k}": v for k, v in fold.items()
                    if not k.startswith("effective_")})  # fmt: skip
        why.update({f"{prefix}{k}": v for k, v in fold_why.items()
                    if not k.startswith("effective_")})  # fmt: skip
        resampled.update({f"{prefix}{k}": v for k, v in fold_rows.items()})
    return out, why, resampled


HELD_OUT = "held_out_"  # prefix of the metrics against the replicas no model trained on
HELD_OUT_METRICS = tuple(m for m in bootstrap.METRICS if m not in bootstrap.MODEL_ONLY)


def held_out_replicas(dataset, protein: str, split: dict) -> tuple[list, np.ndarray]:
    """(replica numbers, their bootstrap units) of the all-atom replicas a replica split
    (`split`: val_size, test_size, seed) keeps out of every network of `protein`: the same
    for all its models, prior_only included. Units are positions among the reference's
    sorted replica numbers, the numbers read from cg_map's dataset."""
    ids, replicas = inputs.held_out_replica_numbers(dataset, protein, split)
    return replicas, np.searchsorted(ids, replicas)


def held_out_metrics(ref_units, cg_units, ref: dict, md_grid, settings: dict,
                     units: np.ndarray, m_cg: np.ndarray, seed: int) -> tuple[dict, dict, dict]:
    """The metrics against the held-out all-atom replicas `units` alone, with intervals from
    resampling those replicas (and the same CG resamples `m_cg`): (values, reasons, rows),
    every key prefixed `held_out_`. The seed is the protein's, so models pair up. Frame
    weights stay those of all replicas (an MSM of the few held-out replicas alone would
    describe another ensemble)."""
    from .msm_units import MsmUnits

    if isinstance(ref_units, MsmUnits):
        ref_units = ref_units.with_fixed_weights()
    point = np.zeros(ref_units.n_units)
    point[units] = 1.0
    draws = bootstrap.multiplicities(np.random.default_rng([seed, len(units)]), len(m_cg),
                                     len(units))  # fmt: skip
    m_ref = np.zeros((len(m_cg), ref_units.n_units))
    m_ref[:, units] = draws
    values, reasons, rows = metrics_with_intervals(ref_units, cg_units, ref, md_grid, settings,
                                                   m_ref, m_cg, ref_point=point)  # fmt: skip
    keep = {name: i for i, name in enumerate(bootstrap.METRICS) if name in HELD_OUT_METRICS}
    out = {f"{HELD_OUT}{k}": v for k, v in values.items()
           if k.removesuffix("_ci_low").removesuffix("_ci_high") in keep}  # fmt: skip
    why = {f"{HELD_OUT}{k}": v for k, v in reasons.items()
           if k.removesuffix("_ci") in keep}  # fmt: skip
    return out, why, {f"{HELD_OUT}{k}": rows[:, i] for k, i in keep.items()}


def warn_undefined(protein: str, model: str, reasons: dict) -> None:
    """One WARNING per cause, naming the protein, the model and the metrics it hides."""
    by_cause: dict[str, list] = {}
    for metric, reason in reasons.items():
        by_cause.setdefault(reason, []).append(metric)
    for reason, names in by_cause.items():
        log.warning("%s/%s: %s undefined: %s", protein, model, ", ".join(names), reason)


def analyse_model(reference_npz, traj, frames_csv, topology_path, model: str,
                  settings: dict, seed: int, run_json=None, dataset=None,
                  held_out_split=None, converged_npz=None, networks: int = 1) -> tuple:  # fmt: skip
    """(metrics dict, data for the figures, resampled metric rows) of one model.

    `settings` is the config's 'analysis' block; `seed` draws the bootstrap resamples and is
    the same for every model of a protein, so their differences are paired. `run_json`
    (cg_sim's record) and `dataset` (cg_map's, with the all-atom speed) give the speed-up.
    `held_out_split`: what fixes a replica split (val_size, test_size, seed; empty: none);
    the metrics against the all-atom replicas it holds out come as well, prefixed `held_out_`.
    `converged_npz`: a converged reference artifact of the protein (`converged`); the metrics
    against it come as well, prefixed `converged_`.
    """
    ref = load_reference_npz(reference_npz)
    topology = inputs.load_topology(topology_path)
    if topology.n_atoms != ref["reference_structure"].shape[0]:
        raise CgthermoError(
            f"{topology_path} has {topology.n_atoms} beads but {reference_npz} was built for "
            f"{ref['reference_structure'].shape[0]}",
            "rerun analysis_reference",
        )
    burnin_fraction = float(settings["cg_burnin_fraction"])
    ensemble, counts, run = inputs.load_cg_run(traj, frames_csv, topology, burnin_fraction,
                                               run_json)  # fmt: skip
    cg_tics = project_cg(ref, ensemble, topology)
    md_grid = emulation.grid_for_reference(ref["tics"], ref["weights"])
    cg = {
        **structure.frame_observables(ensemble.pieces, ref["reference_structure"],
                                      ref["contact_pairs"], float(ref["native_cutoff"]),
                                      topology),  # fmt: skip
        "weights": None,
    }
    protein = str(ref["protein"])
    # one draw for the metrics, the convergence JS and the speed-up: their resamples pair up
    m_ref, m_cg = bootstrap.draw_resamples(seed, settings["bootstrap_resamples"],
                                           len(ref["unit_pair_sums"]), counts["n_replicas_cg"])
    ref_units = reference_units(ref, md_grid)
    cg_units = model_units(ref, cg_tics, cg, ensemble, counts["n_replicas_cg"], topology,
                           md_grid)  # fmt: skip
    space = None
    if settings.get("refit_tica"):
        space = refit.refit_space(ref, dataset, ensemble, cg_units, cg, topology, settings)
        log.info("%s/%s: every resample fits TICA and the grids again (analysis.refit_tica)",
                 protein, model)  # fmt: skip
    values, reasons, rows = metrics_with_intervals(ref_units, cg_units, ref, md_grid, settings,
                                                   m_ref, m_cg, refit=space)  # fmt: skip
    shares, share_rows = network_metrics(ref_units, cg_units, ref, md_grid, settings, m_ref,
                                         seed, networks, space)  # fmt: skip
    macro, macro_rows = {}, {}
    if "frame_macrostate" in ref:
        macro, macro_rows = states.macrostate_metrics(ref, cg_tics, ensemble,
                                                      counts["n_replicas_cg"], m_ref, m_cg)  # fmt: skip
    held, held_rows = {}, {}
    if held_out_split:
        replicas, units = held_out_replicas(dataset, protein, held_out_split)
        log.info("metrics also against the held-out all-atom replicas %s", replicas)
        held, held_why, held_rows = held_out_metrics(ref_units, cg_units, ref, md_grid,
                                                     settings, units, m_cg, seed)  # fmt: skip
        held["held_out_replicas_aa"] = " ".join(str(r) for r in replicas)
        reasons.update(held_why)
    against, against_rows = {}, {}
    if converged_npz:
        against, against_why, against_rows = converged_metrics(
            converged.load_artifact(converged_npz, protein, topology.n_atoms,
                                    float(ref["temperature_K"])),
            ensemble, topology, counts["n_replicas_cg"], settings, m_cg, seed,
            run.get("sampler", "langevin"), networks)
        reasons.update(against_why)
    warn_undefined(protein, model, reasons)
    floor, floor_rows = model_floor(ref, cg_tics, ensemble, m_cg, seed)
    aa_rate = float("nan") if dataset is None else speedup.aa_throughput(dataset, protein)
    aa_rates = None if dataset is None else speedup.aa_replica_rates(dataset, protein)
    bounds = np.cumsum([len(p) for p in ensemble.pieces])[:-1]
    speed, speed_why, speed_rows = speedup.speedup_metrics(
        ref, np.split(cg_tics, bounds), ensemble.replicas, counts["n_replicas_cg"],
        ensemble.frame_fs, run, aa_rate, m_ref, m_cg, aa_rates, seed,
        cg_rmsd_pieces=np.split(cg["rmsd"], bounds))
    reasons.update(speed_why)
    warn_undefined(protein, model, speed_why)
    s = surfaces(ref, cg_tics)
    result = {
        "protein": protein,
        "model": model,
        "temperature_K": float(ref["temperature_K"]),
        "reweight": str(ref["reweight"]),
        "reference_structure": str(ref["reference_source"]),
        "n_frames_aa": int(len(ref["tics"])),
        "n_replicas_aa": int(len(ref["unit_pair_sums"])),
        "n_frames_cg_used": int(len(cg_tics)),
        **counts,
        "burnin_fraction": burnin_fraction,
        "bootstrap_resamples": int(len(rows)),
        "interval": settings.get("interval", "percentile"),
        "interval_units": interval_units(np.ones(len(ref["unit_pair_sums"])),
                                         counts["n_replicas_cg"]),
        **values,
        **shares,
        **reference_floor(ref),
        **floor,
        "sampler": run.get("sampler", "langevin"),
        **speed,
        **macro,
        **held,
        **against,
    }
    result = {k: finite_or_none(v) for k, v in result.items()}
    result["undefined"] = reasons
    figures = {"surfaces": s, "ref": ref, "cg": cg}
    return result, figures, resample_table(rows, {**floor_rows, **speed_rows, **macro_rows,
                                                 **held_rows, **against_rows, **share_rows})


def write_outputs(result: dict, figures: dict, metrics_json, fes_png, tica_png, rmsd_png) -> None:
    """Figures first, metrics.json last: its presence means the model's analysis is complete."""
    s, ref, cg = figures["surfaces"], figures["ref"], figures["cg"]
    title = f"{result['protein']} — {result['model']}"
    diff = np.full(s["f_ref"].shape, np.nan)
    shared = metrics.shared_bins(s["f_ref"], s["f_cg"])
    diff[shared], _ = metrics.aligned_difference(s["f_ref"], s["f_cg"], s["p_ref"])
    plots.fes_panels(fes_png, s["grid"], s["f_ref"], s["f_cg"], diff, title)
    plots.fes_1d(tica_png, s["grid"].x_edges, s["f1_ref"], s["f1_cg"], title)
    ref_struct = {"rmsd": ref["rmsd"], "q": ref["q"], "weights": ref["weights"]}
    plots.structure_distributions(rmsd_png, ref_struct, cg, float(ref["folded_rmsd"]), title)
    with atomic_path(metrics_json) as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n")


def resample_table(rows: np.ndarray, extra: dict) -> tuple[list, np.ndarray]:
    """(column names, values) of every resample: bootstrap.METRICS, then the `extra` ones."""
    names = [*bootstrap.METRICS, *extra]
    return names, np.column_stack([rows, *extra.values()])


def write_resamples(table: tuple, path) -> None:
    """The metrics of every bootstrap resample (a column per metric), for paired differences."""
    names, rows = table
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, metrics=np.array(names), rows=rows)


def run_analysis(reference_npz, traj, frames_csv, topology_path, model: str, settings: dict,
                 seed: int, outputs: dict, run_json=None, dataset=None,
                 held_out_split=None, converged_npz=None, networks: int = 1) -> dict:  # fmt: skip
    """Analyse one model and write `outputs` (keys metrics, resamples, fes, tica_1d, rmsd)."""
    result, figures, rows = analyse_model(
        reference_npz, traj, frames_csv, topology_path, model, settings, seed, run_json, dataset,
        held_out_split, converged_npz, networks,
    )
    write_resamples(rows, outputs["resamples"])
    write_outputs(
        result, figures, outputs["metrics"], outputs["fes"], outputs["tica_1d"], outputs["rmsd"]
    )
    return result
