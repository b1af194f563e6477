"""Train/val/test splits: disjoint, complete, contiguous in time, per protein."""

import h5py
import numpy as np
import pytest
from helpers import train_synthetic as synthetic

from cgthermo.errors import CgthermoError
from cgthermo.train import dataset, splits


@pytest.fixture(scope="module")
def two_proteins(tmp_path_factory):
    """Two proteins, 4 replicas each; replica frames stored out of time order on purpose."""
    folder = tmp_path_factory.mktemp("splits")
    proteins = [
        synthetic.make_protein("a", [1, 2, 4, 7], 4, 100, seed=5),
        synthetic.make_protein("b", [4, 1, 7, 2, 1], 4, 80, seed=6),
    ]
    for protein in proteins:
        order = np.random.default_rng(0).permutation(len(protein["time"]))
        for key in ("pos", "mapped", "delta", "replica", "time"):
            protein[key] = protein[key][order]
    path = folder / "delta.h5"
    synthetic.write_dataset(path, proteins, "delta")
    return dataset.frame_table(path)


def set_of_each_frame(groups, result):
    total = sum(g.frames for g in groups)
    label = np.full(total, -1)
    for code, name in enumerate(splits.SPLIT_NAMES):
        idx = result[f"idx_{name}"]
        assert np.all(label[idx] == -1), f"{name} overlaps another set"
        label[idx] = code
    assert np.all(label >= 0), "some frames are in no set"
    return label


def test_time_blocks_are_disjoint_complete_and_contiguous(two_proteins):
    groups = two_proteins
    result = splits.make_splits(groups, 0.1, 0.2, "time-block", blocks_per_replica=10, seed=3)
    label = set_of_each_frame(groups, result)
    for group in groups:
        own = label[group.indices]
        # each protein gets its own validation and test frames, near the asked fractions
        assert abs((own == 1).mean() - 0.1) <= 0.1 + 1e-9
        assert abs((own == 2).mean() - 0.2) <= 0.1 + 1e-9
        for replica in np.unique(group.replica):
            mine = np.flatnonzero(group.replica == replica)
            in_time = own[mine[np.argsort(group.time[mine])]]
            # runs of one set along time are whole blocks: at most 10 runs, none shorter than a block
            cuts = np.flatnonzero(np.diff(in_time)) + 1
            runs = np.diff(np.concatenate([[0], cuts, [len(in_time)]]))
            assert len(runs) <= 10
            assert runs.min() >= len(in_time) // 10


def test_split_is_reproducible_and_seed_dependent(two_proteins):
    first = splits.make_splits(two_proteins, 0.1, 0.2, seed=3)
    again = splits.make_splits(two_proteins, 0.1, 0.2, seed=3)
    other = splits.make_splits(two_proteins, 0.1, 0.2, seed=4)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["idx_test"], other["idx_test"])


def test_replica_split_keeps_replicas_whole(two_proteins):
    groups = two_proteins
    result = splits.make_splits(groups, 0.25, 0.25, "replica", seed=1)
    label = set_of_each_frame(groups, result)
    for group in groups:
        sets_per_replica = [
            set(label[group.indices][group.replica == r]) for r in np.unique(group.replica)
        ]
        assert all(len(s) == 1 for s in sets_per_replica)
        assert {next(iter(s)) for s in sets_per_replica} == {0, 1, 2}


def test_replica_split_needs_three_replicas(tmp_path):
    protein = synthetic.make_protein("a", [1, 2, 4], 2, 30, seed=1)
    synthetic.write_dataset(tmp_path / "d.h5", [protein], "delta")
    groups = dataset.frame_table(tmp_path / "d.h5")
    with pytest.raises(CgthermoError, match="protein 'a' has 2 replicas, too few"):
        splits.make_splits(groups, 0.1, 0.1, "replica", seed=1)


