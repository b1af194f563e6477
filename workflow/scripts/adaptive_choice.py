"""Rule adaptive_choice: the frames an adaptive epoch restarts from, and why."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.adaptive.stage import adaptive_choice

    adaptive_choice(snakemake)
