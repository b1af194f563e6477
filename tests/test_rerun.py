"""Rerunning one target: forcing one protein's training replans that protein's
downstream jobs and nothing of the other protein or the multi-protein model."""

import os
import re

import pytest
from slurm.snakemake_plan import REPO, dry_run, run_snakemake

TEST_CONFIG = REPO / "config" / "test.yaml"
# `snakemake --summary` lists every output file of the DAG, one per row
_SUMMARY_ROW = re.compile(r"^(\S+)\t")


def outputs_of_the_dag(results) -> list[str]:
    summary = run_snakemake(
        ["--summary", "--configfile", TEST_CONFIG, "--config", f"results={results}"]
    )
    rows = [_SUMMARY_ROW.match(line) for line in summary.splitlines()]
    return [row.group(1) for row in rows if row and row.group(1) != "output_file"]


@pytest.fixture(scope="module")
def finished_tree(tmp_path_factory):
    """A results tree in which every output of config/test.yaml exists with one common
    time stamp: to Snakemake's scheduler a finished run (the contents are never read)."""
    results = tmp_path_factory.mktemp("rerun") / "results"
    outputs = outputs_of_the_dag(results)
    assert len(outputs) > 20, outputs
    for path in map(REPO.joinpath, outputs):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        os.utime(path, (1.7e9, 1.7e9))
    return results


def test_a_finished_tree_plans_no_job(finished_tree):
    assert dry_run(TEST_CONFIG, finished_tree) == []


def test_forcing_one_proteins_model_replans_only_that_protein(finished_tree):
    model = finished_tree / "cln" / "model" / "specific" / "model.ckpt"
    jobs = dry_run(TEST_CONFIG, finished_tree, options=["--forcerun", model])
    assert [job.protein for job in jobs if job.rule == "train"] == ["cln"]
    assert {job.protein for job in jobs} == {"cln", None}  # None: summary and report
    assert {(job.rule, job.wildcards.get("model")) for job in jobs if job.protein} == {
        ("train", None),
        ("cg_sim", "specific"),
        ("analysis", "specific"),
    }
    assert {job.rule for job in jobs if not job.protein} == {"summary", "report"}


def test_forcing_a_rule_for_one_target_runs_that_job_alone(finished_tree):
    model = finished_tree / "cln" / "model" / "specific" / "model.ckpt"
    jobs = dry_run(TEST_CONFIG, finished_tree, options=["--forcerun", "train"], targets=[model])
    assert [(job.rule, job.protein) for job in jobs] == [("train", "cln")]
