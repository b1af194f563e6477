"""The data-efficiency curve: a headline error against the all-atom ns each network trained on.

    python scripts/data_efficiency.py --out docs/data_efficiency.png \\
        "force matching=RUN_A1" "force matching=RUN_A2" … "forces + noise=RUN_B1" …

Each LABEL=RUN is one run folder (results/ inside) of the same protein and all-atom data,
trained on a part of it (train.data_fraction). For the `--model` of each run (default
specific) it reads the metric (default held_out_fes_mae_weighted_kcal, against the
all-atom replicas no network saw) with its 95 % interval from metrics.json, and the all-atom
time trained on from test.json (training rows, per noised copy and level, × the saved-frame
interval of cg/dataset.h5). One line per label; prints the table in Markdown.
"""

import argparse
import json
from pathlib import Path

import h5py
import numpy as np


def trained_ns(run: Path, protein: str, model: str, results: str) -> float:
    test = json.loads((run / results / protein / "model" / model / "test.json").read_text())
    rows = test["frames"]["train"]
    copies = 1
    labels = run / results / protein / "cg" / "noise_labels.h5"
    if labels.exists():
        with h5py.File(labels) as h5:
            group = h5[protein]
            copies = int(group.attrs["copies"]) * len(json.loads(group.attrs["sigmas_angstrom"]))
    with h5py.File(run / results / protein / "cg" / "dataset.h5") as h5:
        time = np.asarray(h5[protein]["time"])
        replica = np.asarray(h5[protein]["replica"])
    steps = np.concatenate([np.diff(np.sort(time[replica == r])) for r in np.unique(replica)])
    return rows / copies * float(np.median(steps)) * 1e-6  # fs → ns


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="LABEL=RUN")
    parser.add_argument("--protein", default="chignolin")
    parser.add_argument("--model", default="specific")
    parser.add_argument("--metric", default="held_out_fes_mae_weighted_kcal")
    parser.add_argument("--results", default="results")
    parser.add_argument("--ylabel", default="held-out FES error, AA-weighted (kcal/mol)")
    parser.add_argument("--out", required=True, help="the figure (png)")
    args = parser.parse_args(argv)
    points: dict[str, list] = {}
    for item in args.runs:
        label, run = item.split("=", 1)
        run = Path(run)
        metrics = json.loads((run / args.results / args.protein / "analysis" / args.model
                              / "metrics.json").read_text())  # fmt: skip
        ns = trained_ns(run, args.protein, args.model, args.results)
        points.setdefault(label, []).append(
            (ns, *(metrics.get(k) for k in (args.metric, f"{args.metric}_ci_low",
                                            f"{args.metric}_ci_high"))))  # fmt: skip
    print(f"| objective | all-atom ns trained on | {args.metric} [95 %] |")
    print("| --- | --- | --- |")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for k, (label, rows) in enumerate(points.items()):
        rows = sorted(rows, key=lambda r: r[0])
        for ns, value, low, high in rows:
            shown = "undefined" if value is None else f"{value:.3f} [{low:.3f}, {high:.3f}]"
            print(f"| {label} | {ns:.2f} | {shown} |")
        defined = [r for r in rows if r[1] is not None]
        x = np.array([r[0] for r in defined]) * (1 + 0.03 * k)  # side by side, not on top
        y = np.array([r[1] for r in defined], dtype=float)
        err = np.array([[r[1] - r[2], r[3] - r[1]] for r in defined], dtype=float).T
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=label)
    ax.set_xscale("log")
    ticks = sorted({round(r[0], 2) for rows in points.values() for r in rows})
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("all-atom MD trained on (ns)")
    ax.set_ylabel(args.ylabel)
    ax.legend()
    fig.savefig(args.out, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main()
