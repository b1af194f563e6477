"""Training throughput from a paper-scale file read from disk against an in-memory copy.

Synthesizes a training file in the delta layout (one group; random-walk Cα chains, forces of
the size mapped forces have), draws `--batches` × `--batch-size` training frames at random
over the whole file (what an epoch's shuffled batches touch) and trains the same network on
them twice, each in a fresh process, through the arguments our train stage writes:

  disk    the whole file with train.dataset_preload_limit 0: torchmd-net keeps it on disk and
          reads every frame when a batch draws it, in train.num_workers loader processes
          (auto: half the CPUs, at most 4)
  memory  a file of just those frames, preloaded (torchmd-net reads it whole): the
          in-memory copy of a subset

`--rounds` times, alternating, and prints, for each, the median training frames per second
after the first `--warmup` batches
(steady state), the seconds before the first batch (opening the file and, on disk, the
loader's start and its index of every frame), the peak resident memory of the main
process and of the largest loader worker, then the median over the rounds of the ratio of
throughputs disk / memory (target ≥ 0.9).

    python benchmarks/train_input.py --beads 10 --frames 2000000
    python benchmarks/train_input.py --beads 80 --frames 500000 --embedding-dimension 128 --num-layers 4
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scale import WRITE_BLOCK, peak_resident_mb, random_walk_chains

REPO = Path(__file__).resolve().parents[1]
TYPES = [4, 4, 5, 15, 6, 17, 8, 17, 19, 4]  # chignolin's bead types, repeated for more beads


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beads", type=int, default=10)
    parser.add_argument("--frames", type=int, default=2_000_000)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--embedding-dimension", type=int, default=64)
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the training")
    parser.add_argument("--rounds", type=int, default=3, help="alternating disk/memory pairs")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    return parser.parse_args()


def write_frames(path: Path, frames: int, beads: int, rows=None) -> None:
    """A delta-layout file of random-walk chains; `rows`: only those frames of the full set."""
    import h5py

    rng = np.random.default_rng(beads)
    rows = np.arange(frames) if rows is None else np.asarray(rows)
    with h5py.File(path, "w") as h5:
        group = h5.create_group("syn")
        group["types"] = np.resize(np.array(TYPES, dtype=np.int64), beads)
        pos = group.create_dataset("pos", (len(rows), beads, 3), np.float32)
        forces = group.create_dataset("forces", (len(rows), beads, 3), np.float32)
        for start in range(0, frames, WRITE_BLOCK):
            n = min(WRITE_BLOCK, frames - start)
            chain = random_walk_chains(rng, n, beads)
            force = rng.normal(0, 15, chain.shape).astype(np.float32)
            inside = (rows >= start) & (rows < start + n)
            where = np.flatnonzero(inside)
            if where.size:
                pos[where[0] : where[-1] + 1] = chain[rows[inside] - start]
                forces[where[0] : where[-1] + 1] = force[rows[inside] - start]


def draw_rows(frames: int, train: int, val: int) -> dict:
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(frames, train + val, replace=False))
    order = rng.permutation(len(rows))
    return {"train": np.sort(rows[order[:train]]), "val": np.sort(rows[order[train:]])}


def write_splits(path: Path, train, val) -> None:
    np.savez(path, idx_train=np.asarray(train), idx_val=np.asarray(val),
             idx_test=np.asarray(val[:1]))  # fmt: skip


def train_once(data: Path, splits: Path, options: dict) -> dict:
    """One epoch of our train stage's torchmd-net arguments on `data`, timed per batch."""
    import lightning.pytorch as pl
    import torch
    from torchmdnet.data import DataModule
    from torchmdnet.models.model import create_prior_models
    from torchmdnet.module import LNNP

    from cgthermo.config import validate
    from cgthermo.train import settings

    torch.set_num_threads(options["threads"])
    train = validate({"proteins": [{"name": "x", "sequence": "AAAAA"}],
                      "train": options["train"]})["train"]  # fmt: skip
    device = settings.resolve_device("cpu", 1)
    work = data.parent / f"work_{data.stem}"
    work.mkdir(exist_ok=True)
    arguments = settings.torchmdnet_arguments(train, data, splits, work, 1, device)
    settings.write_arguments(arguments, work / "train.yaml")
    args = settings.parse_arguments(work / "train.yaml")

    class BatchTimer(pl.Callback):
        starts: list = []
        end = 0.0

        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            self.starts.append(time.perf_counter())

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            self.end = time.perf_counter()

    start = time.perf_counter()
    datamodule = DataModule(args)
    datamodule.prepare_data()
    datamodule.setup("fit")
    args.prior_args = [p.get_init_args() for p in create_prior_models(vars(args), datamodule.dataset)]
    model = LNNP(args, prior_model=None, mean=datamodule.mean, std=datamodule.std)
    timer = BatchTimer()
    trainer = pl.Trainer(max_epochs=1, accelerator="cpu", devices=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, inference_mode=False,
                         callbacks=[timer])  # fmt: skip
    trainer.fit(model, datamodule)
    starts, warm = timer.starts, options["warmup"]
    steady = (len(starts) - warm) * args.batch_size / (timer.end - starts[warm])
    import resource

    # the loader workers are this process's children; the largest one's peak, in kB
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"frames_per_s": steady, "setup_s": starts[0] - start, "peak_mb": peak_resident_mb(),
            "worker_peak_mb": worker_mb,
            "num_workers": args.num_workers, "preloaded": bool(datamodule.dataset.cached)}  # fmt: skip


