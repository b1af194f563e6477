"""Configuration access: schema defaults, per-protein settings, and validation errors in one line."""

import functools
from pathlib import Path

import yaml

from .errors import CgthermoError

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
MULTI = "multi"


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


@functools.cache
def load_schema() -> dict:
    """The parsed schema (cached: input functions call this for every job; do not mutate)."""
    with open(SCHEMA) as fh:
        return yaml.safe_load(fh)


def validate(config: dict) -> dict:
    """Validate against the schema and return the config with defaults filled in."""
    import jsonschema

    schema = load_schema()
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        key = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise CgthermoError(
            f"config key '{key}' is invalid: {err.message}",
            "correct it as workflow/schemas/config.schema.yaml describes",
        )
    config = _fill_defaults(schema, config)
    names = [p["name"] for p in config["proteins"]]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise CgthermoError(
            f"config key 'proteins' names {duplicated[0]} twice", "give each protein a unique name"
        )
    return config


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
    """All-atom settings for one protein: the global 'aa' block with its overrides on top."""
    settings = dict(config["aa"])
    overrides = protein(config, name).get("aa") or {}
    unknown = set(overrides) - set(load_schema()["properties"]["aa"]["properties"])
    if unknown:
        raise CgthermoError(
            f"config key 'proteins.{name}.aa.{sorted(unknown)[0]}' is unknown",
            "use a key of the top-level 'aa' block",
        )
    settings.update(overrides)
    return settings


def protein_names(config: dict) -> list[str]:
    return [p["name"] for p in config["proteins"]]


def is_imported(config: dict, name: str) -> bool:
    return "import" in protein(config, name)


def stage_seed(config: dict, stage: str, *parts) -> int:
    """A reproducible seed per stage and item, derived from the master seed."""
    import zlib

    key = "/".join([stage, *map(str, parts)]).encode()
    return (int(config["seed"]) * 1_000_003 + zlib.crc32(key)) % (2**31 - 1)


# Keys that choose where or how a job runs, never what it computes: left out of rule params.
WHERE_KEYS = {
    "train": ("device", "ngpus", "num_workers", "inference_batch_size"),
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
