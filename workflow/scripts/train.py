"""Rule entry point of `train` and `train_multi`: train an NNP on delta forces with torchmd-net."""

from pathlib import Path

from cgthermo.rulelog import rule_logging

# torchmd-net, Lightning and warp print to stdout/stderr: rule_logging sends all of it to the log
with rule_logging(snakemake, append=True, torch_threads=True):
    from cgthermo.train import Outputs, train_model

    datasets = snakemake.input.datasets
    datasets = [datasets] if isinstance(datasets, str) else list(datasets)
    outputs = Outputs(
        checkpoint=Path(snakemake.output.ckpt),
        metrics=Path(snakemake.output.metrics),
        curve=Path(snakemake.output.curve),
        test=Path(snakemake.output.test),
    )
    # a specific model's delta file holds one group, named after its protein (the wildcard)
    proteins = snakemake.params.get("proteins") or [snakemake.wildcards.protein]
    seed_key = proteins[0] if snakemake.params.kind == "specific" else "multi"
    train_model(
        snakemake.config,
        snakemake.params.kind,
        snakemake.input.delta,
        dict(zip(proteins, datasets, strict=True)),
        outputs,
        seed_key=seed_key,
    )
