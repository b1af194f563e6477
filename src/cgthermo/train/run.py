"""One training job: checks, splits, torchmd-net training (resumable), artifacts."""

import json
import logging
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .. import seeds
from ..io import atomic_path, require_file
from . import curves, dataset, evaluate, fit, settings, splits

log = logging.getLogger(__name__)


@dataclass
class Outputs:
    checkpoint: Path
    metrics: Path
    curve: Path
    test: Path

    @classmethod
    def in_folder(cls, folder) -> "Outputs":
        folder = Path(folder)
        return cls(
            folder / "model.ckpt",
            folder / "metrics.csv",
            folder / "learning_curve.png",
            folder / "test.json",
        )


def work_dir_for(outputs: Outputs) -> Path:
    """Resumable state lives beside the outputs, never under a declared output's name."""
    return outputs.checkpoint.parent / "work"


def prepare_inputs(delta_path, mapped_paths: dict) -> list:
    """Check the training (delta or noise label) and mapped datasets; return the frame table
    of the training dataset."""
    groups = dataset.frame_table(delta_path)
    dataset.check_finite(delta_path)
    for path in mapped_paths.values():
        require_file(path, "the cg_map stage")
    dataset.check_matches(delta_path, mapped_paths)
    for name in {g.name for g in groups}:
        dataset.check_finite(mapped_paths[name])
    return groups


def train_model(
    config: dict,
    kind: str,
    delta_path,
    mapped_paths: dict,
    outputs: Outputs,
    seed_key: str,
    work_dir=None,
    delta_path_clean=None,
    cpus: int | None = None,
) -> dict | None:
    """Train the `kind` model on `delta_path` and write its artifacts; returns test.json's content.

    `delta_path` is what the network learns: the delta forces (cg/delta.h5) or the forces +
    noise labels (cg/noise_labels.h5, whose rows name their source frames). The test errors
    are always against the clean delta forces (`delta_path_clean`, default `delta_path`) of
    the test rows' source frames. `mapped_paths` maps each protein (group of the delta file)
    to its cg/dataset.h5. A rerun with the same settings and data resumes from `work/last.ckpt`.
    `cpus`: the CPUs the job was given (default: those this process may use).
    """
    settings.check_model_request(config, kind)
    train = config["train"]
    device = settings.resolve_device(train["device"], train["ngpus"])
    log.info("training %s on %s: %s x%d (%s)", kind, delta_path, device.accelerator,
             device.devices, device.strategy)  # fmt: skip
    groups = prepare_inputs(delta_path, mapped_paths)
    work = Path(work_dir) if work_dir else work_dir_for(outputs)
    seed = seeds.training(config["seed"], seed_key, train.get("draw", 0))

    frame_splits = splits.make_splits(
        groups,
        val_size=train["val_size"],
        test_size=train["test_size"],
        mode=train["split"],
        blocks_per_replica=train["split_blocks"],
        seed=seed,
        replica_seeds={g.name: seeds.replica_split(config["seed"], g.name) for g in groups},
        train_fraction=train["data_fraction"],
        whole_replicas=adaptive_groups(config, groups),
    )
    arguments = settings.torchmdnet_arguments(
        train, delta_path, work / "split.npz", work, seed, device, cpus
    )
    if dataset.needs_tiled_types(delta_path):
        arguments["dataset_root"] = str((work / "dataset_tiled.h5").resolve())
    if _is_launching_process():
        _prepare_work_dir(work, settings.fingerprint(arguments, delta_path, frame_splits))
        splits.save_splits(frame_splits, work / "split.npz")
        if arguments["dataset_root"] != str(Path(delta_path).resolve()):
            dataset.write_tiled_copy(delta_path, arguments["dataset_root"])
        settings.write_arguments(arguments, work / "train.yaml")
    args = settings.parse_arguments(work / "train.yaml")
    log.info("frames: train %d, val %d, test %d (%s split)",
             *(len(frame_splits[f"idx_{s}"]) for s in splits.SPLIT_NAMES), train["split"])  # fmt: skip

    result = fit.fit(args, device, work)
    if not result["is_global_zero"]:
        return None  # the other DDP ranks leave the artifacts to rank 0
    split = {"mode": train["split"], "indices": str(work / "split.npz"),
             "data_fraction": train["data_fraction"]}  # fmt: skip
    split["replicas"] = dataset.split_replicas(groups, frame_splits)
    clean = delta_path_clean or delta_path
    clean_groups = dataset.frame_table(clean)
    test_frames = dataset.source_frames(delta_path, groups, clean_groups, frame_splits["idx_test"])
    return _write_artifacts(result, outputs, kind, clean, mapped_paths, clean_groups,
                            frame_splits, split, device, work, test_frames)  # fmt: skip


def _is_launching_process() -> bool:
    """False in the extra DDP processes Lightning starts; they find the work folder ready."""
    return os.environ.get("LOCAL_RANK", "0") == "0" and os.environ.get("NODE_RANK", "0") == "0"


def _prepare_work_dir(work: Path, fingerprint: str) -> None:
    """Keep the work folder only when it belongs to the same run (same settings and data)."""
    stamp = work / "fingerprint.txt"
    if stamp.is_file() and stamp.read_text().strip() == fingerprint:
        return
    if work.exists():
        log.info("settings or data changed since %s was written: training starts over", work)
    fit.reset_work_dir(work)
    stamp.write_text(fingerprint + "\n")


def _write_artifacts(result, outputs, kind, delta_path, mapped_paths, groups, frame_splits,
                     split, device, work, test_frames) -> dict:  # fmt: skip
    torch_device = "cuda" if device.accelerator == "gpu" else "cpu"
    network = evaluate.load_network(result["best"], device=torch_device)
    report = evaluate.test_report(
        network, delta_path, mapped_paths, groups, test_frames, device=torch_device
    )
    report.update(
        model=kind,
        split=split,
        frames={s: int(len(frame_splits[f"idx_{s}"])) for s in splits.SPLIT_NAMES},
        epochs=len(result["history"]),
        best_epoch=_best_epoch(result["history"]),
    )
    with atomic_path(outputs.checkpoint) as tmp:
        shutil.copyfile(result["best"], tmp)
    curves.write_metrics(result["history"], outputs.metrics)
    curves.plot_learning_curve(result["history"], outputs.curve, title=f"{kind} model")
    with atomic_path(outputs.test) as tmp:
        tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    # a finished run leaves no resume point, so a forced rerun trains afresh
    fit.clear_checkpoints(work)
    return report


def _best_epoch(history):
    finite = [r for r in history if math.isfinite(r["val_loss"])]
    return min(finite, key=lambda r: r["val_loss"])["epoch"] if finite else None


def adaptive_groups(config: dict, groups) -> frozenset:
    """The proteins among `groups` whose all-atom data were sampled adaptively."""
    from ..config import aa_settings, is_adaptive

    names = {p["name"] for p in config["proteins"]}
    return frozenset(g.name for g in groups
                     if g.name in names and is_adaptive(aa_settings(config, g.name)))  # fmt: skip
