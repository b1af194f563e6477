"""Which bins decide a 2-D FES error? Several readings of one comparison, side by side.

Reads a finished results folder (no simulation). For each CG model and each burn-in it
prints the FES error against the all-atom reference over every shared bin with equal
weight (`fes_mae_kcal`), over shared bins with at least N frames on both sides, over the
bins every listed model and all-atom visit (the same bins for all models), weighted by the
all-atom probability (`fes_mae_weighted_kcal`) and by the mean of the two probabilities,
and the JS divergence and coverage. A verdict that flips between readings is decided by
sparse bins, whose free energy is mostly counting noise.

    python benchmarks/fes_error_readings.py results chignolin --models prior_only,specific
"""

import argparse

import numpy as np

from cgthermo.analysis import compare, inputs, metrics
from cgthermo.analysis.reference import load_reference_npz

MIN_FRAMES = (20, 50)


def model_surfaces(results: str, protein: str, model: str, ref: dict, topology, burnin: float):
    base = f"{results}/{protein}/cgsim/{model}"
    ensemble, _ = inputs.load_cg(f"{base}/traj.xtc", f"{base}/frames.csv", topology, burnin)
    tics = compare.project_cg(ref, ensemble, topology)
    return compare.surfaces(ref, tics), len(tics)


def aligned_mae(s: dict, keep) -> float:
    """Equal-weight MAE over the bins in `keep`, aligned on those bins as fes_mae aligns."""
    f_ref = np.where(keep, s["f_ref"], np.inf)
    return metrics.fes_mae(f_ref, s["f_cg"], s["p_ref"])


def readings(s: dict, n_cg: int, n_ref: int, common) -> dict:
    shared = metrics.shared_bins(s["f_ref"], s["f_cg"])
    diff, _ = metrics.aligned_difference(s["f_ref"], s["f_cg"], s["p_ref"])
    mix = 0.5 * (s["p_ref"] + s["p_cg"])[shared]
    row = {"MAE all shared": metrics.fes_mae(s["f_ref"], s["f_cg"], s["p_ref"]),
           "bins": int(shared.sum())}
    for n in MIN_FRAMES:
        dense = shared & (s["p_ref"] * n_ref >= n) & (s["p_cg"] * n_cg >= n)
        row[f"MAE >={n} frames"] = aligned_mae(s, dense)
    row["MAE common bins"] = aligned_mae(s, common)
    row["weighted p_aa"] = metrics.fes_mae_weighted(s["f_ref"], s["f_cg"], s["p_ref"])
    row["weighted mean p"] = float(np.average(np.abs(diff), weights=mix))
    row["JS"] = metrics.js_divergence(s["p_ref"], s["p_cg"], s["out_ref"], s["out_cg"])
    row["coverage"] = metrics.coverage(s["p_ref"], s["p_cg"])
    row["aa_mass_shared"] = metrics.aa_mass_shared(s["f_ref"], s["f_cg"], s["p_ref"])
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("protein")
    parser.add_argument("--models", default="prior_only,specific")
    parser.add_argument("--burnin", default="0.1,0.5,0.75",
                        help="fractions of each CG replica dropped, comma-separated")
    args = parser.parse_args()
    ref = load_reference_npz(f"{args.results}/{args.protein}/analysis/reference.npz")
    topology = inputs.load_topology(f"{args.results}/{args.protein}/cg/topology.pdb")
    models = args.models.split(",")
    for burnin in (float(b) for b in args.burnin.split(",")):
        found = {m: model_surfaces(args.results, args.protein, m, ref, topology, burnin)
                 for m in models}
        common = np.logical_and.reduce(
            [metrics.shared_bins(s["f_ref"], s["f_cg"]) for s, _ in found.values()])
        print(f"burn-in {burnin}: {int(common.sum())} bins visited by every model and all-atom")
        for model, (s, n_cg) in found.items():
            row = readings(s, n_cg, len(ref["tics"]), common)
            print(f"  {model:11s} " + "  ".join(
                f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
