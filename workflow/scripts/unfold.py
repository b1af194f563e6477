"""Rule unfold: a high-temperature run gives this replica's random-coil start."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.aa.stage import unfold

    unfold(snakemake)
