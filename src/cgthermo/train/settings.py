"""From our config's `train` section to torchmd-net's training arguments, and the device choice.

The arguments are written as a YAML that `torchmd-train --conf` accepts, and read
back through torchmd-net's own argument parser, so a key torchmd-net 3.x no
longer knows fails here exactly as it would in `torchmd-train`.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..config import model_names
from ..errors import CgthermoError

MODEL_KINDS = tuple(m for m in model_names() if m != "prior_only")  # those with a network

# keys of our `train` section that are ours, not torchmd-net arguments
OWN_KEYS = {"split", "split_blocks", "device", "noise", "data_fraction", "draw", "networks"}
# arguments a resume may change: how a run executes, and how long it may go on
EXECUTION_KEYS = {"num_workers", "dataset_preload_limit", "ngpus", "inference_batch_size",
                  "num_epochs"}  # fmt: skip
MAX_AUTO_WORKERS = 4


@dataclass
class Device:
    accelerator: str  # "cpu" or "gpu"
    devices: int
    strategy: str  # "auto", or "ddp" for several GPUs


def gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def resolve_device(requested: str, ngpus: int, available: int | None = None) -> Device:
    """auto → GPU when present else CPU; gpu without one is an error; several GPUs use DDP."""
    available = gpu_count() if available is None else available
    if requested not in ("auto", "cpu", "gpu"):
        raise CgthermoError(f"config key 'train.device' is '{requested}'", "use auto, cpu or gpu")
    if ngpus < 1:
        raise CgthermoError(
            f"config key 'train.ngpus' is {ngpus}", "give the number of GPUs to use (1 or more)"
        )
    if requested == "gpu" and available == 0:
        raise CgthermoError(
            "config asks for train.device: gpu but torch sees no CUDA GPU here",
            "run on a GPU node (check CUDA_VISIBLE_DEVICES and the CUDA build of torch) or set train.device: auto",
        )
    if requested == "gpu" and ngpus > available:
        raise CgthermoError(
            f"config asks for train.ngpus: {ngpus} but only {available} GPU(s) are visible",
            f"set train.ngpus to at most {available} or request more GPUs from the scheduler",
        )
    if requested == "cpu" or available == 0:
        return Device("cpu", 1, "auto")
    devices = min(ngpus, available)
    return Device("gpu", devices, "ddp" if devices > 1 else "auto")


def check_model_request(config: dict, kind: str) -> None:
    """The model kind must be one this stage trains and one the config asks for."""
    if kind not in MODEL_KINDS:
        raise CgthermoError(
            f"model '{kind}' is not trained by the train stage",
            f"use one of {', '.join(MODEL_KINDS)}",
        )
    if kind not in config["models"]:
        raise CgthermoError(
            f"model '{kind}' is not in the config's 'models' ({', '.join(config['models'])})",
            f"add {kind} to 'models' in the config",
        )


def usable_cpus() -> int:
    """CPUs this process may run on (a SLURM job's allocation, not the node's)."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def loader_workers(requested, dataset_path, preload_limit_mb: int, cpus: int | None = None) -> int:
    """Data-loader workers: a number as given; auto → none where torchmd-net preloads the
    file (batches come from memory and workers only add start-up), else half the usable
    CPUs, at most MAX_AUTO_WORKERS, so that reading from disk overlaps the network."""
    if requested != "auto":
        return int(requested)
    size_mb = Path(dataset_path).stat().st_size / 1024**2
    if size_mb <= preload_limit_mb:
        return 0
    cpus = usable_cpus() if cpus is None else cpus
    return max(1, min(MAX_AUTO_WORKERS, cpus // 2))


def torchmdnet_arguments(
    train: dict, dataset_path, splits_path, log_dir, seed: int, device: Device,
    cpus: int | None = None,
) -> dict:  # fmt: skip
    """torchmd-net arguments: the paper's network and our settings, forces-only loss;
    `cpus`: what the job was given (its Snakemake threads), for automatic loader workers."""
    passed = {k: v for k, v in train.items() if k not in OWN_KEYS}
    passed["num_workers"] = loader_workers(train["num_workers"], dataset_path,
                                           train["dataset_preload_limit"], cpus)  # fmt: skip
    passed.update(
        dataset="HDF5",
        dataset_root=str(Path(dataset_path).resolve()),
        splits=str(Path(splits_path).resolve()),
        log_dir=str(Path(log_dir).resolve()),
        seed=int(seed),
        # the network learns delta forces only; the datasets carry no energies
        derivative=True,
        y_weight=0.0,
        neg_dy_weight=1.0,
        standardize=False,
        prior_model=None,
        # ngpus -1 fails on CPU in torchmd-net 3.x; our device choice decides the count
        ngpus=device.devices,
        save_interval=1,
        test_interval=-1,
        train_size=None,
    )
    return passed


def write_arguments(arguments: dict, path) -> None:
    with open(path, "w") as fh:
        yaml.safe_dump(arguments, fh, sort_keys=True)


def parse_arguments(path):
    """Read our YAML through torchmd-net's own parser: unknown keys fail as in torchmd-train."""
    from torchmdnet.scripts.train import get_argparse

    try:
        args = get_argparse().parse_args(["--conf", str(path)])
    except ValueError as err:
        raise CgthermoError(
            f"torchmd-net rejects the training arguments in {path}: {err}",
            "remove or rename that key in the config's 'train' section",
        ) from None
    if args.inference_batch_size is None:
        args.inference_batch_size = args.batch_size
    return args


def fingerprint(arguments: dict, dataset_path, frame_splits: dict) -> str:
    """Identifies a training run: arguments, dataset file (size, time) and the split itself."""
    stat = Path(dataset_path).stat()
    learned = {k: v for k, v in arguments.items() if k not in EXECUTION_KEYS}
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            {"args": learned, "data": [stat.st_size, stat.st_mtime_ns]}, sort_keys=True, default=str
        ).encode()
    )
    for key in sorted(frame_splits):
        digest.update(key.encode() + frame_splits[key].tobytes())
    return digest.hexdigest()
