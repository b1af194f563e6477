"""Rule meanforce: mean forces along named variables → meanforce.csv, pmf.csv, .json, .png."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.analysis.stage import meanforce

    meanforce(snakemake)
