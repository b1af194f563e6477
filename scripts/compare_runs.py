"""Compare two runs of the same all-atom data that differ in their models or CG runs (the
sampler, the training objective, …), or two runs of one protein from different all-atom data
(plain against adaptive sampling), where only the metrics against a shared converged
reference (`converged_…`) compare the two.

    python scripts/compare_runs.py A=RUN_A B=RUN_B [--results results] [--models specific]

For every protein × model in both runs, a Markdown table: each run's value [95 %] of the
drift and split JS (the CG ensemble against itself), of the headline metrics against
all-atom and, where both runs were analysed against held-out all-atom replicas, of the
headline metrics against those alone, and the difference B − A with its 95 % interval and
verdict (lower is better), then the exploded CG frames of each run:
basic bootstrap intervals for the drift and split JS, as the analysis gives them,
percentile ones for the headline metrics, as the summary's verdicts.
The two runs' CG replicas are independent draws; both runs resample the same all-atom
replicas (one analysis seed) and the same converged-reference replicas, so the
resample-by-resample difference carries both.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from cgthermo.analysis import bootstrap
from cgthermo.analysis.summary import read_resamples

CONVERGENCE = ("js_divergence_cg_drift", "js_divergence_cg_split")
HELD_OUT = tuple(f"held_out_{m}" for m in bootstrap.HEADLINE)
CONVERGED = tuple(f"converged_{m}" for m in bootstrap.HEADLINE)
METRICS = (*CONVERGENCE, *bootstrap.HEADLINE, *HELD_OUT, *CONVERGED)


def interval(metrics: dict, key: str) -> str:
    value, low, high = (metrics.get(k) for k in (key, f"{key}_ci_low", f"{key}_ci_high"))
    if value is None:
        return "undefined"
    if low is None:
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def difference(a: dict, b: dict, rows_a, rows_b, key: str) -> str:
    if a.get(key) is None or b.get(key) is None or key not in rows_a or key not in rows_b:
        return "undefined"
    point, resampled = b[key] - a[key], rows_b[key].to_numpy() - rows_a[key].to_numpy()
    if key in CONVERGENCE:  # their intervals are basic ones (cgthermo.analysis.convergence)
        low, high, _ = bootstrap.basic_interval(point, resampled)
    else:
        low, high, _ = bootstrap.percentile_interval(resampled)
    word = bootstrap.verdict(low, high)
    if not np.isfinite(low):
        return f"{b[key] - a[key]:+.3f}, {word}"
    return f"{b[key] - a[key]:+.3f} [{low:+.3f}, {high:+.3f}], **{word}**"


def model_dirs(run: Path, results: str) -> dict:
    return {(p.parent.parent.parent.name, p.parent.name): p.parent
            for p in sorted((run / results).glob("*/analysis/*/metrics.json"))}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs=2, metavar="LABEL=RUN")
    parser.add_argument("--results", default="results", help="the config's results folder")
    parser.add_argument("--models", nargs="*", help="only these models (default: all in both)")
    args = parser.parse_args(argv)
    (label_a, run_a), (label_b, run_b) = (r.split("=", 1) for r in args.runs)
    dirs_a, dirs_b = model_dirs(Path(run_a), args.results), model_dirs(Path(run_b), args.results)
    print(f"| protein | model | metric | {label_a} | {label_b} | {label_b} − {label_a} |")
    print("| --- | --- | --- | --- | --- | --- |")
    for key in sorted(set(dirs_a) & set(dirs_b)):
        if args.models and key[1] not in args.models:
            continue
        a, b = (json.loads((d[key] / "metrics.json").read_text()) for d in (dirs_a, dirs_b))
        rows_a, rows_b = (read_resamples(d[key] / "resamples.npz") for d in (dirs_a, dirs_b))
        if len(rows_a) != len(rows_b):
            raise SystemExit(f"{key}: {len(rows_a)} against {len(rows_b)} resamples")
        for metric in METRICS:
            if metric in (*HELD_OUT, *CONVERGED) and (metric not in a or metric not in b):
                continue
            print(f"| {key[0]} | {key[1]} | {metric} | {interval(a, metric)} | "
                  f"{interval(b, metric)} | {difference(a, b, rows_a, rows_b, metric)} |")
        exploded = [f"{m['n_frames_cg_exploded']} of {m['n_frames_cg_total']}" for m in (a, b)]
        print(f"| {key[0]} | {key[1]} | exploded CG frames | {exploded[0]} | {exploded[1]} | |")


if __name__ == "__main__":
    main()
