"""Rule predict_analysis (docs/predict.md)."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.predict.stage import predict_analysis

    predict_analysis(snakemake)
