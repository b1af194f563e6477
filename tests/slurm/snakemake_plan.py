"""Run the workflow's Snakemake as a user would and read the jobs a dry-run plans."""

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "Snakefile"

# a job block of `snakemake --dry-run`: "rule train:" (or localrule/checkpoint) and
# indented "key: value" lines up to the next job
_JOB_HEADER = re.compile(r"^\s*(?:localrule|rule|checkpoint) (\w+):\s*$")
_JOB_FIELD = re.compile(r"^\s+(\w+): (.*)$")


@dataclass
class PlannedJob:
    rule: str
    wildcards: dict = field(default_factory=dict)
    input: list = field(default_factory=list)
    output: list = field(default_factory=list)

    @property
    def protein(self):
        return self.wildcards.get("protein")


# every workflow run of the tests breaks one CG replica on purpose (cgthermo.cgsim.faults):
# the last replica of pep's prior_only run, after 30 of its 40 frames; the analysis, report
# and predictions must finish with it reported, whichever replicas the CPU itself explodes
FORCED_EXPLOSION = "pep/prior_only:3@300"


def snakemake_env(**extra) -> dict:
    """The environment for a Snakemake child: this interpreter's bin first on PATH,
    so jobs (also those SLURM starts, sbatch exports the environment) find the same venv;
    and the forced explosion."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CGTHERMO_FAULT_EXPLODE"] = FORCED_EXPLOSION
    env.update(extra)
    return env


def run_snakemake(args, cwd=REPO, env=None, timeout=1800) -> str:
    """Run `snakemake ARGS` with the venv's Snakemake; return stdout+stderr, raise on failure."""
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), *map(str, args)]
    proc = subprocess.run(
        command,
        cwd=cwd,
        env=env or snakemake_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(map(str, args))} failed ({proc.returncode}):\n"
            + proc.stdout[-6000:]
        )
    return proc.stdout


def parse_wildcards(text: str) -> dict:
    return dict(item.split("=", 1) for item in text.split(", ") if "=" in item)


def planned_jobs(dry_run_output: str) -> list[PlannedJob]:
    """The jobs listed by `snakemake --dry-run` (group jobs included, `all` excluded)."""
    jobs = []
    for line in dry_run_output.splitlines():
        header = _JOB_HEADER.match(line)
        if header:
            jobs.append(PlannedJob(header.group(1)))
            continue
        fields = _JOB_FIELD.match(line)
        if fields and jobs:
            key, value = fields.groups()
            if key == "wildcards":
                jobs[-1].wildcards = parse_wildcards(value)
            elif key in ("input", "output"):
                setattr(jobs[-1], key, value.split(", "))
    return [job for job in jobs if job.rule != "all"]


def dry_run(configfile, results, options=(), targets=(), cwd=REPO) -> list[PlannedJob]:
    """Jobs planned for CONFIGFILE with its results under RESULTS.

    Targets follow `--` because `--config` would take them as further settings. Logs and
    benchmarks are relative to CWD: a benchmark file left there by another run counts
    as an output of the job (its time stamp too)."""
    args = ["--dry-run", *options, "--configfile", configfile, "--config", f"results={results}"]
    return planned_jobs(run_snakemake([*args, "--", *targets] if targets else args, cwd=cwd))
