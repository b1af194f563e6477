"""The OpenMP wait policy of every stage: threads that sleep while they wait, so that a job
beside other work slows in proportion to the CPU it gets (benchmarks/train_competition.py
measures it). The runtime reads the policy once, when torch loads it, so the package must
set it before any stage imports torch."""

import ast
import os
import subprocess
import sys

import pytest
from slurm.snakemake_plan import REPO


def policy_after_imports(first: str, env_policy: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if env_policy is not None:
        env["OMP_WAIT_POLICY"] = env_policy
    code = (f"import {first}, torch, os; torch.ones(4).sum(); "
            "print(os.environ.get('OMP_WAIT_POLICY', 'unset'))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True, cwd=REPO)  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def test_importing_the_package_makes_waiting_threads_sleep():
    assert policy_after_imports("cgthermo", None) == "PASSIVE"


def test_a_policy_the_user_set_is_kept():
    assert policy_after_imports("cgthermo", "ACTIVE") == "ACTIVE"


def first_import(script) -> str:
    tree = ast.parse(script.read_text())
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            return node.module or ""
        if isinstance(node, ast.Import):
            return node.names[0].name
    return ""


@pytest.mark.parametrize("script", sorted((REPO / "workflow" / "scripts").glob("*.py")),
                         ids=lambda p: p.name)
def test_every_rule_script_imports_the_package_before_anything_else(script):
    assert first_import(script).split(".")[0] == "cgthermo", (
        f"{script.name} must import cgthermo first, so that torch loads OpenMP under its policy")
