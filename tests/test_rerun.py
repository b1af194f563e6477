"""Rerunning one target: forcing one protein's training replans that protein's
downstream jobs and nothing of the other protein or the multi-protein model."""

import os
import time
from pathlib import Path

import pytest
from slurm.snakemake_plan import REPO, dry_run

TEST_CONFIG = REPO / "config" / "test.yaml"


def depth_of_each_output(jobs) -> dict:
    """Steps from the workflow's sources to each output file (a job's outputs lie one
    step beyond the deepest of its inputs)."""
    producer = {path: job for job in jobs for path in job.output}
    depth = {}

    def job_depth(job):
        inputs = [producer[path] for path in job.input if path in producer]
        return 1 + max((job_depth(parent) for parent in inputs), default=0)

    for job in jobs:
        for path in job.output:
            depth[path] = job_depth(job)
    return depth


@pytest.fixture(scope="module")
def finished_tree(tmp_path_factory):
    """A results tree in which every output of config/test.yaml exists, each a second
    newer than its inputs and all newer than the rule scripts: to Snakemake's scheduler
    a finished run (the contents are never read)."""
    workdir = tmp_path_factory.mktemp("rerun")
    results = workdir / "results"
    depth = depth_of_each_output(dry_run(TEST_CONFIG, results, cwd=workdir))
    assert len(depth) > 20, depth
    stamp = time.time()
    for path, steps in depth.items():
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        os.utime(path, (stamp + steps, stamp + steps))
    return workdir


def plan(workdir, options=(), targets=()):
    return dry_run(TEST_CONFIG, workdir / "results", options, targets, cwd=workdir)


def test_a_finished_tree_plans_no_job(finished_tree):
    assert plan(finished_tree) == []


def test_forcing_one_proteins_model_replans_only_that_protein(finished_tree):
    model = finished_tree / "results" / "cln" / "model" / "specific" / "model.ckpt"
    jobs = plan(finished_tree, options=["--forcerun", model])
    assert [job.protein for job in jobs if job.rule == "train"] == ["cln"]
    assert {job.protein for job in jobs} == {"cln", None}  # None: summary and report
    assert {(job.rule, job.wildcards.get("model")) for job in jobs if job.protein} == {
        ("train", None),
        ("cg_sim", "specific"),
        ("analysis", "specific"),
        ("meanforce", "specific"),
        ("backmap", "specific"),
    }
    assert {job.rule for job in jobs if not job.protein} == {"summary", "report"}


def test_forcing_a_rule_for_one_target_runs_that_job_alone(finished_tree):
    model = finished_tree / "results" / "cln" / "model" / "specific" / "model.ckpt"
    jobs = plan(finished_tree, options=["--forcerun", "train"], targets=[model])
    assert [(job.rule, job.protein) for job in jobs] == [("train", "cln")]
