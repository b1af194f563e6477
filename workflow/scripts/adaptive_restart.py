"""Rule adaptive_restart: one adaptive trajectory's start, cut from its parent frame."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.aa.stage import restart

    restart(snakemake)
