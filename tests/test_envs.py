"""Each rule's conda environment (envs/*.yaml, used under `snakemake --sdm conda`) holds every
package its job can import: the rule script's stage function, and every cgthermo module
that function reaches, module-level and deferred imports alike."""

import ast
import re
import sys

import pytest
import yaml
from slurm.snakemake_plan import REPO
from test_layout import PACKAGE, imported_modules, is_module

# import name → the package an environment file lists for it (lightning comes with torchmd-net)
PACKAGES = {"torch": "torch", "torchmd": "torchmd", "torchmdnet": "torchmd-net",
            "openmm": "openmm", "pdbfixer": "pdbfixer", "mdtraj": "mdtraj", "pyemma": "pyemma",
            "h5py": "h5py", "pandas": "pandas", "scipy": "scipy", "matplotlib": "matplotlib",
            "yaml": "pyyaml", "jsonschema": "jsonschema", "PeptideBuilder": "PeptideBuilder",
            "Bio": "biopython", "lightning": "torchmd-net"}  # fmt: skip
# provided without being listed: the standard library, numpy (every listed package needs
# it), and cgthermo itself (from the checkout)
IMPLIED = {"numpy", "cgthermo", *sys.stdlib_module_names}


def rules() -> dict[str, tuple[str, str]]:
    """rule → (its conda env file, its script), from the .smk files."""
    found = {}
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"\n(?=(?:rule|checkpoint) )", smk.read_text()):
            name = re.match(r"(?:rule|checkpoint) (\w+):", block)
            env = re.search(r"conda:\s*\n\s*\"([^\"]+)\"", block)
            script = re.search(r"script:\s*\n\s*\"([^\"]+)\"", block)
            if name and script:
                assert env, f"rule {name.group(1)} has a script but no conda env"
                found[name.group(1)] = ((smk.parent / env.group(1)).resolve(),
                                        (smk.parent / script.group(1)).resolve())
    return found


def listed_packages(env_file) -> set[str]:
    names = set()
    for item in yaml.safe_load(env_file.read_text())["dependencies"]:
        for spec in item["pip"] if isinstance(item, dict) else [item]:
            names.add(re.split(r"[=<>\[ ]", spec, maxsplit=1)[0].lower())
    return names


def function_imports(module: str, function: str) -> set[str]:
    """The modules a stage function imports (its body's deferred imports)."""
    path = PACKAGE.parent.joinpath(*module.split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text())
    body = next(node for node in tree.body if isinstance(node, ast.FunctionDef)
                and node.name == function)  # fmt: skip
    package = module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(body):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] \
                if node.level else []  # fmt: skip
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if is_module(candidate) else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found | third_party(PACKAGE.parent.joinpath(*module.split(".")).with_suffix(".py"),
                               top_level_only=True)


def third_party(path, top_level_only: bool = False) -> set[str]:
    """Top-level names of what a file imports that is not cgthermo."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n != "cgthermo"}


def reached(start: set[str]) -> set[str]:
    """Every module the start imports, transitively (cgthermo modules followed)."""
    seen, todo = set(), list(start)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        if module.split(".")[0] == "cgthermo" and is_module(module):
            path = PACKAGE.parent.joinpath(*module.split("."))
            path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
            # rulelog imports torch only for a script that asks it to (torch_threads)
            outside = set() if module == "cgthermo.rulelog" else third_party(path)
            todo += imported_modules(path) | outside
    return seen


def stage_function(script) -> tuple[str, str]:
    match = re.search(r"from (cgthermo\.\w+\.stage) import (\w+)", script.read_text())
    return match.group(1), match.group(2)


RULES = rules()


def test_every_rule_with_a_script_is_checked():
    assert len(RULES) >= 20 and {"cg_sim", "train", "analysis", "predict_analysis"} <= set(RULES)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_rules_env_holds_what_its_job_imports(rule):
    env, script = RULES[rule]
    module, function = stage_function(script)
    imported = {name.split(".")[0] for name in reached(function_imports(module, function))}
    if "torch_threads=True" in script.read_text():
        imported.add("torch")
    needed = {PACKAGES.get(name, name).lower() for name in imported - IMPLIED}
    missing = sorted(needed - listed_packages(env))
    assert missing == [], f"{env.name} lacks {missing}, which rule {rule} imports"
