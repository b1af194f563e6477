"""Rule analysis: one CG model against reference.npz → metrics.json and figures."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.analysis.stage import analysis

    analysis(snakemake)
