"""Entry point of the train and train_multi rules."""

from pathlib import Path


def train(job) -> None:
    """Train an NNP on delta forces (`job`: the rule script's Snakemake object)."""
    from ..cgmap.dataset import path_list
    from .run import Outputs, train_model

    datasets = path_list(job.input.datasets)
    outputs = Outputs(
        checkpoint=Path(job.output.ckpt),
        metrics=Path(job.output.metrics),
        curve=Path(job.output.curve),
        test=Path(job.output.test),
    )
    # a specific model's delta file holds one group, named after its protein (the wildcard)
    proteins = job.params.get("proteins") or [job.wildcards.protein]
    seed_key = proteins[0] if job.params.kind == "specific" else job.wildcards.group
    train_model(
        with_draw(job.config, job.wildcards.get("draw")),
        job.params.kind,
        job.input.labels,
        dict(zip(proteins, datasets, strict=True)),
        outputs,
        seed_key=seed_key,
        delta_path_clean=job.input.delta,
        cpus=job.threads,
    )


def with_draw(config: dict, network) -> dict:
    """The config of network `network` of train.networks (None: the first): train.draw + it."""
    if network is None:
        return config
    train = config["train"]
    return {**config, "train": {**train, "draw": train["draw"] + int(network)}}


def noise_labels(job) -> None:
    """Entry point of the noise_labels rules: forces + noise rows of every protein group of
    the datasets, their labels less the prior (`job.input.prior`) at the noised positions."""
    from .. import seeds as derived
    from ..cgmap.dataset import open_datasets
    from .noisedata import NoiseSettings, write_noised_delta

    with open_datasets(job.input.datasets) as groups:
        master = job.params.settings["seed"]
        seeds = {g.name: derived.noise_labels(master, g.name) for g in groups}
        write_noised_delta(job.output.labels, groups, NoiseSettings.from_train(job.params.settings),
                           job.input.prior, seeds)  # fmt: skip
