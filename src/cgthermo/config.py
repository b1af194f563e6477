"""Configuration access: schema defaults, per-protein settings, and validation errors in one line."""

import functools
import math
from pathlib import Path

import yaml

from .errors import CgthermoError, raise_all

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
MULTI = "multi"
LOO = "multi_loo"  # leave-one-protein-out: results/multi_loo/{protein}/ holds its prior and network


def _fill_defaults(schema: dict, value):
    """Return `value` with every missing key that has a schema default filled in, recursively."""
    if schema.get("type") == "object" or "properties" in schema:
        value = dict(value or {})
        for key, sub in schema.get("properties", {}).items():
            if key not in value and "default" in sub:
                value[key] = sub["default"]
            if key in value and isinstance(value[key], dict):
                value[key] = _fill_defaults(sub, value[key])
            elif key in value and isinstance(value[key], list) and "items" in sub:
                value[key] = [
                    _fill_defaults(sub["items"], v) if isinstance(v, dict) else v
                    for v in value[key]
                ]
    return value


def schema_default(section: str, key: str):
    """The schema's default of `section.key` (defaults live in the schema alone)."""
    return load_schema()["properties"][section]["properties"][key]["default"]


def model_names() -> tuple:
    """Every CG model a config may list, in the schema's order (the one list of them)."""
    return tuple(load_schema()["properties"]["models"]["items"]["enum"])


def fill_defaults(config: dict) -> dict:
    """A copy of `config` with the schema's defaults filled in where keys are missing."""
    return _fill_defaults(load_schema(), config)


@functools.cache
def load_schema() -> dict:
    """The parsed schema (cached: input functions call this for every job; do not mutate)."""
    with open(SCHEMA) as fh:
        return yaml.safe_load(fh)


def validate(config: dict) -> dict:
    """Validate against the schema and return the config with defaults filled in.

    Every problem is reported at once, one line each (errors.InputErrors).
    """
    problems = schema_problems(config) + non_finite_problems(config)
    raise_all(problems)
    config = fill_defaults(config)
    names = [p["name"] for p in config["proteins"]]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    raise_all([
        CgthermoError(f"config key 'proteins' names {name} twice", "give each protein a unique name")
        for name in duplicated
    ])  # fmt: skip
    return config


def schema_problems(config: dict) -> list[CgthermoError]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    return [_schema_problem(config, err) for err in errors]


# Schema failures whose generic message would not tell a user what to do.
PLAIN_WORDS = {
    ("results", "pattern"): ("is empty", "name the folder for the artifacts, e.g. results: results"),
    ("models", "minItems"): ("lists no model", "list at least one of prior_only, specific, multi"),
}


def refused_paths(config: dict) -> list[tuple]:
    """The paths (as key tuples) of every value the schema refuses in `config`."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    return [tuple(err.absolute_path) for err in validator.iter_errors(config)]


def is_refused(refused: list[tuple], *path) -> bool:
    """Whether a refused value lies at or under `path` (e.g. 'proteins', 0)."""
    return any(found[: len(path)] == path for found in refused)


def _schema_problem(config: dict, err) -> CgthermoError:
    key = key_name(config, err.absolute_path)
    plain = PLAIN_WORDS.get((key, err.validator))
    if plain:
        return CgthermoError(f"config key '{key}' {plain[0]}", plain[1])
    if err.validator == "oneOf" and list(err.absolute_path)[:1] == ["proteins"]:
        return CgthermoError(
            f"config key '{key}' gives {_sources(err.instance)}",
            "give exactly one of 'sequence', 'pdb' or 'import'",
        )
    if err.validator == "oneOf" and list(err.absolute_path)[:1] == ["predict"]:
        return CgthermoError(
            f"config key '{key}' gives {_sources(err.instance, ('sequence', 'pdb'))}",
            "give exactly one of 'sequence' or 'pdb'",
        )
    if err.validator == "not" and list(err.absolute_path)[-1:] == ["name"]:
        return CgthermoError(
            f"config key '{key}' is '{err.instance}', a name the multi-protein models use",
            "choose another name",
        )
    return CgthermoError(
        f"config key '{key}' is invalid: {err.message}",
        "correct it as config/README.md describes",
    )


def _sources(entry, keys=("sequence", "pdb", "import")) -> str:
    given = [k for k in keys if isinstance(entry, dict) and k in entry]
    return f"none of {', '.join(keys)}" if not given else " and ".join(given)


def key_name(config: dict, path) -> str:
    """'proteins.chignolin.aa.replicas' for the path ['proteins', 0, 'aa', 'replicas']."""
    parts, node = [], config
    for part in path:
        name = part
        if isinstance(part, int) and isinstance(node, list):
            item = node[part] if part < len(node) else None
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                name = item["name"]
        parts.append(str(name))
        node = node[part] if isinstance(node, (dict, list)) and _has(node, part) else None
    return ".".join(parts) or "(top level)"


def _has(node, part) -> bool:
    return part in node if isinstance(node, dict) else isinstance(part, int) and part < len(node)


def non_finite_problems(config: dict) -> list[CgthermoError]:
    """NaN and infinite numbers: the schema's bounds let NaN through (every comparison is false)."""
    return [
        CgthermoError(f"config key '{key_name(config, path)}' is {value}", "give a finite number")
        for path, value in _numbers(config, ())
        if not math.isfinite(value)
    ]


