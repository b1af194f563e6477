"""What holding TICA fixed leaves out of the intervals: the FES error and the JS divergence of a
finished run's models, their 95 % intervals with the analysis's fixed TICA fit and grid,
against the same resamples with TICA and the grid fitted again on each resample's all-atom
replicas.

    python scripts/refit_per_resample.py RESULTS chignolin [--models prior_only specific]
        [--resamples 200] [--seed 0] [--fes-margin 0.05]

Both columns use the same resamples (all-atom replicas and CG replicas drawn together, the CG
draw shared by every model, as the analysis pairs them) and the same percentile interval,
so their widths differ only by the refit. The paired difference of the last model against
the first is given too: the verdicts are read from it. With uniform all-atom frame weights
(`analysis.reweight: histogram`) the microstates enter none of these metrics, and the folded
fraction, defined by the RMSD to a fixed folded structure, enters no TICA coordinate; a
run with MSM weights is refused, since there the microstates would have to be refitted too.
"""

import argparse

import numpy as np

from cgthermo import paths
from cgthermo.analysis import bootstrap, features, fes, inputs, kinetics, metrics
from cgthermo.analysis.reference import load_reference_npz
from cgthermo.config import schema_default
from cgthermo.errors import CgthermoError

METRICS = ("fes_mae_weighted_kcal", "js_divergence")


class Side:
    """One side's frames as pair distances, grouped by bootstrap unit."""

    def __init__(self, distances: list, units: list, n_units: int):
        self.distances, self.units, self.n_units = distances, units, n_units

    def frame_weights(self, multiplicity) -> np.ndarray:
        return np.concatenate([np.full(len(d), multiplicity[u], dtype=np.float64)
                               for d, u in zip(self.distances, self.units, strict=True)])  # fmt: skip

    def tics(self, tica) -> np.ndarray:
        return np.concatenate([kinetics.project(tica, d) for d in self.distances])


def all_atom_side(results: str, protein: str, pairs, topology) -> Side:
    with inputs.open_reference(paths.dataset(results, protein), protein, topology) as (ens, _):
        distances = [features.pair_distances(p[:], pairs, topology) for p in ens.pieces]
        units = sorted(set(ens.replicas))
        return Side(distances, [units.index(r) for r in ens.replicas], len(units))


def cg_side(results: str, protein: str, model: str, pairs, topology) -> Side:
    burnin = schema_default("analysis", "cg_burnin_fraction")
    run = [paths.cg_run(results, protein, model, name)
           for name in ("traj.xtc", "frames.csv", "run.json")]  # fmt: skip
    ensemble, _, _ = inputs.load_cg_run(run[0], run[1], topology, burnin, run[2])
    distances = [features.pair_distances(p, pairs, topology) for p in ensemble.pieces]
    return Side(distances, list(ensemble.replicas), ensemble.n_units)


def refit_tica(aa: Side, multiplicity, lag: int, dim: int):
    """TICA fitted on the resample: replica u's frames enter `multiplicity[u]` times."""
    pieces = [d for d, u in zip(aa.distances, aa.units, strict=True)
              for _ in range(int(multiplicity[u]))]  # fmt: skip
    return kinetics.fit_tica(pieces, lag, dim)[1]


def scores(aa_tics, aa_w, cg_tics, cg_w, grid, T: float, least_shared: int) -> np.ndarray:
    """(FES error, JS) of one resample on `grid`; NaN where the surfaces share too few bins."""
    p_ref, out_ref = fes.probabilities_2d(aa_tics, grid, aa_w)
    p_cg, out_cg = fes.probabilities_2d(cg_tics, grid, cg_w)
    f_ref, f_cg = fes.free_energy(p_ref, T), fes.free_energy(p_cg, T)
    shared = metrics.shared_bins(f_ref, f_cg).sum() >= least_shared
    return np.array([metrics.fes_mae_weighted(f_ref, f_cg, p_ref) if shared else np.nan,
                     metrics.js_divergence(p_ref, p_cg, out_ref, out_cg)])  # fmt: skip


