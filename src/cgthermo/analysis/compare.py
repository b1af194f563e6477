"""One CG model against the all-atom reference: metrics.json, fes.png, tica_1d.png, rmsd.png."""

import json
import math

import numpy as np

from ..io import atomic_path
from . import features, fes, inputs, kinetics, metrics, plots, structure
from .reference import load_reference_npz


def _finite_or_none(value):
    """JSON has no NaN/inf: undefined numbers become null."""
    if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def project_cg(ref: dict, ensemble, topology) -> np.ndarray:
    """CG frames in the reference TICA space (the stored fit, no refit)."""
    tica = kinetics.TicaModel.from_arrays(ref)
    pairs = ref["pairs"]
    return np.concatenate(
        [
            kinetics.project(tica, features.pair_distances(p, pairs, topology))
            for p in ensemble.pieces
        ]
    )


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


def fes_metrics(s: dict) -> dict:
    _, offset = metrics.aligned_difference(s["f_ref"], s["f_cg"], s["p_ref"])
    return {
        "fes_mae_kcal": metrics.fes_mae(s["f_ref"], s["f_cg"], s["p_ref"]),
        "fes_mae_weighted_kcal": metrics.fes_mae_weighted(s["f_ref"], s["f_cg"], s["p_ref"]),
        "fes_mae_min_aligned_kcal": metrics.fes_mae_min_aligned(s["f_ref"], s["f_cg"]),
        "fes_offset_kcal": offset,
        "fes_shared_bins": int(metrics.shared_bins(s["f_ref"], s["f_cg"]).sum()),
        "aa_mass_shared": metrics.aa_mass_shared(s["f_ref"], s["f_cg"], s["p_ref"]),
        "fes1d_mae_kcal": metrics.fes_mae(s["f1_ref"], s["f1_cg"], s["p1_ref"]),
        "js_divergence": metrics.js_divergence(s["p_ref"], s["p_cg"], s["out_ref"], s["out_cg"]),
        "js_divergence_1d": metrics.js_divergence(
            s["p1_ref"], s["p1_cg"], s["out1_ref"], s["out1_cg"]
        ),
        "coverage": metrics.coverage(s["p_ref"], s["p_cg"]),
        "cg_outside_grid_fraction": s["out_cg"],
    }


def reference_floor(ref: dict) -> dict:
    """The split-half noise floor of the FES metrics (NaN for references built before it)."""
    keys = ("fes_mae_aa_split_kcal", "fes_mae_weighted_aa_split_kcal", "js_divergence_aa_split")
    return {key: float(ref[key]) if key in ref else float("nan") for key in keys}


def model_floor(ref: dict, cg_tics, ensemble) -> dict:
    """The model's own split-half numbers on the reference grid. Even vs odd CG replicas
    (`*_cg_split`): how far its FES metrics would move with another set of CG runs of the
    same length. Earlier vs later half of every replica (`*_cg_drift`): how far the runs
    still move away from their starts, i.e. whether they are long enough to describe the
    model's own equilibrium rather than where they began."""
    lengths = [len(p) for p in ensemble.pieces]
    frame_replica = np.repeat(ensemble.replicas, lengths)
    grid = fes.Grid(ref["x_edges"], ref["y_edges"])
    weights, T = np.ones(len(cg_tics)), float(ref["temperature_K"])
    return {
        **metrics.split_floor(cg_tics, frame_replica, weights, grid, T, "cg_split"),
        **metrics.halves_metrics(cg_tics, metrics.time_halves(lengths), weights, grid, T,
                                 "cg_drift"),
    }


def structure_metrics(ref: dict, cg: dict) -> dict:
    T = float(ref["temperature_K"])
    folded = float(ref["folded_rmsd"])
    f_ref, dg_ref = metrics.folding_free_energy(ref["rmsd"] < folded, ref["weights"], T)
    f_cg, dg_cg = metrics.folding_free_energy(cg["rmsd"] < folded, None, T)
    return {
        "rmsd_mean_aa": float(np.average(ref["rmsd"], weights=ref["weights"])),
        "rmsd_mean_cg": float(np.mean(cg["rmsd"])),
        "q_mean_aa": float(np.average(ref["q"], weights=ref["weights"])),
        "q_mean_cg": float(np.mean(cg["q"])),
        "rg_mean_aa": float(np.average(ref["rg"], weights=ref["weights"])),
        "rg_mean_cg": float(np.mean(cg["rg"])),
        "distance_mae_A": float(np.mean(np.abs(cg["pair_distance_mean"] - ref["pair_distance_mean"]))),
        "folded_fraction_aa": f_ref,
        "folded_fraction_cg": f_cg,
        "dG_fold_aa_kcal": dg_ref,
        "dG_fold_cg_kcal": dg_cg,
        "dG_fold_error_kcal": dg_cg - dg_ref,
    }


def analyse_model(reference_npz, traj, frames_csv, topology_path, model: str,
                  burnin_fraction: float) -> tuple:  # fmt: skip
    """(metrics dict, data for the figures) of one model against the stored reference."""
    ref = load_reference_npz(reference_npz)
    topology = inputs.load_topology(topology_path)
    if topology.n_atoms != ref["reference_structure"].shape[0]:
        from ..errors import CgthermoError

        raise CgthermoError(
            f"{topology_path} has {topology.n_atoms} beads but {reference_npz} was built for "
            f"{ref['reference_structure'].shape[0]}",
            "rerun analysis_reference",
        )
    ensemble, counts = inputs.load_cg(traj, frames_csv, topology, burnin_fraction)
    cg_tics = project_cg(ref, ensemble, topology)
    cg_pos = np.concatenate(ensemble.pieces)
    cg = {
        "rmsd": structure.rmsd_to(cg_pos, ref["reference_structure"], topology),
        "q": structure.contact_fraction(
            cg_pos, ref["contact_pairs"], float(ref["native_cutoff"]), topology
        ),
        "rg": structure.radius_of_gyration(cg_pos),
        "pair_distance_mean": structure.mean_pair_distances(
            ensemble.pieces, ref["pairs"], topology, np.ones(len(cg_pos))
        ),
        "weights": None,
    }
    s = surfaces(ref, cg_tics)
    result = {
        "protein": str(ref["protein"]),
        "model": model,
        "temperature_K": float(ref["temperature_K"]),
        "reweight": str(ref["reweight"]),
        "reference_structure": str(ref["reference_source"]),
        "n_frames_aa": int(len(ref["tics"])),
        "n_frames_cg_used": int(len(cg_tics)),
        **counts,
        "burnin_fraction": float(burnin_fraction),
        **fes_metrics(s),
        **reference_floor(ref),
        **model_floor(ref, cg_tics, ensemble),
        **structure_metrics(ref, cg),
    }
    result = {k: _finite_or_none(v) for k, v in result.items()}
    figures = {"surfaces": s, "ref": ref, "cg": cg}
    return result, figures


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


def run_analysis(reference_npz, traj, frames_csv, topology_path, model: str,
                 burnin_fraction: float, outputs: dict) -> dict:  # fmt: skip
    """Analyse one model and write `outputs` (keys metrics, fes, tica_1d, rmsd); returns metrics."""
    result, figures = analyse_model(
        reference_npz, traj, frames_csv, topology_path, model, burnin_fraction
    )
    write_outputs(
        result, figures, outputs["metrics"], outputs["fes"], outputs["tica_1d"], outputs["rmsd"]
    )
    return result
