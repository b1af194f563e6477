"""Every input check that can run before any job, run when the workflow loads.

The schema checks keys and types (config.validate); this module checks content: sequences,
structure files and imported arrays. Every problem of every protein is collected and
reported at once, one line each, naming the config key and the fix (docs/inputs.md).
"""

from pathlib import Path

from . import config as cgconfig
from .aa import pdbinput
from .aa.rules import protein_residues
from .cgmap import importer
from .errors import CgthermoError, InputErrors, raise_all
from .residues import min_residues, tokenize_sequence
from .settingchecks import setting_problems

# the protein keys that may name a file shipped with the workflow (data/reference/)
SHIPPED_FILE_KEYS = ("native", "converged_reference")
WORKFLOW_DIR = Path(__file__).resolve().parents[2]


def check_config(config: dict, workflow_dir=WORKFLOW_DIR) -> dict:
    """The validated config with defaults filled in, or every problem raised at once."""
    config = with_shipped_files(config, Path(workflow_dir))
    try:
        validated = cgconfig.validate(config)
    except InputErrors as err:
        raise_all(err.problems + content_problems(config))
    except CgthermoError as err:
        raise_all([err, *content_problems(config)])
    raise_all(content_problems(validated) + setting_problems(validated))
    return validated


def with_shipped_files(config: dict, workflow_dir: Path) -> dict:
    """A relative `native` or `converged_reference` that names no file in the working
    directory but one in the workflow's own folder is taken from there: the demo's shipped
    reference then serves a run in any working directory (`snakemake -d DIR`)."""
    proteins = config.get("proteins")
    if not isinstance(proteins, list):
        return config
    return {**config, "proteins": [shipped_entry(entry, workflow_dir) for entry in proteins]}


def shipped_entry(entry, workflow_dir: Path):
    if not isinstance(entry, dict):
        return entry
    found = {}
    for key in SHIPPED_FILE_KEYS:
        value = entry.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            shipped = workflow_dir / value
            if not Path(value).exists() and shipped.is_file():
                found[key] = str(shipped)
    return {**entry, **found}


def content_problems(config: dict) -> list[CgthermoError]:
    """The content problems of every protein whose entry the schema accepts (the schema's
    own lines say what to fix in the others). A check that fails in a way it did not foresee
    is reported as a problem of its own: nothing goes unchecked in silence."""
    config = cgconfig.fill_defaults(config)
    separation = config.get("analysis", {}).get("min_sequence_separation")
    shortest = min_residues(separation if isinstance(separation, int) else 3)
    refused = cgconfig.refused_paths(config)
    problems = []
    if not cgconfig.is_refused(refused, "cgsim"):
        problems += unforeseen("cgsim", sampler_problems, config["cgsim"])
    for index, entry in enumerate(config.get("proteins") or []):
        if not cgconfig.is_refused(refused, "proteins", index):
            problems += unforeseen(f"proteins.{entry['name']}", protein_problems, config, entry,
                                   shortest)  # fmt: skip
    if not cgconfig.is_refused(refused, "models"):
        problems += loo_problems(config)
    if not any(cgconfig.is_refused(refused, key) for key in ("predict", "proteins", "models")):
        problems += unforeseen("predict", prediction_problems, config)
    return problems


def unforeseen(key: str, check, *args) -> list[CgthermoError]:
    """`check(*args)`'s problems, or one naming the key when the check itself broke."""
    try:
        return check(*args)
    except CgthermoError as err:
        return [err]
    except Exception as err:  # noqa: BLE001  (reported, never swallowed)
        return [CgthermoError(f"config key '{key}' could not be checked "
                              f"({type(err).__name__}: {err})".replace("\n", " "),
                              "correct the files or values it names; if they look right, "
                              "report this line as a bug")]


def loo_problems(config: dict) -> list[CgthermoError]:
    """A leave-one-out model needs another protein to learn from."""
    if "multi_loo" in (config.get("models") or []) and len(config.get("proteins") or []) < 2:
        return [CgthermoError("config key 'models' lists multi_loo, which trains on every protein "
                              "but the one it simulates, and the config has one protein",
                              "add proteins, or remove multi_loo from models")]  # fmt: skip
    return []


def prediction_problems(config: dict) -> list[CgthermoError]:
    """The `predict` entries' problems (names, parents, models, files, starts)."""
    from .predict.entries import problems

    return problems(config)


def sampler_problems(sim: dict) -> list[CgthermoError]:
    """Temperature ladders must tile the replicas and their batches."""
    from .cgsim.settings import check_ladders

    if sim.get("sampler") != "exchange":
        return []
    check_ladders(sim["replicas"], sim["batch_replicas"], sim["exchange"]["temperatures"])
    return []


