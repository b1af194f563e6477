"""Rule entry point of `summary`: every metrics.json → results/summary.csv."""

import logging

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.analysis.summary import write_summary

    table = write_summary(
        list(snakemake.input.metrics), snakemake.output[0], list(snakemake.input.resamples)
    )
    logging.getLogger("cgthermo").info("summary of %d protein × model rows", len(table))
