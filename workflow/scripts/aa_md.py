"""Rule aa_md: production MD with forces; continues from its checkpoint when rerun."""

from cgthermo import config as cgconfig
from cgthermo.aa.md import run_replica
from cgthermo.aa.rules import job_settings
from cgthermo.rulelog import rule_logging

# appended, so the log of a resumed job keeps the lines of the interrupted one
with rule_logging(snakemake, append=True):
    settings = job_settings(snakemake)
    run_replica(
        snakemake.input.system,
        snakemake.input.start,
        snakemake.output.h5,
        snakemake.output.xtc,
        settings,
        temperature=cgconfig.protein(snakemake.config, snakemake.wildcards.protein)["temperature"],
        replica=snakemake.wildcards.replica,
        seed=snakemake.params.seed,
        threads=settings["threads"],
    )
