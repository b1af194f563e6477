"""Entry point of the backmap rule: takes the Snakemake job object of its rule script and calls
the package with plain values."""

import logging

log = logging.getLogger("cgthermo")


def backmap(job) -> None:
    from ..aa.forcefields import forcefield_files
    from .gallery import backmap_run

    summary = backmap_run(job.input.traj, job.input.frames, job.input.topology,
                          job.input.reference, job.input.run, job.params.settings,
                          forcefield_files(job.params.forcefield), dict(job.output.items()),
                          reference_dssp=job.input.reference_dssp, seed=job.params.seed)  # fmt: skip
    log.info("backmapped %d of %d frames", summary["models_written"], len(summary["frames"]))


def predict_structures(job) -> None:
    from ..aa.forcefields import forcefield_files
    from .predicted import prediction_structures

    payload = prediction_structures(
        job.input.traj, job.input.frames, job.input.topology, job.input.run,
        job.params.settings, job.params.seed, forcefield_files(job.params.forcefield),
        dict(job.output.items()), native=job.input.get("native"),
        parent_reference=job.input.get("parent_reference"),
        parent_dssp=job.input.get("parent_dssp"))  # fmt: skip
    log.info("%d states of %s", len(payload["states"]), payload["states_of"])


def reference_structures(job) -> None:
    from ..aa.forcefields import forcefield_files
    from .gallery import reference_structures as build

    payload = build(job.input.dataset, job.input.topology, job.input.reference,
                    job.params.settings, forcefield_files(job.params.forcefield),
                    dict(job.output.items()))  # fmt: skip
    log.info("%d all-atom states backmapped, DSSP of %d frames",
             sum(s["pdb_model"] is not None for s in payload["states"]), payload["dssp_frames"])
