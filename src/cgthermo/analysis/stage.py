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


def analysis(job) -> None:
    from .compare import run_analysis

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
        held_out_split=job.params.held_out,
        converged_npz=job.input.get("converged") or None,
        networks=job.params.networks,
    )
    log.info("metrics: %s", result)


def meanforce(job) -> None:
    from .diagnose import run_diagnostics
    from .inputs import held_out_replica_numbers

    protein = job.wildcards.protein
    held = None
    if job.params.held_out:
        _, held = held_out_replica_numbers(job.input.dataset, protein, job.params.held_out)
    files = {key: job.input.get(key) for key in ("dataset", "topology", "prior", "checkpoint",
                                                 "reference", "traj", "frames", "run")}
    summary = run_diagnostics(files, protein, job.wildcards.model, job.params.settings,
                              job.params.seed, held, dict(job.output.items()))
    log.info("mean-force deviations: %s", summary)


def summary(job) -> None:
    from .summary import write_summary

    table = write_summary(list(job.input.metrics), job.output[0], list(job.input.resamples),
                          list(job.input.get("structures", [])))
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
        structures=list(job.input.get("structures", [])),
        states=list(job.input.get("states", [])),
        reference_states=list(job.input.get("reference_states", [])),
        viewer=job.params.get("viewer"),
        prediction_structures=list(job.input.get("prediction_structures", [])),
    )
