"""Rule prepare: build or repair the protein, parameterize, minimize."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.aa.stage import prepare

    prepare(snakemake)
