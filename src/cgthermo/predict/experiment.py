"""Predicted ΔΔG of folding against measured ones: a run's predictions.csv scored on a table
of experiments in the layout of the BioEmu benchmarks' folding free energies
(`system_info.csv`: name, name_wt, mutant, dg_exp, ddg_exp, …, sequence).

Entries are matched to the table's mutants by sequence, or by mutation: a prediction whose
sequence differs from its parent's by the substitutions that make a table mutant from its
wild type, where the parent's sequence and the wild type's overlap (one may carry extra
residues at its ends, as the experiments' constructs often carry tags). Both sides use one
convention:
ΔΔG = ΔG_mutant − ΔG_wild type with ΔG = G_folded − G_unfolded, so positive means the
mutation destabilises the fold. Every score carries a 95 % percentile interval from
resampling the matched mutants. The table is the user's (or the installed package's); none
ships with cgthermo.
"""

import numpy as np

from ..errors import CgthermoError

TABLE_COLUMNS = ("name", "mutant", "ddg_exp", "sequence")
SCORES = ("ddg_mae_kcal", "pearson", "spearman", "sign_agreement")


def read_table(path):
    """(the mutant rows of the experiments' table, {wild type name: its sequence}); refused
    without the columns scoring needs."""
    import pandas as pd

    table = pd.read_csv(path)
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise CgthermoError(f"{path} lacks column(s) {missing}",
                            "give a table in the layout of the BioEmu benchmarks' "
                            "system_info.csv (name, name_wt, mutant, dg_exp, ddg_exp, sequence)")
    mutant = table["mutant"].astype(str).str.lower().isin(["true", "1"])
    wild_types = dict(zip(table.loc[~mutant, "name"], table.loc[~mutant, "sequence"], strict=True))
    return table[mutant].reset_index(drop=True), wild_types


def substitutions(parent: str, mutant: str) -> set:
    """(position, residue) of every site where two sequences of one length differ."""
    return {(k, b) for k, (a, b) in enumerate(zip(parent, mutant, strict=True)) if a != b}


def offset_of(shorter: str, longer: str) -> int | None:
    """Where `shorter` sits inside `longer` (None: nowhere, or in more than one place)."""
    first = longer.find(shorter)
    if first < 0 or longer.find(shorter, first + 1) >= 0:
        return None
    return first


def same_mutation(parent: str, mutant: str, wild_type: str, table_mutant: str) -> bool:
    """The prediction (parent → mutant) makes the table's substitutions (wild type → table
    mutant) at the same residues of the overlapping sequences."""
    if len(parent) != len(mutant) or len(wild_type) != len(table_mutant) or parent == mutant:
        return False
    if len(parent) <= len(wild_type):
        shift = offset_of(parent, wild_type)
        ours = substitutions(parent, mutant)
        theirs = {(k - (shift or 0), r) for k, r in substitutions(wild_type, table_mutant)}
    else:
        shift = offset_of(wild_type, parent)
        ours = {(k - (shift or 0), r) for k, r in substitutions(parent, mutant)}
        theirs = substitutions(wild_type, table_mutant)
    return shift is not None and ours == theirs


def mutation_matches(predictions, table, wild_types: dict) -> list[tuple[int, int]]:
    """(prediction row, table row) pairs matched by mutation (`wild_types`: name → sequence)."""
    pairs = []
    for i, pred in predictions.iterrows():
        parent = pred.get("parent_sequence")
        if not isinstance(parent, str) or not parent:
            continue
        for j, row in table.iterrows():
            wild = wild_types.get(row.get("name_wt"))
            if wild and same_mutation(parent, pred["sequence"], wild, row["sequence"]):
                pairs.append((i, j))
    return pairs


def matched(predictions, table, wild_types: dict | None = None):
    """(prediction, experiment name, predicted ΔΔG, measured ΔΔG) of every prediction that is
    a mutant of the table, by sequence or by mutation, and whose ΔΔG is defined."""
    import pandas as pd

    if "sequence" not in predictions.columns or "ddG_fold_kcal" not in predictions.columns:
        raise CgthermoError("the predictions table has no sequence or ddG_fold_kcal column",
                            "give the predictions.csv of a run with parents of the same length")
    by_sequence = predictions.merge(table, on="sequence", how="inner")
    by_mutation = [pd.concat([predictions.loc[i], table.loc[j].drop("sequence")])
                   for i, j in mutation_matches(predictions, table, wild_types or {})]  # fmt: skip
    pairs = pd.concat([by_sequence, pd.DataFrame(by_mutation)], ignore_index=True)
    if pairs.empty:
        return pd.DataFrame(columns=["prediction", "name", "ddG_fold_kcal", "ddg_exp"])
    pairs = pairs.drop_duplicates(subset=["prediction", "name"])
    pairs = pairs[pd.notna(pairs["ddG_fold_kcal"]) & pd.notna(pairs["ddg_exp"])]
    return pairs[["prediction", "name", "ddG_fold_kcal", "ddg_exp"]].reset_index(drop=True)


def scores(predicted, measured) -> dict:
    """MAE, Pearson and Spearman correlation, and the fraction of mutants with the measured
    sign, of one set of pairs (NaN where a correlation is undefined)."""
    predicted, measured = np.asarray(predicted, float), np.asarray(measured, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pearson = _correlation(predicted, measured)
        spearman = _correlation(_ranks(predicted), _ranks(measured))
    return {"ddg_mae_kcal": float(np.mean(np.abs(predicted - measured))),
            "pearson": pearson, "spearman": spearman,
            "sign_agreement": float(np.mean(np.sign(predicted) == np.sign(measured)))}


def _correlation(a, b) -> float:
    if len(a) < 3 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _ranks(values) -> np.ndarray:
    import pandas as pd

    return pd.Series(values).rank(method="average").to_numpy()


def score_with_intervals(pairs, resamples: int = 1000, seed: int = 0) -> dict:
    """Every score with its 95 % percentile interval over resamples of the matched mutants."""
    from ..analysis.bootstrap import percentile_interval

    if len(pairs) == 0:
        raise CgthermoError("no prediction matches a mutant of the table by sequence",
                            "predict the table's mutants (their sequences as the table gives them)")
    predicted, measured = pairs["ddG_fold_kcal"].to_numpy(), pairs["ddg_exp"].to_numpy()
    point = scores(predicted, measured)
    rng = np.random.default_rng(seed)
    draws = [scores(predicted[i], measured[i])
             for i in rng.integers(0, len(pairs), size=(resamples, len(pairs)))]  # fmt: skip
    result = {"n_mutants": len(pairs)}
    for name in SCORES:
        low, high, _ = percentile_interval(np.array([d[name] for d in draws]))
        result.update({name: point[name], f"{name}_ci_low": low, f"{name}_ci_high": high})
    return result
