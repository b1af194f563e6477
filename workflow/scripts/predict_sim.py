"""Rule predict_sim (docs/predict.md)."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake, torch_threads=True):
    from cgthermo.predict.stage import predict_sim

    predict_sim(snakemake)
