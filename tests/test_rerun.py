"""Rerunning one target: forcing one protein's training replans that protein's
downstream jobs and nothing of the other protein or the multi-protein model."""

import os
import time
from pathlib import Path

import pytest
import yaml
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



def test_more_networks_add_trainings_and_leave_the_first_ones_params(tmp_path):
    """train.networks: 2 plans a second training of every network model, which its CG run
    reads; the first training's params do not mention the count, so raising it reruns no
    training already done (with provenance, the new input reruns only the CG runs)."""
    from cgthermo import config as cgconfig

    config = yaml.safe_load(TEST_CONFIG.read_text())
    config["train"] = {**config.get("train", {}), "networks": 2}
    path = tmp_path / "networks.yaml"
    path.write_text(yaml.safe_dump(config))
    jobs = dry_run(path, tmp_path / "results", cwd=tmp_path)
    draws = {(job.rule, job.protein or job.wildcards.get("group")) for job in jobs
             if job.rule in ("train_draw", "train_multi_draw")}  # fmt: skip
    assert draws == {("train_draw", "cln"), ("train_draw", "pep"), ("train_multi_draw", "multi")}
    for job in jobs:
        if job.rule == "cg_sim":
            reads_draw = any("/draw1/model.ckpt" in str(p) for p in job.input)
            assert reads_draw == (job.wildcards["model"] != "prior_only"), job.wildcards
    one, two = (cgconfig.result_settings(cgconfig.validate({**config, "train": {"networks": n}}),
                                         "train") for n in (1, 2))  # fmt: skip
    assert one == two
