"""Training input at scale: torchmd-net reads a file above train.dataset_preload_limit from
disk a frame at a time, with data-loader workers, and learns exactly what it learns from the
preloaded file; one multi-protein file with twelve bead counts trains as one model."""

import numpy as np
import pytest
from helpers import train_synthetic as synthetic
from test_train import read_metrics, small_config

from cgthermo.train import Outputs, settings, train_model

BEAD_TYPES = [4, 1, 2, 7, 1, 4, 2, 1, 7, 2, 4, 1, 2, 7, 1, 4]
NAMES = [f"p{beads}" for beads in range(5, 17)]  # twelve proteins of 5 … 16 beads


@pytest.fixture(scope="module")
def twelve(tmp_path_factory):
    folder = tmp_path_factory.mktemp("twelve")
    proteins = [synthetic.make_protein(name, BEAD_TYPES[: int(name[1:])], 2, 24, seed=k)
                for k, name in enumerate(NAMES)]  # fmt: skip
    return folder, synthetic.write_pair(folder / "data", proteins)


def train_twelve(folder, paths, name, **train):
    config = small_config(NAMES, num_epochs=2, batch_size=32, **train)
    outputs = Outputs.in_folder(folder / name)
    report = train_model(config, "multi", paths["delta"], paths["mapped"], outputs, "multi")
    return report, read_metrics(outputs.metrics)


def test_reading_from_disk_with_workers_learns_what_the_preloaded_file_does(twelve, capfd):
    folder, paths = twelve
    preloaded, preloaded_rows = train_twelve(folder, paths, "preloaded", num_workers="auto")
    assert "Preloading" in capfd.readouterr().out  # torchmd-net's word for reading it whole
    from_disk, disk_rows = train_twelve(folder, paths, "disk", dataset_preload_limit=0,
                                        num_workers=1)  # fmt: skip
    assert "Preloading" not in capfd.readouterr().out
    for before, after in zip(preloaded_rows, disk_rows, strict=True):
        assert after["val_loss"] == pytest.approx(before["val_loss"], rel=1e-5)
        assert after["train_loss"] == pytest.approx(before["train_loss"], rel=1e-5)
    # the one file trains one model over all twelve bead counts
    assert set(from_disk["per_protein"]) == set(NAMES)
    for name in NAMES:
        per = from_disk["per_protein"][name]
        assert per["force_components"] > 0
        assert per["force_components"] % (3 * int(name[1:])) == 0
        assert np.isfinite(per["full_model"]["rmse"])


def test_test_errors_read_a_block_at_a_time_add_up_to_the_whole(twelve):
    from helpers.untrained import write_untrained_checkpoint

    from cgthermo.train import dataset, evaluate

    folder, paths = twelve
    checkpoint = write_untrained_checkpoint(folder / "untrained.ckpt", embedding_dimension=16,
                                            num_layers=1, num_rbf=8)  # fmt: skip
    model = evaluate.load_network(checkpoint)
    groups = dataset.frame_table(paths["delta"])
    every = np.arange(groups[-1].offset + groups[-1].frames)
    for group in (groups[0], groups[-1]):
        whole = evaluate.group_errors(model, paths["delta"], paths["mapped"][group.name], group,
                                      every, block_frames=10**6)  # fmt: skip
        blocked = evaluate.group_errors(model, paths["delta"], paths["mapped"][group.name],
                                        group, every[::-1], block_frames=5)  # fmt: skip
        assert blocked.n == whole.n == group.frames * group.beads * 3
        for key, value in whole.sums.items():
            assert blocked.sums[key] == pytest.approx(value, rel=1e-9), key


def test_auto_workers_follow_the_preload_limit_and_the_cpus(tmp_path):
    data = tmp_path / "delta.h5"
    data.write_bytes(b"\0" * (3 * 1024**2))  # 3 MB
    assert settings.loader_workers("auto", data, preload_limit_mb=4, cpus=16) == 0
    assert settings.loader_workers("auto", data, preload_limit_mb=2, cpus=16) == 4
    assert settings.loader_workers("auto", data, preload_limit_mb=2, cpus=6) == 3
    assert settings.loader_workers("auto", data, preload_limit_mb=2, cpus=1) == 1
    assert settings.loader_workers(2, data, preload_limit_mb=4, cpus=16) == 2
