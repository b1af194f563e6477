"""Train/validation/test splits that keep time-correlated frames on one side.

Neighbouring MD frames are nearly identical, so a split by random frame puts
near-copies of validation frames into training and makes the validation error
look better than it is. We split by contiguous time blocks within each replica
(default) or by whole replicas, per protein group so that every protein of a
multi-protein model has its own validation and test frames.
"""

import numpy as np

from ..errors import CgthermoError
from .dataset import GroupFrames

SPLIT_NAMES = ("train", "val", "test")


def time_blocks(group: GroupFrames, blocks_per_replica: int) -> list[np.ndarray]:
    """Global frame indices cut into contiguous time blocks within each replica."""
    blocks = []
    for replica in np.unique(group.replica):
        local = np.flatnonzero(group.replica == replica)
        local = local[np.argsort(group.time[local], kind="stable")]
        pieces = min(blocks_per_replica, len(local))
        blocks.extend(group.offset + chunk for chunk in np.array_split(local, pieces))
    return blocks


def replica_units(group: GroupFrames) -> list[np.ndarray]:
    """Global frame indices of each whole replica."""
    return [group.offset + np.flatnonzero(group.replica == r) for r in np.unique(group.replica)]


def _assign_units(units, sizes_wanted, rng, label) -> dict:
    """Shuffle the units and fill test, then validation, to their frame targets; the rest trains.

    A set with a non-zero target gets at least one unit, and training keeps at
    least one, so no set is silently empty.
    """
    order = rng.permutation(len(units))
    wanted_sets = [name for name in ("test", "val") if sizes_wanted[name] > 0]
    if len(units) < len(wanted_sets) + 1:
        raise CgthermoError(
            f"{label} has {len(units)} split units, too few for train/{'/'.join(wanted_sets)}",
            "use more replicas or frames, split: time-block, or a larger train.split_blocks",
        )
    chosen = {"train": [], "val": [], "test": []}
    position = 0
    for name in wanted_sets:
        taken = 0
        # units still owed to the later sets and to training
        reserve = len(wanted_sets) - wanted_sets.index(name)
        while taken < sizes_wanted[name] and position < len(order) - reserve:
            chosen[name].append(units[order[position]])
            taken += len(units[order[position]])
            position += 1
    chosen["train"] = [units[i] for i in order[position:]]
    return {
        name: np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
        for name, parts in chosen.items()
    }


def make_splits(
    groups: list[GroupFrames],
    val_size: float,
    test_size: float,
    mode: str = "time-block",
    blocks_per_replica: int = 10,
    seed: int = 0,
) -> dict:
    """idx_train, idx_val, idx_test over the whole dataset (torchmd-net's frame numbering)."""
    if not 0 <= val_size < 1 or not 0 <= test_size < 1 or val_size + test_size >= 1:
        raise CgthermoError(
            f"config keys 'train.val_size' {val_size} and 'train.test_size' {test_size} leave no training frames",
            "use fractions whose sum is below 1",
        )
    if val_size <= 0:
        raise CgthermoError(
            "config key 'train.val_size' is 0, but early stopping and the best checkpoint need validation frames",
            "set a validation fraction such as 0.05",
        )
    rng = np.random.default_rng(seed)
    parts = {name: [] for name in SPLIT_NAMES}
    for group in groups:
        if mode == "replica":
            units = replica_units(group)
        elif mode == "time-block":
            units = time_blocks(group, blocks_per_replica)
        else:
            raise CgthermoError(
                f"config key 'train.split' is '{mode}'", "use 'time-block' or 'replica'"
            )
        wanted = {"val": round(val_size * group.frames), "test": round(test_size * group.frames)}
        wanted["val"] = max(wanted["val"], 1)
        label = f"protein '{group.name}' ({mode} split)"
        for name, idx in _assign_units(units, wanted, rng, label).items():
            parts[name].append(idx)
    return {
        f"idx_{name}": np.sort(np.concatenate(parts[name])).astype(np.int64) for name in SPLIT_NAMES
    }


def save_splits(splits: dict, path) -> None:
    np.savez(path, **splits)

