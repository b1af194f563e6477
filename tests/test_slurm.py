"""config/test.yaml through a real SLURM (profiles/slurm, snakemake-executor-plugin-slurm)
gives the artifacts of a local run.

Needs a running SLURM: `bash tests/slurm/setup_slurm.sh` (root) starts a single-node one.
With CGTHERMO_SETUP_SLURM=1 the test runs that script itself when no SLURM answers (it
installs packages: only on a machine meant for it, as CI); without a SLURM the test is
skipped, and with CGTHERMO_REQUIRE_SLURM=1 it fails instead.
"""

import fnmatch
import json
import os
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import torch
from slurm.snakemake_plan import REPO, run_snakemake, snakemake_env

pytestmark = pytest.mark.slurm

TEST_CONFIG = REPO / "config" / "test.yaml"
LOCAL_CORES = 2  # --cores of the shared local run (conftest.py: test_config_run)

# What the two runs must share, measured on a 2-core CPU machine with the same thread
# counts in both (--cores caps them alike):
# - bitwise the same: all-atom structures, trajectories and forces (OpenMM CPU
#   platform), the CG datasets, the priors, the trained weights (torch on CPU) and
#   hence the CG trajectories;
# - the same up to float rounding: the analysis (pyemma's multi-threaded k-means gives
#   cluster centres that differ in the last float32 digit) and what is computed from it;
# - only present in both: figures, the HTML report, training work files and checkpoint
#   metadata (they hold absolute paths and library versions), and the measured speeds in
#   the HDF5 attributes (MEASURED_ATTRS: wall-clock readings) and the metrics made from them
#   (MEASURED_METRICS: the CG speed and the throughput factors).
BITWISE = [
    "*/aa/structure.pdb",
    "*/aa/system.xml",
    "*/aa/starts/*.pdb",
    "*/aa/md/*.h5",
    "*/aa/md/*.xtc",
    "*/cg/dataset.h5",
    "*/cg/topology.pdb",
    "*/cg/delta.h5",
    "*/prior/prior.yaml",
    "*/cgsim/*/traj.xtc",
    "*/cgsim/*/log.csv",
    "*/cgsim/*/frames.csv",
]
MODEL_WEIGHTS = ["*/model.ckpt"]
TO_ROUNDING = ["*/analysis/reference.npz", "*/metrics.json", "*/test.json", "summary.csv"]
MEASURED_ATTRS = {"ns_per_day", "integration_s", "integration_ps", "aa_ns_per_day_per_core",
                  "aa_ns_per_day_per_core_replicas"}
MEASURED_METRICS = ("ns_per_day", "throughput_ratio", "effective_acceleration")
RTOL = 1e-4


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
    # busy counts as up (jobs of others queue before ours); "idle*" does not respond
    usable = ("idle", "mixed", "allocated", "completing")
    if proc.returncode != 0 or len(fields) < 2 or fields[0] not in usable:
        return None
    return int(fields[1])


