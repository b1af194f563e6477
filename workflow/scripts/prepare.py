"""Rule prepare: build or repair the protein, parameterize, minimize."""

from cgthermo import config as cgconfig
from cgthermo.aa.rules import job_settings
from cgthermo.aa.system import prepare_protein
from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    settings = job_settings(snakemake)
    prepare_protein(
        cgconfig.protein(snakemake.config, snakemake.wildcards.protein),
        settings,
        snakemake.output.structure,
        snakemake.output.system,
        threads=settings["threads"],
        seed=snakemake.params.seed,
    )
