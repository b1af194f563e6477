"""Print the headline metrics and paired verdicts of one or more runs as a Markdown table.

    python scripts/verdict_table.py [--converged] LABEL=results/summary.csv [LABEL=other/summary.csv ...]

Each row: run, protein, model, then for each verdict metric and the two reported beside
them (md_emulation, ΔG error) the value with its 95 % interval and, where summary.csv has
one, the difference to prior_only with its interval and the verdict. With --converged the
same metrics against the converged reference (the `converged_` columns).
"""

import sys

import pandas as pd

HEADLINE = {"fes_mae_weighted_kcal": "FES error, AA-weighted (kcal/mol)",
            "md_emulation_mae_kcal": "md_emulation MAE (kcal/mol)",
            "js_divergence": "JS (bits)",
            "folded_fraction_abs_error": "folded-fraction error",
            "dG_fold_abs_error_kcal": "ΔG_fold error (kcal/mol)"}


def interval(row, key: str) -> str:
    value = row.get(key)
    if value is None or pd.isna(value):
        return "undefined"
    low, high = row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high")
    if low is None or pd.isna(low):
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def cell(row, metric: str) -> str:
    text = interval(row, metric)
    verdict = row.get(f"{metric}_verdict")
    if isinstance(verdict, str):
        text += f"; Δ {interval(row, f'{metric}_vs_prior_only')}: **{verdict}**"
    return text


def main(arguments):
    prefix = "converged_" if "--converged" in arguments else ""
    print("| run | protein | model | " + " | ".join(HEADLINE.values()) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in HEADLINE) + " |")
    for argument in (a for a in arguments if a != "--converged"):
        label, _, path = argument.partition("=")
        for _, row in pd.read_csv(path).iterrows():
            cells = " | ".join(cell(row, prefix + metric) for metric in HEADLINE)
            print(f"| {label} | {row['protein']} | {row['model']} | {cells} |")


if __name__ == "__main__":
    main(sys.argv[1:])
