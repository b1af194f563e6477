"""Rule summary: every metrics.json → results/summary.csv."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.analysis.stage import summary

    summary(snakemake)
