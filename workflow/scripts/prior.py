"""Rules prior and prior_multi: fit a prior; write prior.yaml, fit.png, delta.h5."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake, torch_threads=True):
    from cgthermo.prior.stage import prior

    prior(snakemake)
