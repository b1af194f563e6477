"""config/test.yaml through a real SLURM (profiles/slurm, snakemake-executor-plugin-slurm)
gives the artifacts of a local run.

Needs a running SLURM: `bash tests/slurm/setup_slurm.sh` (root) starts a single-node one.
Without it the test is skipped; with CGTHERMO_REQUIRE_SLURM=1 it fails instead.
"""

import fnmatch
import json
import os
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from slurm.snakemake_plan import REPO, run_snakemake, snakemake_env

pytestmark = pytest.mark.slurm

TEST_CONFIG = REPO / "config" / "test.yaml"

# Artifacts that are a deterministic function of the config on one machine: the same
# numbers whether a SLURM job or the local run computed them. The rest (trained
# networks and what depends on them, figures, checkpoints, timings) is only checked
# to exist in both runs.
DETERMINISTIC = [
    "*/aa/structure.pdb",
    "*/aa/system.xml",
    "*/aa/starts/*.pdb",
    "*/aa/md/*.h5",
    "*/cg/dataset.h5",
    "*/cg/topology.pdb",
    "*/prior/prior.yaml",
    "*/cg/delta.h5",
]


def slurm_cpus():
    """CPUs of the SLURM node when it answers and takes jobs, else None."""
    try:
        proc = subprocess.run(
            ["sinfo", "--noheader", "--Node", "--format=%T %c"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None
    fields = proc.stdout.split()
    if proc.returncode != 0 or len(fields) < 2 or not fields[0].startswith(("idle", "mixed")):
        return None
    return int(fields[1])


@pytest.fixture(scope="module")
def cpus():
    found = slurm_cpus()
    if found is None:
        message = "no SLURM node answers `sinfo`: run `bash tests/slurm/setup_slurm.sh` as root"
        if os.environ.get("CGTHERMO_REQUIRE_SLURM") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def slurm_env():
    """Jobs run on the node's default partition without account, CPUs only."""
    env = snakemake_env(CGTHERMO_SLURM_GPUS="0")
    for name in ("CGTHERMO_SLURM_ACCOUNT", "CGTHERMO_SLURM_PARTITION", "CGTHERMO_SLURM_GPU_PARTITION"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cpus):
    """The same config run locally and through SLURM, each in its own working directory
    (results, logs, benchmarks and .snakemake apart)."""
    base = tmp_path_factory.mktemp("slurm_e2e")
    local, cluster = base / "local", base / "slurm"
    local.mkdir()
    cluster.mkdir()
    started = time.monotonic()
    local_log = run_snakemake(
        ["--workflow-profile", REPO / "profiles/default", "--cores", cpus,
         "--configfile", TEST_CONFIG],
        cwd=local,
    )  # fmt: skip
    local_s = time.monotonic() - started
    started = time.monotonic()
    cluster_log = run_snakemake(
        [
            "--workflow-profile", REPO / "profiles/slurm", "--configfile", TEST_CONFIG,
            # no accounting database here: squeue answers (MinJobAge is a day)
            "--slurm-status-command", "squeue",
            "--slurm-init-seconds-before-status-checks", "2",
            # with an executor --cores caps one job's CPUs (threads, group jobs): the
            # rules ask for up to 4 threads, the test node may have fewer
            "--cores", cpus,
        ],
        cwd=cluster,
        env=slurm_env(),
    )  # fmt: skip
    cluster_s = time.monotonic() - started
    print(f"local run {local_s:.0f} s, SLURM run {cluster_s:.0f} s")
    return local, cluster, cluster_log


def artifacts(workdir: Path) -> set[str]:
    results = workdir / "results"
    return {str(p.relative_to(results)) for p in results.rglob("*") if p.is_file()}


def submitted_job_ids(log: str) -> list[str]:
    marker = "has been submitted with SLURM jobid "
    return [line.split(marker)[1].split()[0] for line in log.splitlines() if marker in line]


def slurm_states(job_ids) -> dict:
    out = subprocess.run(
        ["squeue", "--states=all", "--noheader", "--format=%i %T", "--jobs", ",".join(job_ids)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split() for line in out.splitlines())


def pdb_atoms(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith(("ATOM", "HETATM"))]


def h5_items(path: Path) -> dict:
    """Every dataset and attribute of an HDF5 file by name."""
    items = {}
    with h5py.File(path, "r") as fh:
        for key, value in fh.attrs.items():
            items[f"@{key}"] = value
        def visit(name, obj):
            for key, value in obj.attrs.items():
                items[f"{name}@{key}"] = value
            if isinstance(obj, h5py.Dataset):
                items[name] = obj[()]
        fh.visititems(visit)
    return items


def same_content(a: Path, b: Path) -> bool:
    if a.suffix == ".pdb":
        return pdb_atoms(a) == pdb_atoms(b)
    if a.suffix == ".yaml":
        return yaml.safe_load(a.read_text()) == yaml.safe_load(b.read_text())
    if a.suffix == ".h5":
        left, right = h5_items(a), h5_items(b)
        return left.keys() == right.keys() and all(
            np.array_equal(np.asarray(left[k]), np.asarray(right[k])) for k in left
        )
    return a.read_bytes() == b.read_bytes()


def test_every_job_ran_as_a_completed_slurm_job(runs):
    _, _, log = runs
    job_ids = submitted_job_ids(log)
    assert job_ids, "no job was submitted to SLURM"
    assert "Group job unfold" in log  # the unfolding runs of both proteins in one job
    states = slurm_states(job_ids)
    assert sorted(states) == sorted(job_ids)
    assert set(states.values()) == {"COMPLETED"}


def test_slurm_run_writes_the_files_of_the_local_run(runs):
    local, cluster, _ = runs
    assert artifacts(cluster) == artifacts(local)
    for rel in ("summary.csv", "report.html"):
        assert rel in artifacts(cluster)


def test_deterministic_artifacts_hold_the_same_numbers(runs):
    local, cluster, _ = runs
    compared = 0
    for rel in sorted(artifacts(local)):
        if any(fnmatch.fnmatch(rel, pattern) for pattern in DETERMINISTIC):
            assert same_content(local / "results" / rel, cluster / "results" / rel), rel
            compared += 1
    assert compared >= 8


def test_summary_has_the_same_rows(runs):
    local, cluster, _ = runs
    def rows(workdir):
        lines = (workdir / "results" / "summary.csv").read_text().splitlines()
        return [line.split(",")[:2] for line in lines]
    assert rows(cluster) == rows(local)


def test_trained_models_report_finite_test_errors(runs):
    _, cluster, _ = runs
    for path in (cluster / "results").rglob("test.json"):
        values = json.loads(path.read_text())
        numbers = [v for v in values.values() if isinstance(v, (int, float))]
        assert numbers and np.all(np.isfinite(numbers)), path