def measure(data: Path, splits: Path, options: dict) -> dict:
    command = [sys.executable, __file__, "--child", str(data), str(splits), json.dumps(options)]
    proc = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": str(options["threads"])})  # fmt: skip
    if proc.returncode:
        raise SystemExit(f"training on {data} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    opts = parse()
    sys.path.insert(0, str(REPO / "src"))
    if opts.child:
        data, splits, options = opts.child
        with open(os.devnull, "w") as sink:  # torchmd-net and Lightning print to stdout
            stdout, sys.stdout = sys.stdout, sink
            try:
                result = train_once(Path(data), Path(splits), json.loads(options))
            finally:
                sys.stdout = stdout
        print(json.dumps(result))
        return
    network = {"embedding_dimension": opts.embedding_dimension, "num_layers": opts.num_layers,
               "batch_size": opts.batch_size, "device": "cpu"}  # fmt: skip
    n_train = opts.batches * opts.batch_size
    rows = draw_rows(opts.frames, n_train, opts.batch_size)
    with tempfile.TemporaryDirectory(dir=REPO.parent) as tmp:
        tmp = Path(tmp)
        write_frames(tmp / "full.h5", opts.frames, opts.beads)
        write_splits(tmp / "full_splits.npz", rows["train"], rows["val"])
        subset = np.sort(np.concatenate([rows["train"], rows["val"]]))
        write_frames(tmp / "subset.h5", opts.frames, opts.beads, rows=subset)
        position = {int(r): k for k, r in enumerate(subset)}
        write_splits(tmp / "subset_splits.npz", [position[int(r)] for r in rows["train"]],
                     [position[int(r)] for r in rows["val"]])  # fmt: skip
        common = {"threads": opts.threads, "warmup": opts.warmup}
        runs = {"disk": [], "memory": []}
        for _ in range(opts.rounds):  # alternating, so a slower spell of the machine hits both
            runs["disk"].append(measure(tmp / "full.h5", tmp / "full_splits.npz",
                                        {**common, "train": {**network,
                                                             "dataset_preload_limit": 0}}))  # fmt: skip
            runs["memory"].append(measure(tmp / "subset.h5", tmp / "subset_splits.npz",
                                          {**common, "train": network}))  # fmt: skip
        size_mb = (tmp / "full.h5").stat().st_size / 1024**2
    print(f"train_input: {opts.frames} frames x {opts.beads} beads ({size_mb:.0f} MB), "
          f"{opts.batches} batches of {opts.batch_size} drawn over the whole file, "
          f"{opts.embedding_dimension}x{opts.num_layers} graph network, "
          f"{opts.threads} torch thread(s)")  # fmt: skip
    for name, results in runs.items():
        result = results[-1]
        rates = [r["frames_per_s"] for r in results]
        print(f"train_input/{name}: {statistics.median(rates):.1f} frames/s (median of "
              f"{[round(r, 1) for r in rates]}), setup {result['setup_s']:.1f} s, peak "
              f"{result['peak_mb']:.0f} MB (+ {result['num_workers']} loader worker(s) of at "
              f"most {result['worker_peak_mb']:.0f} MB), preloaded {result['preloaded']}")  # fmt: skip
    ratios = [d["frames_per_s"] / m["frames_per_s"]
              for d, m in zip(runs["disk"], runs["memory"], strict=True)]  # fmt: skip
    print(f"train_input disk/memory throughput ratio: {statistics.median(ratios):.3f} "
          f"(median of the rounds' {[round(r, 3) for r in ratios]})")


if __name__ == "__main__":
    main()
