"""Train stage on bad input: one-line CgthermoError, no artifact left behind."""

import h5py
import numpy as np
import pytest
import torch
import yaml
from helpers import train_synthetic as synthetic

from cgthermo.config import validate
from cgthermo.errors import CgthermoError
from cgthermo.train import Outputs, settings, train_model


def config_for(names, models=None, **train):
    raw = {"proteins": [{"name": n, "sequence": "AAGA"} for n in names], "train": train}
    if models is not None:
        raw["models"] = models
    return validate(raw)


def expect_error(tmp_path, config, kind, delta, mapped, match):
    outputs = Outputs.in_folder(tmp_path / "model")
    with pytest.raises(CgthermoError, match=match) as err:
        train_model(config, kind, delta, mapped, outputs, "x")
    assert "\n" not in str(err.value)
    assert not [p for p in vars(outputs).values() if p.exists()]


@pytest.fixture
def good(tmp_path):
    protein = synthetic.make_protein("p", [1, 2, 4, 7], 2, 20, seed=1)
    return protein, synthetic.write_pair(tmp_path / "data", [protein])


def test_empty_group_is_rejected(tmp_path, good):
    _, paths = good
    with h5py.File(paths["delta"], "w") as h5:
        group = h5.create_group("p")
        group["types"] = np.array([1, 2, 4, 7])
        group["pos"] = np.zeros((0, 4, 3), np.float32)
        group["forces"] = np.zeros((0, 4, 3), np.float32)
    expect_error(
        tmp_path, config_for(["p"]), "specific", paths["delta"], paths["mapped"], "no frames"
    )


def test_file_without_groups_is_rejected(tmp_path, good):
    _, paths = good
    h5py.File(paths["delta"], "w").close()
    expect_error(
        tmp_path, config_for(["p"]), "specific", paths["delta"], paths["mapped"], "no protein group"
    )


def test_nan_forces_are_rejected(tmp_path, good):
    protein, paths = good
    protein["delta"][13, 2, 1] = np.nan
    synthetic.write_dataset(paths["delta"], [protein], "delta")
    expect_error(
        tmp_path,
        config_for(["p"]),
        "specific",
        paths["delta"],
        paths["mapped"],
        "NaN/inf forces.*frame 13",
    )


def test_delta_and_mapped_frames_must_match(tmp_path, good):
    protein, paths = good
    short = {
        k: (v[:10] if k in ("pos", "mapped", "delta", "replica", "time") else v)
        for k, v in protein.items()
    }
    synthetic.write_dataset(paths["mapped"]["p"], [short], "mapped")
    expect_error(
        tmp_path, config_for(["p"]), "specific", paths["delta"], paths["mapped"], "does not match"
    )


def test_model_names_the_config_does_not_define(tmp_path, good):
    _, paths = good
    args = (paths["delta"], paths["mapped"])
    expect_error(tmp_path, config_for(["p"], models=["prior_only", "specific"]), "multi", *args,
                 "model 'multi' is not in the config")  # fmt: skip
    expect_error(tmp_path, config_for(["p"]), "prior_only", *args, "not trained by the train stage")


def test_the_schema_lists_torchmd_nets_architectures():
    """train.model is refused at load unless torchmd-net builds it: the schema's list is
    torchmd-net's own."""
    from torchmdnet.models import __all_models__

    from cgthermo.config import load_schema

    listed = load_schema()["properties"]["train"]["properties"]["model"]["enum"]
    assert sorted(listed) == sorted(__all_models__)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_gpu_requested_without_gpu(tmp_path, good):
    _, paths = good
    expect_error(tmp_path, config_for(["p"], device="gpu"), "specific", paths["delta"],
                 paths["mapped"], "no CUDA GPU")  # fmt: skip


def test_device_choice():
    assert settings.resolve_device("auto", 1, available=0) == settings.Device("cpu", 1, "auto")
    assert settings.resolve_device("auto", 1, available=4) == settings.Device("gpu", 1, "auto")
    assert settings.resolve_device("gpu", 2, available=2) == settings.Device("gpu", 2, "ddp")
    assert settings.resolve_device("cpu", 2, available=2) == settings.Device("cpu", 1, "auto")
    with pytest.raises(CgthermoError, match="only 2 GPU"):
        settings.resolve_device("gpu", 3, available=2)


def test_torchmdnet_rejects_retired_keys(tmp_path):
    """Keys torchmd-net 3.x dropped (e.g. `label`) fail in one line, as torchmd-train would."""
    arguments = {"dataset": "HDF5", "label": "forces"}
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(arguments))
    with pytest.raises(CgthermoError, match="label"):
        settings.parse_arguments(path)


def test_written_arguments_are_torchmdnet_arguments(tmp_path):
    """Every key we write is one torchmd-train knows, with forces-only loss and our splits."""
    config = config_for(["p"], device="cpu")
    device = settings.resolve_device("cpu", 1)
    data = tmp_path / "d.h5"
    data.write_bytes(b"")
    arguments = settings.torchmdnet_arguments(
        config["train"], data, tmp_path / "s.npz", tmp_path, 5, device
    )
    settings.write_arguments(arguments, tmp_path / "train.yaml")
    args = settings.parse_arguments(tmp_path / "train.yaml")
    assert (args.y_weight, args.neg_dy_weight, args.derivative) == (0.0, 1.0, True)
    assert args.splits.endswith("s.npz") and args.ngpus == 1
    assert args.max_num_neighbors >= 64
    assert (args.embedding_dimension, args.num_layers, args.num_rbf) == (128, 4, 18)
    assert (args.cutoff_lower, args.cutoff_upper, args.activation) == (3.0, 12.0, "tanh")


def test_work_folder_of_other_settings_is_not_resumed(tmp_path, good):
    """A last.ckpt from other settings (or other data or split) must not be resumed."""
    from cgthermo.train import dataset, run, splits

    _, paths = good
    groups = dataset.frame_table(paths["delta"])
    device = settings.resolve_device("cpu", 1)
    split = splits.make_splits(groups, 0.1, 0.1, seed=1)

    def stamp(lr, frame_splits=split, epochs=5):
        train = {**config_for(["p"])["train"], "lr": lr, "num_epochs": epochs}
        args = settings.torchmdnet_arguments(train, paths["delta"], "s.npz", tmp_path, 1, device)
        return settings.fingerprint(args, paths["delta"], frame_splits)

    work = tmp_path / "work"
    run._prepare_work_dir(work, stamp(1e-3))
    (work / "last.ckpt").write_text("state")
    run._prepare_work_dir(work, stamp(1e-3, epochs=50))  # a longer run may resume
    assert (work / "last.ckpt").exists()
    run._prepare_work_dir(work, stamp(1e-3, splits.make_splits(groups, 0.1, 0.1, seed=2)))
    assert not (work / "last.ckpt").exists()
    (work / "last.ckpt").write_text("state")
    run._prepare_work_dir(work, stamp(2e-3))
    assert not (work / "last.ckpt").exists()
