"""Rule entry point of `prior` and `prior_multi`: fit a prior; write prior.yaml, fit.png, delta.h5.

`prior_multi` fits one prior on every protein and its delta.h5 holds a group per protein.
"""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake, torch_threads=True):
    from cgthermo.prior.stage import run_prior

    datasets = snakemake.input.datasets
    run_prior(
        [datasets] if isinstance(datasets, str) else list(datasets),
        snakemake.config["prior"],
        snakemake.output.prior,
        snakemake.output.fit,
        snakemake.output.delta,
    )
