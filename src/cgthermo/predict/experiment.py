"""Predicted ΔΔG of folding against measured ones: a run's predictions.csv scored on a table
of experiments in the layout of the BioEmu benchmarks' folding free energies
(`system_info.csv`: name, name_wt, mutant, dg_exp, ddg_exp, …, sequence).

Entries are matched by sequence to the table's mutants. Both sides use one convention:
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
    """The mutant rows of the experiments' table (refused without the columns scoring needs)."""
    import pandas as pd

    table = pd.read_csv(path)
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise CgthermoError(f"{path} lacks column(s) {missing}",
                            "give a table in the layout of the BioEmu benchmarks' "
                            "system_info.csv (name, name_wt, mutant, dg_exp, ddg_exp, sequence)")
    mutant = table["mutant"].astype(str).str.lower().isin(["true", "1"])
    return table[mutant].reset_index(drop=True)


def matched(predictions, table):
    """(prediction, experiment name, predicted ΔΔG, measured ΔΔG) of every prediction whose
    sequence is a mutant of the table and whose ΔΔG is defined."""
    import pandas as pd

    if "sequence" not in predictions.columns or "ddG_fold_kcal" not in predictions.columns:
        raise CgthermoError("the predictions table has no sequence or ddG_fold_kcal column",
                            "give the predictions.csv of a run with parents of the same length")
    pairs = predictions.merge(table, on="sequence", how="inner")
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
