"""Rule predictions_summary (docs/predict.md)."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.predict.stage import predictions_summary

    predictions_summary(snakemake)