def _numbers(node, path):
    if isinstance(node, float):
        yield path, node
    elif isinstance(node, (dict, list)):
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            yield from _numbers(value, (*path, key))


def load(path) -> dict:
    with open(path) as fh:
        return validate(yaml.safe_load(fh))


def protein(config: dict, name: str) -> dict:
    for entry in config["proteins"]:
        if entry["name"] == name:
            return entry
    raise CgthermoError(
        f"protein '{name}' is not in the config", "add it under 'proteins' or fix the name"
    )


def aa_settings(config: dict, name: str) -> dict:
    """All-atom settings for one protein: the global 'aa' block with its overrides on top.

    With adaptive sampling `replicas` and `length_ns` are those of the epochs (every
    trajectory of every epoch is a replica, numbered epoch after epoch), so every stage that
    reads the replicas reads the adaptive ones.
    """
    own = protein(config, name).get("aa") or {}  # checked by the schema
    settings = {**config["aa"], **own}
    settings["adaptive"] = {**config["aa"].get("adaptive", {}), **own.get("adaptive", {})}
    if is_adaptive(settings):
        adaptive = settings["adaptive"]
        settings["replicas"] = adaptive["epochs"] * adaptive["trajectories"]
        settings["length_ns"] = adaptive["length_ns"]
    return settings


def is_adaptive(aa: dict) -> bool:
    """Whether all-atom settings (`aa_settings`) sample adaptively."""
    return aa.get("sampling", "plain") == "adaptive"


def epoch_of(aa: dict, replica) -> int:
    """The epoch of an all-atom replica (0 for every replica of plain sampling)."""
    if not is_adaptive(aa):
        return 0
    return int(replica) // aa["adaptive"]["trajectories"]


def protein_names(config: dict) -> list[str]:
    return [p["name"] for p in config["proteins"]]


def model_groups(config: dict) -> dict:
    """The multi-protein trainings of the config, folder → proteins trained on: `multi` (every
    protein) and, with the multi_loo model, `multi_loo/{protein}` (every protein but that one)."""
    names = protein_names(config)
    groups = {}
    if MULTI in config["models"]:
        groups[MULTI] = names
    if LOO in config["models"]:
        groups.update({f"{LOO}/{name}": [n for n in names if n != name] for name in names})
    return groups


def group_pattern(config: dict) -> str:
    """The wildcard constraint of the rules' {group}: the config's groups (none: no match)."""
    import re

    return "|".join(re.escape(g) for g in model_groups(config)) or "(?!x)x"


def is_imported(config: dict, name: str) -> bool:
    return "import" in protein(config, name)


def network_groups(replicas: int, networks: int) -> list[range]:
    """Each network's contiguous share of a CG run's replicas (`train.networks`; one share for
    a run with one network or none): what cg_sim runs and the analysis scores per network."""
    k = max(1, int(networks))
    return [range(j * replicas // k, (j + 1) * replicas // k) for j in range(k)]


# Keys that choose where or how a job runs, never what it computes: left out of rule params.
# train.networks says how many trainings run, not what any one of them computes: more of
# them train only the new ones (the CG runs read them as inputs).
WHERE_KEYS = {
    "train": ("device", "ngpus", "num_workers", "dataset_preload_limit", "inference_batch_size",
              "networks"),
    "cgsim": ("device", "checkpoint_every"),
}


def result_settings(config: dict, section: str, seeded: bool = True) -> dict:
    """The `section` settings a rule's outputs depend on (with the run's seed if `seeded`).

    Rules pass them as `params`, so Snakemake reruns a job when one of them changes. Keys
    are sorted: Snakemake compares params as written, and the order of keys in a config
    file says nothing about the result.
    """
    skip = WHERE_KEYS.get(section, ())
    settings = {key: value for key, value in config[section].items() if key not in skip}
    if seeded:
        settings["seed"] = config["seed"]
    return dict(sorted(settings.items()))
