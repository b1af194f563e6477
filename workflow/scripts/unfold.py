"""Rule unfold: a high-temperature run gives this replica's random-coil start."""

from cgthermo.aa.rules import job_settings
from cgthermo.aa.unfold import unfold_replica
from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    settings = job_settings(snakemake)
    unfold_replica(
        snakemake.input.structure,
        snakemake.input.system,
        snakemake.output[0],
        settings,
        replica=snakemake.wildcards.replica,
        seed=snakemake.params.seed,
        threads=settings["threads"],
    )
