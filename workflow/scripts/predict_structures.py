"""Rule predict_structures: a prediction's CG run → its states' structures and DSSP profile."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.structures.stage import predict_structures

    predict_structures(snakemake)