def protein_problems(config: dict, entry: dict, shortest: int) -> list[CgthermoError]:
    name = entry["name"]
    found = []
    if "sequence" in entry:
        found += keyed(name, "sequence", sequence_problems(entry["sequence"], shortest))
    if "pdb" in entry:
        hetero = cgconfig.aa_settings(config, name)["hetero"]
        found += keyed(name, "pdb", pdbinput.problems(entry["pdb"], hetero, shortest))
    if entry.get("native"):
        found += keyed(name, "native", native_problems(entry, shortest))
    if entry.get("converged_reference"):
        found += keyed(name, "converged_reference", converged_problems(entry))
    if "import" in entry:
        found += keyed(name, "import", import_problems(entry))
    return found


def keyed(name: str, key: str, problems: list[CgthermoError]) -> list[CgthermoError]:
    """Each problem prefixed with the config key it comes from."""
    return [CgthermoError(f"config key 'proteins.{name}.{key}': {p.what}", p.fix) for p in problems]


def sequence_problems(sequence: str, shortest: int) -> list[CgthermoError]:
    residues, problems = tokenize_sequence(sequence)
    if not residues and not problems:
        return [CgthermoError("the sequence is empty", f"give at least {shortest} residues")]
    if not problems and len(residues) < shortest:
        problems.append(CgthermoError(
            f"sequence '{sequence}' has {len(residues)} residue(s); the prior and the "
            f"analysis need at least {shortest}",
            f"give at least {shortest} residues",
        ))  # fmt: skip
    return problems


def native_problems(entry: dict, shortest: int) -> list[CgthermoError]:
    """A readable native structure with one Cα per residue of the protein."""
    from .predict.structure import pdb_chain

    path = entry["native"]
    try:
        pdbinput.read_text(Path(path))
        residues = len(pdb_chain(path)[0])
        # imported data have their residues counted by cg_map
        expected = None if "import" in entry else protein_residues(entry)
    except CgthermoError as err:
        return [err]
    if expected is not None and residues != expected:
        return [CgthermoError(f"{path} has {residues} amino-acid residues, the protein "
                              f"{expected}", "give the folded structure of the same sequence")]
    return []


def converged_problems(entry: dict) -> list[CgthermoError]:
    """An existing converged reference artifact of this protein, bead count and temperature."""
    import numpy as np

    from .analysis.converged import artifact_problem

    path = Path(entry["converged_reference"])
    if not path.is_file():
        return [CgthermoError(f"{path} does not exist",
                              "give the path of the protein's converged reference artifact")]  # fmt: skip
    keys = ("converged_stride", "protein", "temperature_K", "reference_structure")
    try:
        with np.load(path, allow_pickle=False) as data:
            ref = {key: data[key] for key in keys if key in data.files}
    except (OSError, ValueError) as err:
        return [CgthermoError(f"{path} is not a readable .npz ({err})",
                              "make it with scripts/converged_reference.py")]  # fmt: skip
    beads = None if "import" in entry else protein_residues(entry)
    problem = artifact_problem(ref, path, entry["name"], beads, entry["temperature"])
    return [problem] if problem else []


def import_problems(entry: dict) -> list[CgthermoError]:
    try:
        importer.check_import_before_jobs(entry["name"], entry["import"], entry["temperature"])
    except CgthermoError as err:
        return [err]
    return []


def load_config_files(paths) -> dict:
    """Config files merged as Snakemake merges --configfile (later keys win, dicts merged);
    a YAML syntax error names the file, line and column."""
    import yaml

    merged = {}
    for path in paths:
        try:
            with open(path) as fh:
                _merge(merged, yaml.safe_load(fh) or {})
        except OSError as err:
            raise CgthermoError(f"config file {path} cannot be read ({err.strerror})", "give the path of a YAML file") from None
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(err, "problem", None) or "not YAML"
            raise CgthermoError(f"config file {path}{where}: {problem}", "correct the YAML there (indent with spaces, close brackets and quotes)") from None
    return merged  # fmt: skip


def _merge(into: dict, new: dict) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def main(argv=None) -> int:
    """`python -m cgthermo.preflight CONFIG [CONFIG ...]`: the load-time checks, without
    Snakemake; also names the line of a YAML syntax error, which Snakemake does not."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("configs", nargs="+", help="config files, merged in order")
    args = parser.parse_args(argv)
    try:
        config = check_config(load_config_files(args.configs))
    except CgthermoError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"{' + '.join(args.configs)}: {len(config['proteins'])} protein(s), no problems found")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
