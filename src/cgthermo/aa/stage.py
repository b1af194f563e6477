"""Entry points of the all-atom rules (prepare, unfold, aa_md): each takes the Snakemake
job object of its rule script and calls the package with plain values."""

from .. import config as cgconfig


def job_settings(job) -> dict:
    """The full all-atom settings of the job's protein, with `threads` resolved."""
    settings = cgconfig.aa_settings(job.config, job.wildcards.protein)
    settings["threads"] = settings["threads"] or job.threads
    return settings


def prepare(job) -> None:
    from .system import prepare_protein

    settings = job_settings(job)
    prepare_protein(
        cgconfig.protein(job.config, job.wildcards.protein),
        settings,
        job.output.structure,
        job.output.system,
        threads=settings["threads"],
        seed=job.params.seed,
    )


def unfold(job) -> None:
    from .unfold import unfold_replica

    settings = job_settings(job)
    unfold_replica(
        job.input.structure,
        job.input.system,
        job.output[0],
        settings,
        replica=job.wildcards.replica,
        seed=job.params.seed,
        threads=settings["threads"],
    )


def aa_md(job) -> None:
    from .md import run_replica

    settings = job_settings(job)
    run_replica(
        job.input.system,
        job.input.start,
        job.output.h5,
        job.output.xtc,
        settings,
        temperature=cgconfig.protein(job.config, job.wildcards.protein)["temperature"],
        replica=job.wildcards.replica,
        seed=job.params.seed,
        threads=settings["threads"],
    )