@pytest.fixture(scope="module")
def cpus():
    found = slurm_cpus()
    # installing SLURM changes the machine: only where asked to (CI sets the variable)
    if found is None and os.environ.get("CGTHERMO_SETUP_SLURM") == "1":
        setup = subprocess.run(
            ["bash", str(REPO / "tests/slurm/setup_slurm.sh")],
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        print(setup.stdout[-2000:], setup.stderr[-2000:])
        found = slurm_cpus()
    if found is not None and found < LOCAL_CORES:
        pytest.skip(f"the SLURM node has {found} CPUs, the comparison needs {LOCAL_CORES}")
    if found is None:
        message = ("no SLURM node answers `sinfo`: run `bash tests/slurm/setup_slurm.sh` as root, "
                   "or set CGTHERMO_SETUP_SLURM=1 to let the test do it")
        if os.environ.get("CGTHERMO_REQUIRE_SLURM") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def slurm_env():
    """Jobs run on the node's default partition without account, CPUs only."""
    env = snakemake_env(CGTHERMO_SLURM_GPUS="0")
    for name in (
        "CGTHERMO_SLURM_ACCOUNT",
        "CGTHERMO_SLURM_PARTITION",
        "CGTHERMO_SLURM_GPU_PARTITION",
    ):
        env.pop(name, None)
    return env


def slurm_run(workdir: Path) -> str:
    """config/test.yaml through SLURM in WORKDIR; returns Snakemake's output."""
    return run_snakemake(
        [
            "--workflow-profile", REPO / "profiles/slurm", "--configfile", TEST_CONFIG,
            # no accounting database here: squeue answers (MinJobAge is a day)
            "--slurm-status-command", "squeue",
            "--slurm-init-seconds-before-status-checks", "2",
            # with an executor --cores caps one job's CPUs (threads, group jobs); the
            # local run's cap, so that both runs use the same thread counts
            "--cores", LOCAL_CORES,
        ],
        cwd=workdir,
        env=slurm_env(),
    )  # fmt: skip


@pytest.fixture(scope="module")
def runs(cpus, tmp_path_factory, test_config_run):  # cpus: SLURM is up
    """The local run of config/test.yaml shared with the other end-to-end tests
    (conftest.py) and the same config through SLURM, each in its own working directory:
    results, logs, benchmarks and .snakemake apart."""
    workdir = tmp_path_factory.mktemp("slurm_run")
    started = time.monotonic()
    cluster_log = slurm_run(workdir)
    print(f"SLURM run {time.monotonic() - started:.0f} s")
    return test_config_run, workdir, cluster_log


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


def matching(rels, patterns) -> list[str]:
    return sorted(r for r in rels if any(fnmatch.fnmatch(r, p) for p in patterns))


def pdb_atoms(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith(("ATOM", "HETATM"))]


def h5_items(path: Path) -> dict:
    """Every dataset and attribute of an HDF5 file by name."""
    items = {}

    def visit(name, obj):
        for key, value in obj.attrs.items():
            items[f"{name}@{key}"] = value
        if isinstance(obj, h5py.Dataset):
            items[name] = obj[()]

    with h5py.File(path, "r") as fh:
        visit("", fh)
        fh.visititems(visit)
    return items


def identical(a: Path, b: Path) -> bool:
    if a.suffix == ".pdb":  # the header carries the date
        return pdb_atoms(a) == pdb_atoms(b)
    if a.suffix == ".h5":  # HDF5 files carry creation times
        left, right = h5_items(a), h5_items(b)
        return left.keys() == right.keys() and all(
            np.array_equal(np.asarray(left[k]), np.asarray(right[k]))
            for k in left
            if k.rpartition("@")[2] not in MEASURED_ATTRS
        )
    return a.read_bytes() == b.read_bytes()


def weights(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)["state_dict"]


def values(path: Path) -> dict:
    """The entries of an analysis artifact by name: arrays, numbers and strings."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    if path.suffix == ".csv":
        table = pd.read_csv(path)
        return {column: table[column].to_numpy() for column in table.columns}
    return flatten(json.loads(path.read_text()))


def flatten(tree, prefix="") -> dict:
    if isinstance(tree, dict):
        return {
            k: v for key, sub in tree.items() for k, v in flatten(sub, f"{prefix}{key}/").items()
        }
    return {prefix.rstrip("/"): tree}


def agree_to_rounding(left, right) -> bool:
    left, right = np.asarray(left), np.asarray(right)
    if left.dtype.kind in "fiu" and right.dtype.kind in "fiu":
        return left.shape == right.shape and np.allclose(left, right, rtol=RTOL, equal_nan=True)
    if left.shape != right.shape:
        return False
    # text columns (verdicts, reasons) are empty, i.e. NaN, on some rows: NaN != NaN
    missing = pd.isna(left)
    return bool(np.array_equal(missing, pd.isna(right))
                and np.array_equal(left[~missing], right[~missing]))


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
    assert {"summary.csv", "report.html"} <= artifacts(cluster)


def test_md_data_prior_and_cg_trajectories_are_bitwise_the_same(runs):
    local, cluster, _ = runs
    rels = matching(artifacts(local), BITWISE)
    assert len(rels) >= 30, rels
    for rel in rels:
        assert identical(local / "results" / rel, cluster / "results" / rel), rel


def test_trained_weights_are_the_same(runs):
    local, cluster, _ = runs
    rels = matching(artifacts(local), MODEL_WEIGHTS)
    assert len(rels) == 6, rels  # cln, pep and multi, two networks each (train.networks)
    for rel in rels:
        left, right = weights(local / "results" / rel), weights(cluster / "results" / rel)
        assert left.keys() == right.keys(), rel
        assert all(torch.equal(left[k], right[k]) for k in left), rel


def test_analysis_agrees_to_float_rounding(runs):
    local, cluster, _ = runs
    rels = matching(artifacts(local), TO_ROUNDING)
    assert len(rels) >= 12, rels
    for rel in rels:
        left, right = values(local / "results" / rel), values(cluster / "results" / rel)
        assert left.keys() == right.keys(), rel
        for key in left:
            if any(word in key for word in MEASURED_METRICS):
                continue
            assert agree_to_rounding(left[key], right[key]), f"{rel}: {key}"
