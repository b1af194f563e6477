"""`summary.csv`: one row per protein × model with every metric of its metrics.json."""

import json

import numpy as np
import pandas as pd

from ..errors import CgthermoError
from ..io import atomic_path, require_file

BASELINE = "prior_only"
MODEL_ORDER = ("prior_only", "specific", "multi")
# lower is better for these; the ratio to the prior-only baseline says whether the NNP helps
RATIO_METRICS = ("fes_mae_kcal", "fes_mae_weighted_kcal", "js_divergence", "distance_mae_A")


def read_metrics(paths) -> pd.DataFrame:
    rows = []
    for path in paths:
        require_file(path, "the analysis rule")
        try:
            rows.append(json.loads(open(path).read()))
        except json.JSONDecodeError as err:
            raise CgthermoError(
                f"{path} is not valid JSON ({err.msg})", "rerun its analysis"
            ) from None
    if not rows:
        raise CgthermoError("no metrics.json files to summarise", "list at least one model")
    return pd.DataFrame(rows)


def add_baseline_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """Add `<metric>_vs_prior_only` = metric / the same protein's prior-only metric (< 1: better)."""
    table = table.copy()
    for metric in RATIO_METRICS:
        if metric not in table:
            continue
        base = table[table["model"] == BASELINE].set_index("protein")[metric]
        denom = table["protein"].map(base).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            table[f"{metric}_vs_{BASELINE}"] = table[metric].astype(float) / denom
    return table


def summarise(metric_paths) -> pd.DataFrame:
    table = add_baseline_ratios(read_metrics(metric_paths))
    first = [c for c in ("protein", "model") if c in table]
    table = table[first + [c for c in table.columns if c not in first]]
    # the baseline first, then the per-protein and the multi-protein network
    order = table["model"].map({m: k for k, m in enumerate(MODEL_ORDER)}).fillna(len(MODEL_ORDER))
    return (
        table.assign(_order=order)
        .sort_values(["protein", "_order"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def write_summary(metric_paths, out_csv) -> pd.DataFrame:
    table = summarise(metric_paths)
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False)
    return table
