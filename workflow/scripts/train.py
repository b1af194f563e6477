"""Rule entry point of `train` and `train_multi`: train an NNP on delta forces with torchmd-net."""

import logging
import os
import sys
from pathlib import Path


def send_output_to_log(path):
    """torchmd-net, Lightning and warp print to stdout/stderr: all of it goes to the rule's log."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", force=True)


send_output_to_log(snakemake.log[0])

import torch  # noqa: E402

from cgthermo.errors import CgthermoError  # noqa: E402
from cgthermo.train import Outputs, train_model  # noqa: E402

torch.set_num_threads(snakemake.threads)
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
try:
    train_model(
        snakemake.config,
        snakemake.params.kind,
        snakemake.input.delta,
        dict(zip(proteins, datasets, strict=True)),
        outputs,
        seed_key=seed_key,
    )
except CgthermoError as err:
    logging.getLogger("cgthermo").error("%s", err)
    sys.exit(f"cgthermo: {err}")
