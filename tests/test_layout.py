"""The package's structure reads as the pipeline: every module imports only the ground floor
and the stages before its own, no two modules import each other round a cycle, and
Snakemake's parse of the workflow loads no torch."""

import ast
import subprocess
import sys
from pathlib import Path

from slurm.snakemake_plan import REPO, SNAKEFILE, snakemake_env

PACKAGE = REPO / "src" / "cgthermo"
# the rooms in the order they may import: each only from those before it (and itself).
# Ground floor first, then the stages in pipeline order, then the load-time checks that
# look at every stage's inputs.
FLOORS = ["errors", "units", "seeds", "paths", "io", "residues", "config", "resources", "rulelog", "cgtopology",
          "forcefield",
          "aa", "cgmap", "prior", "train", "cgsim", "analysis", "adaptive", "structures", "predict",
          "settingchecks", "preflight", "configdoc"]  # fmt: skip


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """cgthermo modules `path` imports anywhere in it (function-level imports included)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if is_module(candidate) else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.split(".")[0] == "cgthermo" and m != name}


def is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def graph() -> dict[str, set[str]]:
    return {module_name(p): imported_modules(p) for p in PACKAGE.rglob("*.py")}


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "cgthermo"


def test_every_room_imports_only_the_floors_below_it():
    edges = graph()
    assert {room(m) for m in edges} - {"cgthermo"} == set(FLOORS), "place new rooms in FLOORS"
    upward = sorted(f"{m} imports {d}" for m, deps in edges.items() for d in deps
                    if room(d) != "cgthermo" and room(m) != "cgthermo"
                    and FLOORS.index(room(d)) > FLOORS.index(room(m)))  # fmt: skip
    assert upward == []


def test_no_module_imports_itself_round_a_cycle():
    edges = graph()
    # a package's own __init__ is imported with each of its modules: leave those edges out
    edges = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in edges.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(module, path):
        state[module] = 1
        for dep in sorted(edges.get(module, ())):
            if state.get(dep) == 1:
                cycles.append(" -> ".join(path[path.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, path + [dep])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_workflow_parses_without_torch(tmp_path):
    """A dry run of the test config loads the workflow and plans every job: torch (1.6 s of
    a 2-second parse once) must wait for the jobs that need it."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "snakemake", "--snakefile", str(SNAKEFILE),
         "--configfile", str(REPO / "config" / "test.yaml"), "-n", "--cores", "1"],
        cwd=tmp_path, env=snakemake_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "rule train" in proc.stdout and "rule cg_sim" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}  # fmt: skip
    assert "cgthermo.train.rules" in imported
    assert not {"torch", "torchmd", "torchmdnet", "openmm"} & imported


def test_the_manual_and_the_record_stay_short_and_complete():
    """README is a manual (at most 200 lines); benchmarks/RESULTS.md the current record (at
    most 400) with a section for every benchmark script."""
    readme = (REPO / "README.md").read_text().splitlines()
    results = (REPO / "benchmarks" / "RESULTS.md").read_text()
    assert len(readme) <= 200 and len(results.splitlines()) <= 400
    scripts = sorted(p.name for p in (REPO / "benchmarks").glob("*.py"))
    missing = [name for name in scripts if f"## {name}:" not in results]
    assert missing == [], f"benchmarks/RESULTS.md has no section for {missing}"
