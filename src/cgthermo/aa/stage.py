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

    settings = md_settings(job_settings(job), job.wildcards.replica)
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
        origin=origin_of(settings, job.wildcards.replica, job.input.get("origin")),
    )


def md_settings(settings: dict, replica) -> dict:
    """The settings of one replica's run: an adaptive restart continues from an equilibrium
    frame, so it runs no equilibration."""
    if cgconfig.epoch_of(settings, replica) > 0:
        return {**settings, "equilibration_ps": 0.0}
    return settings


def origin_of(settings: dict, replica, origin_json) -> dict | None:
    """The epoch and parent of an adaptive trajectory (None for plain sampling)."""
    if not cgconfig.is_adaptive(settings):
        return None
    if origin_json is None:
        return {"epoch": 0, "parent_replica": -1, "parent_frame": -1, "parent_time_ps": -1.0}
    from .restart import read_origin

    return read_origin(origin_json)


def restart(job) -> None:
    """One adaptive trajectory's start from its epoch's choice (rule adaptive_restart)."""
    import json

    from .restart import write_restart

    choice = json.loads(open(job.input.choice).read())
    record = next(r for r in choice["restarts"] if r["replica"] == int(job.wildcards.replica))
    write_restart(job.input.parents[record["parent_replica"]], record["parent_frame"],
                  job.input.structure, job.output.pdb, job.output.origin,
                  {**record, "epoch": choice["epoch"]})  # fmt: skip
