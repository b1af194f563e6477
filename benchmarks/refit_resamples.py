"""How much wider the intervals get when every resample refits TICA and the FES grid.

The analysis holds the all-atom TICA fit, its FES grid and the md_emulation grid fixed over
its bootstrap resamples and resamples only which replicas enter the histograms. Here every
resample also refits TICA (pyemma) on its resampled all-atom replicas, projects the all-atom
and CG frames with that fit and lays the grids on its resampled all-atom frames, through the
analysis's own `analysis.refit_tica` path (`cgthermo.analysis.refit`; each model refits on
its own, as its analysis job does). The
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
from cgthermo.analysis import bootstrap, emulation, inputs, refit, structure
from cgthermo.analysis.compare import model_units, project_cg, reference_units
from cgthermo.analysis.reference import load_reference_npz
from cgthermo.config import schema_default

METRICS = ("fes_mae_weighted_kcal", "js_divergence", "md_emulation_mae_kcal")


def model_space(ref, results: str, protein: str, model: str, topology, settings, md_grid):
    """A model's units in the stored coordinates, and its refit space (the analysis's own)."""
    folder = f"{results}/{protein}/cgsim/{model}"
    ensemble, counts, _ = inputs.load_cg_run(f"{folder}/traj.xtc", f"{folder}/frames.csv",
                                             topology, settings["cg_burnin_fraction"],
                                             f"{folder}/run.json")  # fmt: skip
    cg = structure.frame_observables(ensemble.pieces, ref["reference_structure"],
                                     ref["contact_pairs"], float(ref["native_cutoff"]), topology)  # fmt: skip
    units = model_units(ref, project_cg(ref, ensemble, topology), cg, ensemble,
                        counts["n_replicas_cg"], topology, md_grid)  # fmt: skip
    space = refit.refit_space(ref, f"{results}/{protein}/cg/dataset.h5", ensemble, units, cg,
                              topology, settings)  # fmt: skip
    return units, space


def metric_columns(rows: np.ndarray) -> dict:
    column = {name: k for k, name in enumerate(bootstrap.METRICS)}
    return {m: rows[:, column[m]] for m in METRICS}


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
                for key in ("fes_margin", "cg_burnin_fraction", "min_shared_bins",
                            "min_shared_bins_1d", "min_aa_mass_shared")}  # fmt: skip
    support = bootstrap.Support.from_settings(settings)
    T = float(ref["temperature_K"])
    md_grid = emulation.grid_for_reference(ref["tics"], ref["weights"])
    ref_units = reference_units(ref, md_grid)
    models = args.models.split(",")
    spaces = {m: model_space(ref, args.results, args.protein, m, topology, settings, md_grid)
              for m in models}  # fmt: skip
    n_cg = {units.n_units for units, _ in spaces.values()}.pop()
    m_ref, m_cg = bootstrap.draw_resamples(seeds.bootstrap(args.seed, args.protein),
                                           args.resamples, len(ref["unit_pair_sums"]), n_cg)
    fixed = {m: metric_columns(bootstrap.resampled_rows(ref_units, units, T, md_grid, support,
                                                        m_ref, m_cg))
             for m, (units, _) in spaces.items()}  # fmt: skip
    start = time.perf_counter()
    refitted = {m: metric_columns(space.rows(m_ref, m_cg, T, support))
                for m, (_, space) in spaces.items()}  # fmt: skip
    print(f"{args.resamples} resamples of {len(models)} models refitted in "
          f"{time.perf_counter() - start:.0f} s; TICA lag {int(ref['tica_lag'])} frames, "
          f"{len(ref['x_edges']) - 1} bins")
    print("| model | metric | fixed TICA: 95 % interval | refitted per resample | width ratio |")
    print("| --- | --- | --- | --- | --- |")
    rows = [(m, lambda s, m=m: s[m]) for m in models]
    if len(models) == 2:
        rows.append((f"{models[1]} − {models[0]}",
                     lambda s: {k: s[models[1]][k] - s[models[0]][k] for k in METRICS}))
    for label, pick in rows:
        for metric in METRICS:
            f_low, f_high = interval(pick(fixed)[metric])
            r_low, r_high = interval(pick(refitted)[metric])
            ratio = (r_high - r_low) / (f_high - f_low) if f_high > f_low else float("nan")
            print(f"| {label} | {metric} | [{f_low:.3f}, {f_high:.3f}] | "
                  f"[{r_low:.3f}, {r_high:.3f}] | {ratio:.2f} |")


if __name__ == "__main__":
    main()
