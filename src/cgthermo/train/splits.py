"""Train/validation/test splits that keep time-correlated frames on one side.

Neighbouring MD frames are nearly identical, so a split by random frame puts
near-copies of validation frames into training and makes the validation error
look better than it is. We split by contiguous time blocks within each replica
(default) or by whole replicas, per protein group so that every protein of a
multi-protein model has its own validation and test frames.

A replica split depends only on the protein's replica numbers, the two fractions and the
protein's own seed (`seeds.replica_split`), never on the model: every model of a protein, and the
analysis that evaluates against the replicas no model was trained on, see the same split.
"""

import numpy as np

from ..errors import CgthermoError
from .dataset import GroupFrames

SPLIT_NAMES = ("train", "val", "test")


def time_blocks(group: GroupFrames, blocks_per_replica: int) -> list[np.ndarray]:
    """Global frame indices cut into contiguous time blocks within each replica. The saved
    times are cut, not the rows, so rows that share a time (noised copies of one frame) stay
    in one block; with one row per time the two are the same."""
    blocks = []
    for replica in np.unique(group.replica):
        local = np.flatnonzero(group.replica == replica)
        times = np.unique(group.time[local])
        pieces = min(blocks_per_replica, len(times))
        for chunk in np.array_split(times, pieces):
            inside = local[(group.time[local] >= chunk[0]) & (group.time[local] <= chunk[-1])]
            blocks.append(group.offset + inside[np.argsort(group.time[inside], kind="stable")])
    return blocks


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


def replica_counts(n_replicas: int, val_size: float, test_size: float) -> dict:
    """Whole replicas per set: the fractions of the replica count, rounded, at least one for
    validation and for a non-zero test fraction, and at least one left for training."""
    counts = {"val": max(1, round(val_size * n_replicas)),
              "test": max(1, round(test_size * n_replicas)) if test_size > 0 else 0}  # fmt: skip
    counts["train"] = n_replicas - counts["val"] - counts["test"]
    return counts


def replica_roles(replica_ids, val_size: float, test_size: float, seed: int,
                  label: str = "protein") -> dict:
    """{"train", "val", "test"}: sorted replica numbers of each set of a replica split."""
    ids = np.unique(np.asarray(replica_ids, dtype=np.int64))
    counts = replica_counts(len(ids), val_size, test_size)
    if counts["train"] < 1:
        raise CgthermoError(
            f"{label} has {len(ids)} replicas, too few for a replica split into "
            f"{counts['val']} validation, {counts['test']} test and at least one training replica",
            "use more all-atom replicas, smaller train.val_size/test_size, or split: time-block",
        )
    order = ids[np.random.default_rng(seed).permutation(len(ids))]
    test, val = order[: counts["test"]], order[counts["test"] : counts["test"] + counts["val"]]
    train = order[counts["test"] + counts["val"] :]
    return {name: sorted(int(r) for r in part)
            for name, part in (("train", train), ("val", val), ("test", test))}  # fmt: skip


def held_out_replicas(replica_ids, val_size: float, test_size: float, seed: int) -> list[int]:
    """The replicas a replica split keeps out of training (validation and test)."""
    roles = replica_roles(replica_ids, val_size, test_size, seed)
    return sorted(roles["val"] + roles["test"])




def _replica_split(group: GroupFrames, val_size: float, test_size: float, seed: int) -> dict:
    roles = replica_roles(group.replica, val_size, test_size, seed,
                          label=f"protein '{group.name}'")  # fmt: skip
    return {name: group.offset + np.flatnonzero(np.isin(group.replica, roles[name]))
            for name in SPLIT_NAMES}  # fmt: skip


def make_splits(
    groups: list[GroupFrames],
    val_size: float,
    test_size: float,
    mode: str = "time-block",
    blocks_per_replica: int = 10,
    seed: int = 0,
    replica_seeds: dict | None = None,
    train_fraction: float = 1.0,
    whole_replicas: frozenset = frozenset(),
) -> dict:
    """idx_train, idx_val, idx_test over the whole dataset (torchmd-net's frame numbering).

    A replica split takes each protein's seed from `replica_seeds` (by group name; default
    `seed` for every protein) and whole replicas in the proportions of `replica_counts`.
    `train_fraction` < 1 keeps only the start of every training replica (`leading_frames`).
    The replicas of the groups in `whole_replicas` (adaptive trajectories: short, and each
    the parent of others) are time blocks whole.
    """
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
            own_seed = (replica_seeds or {}).get(group.name, seed)
            for name, idx in _replica_split(group, val_size, test_size, own_seed).items():
                parts[name].append(idx)
            continue
        if mode == "time-block":
            units = time_blocks(group, 1 if group.name in whole_replicas else blocks_per_replica)
        else:
            raise CgthermoError(
                f"config key 'train.split' is '{mode}'", "use 'time-block' or 'replica'"
            )
        wanted = {"val": round(val_size * group.frames), "test": round(test_size * group.frames)}
        wanted["val"] = max(wanted["val"], 1)
        label = f"protein '{group.name}' ({mode} split)"
        for name, idx in _assign_units(units, wanted, rng, label).items():
            parts[name].append(idx)
    result = {
        f"idx_{name}": np.sort(np.concatenate(parts[name])).astype(np.int64) for name in SPLIT_NAMES
    }
    if train_fraction < 1:
        result["idx_train"] = leading_frames(groups, result["idx_train"], train_fraction)
    return result


def leading_frames(groups: list[GroupFrames], index: np.ndarray, fraction: float) -> np.ndarray:
    """The frames of `index` among the first `fraction` of each replica's saved times (all
    its times, whichever set they went to; at least one): what shorter all-atom runs of the
    same replicas would have given. Rows sharing a time (noised copies) stay together."""
    if not 0 < fraction <= 1:
        raise CgthermoError(f"config key 'train.data_fraction' is {fraction}",
                            "use a fraction in (0, 1]")  # fmt: skip
    keep = []
    for group in groups:
        local = group.local(index)
        for replica in np.unique(group.replica[local]):
            rows = local[group.replica[local] == replica]
            times = np.unique(group.time[group.replica == replica])
            last = times[max(1, int(np.ceil(fraction * len(times)))) - 1]
            keep.append(group.offset + rows[group.time[rows] <= last])
    return np.sort(np.concatenate(keep)).astype(np.int64) if keep else index


def save_splits(splits: dict, path) -> None:
    np.savez(path, **splits)

