"""md_emulation: cgthermo's implementation against the BioEmu benchmarks' own code, on the
same projections of a finished run.

cgthermo computes the score without depending on `bioemu-benchmarks` (it pins its own
numpy and mdtraj). This script projects a run's all-atom and CG frames on TIC1/TIC2 as the
analysis does (standardised by the all-atom standard deviation), scores them with
`cgthermo.analysis.emulation`, then hands the same arrays to
`bioemu_benchmarks.eval.md_emulation.state_metric.DistributionMetrics2D.score_nonzero`
in a separate Python environment, and prints both with their differences. The last column scores with cgthermo's code from
drawn points, as the benchmark does, instead of the expected histogram: it separates the
effect of the finite draws from any difference in the definition.

    python3 -m venv /tmp/bioemu && /tmp/bioemu/bin/pip install bioemu-benchmarks
    python benchmarks/md_emulation_agreement.py --bioemu-python /tmp/bioemu/bin/python \\
        [--results results] [--protein chignolin] [--models prior_only specific]
"""

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from cgthermo.analysis import emulation, inputs
from cgthermo.analysis.compare import project_cg
from cgthermo.analysis.reference import load_reference_npz

BIOEMU = f"""
import json, sys
import numpy as np
from bioemu_benchmarks.eval.md_emulation.state_metric import DistributionMetrics2D
data = np.load(sys.argv[1])
scorer = DistributionMetrics2D(data["reference"], n_resample={emulation.N_RESAMPLE}, sigma_resample={emulation.SIGMA},
                               num_bins={emulation.BINS}, energy_cutoff={emulation.ENERGY_CUTOFF_KCAL},
                               temperature_K=float(data["temperature_K"]), padding={emulation.PADDING},
                               random_seed=int(sys.argv[2]))
result = {{}}
for name in data.files:
    if name.startswith("model_"):
        mae, rmse, coverage = scorer.score_nonzero(data[name])
        result[name[6:]] = {{"mae": float(mae), "rmse": float(rmse), "coverage": float(coverage)}}
print(json.dumps(result))
"""


def projections(results: Path, protein: str, models, burnin: float) -> tuple:
    ref = load_reference_npz(results / protein / "analysis" / "reference.npz")
    topology = inputs.load_topology(results / protein / "cg" / "topology.pdb")
    grid = emulation.grid_for_reference(ref["tics"], ref["weights"])
    model_tics = {}
    for model in models:
        sim = results / protein / "cgsim" / model
        ensemble, _ = inputs.load_cg(sim / "traj.xtc", sim / "frames.csv", topology, burnin)
        model_tics[model] = project_cg(ref, ensemble, topology)
    return ref, grid, model_tics


def drawn_counts(grid, tics, seed: int) -> np.ndarray:
    """The benchmark's way: 10⁶ points drawn with replacement, each displaced by noise."""
    rng = np.random.default_rng(seed)
    z = grid.standardise(tics)
    points = z[rng.integers(0, len(z), emulation.N_RESAMPLE)]
    points = points + emulation.SIGMA * rng.standard_normal(points.shape)
    return np.histogram2d(points[:, 0], points[:, 1], bins=(grid.x_edges, grid.y_edges))[0]


def ours(ref, grid, model_tics, seed=None) -> dict:
    """cgthermo's score; with `seed`, from drawn points instead of the expected histogram."""
    T = float(ref["temperature_K"])

    def counts(tics, weights):
        return (grid.expected_counts(tics, weights) if seed is None
                else drawn_counts(grid, tics, seed))

    ref_counts = counts(ref["tics"], ref["weights"])
    return {model: emulation.score(ref_counts, counts(t, np.ones(len(t))), T, grid)
            for model, t in model_tics.items()}


def theirs(python: str, ref, grid, model_tics, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "projections.npz"
        np.savez(path, reference=grid.standardise(ref["tics"]),
                 temperature_K=float(ref["temperature_K"]),
                 **{f"model_{m}": grid.standardise(t) for m, t in model_tics.items()})
        out = subprocess.run([python, "-c", BIOEMU, str(path), str(seed)], capture_output=True,
                             text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bioemu-python", required=True)
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--protein", default="chignolin")
    parser.add_argument("--models", nargs="+", default=["prior_only", "specific"])
    parser.add_argument("--burnin", type=float, default=0.1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[emulation.SEED, 1, 2],
                        help="random seeds of the benchmark's resampling (its own is 42)")
    args = parser.parse_args()
    ref, grid, model_tics = projections(args.results, args.protein, args.models, args.burnin)
    if not np.allclose(ref["weights"], ref["weights"][0]):
        print("# the all-atom frames carry MSM weights; the benchmark's code takes none, so "
              "its reference is the unweighted frames")
    mine = ours(ref, grid, model_tics)
    drawn = [ours(ref, grid, model_tics, seed) for seed in args.seeds]
    runs = [theirs(args.bioemu_python, ref, grid, model_tics, seed) for seed in args.seeds]
    print(f"# {args.results}/{args.protein}, T = {float(ref['temperature_K']):.0f} K, "
          f"{len(ref['tics'])} all-atom frames; bioemu-benchmarks with seeds {args.seeds}")
    print("| model | quantity | cgthermo | bioemu-benchmarks (seed 42) | difference | "
          "bioemu-benchmarks over its seeds | cgthermo from drawn points, same seeds |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for model in args.models:
        for key in ("mae", "rmse", "coverage"):
            a = mine[model][key]
            bench = [run[model][key] for run in runs]
            mc = [run[model][key] for run in drawn]
            print(f"| {model} | {key} | {a:.4f} | {bench[0]:.4f} | {a - bench[0]:+.4f} | "
                  f"{min(bench):.4f}–{max(bench):.4f} | {min(mc):.4f}–{max(mc):.4f} |")


if __name__ == "__main__":
    main()
