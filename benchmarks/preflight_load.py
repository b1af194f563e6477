"""What the load-time input checks cost: their time against the whole dry run.

The workflow runs `cgthermo.preflight.check_config` when it loads, so every `snakemake`
call (and every SLURM job's own Snakemake) pays for it. For the paper config (twelve
proteins from sequences) and for the same twelve given as PDB files (each read and judged
at load), this times, in one run, alternating rounds:

  checks   check_config on the config, in this process (after a warm-up import)
  dry run  `snakemake -n` of the whole workflow with that config (DAG built, checks included)

and prints the median of each and checks ÷ dry run.

    python benchmarks/preflight_load.py [--repeats 3]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from cgthermo.aa.build import extended_peptide_pdb  # noqa: E402
from cgthermo.preflight import check_config  # noqa: E402


def paper_config() -> dict:
    with open(REPO / "config" / "paper.yaml") as fh:
        return yaml.safe_load(fh)


def as_pdb_files(config: dict, folder: Path) -> dict:
    """The same proteins, each given as a PDB file of its sequence (extended chain)."""
    proteins = []
    for entry in config["proteins"]:
        path = folder / f"{entry['name']}.pdb"
        path.write_text(extended_peptide_pdb(entry["sequence"]))
        proteins.append({k: v for k, v in entry.items() if k != "sequence"} | {"pdb": str(path)})
    return {**config, "proteins": proteins}


def time_checks(config: dict) -> float:
    start = time.perf_counter()
    check_config(config)
    return time.perf_counter() - start


def time_dry_run(config: dict, folder: Path) -> float:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
               "-d", str(folder / "run"), "--configfile", str(path), "--cores", "1", "-n", "-q"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        configs = {"paper (sequences)": paper_config(),
                   "paper (12 PDB files)": as_pdb_files(paper_config(), folder)}  # fmt: skip
        for config in configs.values():
            check_config(config)  # warm-up: imports
        print(f"{'config':24} {'checks (s)':>11} {'dry run (s)':>12} {'checks/dry run':>15}")
        for name, config in configs.items():
            checks, dry = [], []
            for _ in range(args.repeats):
                checks.append(time_checks(config))
                dry.append(time_dry_run(config, folder))
            c, d = statistics.median(checks), statistics.median(dry)
            print(f"{name:24} {c:11.3f} {d:12.2f} {c / d:15.3f}")


if __name__ == "__main__":
    main()
