"""Rule reference_structures: all-atom states → backmapped medoids, folded structure, DSSP."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.structures.stage import reference_structures

    reference_structures(snakemake)
