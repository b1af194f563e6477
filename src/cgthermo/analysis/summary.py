"""`summary.csv`: one row per protein × model with every metric of its metrics.json, and for
each neural-network model the paired difference to the prior-only baseline on the headline
metrics, with its 95 % interval and verdict."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import model_names
from ..errors import CgthermoError
from ..io import atomic_path, require_file
from . import bootstrap
from .converged import PREFIX as CONVERGED

BASELINE = "prior_only"
MODEL_ORDER = model_names()


def read_metrics(paths) -> pd.DataFrame:
    rows = []
    for path in paths:
        require_file(path, "the analysis rule")
        try:
            row = json.loads(Path(path).read_text())
        except json.JSONDecodeError as err:
            raise CgthermoError(
                f"{path} is not valid JSON ({err.msg})", "rerun its analysis"
            ) from None
        undefined = row.pop("undefined", {}) or {}
        row["undefined"] = "; ".join(f"{k}: {v}" for k, v in sorted(undefined.items()))
        rows.append(row)
    if not rows:
        raise CgthermoError("no metrics.json files to summarise", "list at least one model")
    return pd.DataFrame(rows)


def read_resamples(path) -> pd.DataFrame:
    """The metric values of every bootstrap resample of one model (a column per metric)."""
    with np.load(require_file(path, "the analysis rule")) as data:
        return pd.DataFrame(data["rows"], columns=[str(m) for m in data["metrics"]])


def paired_difference(model: pd.DataFrame, baseline: pd.DataFrame, point_model: float,
                      point_baseline: float, metric: str, units: int = 0,
                      method: str = "percentile") -> dict:  # fmt: skip
    """model − baseline on the same resamples: point value, 95 % interval (`method` over
    `units`, bootstrap.interval) and verdict."""
    if len(model) != len(baseline):
        raise CgthermoError(f"the models were resampled {len(model)} and {len(baseline)} times",
                            "rerun their analysis with one analysis.bootstrap_resamples")
    point = float(point_model) - float(point_baseline)
    low, high, _ = bootstrap.interval(model[metric].to_numpy() - baseline[metric].to_numpy(),
                                      units, method)  # fmt: skip
    if not np.isfinite(point):
        low = high = float("nan")
    key = f"{metric}_vs_{BASELINE}"
    return {key: point, f"{key}_ci_low": low, f"{key}_ci_high": high,
            f"{metric}_verdict": bootstrap.verdict(low, high)}


def network_prefixes(resamples: pd.DataFrame, against: str = "") -> list:
    """`network{j}_` of every network's share the analysis resampled (train.networks > 1),
    against the run's own all-atom data or, with `against="converged_"`, the converged
    reference."""
    found = []
    while f"{against}{bootstrap.NETWORK_PREFIX.format(len(found))}{bootstrap.HEADLINE[0]}" in resamples:
        found.append(bootstrap.NETWORK_PREFIX.format(len(found)))
    return found


def headline_columns(resamples: pd.DataFrame) -> list:
    """The headline metrics, against the held-out all-atom replicas and the converged
    reference where analysed, and on each network's share of the replicas."""
    prefixes = ("held_out_", CONVERGED, *network_prefixes(resamples),
                *(CONVERGED + p for p in network_prefixes(resamples, CONVERGED)))
    extra = [f"{prefix}{m}" for prefix in prefixes
             for m in bootstrap.HEADLINE if f"{prefix}{m}" in resamples]  # fmt: skip
    return [*bootstrap.HEADLINE, *extra]


def share_of(metric: str, own: list, converged: list):
    """(index of the network share, its all-atom side: None for the run's own data, else
    the converged reference) of a headline column, or None for a pooled one."""
    for against, prefixes in (("", own), (CONVERGED, converged)):
        for k, prefix in enumerate(prefixes):
            if metric.startswith(against + prefix):
                return k, against
    return None