def resample_scores(aa: Side, models: dict, m_ref, m_cg, fixed, settings: dict) -> dict:
    """{(model, 'fixed' | 'refit'): (resamples, METRICS)}."""
    T, n_bins, margin, least = (settings[k] for k in ("T", "bins", "margin", "least_shared"))
    out = {(name, how): [] for name in models for how in ("fixed", "refit")}
    for a, b in zip(m_ref, m_cg, strict=True):
        aa_w = aa.frame_weights(a)
        refit = refit_tica(aa, a, settings["lag"], settings["dim"])
        aa_refit = aa.tics(refit)
        kept = aa_w > 0
        refit_grid = fes.grid_from_reference(aa_refit[kept], n_bins, margin)
        for name, side in models.items():
            cg_w = side.frame_weights(b)
            out[name, "fixed"].append(scores(fixed["aa_tics"], aa_w, fixed["cg_tics"][name],
                                             cg_w, fixed["grid"], T, least))  # fmt: skip
            out[name, "refit"].append(scores(aa_refit, aa_w, side.tics(refit), cg_w,
                                             refit_grid, T, least))  # fmt: skip
    return {key: np.array(rows) for key, rows in out.items()}


def width(samples: np.ndarray) -> tuple:
    low, high, _ = bootstrap.percentile_interval(samples)
    return low, high, high - low


def print_table(point: dict, draws: dict, models: list) -> None:
    print("| quantity | metric | point | fixed TICA [95 %] | TICA refitted [95 %] | width ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    rows = [(name, draws[name, "fixed"], draws[name, "refit"], point[name]) for name in models]
    if len(models) > 1:
        last, first = models[-1], models[0]
        rows.append((f"{last} − {first}", draws[last, "fixed"] - draws[first, "fixed"],
                     draws[last, "refit"] - draws[first, "refit"], point[last] - point[first]))  # fmt: skip
    for label, fixed, refit, value in rows:
        for k, metric in enumerate(METRICS):
            lo_f, hi_f, w_f = width(fixed[:, k])
            lo_r, hi_r, w_r = width(refit[:, k])
            print(f"| {label} | {metric} | {value[k]:.3f} | [{lo_f:.3f}, {hi_f:.3f}] | "
                  f"[{lo_r:.3f}, {hi_r:.3f}] | {w_r / w_f:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("protein")
    parser.add_argument("--models", nargs="+", default=["prior_only", "specific"])
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fes-margin", type=float,
                        default=schema_default("analysis", "fes_margin"))  # fmt: skip
    args = parser.parse_args()

    ref = load_reference_npz(paths.reference(args.results, args.protein))
    if str(ref["reweight"]) != "histogram":
        raise CgthermoError(f"{args.protein}'s all-atom frames carry MSM weights",
                            "run this on a run with analysis.reweight: histogram")  # fmt: skip
    topology = inputs.load_topology(paths.cg_topology(args.results, args.protein))
    pairs, tica = ref["pairs"], kinetics.TicaModel.from_arrays(ref)
    aa = all_atom_side(args.results, args.protein, pairs, topology)
    models = {m: cg_side(args.results, args.protein, m, pairs, topology) for m in args.models}
    fixed = {"aa_tics": aa.tics(tica), "grid": fes.Grid(ref["x_edges"], ref["y_edges"]),
             "cg_tics": {m: side.tics(tica) for m, side in models.items()}}  # fmt: skip
    settings = {"T": float(ref["temperature_K"]), "bins": len(ref["x_edges"]) - 1,
                "margin": args.fes_margin, "lag": int(ref["tica_lag"]),
                "dim": int(ref["tica_dim"]),
                "least_shared": schema_default("analysis", "min_shared_bins")}  # fmt: skip
    ones = np.ones(max(aa.n_units, *(s.n_units for s in models.values())))
    point = {m: scores(fixed["aa_tics"], aa.frame_weights(ones), fixed["cg_tics"][m],
                       side.frame_weights(ones), fixed["grid"], settings["T"],
                       settings["least_shared"]) for m, side in models.items()}  # fmt: skip
    same = fes.grid_from_reference(aa.tics(refit_tica(aa, ones, settings["lag"], settings["dim"])),
                                   settings["bins"], args.fes_margin)
    if not np.allclose(np.abs(same.x_edges), np.abs(ref["x_edges"]), atol=1e-3):
        raise CgthermoError("TICA fitted on every replica does not give the analysis's grid",
                            "give the run's analysis.fes_margin as --fes-margin")  # fmt: skip
    n_cg = max(s.n_units for s in models.values())
    m_ref, m_cg = bootstrap.draw_resamples(args.seed, args.resamples, aa.n_units, n_cg)
    draws = resample_scores(aa, models, m_ref, m_cg, fixed, settings)
    print(f"{args.protein}: {aa.n_units} all-atom and {n_cg} CG replicas, {args.resamples} "
          f"resamples; the point uses the analysis's own TICA fit and grid")
    print_table(point, draws, args.models)


if __name__ == "__main__":
    main()
