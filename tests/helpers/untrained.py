"""Untrained torchmd-net networks saved as checkpoints, for tests and benchmarks that need a
network of a given size but not a trained one."""

from pathlib import Path

import torch

from cgthermo.cgsim.nnp import MIN_NEIGHBORS


def untrained_hparams(**overrides) -> dict:
    """torchmd-net hyper-parameters of a fresh graph network (paper defaults, derivative on)."""
    from torchmdnet.scripts.train import get_argparse

    hparams = vars(get_argparse().parse_args([]))
    hparams.update(
        model="graph-network", embedding_dimension=128, num_layers=4, num_rbf=18,
        rbf_type="expnorm", trainable_rbf=True, activation="tanh", cutoff_lower=3.0,
        cutoff_upper=12.0, max_num_neighbors=MIN_NEIGHBORS, derivative=True, precision=32,
    )
    hparams.update(overrides)
    return hparams


def write_untrained_checkpoint(path, seed: int = 0, **overrides) -> Path:
    """Save a randomly initialized network the way Lightning stores a torchmd-net model.

    For tests and benchmarks that need a network of a given size but not a trained one.
    """
    from torchmdnet.models.model import create_model

    from cgthermo.io import atomic_path

    hparams = untrained_hparams(**overrides)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = create_model(dict(hparams))
    state = {f"model.{k}": v for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"hyper_parameters": hparams, "state_dict": state}, tmp)
    return Path(path)
