"""Rule loo_prior_extended: the leave-one-out prior extended to the protein it left out."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.prior.stage import loo_prior_extended

    loo_prior_extended(snakemake)
