"""Entry points of the predict rules: each takes the Snakemake job of its rule script."""

import logging
from pathlib import Path

log = logging.getLogger("cgthermo")


def predict_prepare(job) -> None:
    from .entries import resolve
    from .prepare import prepare

    prepare(job.config, resolve(job.config, job.wildcards.prediction), dict(job.output.items()),
            dataset_h5=job.input.get("dataset"))  # fmt: skip


def predict_sim(job) -> None:
    from .entries import resolve
    from .simulate import simulate_prediction

    simulate_prediction(job.config, resolve(job.config, job.wildcards.prediction),
                        dict(job.input.items()), dict(job.output.items()), job.params.work,
                        workers=job.threads)  # fmt: skip


def predict_analysis(job) -> None:
    from ..residues import sequence_text
    from .analysis import analyse_prediction, write_prediction
    from .entries import protein_resnames, resolve, untrained_residues

    prediction = resolve(job.config, job.wildcards.prediction)
    untrained = untrained_residues(job.config, prediction)
    parent = None
    if "parent_reference" in job.input.keys():
        parent = {"protein": prediction.parent, "reference": job.input.parent_reference,
                  "dataset": job.input.parent_dataset, "run_json": job.input.run,
                  "seed": job.params.seed, "model": prediction.model,
                  "metrics": job.input.get("parent_metrics"),
                  "resamples": job.input.get("parent_resamples"),
                  "run": {key: job.input.get(f"parent_{key}") for key in ("traj", "frames", "run")},
                  "untrained": untrained}  # fmt: skip
    result, figure = analyse_prediction(
        prediction.name, job.input.traj, job.input.frames, job.input.topology, job.input.starts,
        job.params.settings, prediction.temperature, job.params.seed,
        native=job.input.get("native"), parent=parent,
        slots=rungs(job.config["cgsim"]), run_json=job.input.run)  # fmt: skip
    result.update(model=prediction.model, starts=prediction.starts,
                  sequence=sequence_text(prediction.resnames),
                  parent_sequence=(sequence_text(protein_resnames(job.config, prediction.parent))
                                   if prediction.parent else ""),
                  untrained_residues=" ".join(untrained))
    write_prediction(result, figure, job.output.metrics, job.output.figure)
    log.info("prediction %s: %s", prediction.name, result)


def rungs(sim: dict) -> int:
    """Simulated replicas per trajectory replica: the ladder size under replica exchange."""
    return int(sim["exchange"]["temperatures"]) if sim["sampler"] == "exchange" else 1


def predictions_summary(job) -> None:
    import json

    import pandas as pd

    from ..io import atomic_path

    rows = [json.loads(Path(path).read_text()) for path in job.input.metrics]
    with atomic_path(job.output[0]) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
