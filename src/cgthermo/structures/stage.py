"""Entry point of the backmap rule: takes the Snakemake job object of its rule script and calls
the package with plain values."""

import logging

log = logging.getLogger("cgthermo")


def backmap(job) -> None:
    from ..aa.forcefields import forcefield_files
    from .backmap import backmap_run

    summary = backmap_run(job.input.traj, job.input.frames, job.input.topology,
                          job.input.reference, job.input.run, job.params.settings,
                          forcefield_files(job.params.forcefield), dict(job.output.items()))  # fmt: skip
    log.info("backmapped %d of %d frames", summary["models_written"], len(summary["frames"]))
