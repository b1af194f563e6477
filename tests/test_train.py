"""Train stage: torchmd-net learns known delta forces, checkpoints load, resume continues."""

import csv
import json
import logging
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from helpers import train_synthetic as synthetic

from cgthermo.config import validate
from cgthermo.train import Outputs, evaluate, train_model

SMALL_NET = {
    "embedding_dimension": 32,
    "num_layers": 2,
    "num_rbf": 16,
    "batch_size": 16,
    "inference_batch_size": 128,
    "lr": 2.0e-3,
    "device": "cpu",
}


def small_config(names, **train):
    proteins = [{"name": n, "sequence": "YAGAWAGY"} for n in names]
    return validate({"proteins": proteins, "seed": 11, "train": {**SMALL_NET, **train}})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One protein-specific model trained for a few epochs on a known pair potential."""
    folder = tmp_path_factory.mktemp("train")
    protein = synthetic.make_protein(
        "syn", [4, 1, 2, 1, 7, 1, 2, 4], replicas=3, frames_per_replica=200, seed=1, noise=0.5
    )
    paths = synthetic.write_pair(folder / "data", [protein])
    outputs = Outputs.in_folder(folder / "model")
    config = small_config(["syn"], num_epochs=6)
    report = train_model(config, "specific", paths["delta"], paths["mapped"], outputs, "syn")
    return {"protein": protein, "outputs": outputs, "report": report, "folder": folder}


def read_metrics(path):
    with open(path) as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def test_learns_known_pair_forces(trained):
    """Validation force MSE falls well below the variance of the delta forces."""
    delta_var = float(trained["protein"]["delta"].var())
    rows = read_metrics(trained["outputs"].metrics)
    assert [r["epoch"] for r in rows] == list(range(6))
    best_val = min(r["val_loss"] for r in rows)
    assert best_val / delta_var < 0.5
    assert rows[-1]["val_loss"] < rows[0]["val_loss"]
    # test set: the network removes most of the delta force the prior leaves
    report = json.loads(trained["outputs"].test.read_text())
    assert report["full_model"]["rmse"] < 0.7 * report["prior_only"]["rmse"]
    assert report["delta_variance_explained"] > 0.5
    assert report["frames"] == {"train": 500, "val": 40, "test": 60}
    # prior_only error is |delta| on the test frames, by definition
    test_idx = np.load(trained["outputs"].checkpoint.parent / "work" / "split.npz")["idx_test"]
    delta_test = trained["protein"]["delta"][test_idx].astype(np.float64)
    assert report["prior_only"]["rmse"] == pytest.approx(np.sqrt((delta_test**2).mean()), rel=1e-6)
    assert trained["outputs"].curve.stat().st_size > 1000
    # the finished run leaves no resume point behind
    assert not list((trained["outputs"].checkpoint.parent / "work").glob("*.ckpt"))


def test_checkpoint_loads_and_gives_conservative_forces_in_data_units(trained):
    """load_model(derivative=True) returns (beads, 3) forces, −∇E, close to the delta forces."""
    from torchmdnet.models.model import load_model

    model = load_model(str(trained["outputs"].checkpoint), derivative=True)
    protein = trained["protein"]
    frame = protein["pos"][7]
    z = torch.as_tensor(protein["types"])
    pos = torch.as_tensor(frame, dtype=torch.float32)
    energy, forces = model(z, pos, batch=torch.zeros(len(z), dtype=torch.long))
    assert forces.shape == (len(z), 3)
    # forces are −dE/dx: central finite difference along one coordinate
    step = 1e-2
    shifted = [pos.clone() for _ in range(2)]
    shifted[0][3, 1] += step
    shifted[1][3, 1] -= step
    e_plus, e_minus = (model(z, p, batch=torch.zeros(len(z), dtype=torch.long))[0] for p in shifted)
    numeric = -(e_plus - e_minus).item() / (2 * step)
    assert numeric == pytest.approx(forces[3, 1].item(), abs=2e-3 + 0.02 * abs(numeric))
    # same units and scale as the training targets (kcal/mol/Å): errors well under the spread
    nnp = evaluate.predict_forces(model, protein["types"], protein["pos"][:200])
    resid = nnp - protein["delta"][:200]
    assert np.sqrt((resid**2).mean()) < 0.7 * protein["delta"][:200].std()
    np.testing.assert_allclose(nnp[7], forces.detach().numpy(), atol=1e-5)


def _launch(script, cwd):
    return subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


RUN_MULTI = """
import logging, sys, torch
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
from cgthermo.config import validate
from cgthermo.train import Outputs, train_model
cfg = validate({config!r})
paths = {paths!r}
train_model(cfg, "multi", paths["delta"], paths["mapped"], Outputs.in_folder("model"), "multi")
"""


def test_multi_model_resumes_after_kill(tmp_path, caplog):
    """A killed multi-protein training continues from work/last.ckpt with its history intact."""
    proteins = [
        synthetic.make_protein("a", [4, 1, 2, 7, 1, 4], 2, 60, seed=2),
        synthetic.make_protein("b", [1, 2, 1, 4, 7, 2, 1, 2, 4], 2, 60, seed=3),
    ]
    paths = synthetic.write_pair(tmp_path / "data", proteins)
    paths = {
        "delta": str(paths["delta"]),
        "mapped": {k: str(v) for k, v in paths["mapped"].items()},
    }
    long_run = small_config(["a", "b"], num_epochs=50, batch_size=8)
    proc = _launch(RUN_MULTI.format(config=long_run, paths=paths), tmp_path)
    logged = {}
    last = tmp_path / "model" / "work" / "last.ckpt"
    try:
        for line in proc.stdout:
            if line.startswith("epoch "):
                parts = line.split()
                logged[int(parts[1])] = float(parts[5])  # val loss
            if len(logged) >= 2 and last.is_file():
                break
        time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert last.is_file() and not (tmp_path / "model" / "test.json").exists()
    # Lightning stores the index of the last finished epoch
    done = torch.load(last, weights_only=False)["epoch"] + 1

    outputs = Outputs.in_folder(tmp_path / "model")
    resumed = small_config(["a", "b"], num_epochs=done + 2, batch_size=8)
    with caplog.at_level(logging.INFO, logger="cgthermo.train"):
        report = train_model(resumed, "multi", paths["delta"], paths["mapped"], outputs, "multi")
    trained_now = [int(m.split()[1]) for m in caplog.messages if m.startswith("epoch ")]
    assert trained_now == [done, done + 1]  # only the missing epochs ran
    rows = read_metrics(outputs.metrics)
    assert [r["epoch"] for r in rows] == list(range(done + 2))
    for epoch in range(done):  # history from before the kill survives in the checkpoint
        assert rows[epoch]["val_loss"] == pytest.approx(logged[epoch], rel=1e-4)
    # per-protein test errors for every protein of the multi model
    assert set(report["per_protein"]) == {"a", "b"}
    for name, protein in zip("ab", proteins, strict=True):
        per = report["per_protein"][name]
        assert per["force_components"] > 0
        assert per["force_components"] % (3 * len(protein["types"])) == 0
