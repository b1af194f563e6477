"""How much wider the intervals get when every resample refits TICA and the FES grid.

The analysis holds the all-atom TICA fit, its FES grid and the md_emulation grid fixed over
its bootstrap resamples and resamples only which replicas enter the histograms. Here every
resample also refits TICA (pyemma) on its resampled all-atom replicas, projects the all-atom
and CG frames with that fit and lays the grids on its resampled all-atom frames. The
microstates do not enter these metrics under `reweight: histogram` (the demo's), and the
folded structure is a fixed `native`, so those stay. Both ways use the analysis's own
resamples (its seed), so the two columns differ only by the refit. Prints, per model and
metric and for the paired difference of the network model against prior_only, the 95 %
interval both ways and the ratio of their widths.

    python benchmarks/refit_resamples.py results chignolin --models prior_only,specific
"""

import argparse
import time

import numpy as np

from cgthermo import seeds
from cgthermo.analysis import bootstrap, emulation, features, fes, inputs, kinetics
from cgthermo.analysis.compare import project_cg
from cgthermo.analysis.reference import load_reference_npz
from cgthermo.config import schema_default

METRICS = ("fes_mae_weighted_kcal", "js_divergence", "md_emulation_mae_kcal")


def all_atom_features(results: str, protein: str, ref: dict, topology) -> tuple[list, list]:
    """The all-atom frames' pair-distance features per piece, and each piece's unit."""
    with inputs.open_reference(f"{results}/{protein}/cg/dataset.h5", protein, topology) as (
            ensemble, _):  # fmt: skip
        pieces = [features.pair_distances(np.asarray(p[:]), ref["pairs"], topology)
                  for p in ensemble.pieces]  # fmt: skip
        number = {replica: k for k, replica in enumerate(sorted(set(ensemble.replicas)))}
        units = [number[r] for r in ensemble.replicas]
    return pieces, units


def cg_run(results: str, protein: str, model: str, topology, burnin: float, pairs) -> dict:
    folder = f"{results}/{protein}/cgsim/{model}"
    ensemble, counts, _ = inputs.load_cg_run(f"{folder}/traj.xtc", f"{folder}/frames.csv",
                                             topology, burnin, f"{folder}/run.json")  # fmt: skip
    return {"ensemble": ensemble, "n_units": counts["n_replicas_cg"],
            "features": [features.pair_distances(np.asarray(p), pairs, topology)
                         for p in ensemble.pieces],
            "unit": np.repeat(ensemble.replicas, [len(p) for p in ensemble.pieces])}  # fmt: skip


def units_of(unit, n_units, tics, weights, grid, md_grid, n_pairs) -> bootstrap.UnitStats:
    zeros = np.zeros(len(tics))
    return bootstrap.unit_stats(unit, n_units, tics, weights, grid, md_grid, zeros, zeros, zeros,
                                zeros, np.zeros((n_units, n_pairs)))  # fmt: skip


def evaluate(ref_units, cg_units, a, b, T, md_grid, support) -> dict:
    values, why = bootstrap.evaluate(ref_units.totals(a), cg_units.totals(b), T, md_grid, support)
    return {m: (np.nan if m in why or "*" in why else values.get(m, np.nan)) for m in METRICS}


def fixed_resamples(ref, runs, m_ref, m_cg, support, topology) -> dict:
    """Every model's metrics per resample in the stored TICA space and grids."""
    T, grid = float(ref["temperature_K"]), fes.Grid(ref["x_edges"], ref["y_edges"])
    md_grid = emulation.grid_for_reference(ref["tics"], ref["weights"])
    ref_units = units_of(ref["frame_unit"], len(ref["unit_pair_sums"]), ref["tics"],
                         ref["weights"], grid, md_grid, 1)  # fmt: skip
    out = {}
    for model, run in runs.items():
        tics = project_cg(ref, run["ensemble"], topology)
        cg_units = units_of(run["unit"], run["n_units"], tics, np.ones(len(tics)), grid, md_grid, 1)
        out[model] = [evaluate(ref_units, cg_units, a, b, T, md_grid, support)
                      for a, b in zip(m_ref, m_cg, strict=True)]  # fmt: skip
    return out