def every_network(values: dict, metric: str, prefixes: list, against: str = "") -> dict:
    """With several networks, `<metric>_verdict` is better or worse only where every network's
    share says so (one trained network is one draw); the pooled verdict stays as
    `<metric>_verdict_pooled`. `against` is `converged_` for the verdicts against the
    converged reference."""
    if not prefixes:
        return {}
    shares = [values.get(f"{against}{prefix}{metric}_verdict") for prefix in prefixes]
    metric = against + metric
    pooled = values.get(f"{metric}_verdict")
    agreed = shares[0] if len(set(shares)) == 1 and shares[0] in ("better", "worse") else None
    return {f"{metric}_verdict_pooled": pooled,
            f"{metric}_verdict": agreed if agreed == pooled else "not resolved",
            f"{metric}_networks_agreeing": sum(v == pooled for v in shares)}


def add_paired_verdicts(table: pd.DataFrame, resamples: dict) -> pd.DataFrame:
    """Columns `<metric>_vs_prior_only` (difference, lower: the NNP is closer to all-atom), its
    interval and `<metric>_verdict` (better, worse, not resolved) for every NNP row."""
    extra = []
    for _, row in table.iterrows():
        base = table[(table.protein == row.protein) & (table.model == BASELINE)]
        values = {}
        if row.model != BASELINE and len(base):
            base_row = base.iloc[0]
            units, method = interval_of(row, base_row)
            mine = resamples[(row.protein, row.model)]
            shares = network_prefixes(mine)
            converged = network_prefixes(mine, CONVERGED)
            for metric in headline_columns(mine):
                share = share_of(metric, shares, converged)
                values.update(paired_difference(
                    mine, resamples[(row.protein, BASELINE)], _number(row.get(metric)),
                    _number(base_row.get(metric)), metric,
                    units if share is None else share_units(row, *share, len(shares) or len(converged)),
                    method))  # fmt: skip
            for metric in bootstrap.HEADLINE:
                values.update(every_network(values, metric, shares))
                values.update(every_network(values, metric, converged, CONVERGED))
        extra.append(values)
    return pd.concat([table.reset_index(drop=True), pd.DataFrame(extra)], axis=1)


def interval_of(row, base_row) -> tuple[int, str]:
    """(units, method) of a paired difference's interval: the fewer units of the two rows,
    and their interval method (metrics.json's `interval_units` and `interval`)."""
    units = [_number(r.get("interval_units")) for r in (row, base_row)]
    units = int(min(units)) if all(np.isfinite(units)) else 0
    method = row.get("interval")
    return units, method if isinstance(method, str) else "percentile"


def share_units(row, share: int, against: str, networks: int) -> int:
    """The units of one network's share: the fewer of the all-atom replicas (the run's own,
    or the converged reference's) and its CG ones."""
    from ..config import network_groups

    n_cg, n_aa = _number(row.get("n_replicas_cg")), _number(row.get(f"{against}n_replicas_aa"))
    if not (np.isfinite(n_cg) and np.isfinite(n_aa)):
        return 0
    return int(min(n_aa, len(network_groups(int(n_cg), networks)[share])))


def _number(value) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)


STRUCTURE_METRICS = ("dssp_difference", "dssp_difference_ci_low", "dssp_difference_ci_high")


def read_structure_metrics(paths) -> pd.DataFrame:
    """The secondary-structure difference of every model (its structures.json, rule
    backmap), keyed by protein and model as the results layout names them."""
    rows = []
    for path in map(Path, paths):
        record = json.loads(require_file(path, "the backmap rule").read_text())
        rows.append({"protein": path.parent.parent.parent.name, "model": path.parent.name,
                     **{key: record["dssp"].get(key) for key in STRUCTURE_METRICS}})  # fmt: skip
    return pd.DataFrame(rows, columns=["protein", "model", *STRUCTURE_METRICS])


def summarise(metric_paths, resample_paths=(), structure_paths=()) -> pd.DataFrame:
    table = read_metrics(metric_paths)
    if structure_paths:
        structure = read_structure_metrics(structure_paths)
        table = table.merge(structure.astype({k: float for k in STRUCTURE_METRICS}),
                            on=["protein", "model"], how="left")  # fmt: skip
    resamples = {}
    for path in resample_paths:
        model_dir = Path(path).parent
        resamples[(model_dir.parent.parent.name, model_dir.name)] = read_resamples(path)
    if resamples:
        table = add_paired_verdicts(table, resamples)
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


def write_summary(metric_paths, out_csv, resample_paths=(), structure_paths=()) -> pd.DataFrame:
    table = summarise(metric_paths, resample_paths, structure_paths)
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False)
    return table
