"""Entry point of the train and train_multi rules."""

from pathlib import Path


def train(job) -> None:
    """Train an NNP on delta forces (`job`: the rule script's Snakemake object)."""
    from .run import Outputs, train_model

    datasets = job.input.datasets
    datasets = [datasets] if isinstance(datasets, str) else list(datasets)
    outputs = Outputs(
        checkpoint=Path(job.output.ckpt),
        metrics=Path(job.output.metrics),
        curve=Path(job.output.curve),
        test=Path(job.output.test),
    )
    # a specific model's delta file holds one group, named after its protein (the wildcard)
    proteins = job.params.get("proteins") or [job.wildcards.protein]
    seed_key = proteins[0] if job.params.kind == "specific" else "multi"
    train_model(
        job.config,
        job.params.kind,
        job.input.delta,
        dict(zip(proteins, datasets, strict=True)),
        outputs,
        seed_key=seed_key,
    )
