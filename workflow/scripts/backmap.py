"""Rule backmap: chosen CG frames → all-atom backmapped.pdb and backmapped.json."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.structures.stage import backmap

    backmap(snakemake)