def test_indices_follow_torchmdnet_frame_order(tmp_path):
    """Our global frame numbers address the same frames torchmd-net's HDF5 dataset returns."""
    from torchmdnet.datasets import HDF5

    proteins = [
        synthetic.make_protein("zeta", [1, 2, 4], 1, 5, seed=1),
        synthetic.make_protein("alpha", [4, 7, 1, 2], 1, 6, seed=2),
    ]
    path = tmp_path / "d.h5"
    synthetic.write_dataset(path, proteins, "delta")
    with h5py.File(path, "a") as h5:  # torchmd-net reads this group as metadata, not frames
        h5.create_group("_metadata")
    groups = dataset.frame_table(path)
    data = HDF5(str(path))
    assert len(data) == sum(g.frames for g in groups)
    for group in groups:
        source = next(p for p in proteins if p["name"] == group.name)
        for local, index in enumerate(group.indices):
            np.testing.assert_array_equal(data.get(int(index)).pos.numpy(), source["pos"][local])


def test_types_copy_where_torchmdnet_would_misread_them(tmp_path):
    """With as many frames as beads, torchmd-net takes (beads,) types as per-frame values."""
    from torchmdnet.datasets import HDF5

    protein = synthetic.make_protein("sq", [1, 2, 4, 7, 1], 1, 5, seed=1)
    path = tmp_path / "d.h5"
    synthetic.write_dataset(path, [protein], "delta")
    assert dataset.needs_tiled_types(path)
    assert HDF5(str(path)).get(0).z.shape != (5,)  # the trap
    copy = dataset.write_tiled_copy(path, tmp_path / "tiled.h5")
    assert not dataset.needs_tiled_types(copy)
    np.testing.assert_array_equal(HDF5(str(copy)).get(3).z.numpy(), [1, 2, 4, 7, 1])


@pytest.mark.parametrize("mode", ["replica", "time-block"])
def test_data_fraction_keeps_the_start_of_each_training_replica(two_proteins, mode):
    """A quarter of the data: the training frames within the first quarter of every
    replica's times (what a 4× shorter run would have saved), the same validation and test
    frames."""
    full = splits.make_splits(two_proteins, 0.25, 0.25, mode, seed=1)
    part = splits.make_splits(two_proteins, 0.25, 0.25, mode, seed=1, train_fraction=0.25)
    for name in ("val", "test"):
        np.testing.assert_array_equal(full[f"idx_{name}"], part[f"idx_{name}"])
    assert set(part["idx_train"]) < set(full["idx_train"])
    for group in two_proteins:
        inside = full["idx_train"][(full["idx_train"] >= group.offset)
                                   & (full["idx_train"] < group.offset + group.frames)]
        for replica in np.unique(group.replica[inside - group.offset]):
            rows = inside[group.replica[inside - group.offset] == replica]
            every_time = np.sort(group.time[group.replica == replica])
            cut = every_time[int(np.ceil(0.25 * len(every_time))) - 1]
            kept = np.intersect1d(rows, part["idx_train"])
            np.testing.assert_array_equal(kept, rows[group.time[rows - group.offset] <= cut])
            assert len(kept) > 0


def test_data_fraction_outside_zero_one_is_refused(two_proteins):
    with pytest.raises(CgthermoError, match="train.data_fraction"):
        splits.leading_frames(two_proteins, np.arange(10), 0.0)


def test_time_blocks_keep_rows_of_one_time_together(tmp_path):
    """Noised copies share their frame's time: no time block splits them."""
    protein = synthetic.make_protein("a", [1, 2, 4], 2, 50, seed=3)
    for key in ("pos", "mapped", "delta", "replica", "time"):
        protein[key] = np.repeat(protein[key], 3, axis=0)  # three rows per saved time
    synthetic.write_dataset(tmp_path / "d.h5", [protein], "delta")
    groups = dataset.frame_table(tmp_path / "d.h5")
    result = splits.make_splits(groups, 0.1, 0.2, "time-block", blocks_per_replica=7, seed=2)
    label = set_of_each_frame(groups, result)
    for replica in (0, 1):
        rows = groups[0].replica == replica
        for t in np.unique(groups[0].time[rows]):
            assert len(set(label[rows & (groups[0].time == t)])) == 1
