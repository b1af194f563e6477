"""Entry points of the analysis rules (analysis_reference, analysis, summary, report): each
takes the Snakemake job object of its rule script and calls the package with plain values."""

import logging

log = logging.getLogger("cgthermo")


def analysis_reference(job) -> None:
    from .reference import build_reference, write_reference

    arrays = build_reference(
        job.input.dataset,
        job.input.topology,
        job.wildcards.protein,
        job.params.settings,
        job.params.temperature,
        native_path=job.input.get("native"),
        seed=job.params.seed,
    )
    write_reference(arrays, job.output.npz, job.output.its)


def held_out_replicas(dataset, protein: str, split: dict) -> list | None:
    """The all-atom replicas a replica split keeps out of every network of `protein` (None
    without a replica split): the same for all its models, prior_only included."""
    if not split:
        return None
    from ..train.splits import held_out_replicas as held
    from .compare import reference_replicas

    return held(reference_replicas(dataset, protein), split["val_size"], split["test_size"],
                split["seed"])  # fmt: skip


def analysis(job) -> None:
    from .compare import run_analysis

    held_out = held_out_replicas(job.input.dataset, job.wildcards.protein, job.params.held_out)
    if held_out:
        log.info("metrics also against the held-out all-atom replicas %s", held_out)
    result = run_analysis(
        job.input.reference,
        job.input.traj,
        job.input.frames,
        job.input.topology,
        job.wildcards.model,
        job.params.settings,
        job.params.seed,
        dict(job.output.items()),
        run_json=job.input.run,
        dataset=job.input.dataset,
        held_out=held_out,
    )
    log.info("metrics: %s", result)


def summary(job) -> None:
    from .summary import write_summary

    table = write_summary(list(job.input.metrics), job.output[0], list(job.input.resamples))
    log.info("summary of %d protein × model rows", len(table))


def report(job) -> None:
    from .report import write_report

    write_report(
        job.input.summary,
        list(job.input.figures),
        job.params.proteins,
        job.params.models,
        job.output[0],
        predictions_csv=job.input.get("predictions"),
        prediction_figures=list(job.input.get("prediction_figures", [])),
    )