def refit_resample(ref, aa_pieces, aa_units, runs, a, b, settings, support) -> dict:
    """Every model's metrics on one resample with TICA and the grids refitted on it."""
    chosen = [piece for piece, unit in zip(aa_pieces, aa_units, strict=True)
              for _ in range(int(a[unit]))]  # fmt: skip
    _, model = kinetics.fit_tica(chosen, settings["tica_lag"], settings["tica_dim"])
    aa_tics = [kinetics.project(model, p) for p in aa_pieces]
    frame_unit = np.concatenate([np.full(len(t), u) for t, u in zip(aa_tics, aa_units, strict=True)])
    all_tics = np.concatenate(aa_tics)
    weights = np.asarray(ref["weights"], dtype=np.float64)
    repeat = a[frame_unit].astype(int)
    resampled = np.repeat(all_tics, repeat, axis=0)
    grid = fes.grid_from_reference(resampled, settings["fes_bins"], settings["fes_margin"])
    md_grid = emulation.grid_for_reference(resampled, np.repeat(weights, repeat))
    ref_units = units_of(frame_unit, len(ref["unit_pair_sums"]), all_tics, weights, grid,
                         md_grid, 1)  # fmt: skip
    out = {}
    for name, run in runs.items():
        tics = np.concatenate([kinetics.project(model, f) for f in run["features"]])
        cg_units = units_of(run["unit"], run["n_units"], tics, np.ones(len(tics)), grid, md_grid, 1)
        out[name] = evaluate(ref_units, cg_units, a, b, float(ref["temperature_K"]), md_grid,
                             support)  # fmt: skip
    return out


def interval(samples) -> tuple[float, float]:
    low, high, _ = bootstrap.percentile_interval(np.asarray(samples, dtype=np.float64))
    return low, high


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("protein")
    parser.add_argument("--models", default="prior_only,specific")
    parser.add_argument("--resamples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1, help="the run's config seed")
    args = parser.parse_args()

    ref = load_reference_npz(f"{args.results}/{args.protein}/analysis/reference.npz")
    topology = inputs.load_topology(f"{args.results}/{args.protein}/cg/topology.pdb")
    settings = {key: schema_default("analysis", key)
                for key in ("tica_dim", "fes_margin", "cg_burnin_fraction", "min_shared_bins",
                            "min_shared_bins_1d", "min_aa_mass_shared")}  # fmt: skip
    settings.update(tica_lag=int(ref["tica_lag"]), fes_bins=len(ref["x_edges"]) - 1)
    support = bootstrap.Support.from_settings(settings)
    models = args.models.split(",")
    runs = {m: cg_run(args.results, args.protein, m, topology, settings["cg_burnin_fraction"],
                      ref["pairs"]) for m in models}  # fmt: skip
    aa_pieces, aa_units = all_atom_features(args.results, args.protein, ref, topology)
    n_cg = {run["n_units"] for run in runs.values()}.pop()
    m_ref, m_cg = bootstrap.draw_resamples(seeds.bootstrap(args.seed, args.protein),
                                           args.resamples, len(ref["unit_pair_sums"]), n_cg)
    fixed = fixed_resamples(ref, runs, m_ref, m_cg, support, topology)
    start = time.perf_counter()
    refit = [refit_resample(ref, aa_pieces, aa_units, runs, a, b, settings, support)
             for a, b in zip(m_ref, m_cg, strict=True)]  # fmt: skip
    print(f"{args.resamples} resamples refitted in {time.perf_counter() - start:.0f} s; "
          f"TICA lag {settings['tica_lag']} frames, {settings['fes_bins']} bins")
    print("| model | metric | fixed TICA: 95 % interval | refitted per resample | width ratio |")
    print("| --- | --- | --- | --- | --- |")
    rows = [(m, lambda s, m=m: s[m]) for m in models]
    if len(models) == 2:
        rows.append((f"{models[1]} − {models[0]}",
                     lambda s: {k: s[models[1]][k] - s[models[0]][k] for k in METRICS}))
    for label, pick in rows:
        for metric in METRICS:
            f_low, f_high = interval([pick({m: fixed[m][i] for m in models})[metric]
                                      for i in range(args.resamples)])  # fmt: skip
            r_low, r_high = interval([pick(r)[metric] for r in refit])
            ratio = (r_high - r_low) / (f_high - f_low) if f_high > f_low else float("nan")
            print(f"| {label} | {metric} | [{f_low:.3f}, {f_high:.3f}] | "
                  f"[{r_low:.3f}, {r_high:.3f}] | {ratio:.2f} |")


if __name__ == "__main__":
    main()
