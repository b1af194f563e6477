"""A cg_sim job killed for real: its workers end with it, and a rerun under another number
of workers continues to the frames of the uninterrupted run."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from helpers.cgsim_toy import chignolin_inputs, outputs_in

from cgthermo.cgsim import SimOutputs, SimSettings
from cgthermo.cgsim.checkpoint import STATE
from cgthermo.cgsim.run import simulate

JOB = Path(__file__).parent / "helpers" / "cgsim_job.py"
SETTINGS = dict(temperature_K=340.0, seed=11, replicas=4, batch_replicas=2, steps=2400,
                save_every=20, checkpoint_every=200, precision="float64", device="cpu")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def chignolin(tmp_path_factory):
    return chignolin_inputs(tmp_path_factory.mktemp("cln"))


@pytest.fixture(scope="module")
def uninterrupted(chignolin, tmp_path_factory):
    folder = tmp_path_factory.mktemp("whole")
    outputs = outputs_in(folder)
    simulate(chignolin, SimSettings(**SETTINGS), outputs, folder / "work")
    return outputs


def start_job(chignolin, folder: Path, workers: int, settings=SETTINGS) -> subprocess.Popen:
    spec = {"inputs": {k: str(v) if v else None
                       for k, v in dataclasses.asdict(chignolin).items() if k != "draws"},
            "settings": settings, "work": str(folder / "work"), "workers": workers,
            "outputs": {k: str(v) for k, v in dataclasses.asdict(outputs_in(folder)).items()},
            "log": str(folder / "job.log")}
    (folder / "spec.json").write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(Path(__file__).parents[1] / "src"), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, str(JOB), str(folder / "spec.json")], env=env)


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for_checkpoint(job: subprocess.Popen, work: Path, timeout=240.0) -> int:
    """Wait until the job has saved a checkpoint past its first; return its step."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert job.poll() is None, "the job ended before it could be killed"
        try:
            step = torch.load(work / STATE, weights_only=False)["step"]
        except (OSError, EOFError, RuntimeError, KeyError):
            step = 0
        if step >= 400:
            return step
        time.sleep(0.2)
    raise AssertionError("no checkpoint in time")


def read_bytes(outputs: SimOutputs) -> tuple:
    return tuple(getattr(outputs, n).read_bytes() for n in ("traj_xtc", "frames_csv", "log_csv"))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_job_leaves_no_worker_and_resumes_under_one_worker(
        tmp_path, chignolin, uninterrupted, sig):
    job = start_job(chignolin, tmp_path, workers=2)
    wait_for_checkpoint(job, tmp_path / "work")
    workers = children_of(job.pid)
    assert len([w for w in workers if alive(w)]) >= 2
    job.send_signal(sig)
    job.wait(timeout=30)
    deadline = time.monotonic() + 20
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(w) for w in workers), "a worker outlived its parent"
    assert not outputs_in(tmp_path).traj_xtc.exists()

    resumed = start_job(chignolin, tmp_path, workers=1)
    assert resumed.wait(timeout=600) == 0
    assert read_bytes(outputs_in(tmp_path)) == read_bytes(uninterrupted)
    log = (tmp_path / "job.log").read_text()
    assert "earlier attempts at this run" in log and "resuming from the checkpoint" in log
    assert not (tmp_path / "work").exists()


def test_unusable_checkpoint_is_one_warning(tmp_path, chignolin, caplog):
    """A checkpoint of other settings is not resumed, and the log says why in one line."""
    settings = dict(SETTINGS, steps=400)
    simulate_args = (chignolin, SimSettings(**settings), outputs_in(tmp_path), tmp_path / "work")
    job = start_job(chignolin, tmp_path, workers=1, settings=dict(SETTINGS, seed=12))
    wait_for_checkpoint(job, tmp_path / "work")
    job.kill()
    job.wait()
    with caplog.at_level("WARNING", logger="cgthermo.cgsim"):
        simulate(*simulate_args)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "cannot resume" in warnings[0]
    assert "settings, inputs or start structures differ" in warnings[0]


def test_killed_exchange_run_resumes_to_the_uninterrupted_swaps(tmp_path, chignolin):
    """Replica exchange is exact under resume: the swap streams, counts and walkers are in the
    checkpoint, so a killed run continued under another number of workers writes the bytes
    of the uninterrupted run, swap history included."""
    settings = dict(SETTINGS, sampler="exchange",
                    exchange={"temperatures": 2, "highest_factor": 1.3, "every": 10})
    whole = tmp_path / "whole"
    simulate(chignolin, SimSettings(**settings), outputs_in(whole), whole / "work")
    killed = tmp_path / "killed"
    killed.mkdir()
    job = start_job(chignolin, killed, workers=2, settings=settings)
    wait_for_checkpoint(job, killed / "work")
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=30)
    assert start_job(chignolin, killed, workers=1, settings=settings).wait(timeout=600) == 0
    assert read_bytes(outputs_in(killed)) == read_bytes(outputs_in(whole))
    assert "resuming from the checkpoint" in (killed / "job.log").read_text()
