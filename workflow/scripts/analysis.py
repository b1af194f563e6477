"""Rule entry point of `analysis`: one CG model against reference.npz → metrics.json and figures."""

import logging

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.analysis.compare import run_analysis

    result = run_analysis(
        snakemake.input.reference,
        snakemake.input.traj,
        snakemake.input.frames,
        snakemake.input.topology,
        snakemake.wildcards.model,
        snakemake.params.settings,
        snakemake.params.seed,
        dict(snakemake.output.items()),
    )
    logging.getLogger("cgthermo").info("metrics: %s", result)
