"""Shared pytest settings: small thread counts so tests behave on 2-core CI machines."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENMM_CPU_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture
def one_torch_thread():
    """torch on one thread for the test: small tensors run faster so on a 2-core machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SNAKEMAKE_OUTPUT = "snakemake_output.txt"


@pytest.fixture(scope="session")
def test_config_run(tmp_path_factory) -> Path:
    """One local run of config/test.yaml through Snakemake (every stage), shared by the
    end-to-end tests; returns its working directory (results/ and logs/, with the per-rule
    timings in logs/benchmarks/, and what Snakemake printed in SNAKEMAKE_OUTPUT)."""
    import sys

    sys.path.insert(0, str(REPO / "tests"))
    from slurm.snakemake_plan import run_snakemake

    workdir = tmp_path_factory.mktemp("test_config_run")
    printed = run_snakemake(
        ["--workflow-profile", REPO / "profiles/default", "--cores", 2,
         "--configfile", REPO / "config/test.yaml"],
        cwd=workdir,
    )  # fmt: skip
    (workdir / SNAKEMAKE_OUTPUT).write_text(printed)
    return workdir
