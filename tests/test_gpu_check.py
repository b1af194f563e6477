"""benchmarks/gpu_check.sh, the prepared device check, shrunk to run on this CPU: every step
finishes, and its figures are the ones a device run would report, consistent with each
other."""

import re
import subprocess

import pytest
from slurm.snakemake_plan import REPO

STEPS = ("env", "cg_batch", "architectures", "openmm")
CG_LINE = re.compile(r"cg_batch/(?P<model>[\w-]+): (?P<replicas>\d+) x (?P<beads>\d+) beads: "
                     r"step (?P<ms>[\d.]+) ms, (?P<rate>[\d.]+) steps/s, aggregate "
                     r"(?P<ns>[\d.]+) ns/day, network share (?P<share>[\d.]+)")


@pytest.fixture(scope="module")
def check(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("gpu_check")
    subprocess.run(["bash", "benchmarks/gpu_check.sh", "--shrink", "--out", str(out)],
                   cwd=REPO, check=True, capture_output=True, timeout=600)  # fmt: skip
    return (out / "gpu_check.txt").read_text()


def test_every_step_of_the_check_finishes(check):
    statuses = dict(re.findall(r"^## (\w+): exit (\d+)", check, flags=re.M))
    assert statuses == {step: "0" for step in STEPS}, check


def test_cg_readings_are_consistent_rates_for_both_architectures(check):
    readings = [m.groupdict() for m in CG_LINE.finditer(check)]
    assert {r["model"] for r in readings} == {"graph-network", "tensornet"}
    for r in readings:
        rate, ms = float(r["rate"]), float(r["ms"])
        assert rate == pytest.approx(1000.0 / ms, rel=0.01)
        # aggregate ns/day: replicas × 2 fs a step × steps a day
        ns = int(r["replicas"]) * 2e-6 * rate * 86400.0
        assert float(r["ns"]) == pytest.approx(ns, rel=0.01)
        # the network call is part of the step; timed apart on a machine that may be busy,
        # its share can pass 1 a little, never by a factor of 2
        assert 0.0 < float(r["share"]) < 2.0


def test_the_test_configs_fresh_run_saves_finite_frames(check):
    fresh = re.search(r"test config fresh on cpu: (\d+) replicas x (\d+) steps, (\d+) frames, "
                      r"all finite: (\w+)", check)  # fmt: skip
    assert fresh, check
    replicas, steps, frames, finite = fresh.groups()
    assert finite == "True"
    assert int(frames) > int(replicas)


def test_training_throughput_is_read_for_both_architectures(check):
    line = re.search(r"train stage, (\d+) frames x 1 epochs, batch 256: graph-network "
                     r"([\d.]+) frames/s, tensornet ([\d.]+) frames/s", check)  # fmt: skip
    assert line, check
    assert int(line.group(1)) > 0 and float(line.group(2)) > 0 and float(line.group(3)) > 0
