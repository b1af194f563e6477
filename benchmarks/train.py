"""Training throughput of our train stage over bare torchmd-net (`torchmd-train`) on the same data.

Both runs train the same network (paper architecture unless overridden) on the
same synthetic chignolin-sized dataset with the same split, for the same number
of epochs, in this process, each end to end: ours is `cgthermo.train.train_model`
(input checks, splits, training with resume checkpoints, test-set evaluation,
artifacts); bare is `torchmdnet.scripts.train.main` with the YAML our stage
writes (training, its checkpoints and its test pass). Throughput is training
frames × epochs / wall time; the printed ratio is ours / bare (target ≥ 0.9).

    python benchmarks/train.py [--frames 4000] [--epochs 3] [--rounds 2] [--threads 2] [--clock cpu]
"""

import argparse
import contextlib
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

# the synthetic inputs are test helpers (tests/helpers), not part of the package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=4000, help="frames in the dataset")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="alternating repetitions")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--embedding-dimension", type=int, default=128)
    parser.add_argument("--num-layers", type=int, default=4)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    parser.add_argument(
        "--clock",
        default="wall",
        choices=["wall", "cpu"],
        help="cpu: this process's CPU time, steadier than wall time on a shared machine",
    )
    return parser.parse_args()


def make_data(folder: Path, frames: int):
    from helpers import train_synthetic as synthetic

    replicas = 4
    chignolin = [4, 4, 5, 8, 6, 13, 2, 13, 7, 4]  # YYDPETGTWY in the paper's bead types
    protein = synthetic.make_protein("cln", chignolin, replicas, frames // replicas, seed=1)
    return synthetic.write_pair(folder, [protein])


@contextlib.contextmanager
def quiet():
    """Progress bars and prints of both runs go nowhere, so neither pays for a terminal."""
    with open(os.devnull, "w") as sink:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            yield


def run_ours(config, paths, folder: Path, clock) -> tuple[float, int]:
    from cgthermo.train import Outputs, train_model

    start = clock()
    report = train_model(
        config, "specific", paths["delta"], paths["mapped"], Outputs.in_folder(folder), "cln"
    )
    return clock() - start, report["frames"]["train"]


def run_bare(train_yaml: Path, folder: Path, clock) -> float:
    """torchmd-train on our YAML, only the log folder changed."""
    import yaml
    from torchmdnet.scripts import train as torchmd_train

    arguments = yaml.safe_load(train_yaml.read_text())
    arguments["log_dir"] = str(folder)
    conf = folder / "bare.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    conf.write_text(yaml.safe_dump(arguments))
    argv, sys.argv = sys.argv, ["torchmd-train", "--conf", str(conf)]
    try:
        start = clock()
        torchmd_train.main()
        return clock() - start
    finally:
        sys.argv = argv


def main():
    opts = parse()
    torch.set_num_threads(opts.threads)
    logging.basicConfig(level=logging.WARNING)
    for name in ("lightning", "lightning.pytorch", "cgthermo"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from cgthermo.config import validate

    config = validate(
        {
            "proteins": [{"name": "cln", "sequence": "YYDPETGTWY"}],
            "train": {
                "num_epochs": opts.epochs,
                "early_stopping_patience": opts.epochs + 1,
                "batch_size": opts.batch_size,
                "embedding_dimension": opts.embedding_dimension,
                "num_layers": opts.num_layers,
                "device": opts.device,
            },
        }
    )
    clock = time.process_time if opts.clock == "cpu" else time.perf_counter
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = make_data(tmp / "data", opts.frames)
        ours_s, bare_s = [], []
        for rnd in range(opts.rounds + 1):  # round 0 warms up kernels and caches
            with quiet():
                t_ours, n_train = run_ours(config, paths, tmp / f"ours{rnd}", clock)
                train_yaml = tmp / f"ours{rnd}" / "work" / "train.yaml"
                t_bare = run_bare(train_yaml, tmp / f"bare{rnd}", clock)
            if rnd:
                ours_s.append(t_ours)
                bare_s.append(t_bare)
    ours_fps = n_train * opts.epochs / statistics.median(ours_s)
    bare_fps = n_train * opts.epochs / statistics.median(bare_s)
    print(
        f"train: {n_train} training frames x {opts.epochs} epochs, "
        f"batch {opts.batch_size}, {opts.embedding_dimension}x{opts.num_layers} graph network, "
        f"{opts.threads} threads, device {opts.device}, {opts.clock} clock"
    )
    if torch.cuda.is_available() and opts.device != "cpu":
        print(f"# GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    print(f"train/ours: {ours_fps:.1f} frames/s ({opts.clock} {[round(t, 2) for t in ours_s]} s)")
    print(
        f"train/bare_torchmdnet: {bare_fps:.1f} frames/s ({opts.clock} {[round(t, 2) for t in bare_s]} s)"
    )
    print(f"train/bare_torchmdnet throughput ratio: {ours_fps / bare_fps:.3f}")


if __name__ == "__main__":
    main()
