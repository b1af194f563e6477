"""config/README.md: the configuration reference, rendered from the schema and kept in step with it."""

import yaml

from cgthermo import configdoc
from cgthermo.config import load_schema


def leaf_keys(schema: dict, path: str = ""):
    """(dotted path, schema) of every key with nothing nested under it.

    Walks the schema on its own, not through configdoc, so a key the renderer skips is caught.
    """
    for key, sub in schema.get("properties", {}).items():
        name = f"{path}.{key}" if path else key
        nested = sub.get("properties") or sub.get("items", {}).get("properties")
        if not nested:
            yield name, sub
        elif "properties" in sub:
            yield from leaf_keys(sub, name)
        else:
            yield from leaf_keys(sub["items"], f"{name}[]")


def table_rows(text: str) -> dict[str, str]:
    """Each table row of the reference by its key (the first cell, without backticks)."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("| `"):
            rows[line.split(" | ")[0].removeprefix("| `").removesuffix("`")] = line
    return rows


def as_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def test_reference_matches_schema():
    written = configdoc.REFERENCE.read_text(encoding="utf-8")
    assert written == configdoc.render(load_schema()), (
        "config/README.md is out of date with workflow/schemas/config.schema.yaml: "
        "run python -m cgthermo.configdoc and commit the result"
    )


def test_every_leaf_key_is_documented_with_its_description():
    rows = table_rows(configdoc.render(load_schema()))
    leaves = dict(leaf_keys(load_schema()))
    assert {"cgsim.batch_replicas", "proteins[].name", "proteins[].import.coords"} <= set(leaves)
    for key, sub in leaves.items():
        assert key in rows, f"{key} has no row"
        assert sub.get("description"), f"{key} has no description in the schema"
        assert rows[key].endswith(f" | {as_cell(sub['description'])} |"), rows[key]


def test_defaults_read_back_as_the_schema_values():
    # Users copy defaults into YAML config files: JSON-style text such as 1e-06 would be
    # read back by PyYAML as a string.
    rows = table_rows(configdoc.render(load_schema()))
    for key, sub in leaf_keys(load_schema()):
        default = rows[key].split(" | ")[2]
        if "default" not in sub:
            assert default == configdoc.NO_DEFAULT
        else:
            assert yaml.safe_load(default.strip("`")) == sub["default"], key


TOY_SCHEMA = {
    "description": "toy configuration",
    "properties": {
        "run": {
            "type": "object",
            "default": {},
            "description": "run settings",
            "properties": {
                "mode": {
                    "type": "string",
                    "enum": ["fast", "exact"],
                    "default": "fast",
                    "description": "speed | accuracy",
                },
                "lr": {"type": "number", "default": 1.0e-6, "description": "learning rate"},
                "steps": {"type": "integer", "description": "integration\n steps"},
            },
        },
        "things": {
            "type": "array",
            "description": "things to do",
            "items": {
                "type": "object",
                "properties": {"name": {"type": ["string", "null"], "description": "label"}},
            },
        },
    },
}


def test_renderer_known_answer():
    text = configdoc.render(TOY_SCHEMA)
    header = ["| key | type | default | description |", "|---|---|---|---|"]
    run = [
        "## `run`",
        "",
        *header,
        "| `run` | object | `{}` | run settings |",
        "| `run.mode` | string: one of `fast`, `exact` | `fast` | speed \\| accuracy |",
        "| `run.lr` | number | `1.0e-06` | learning rate |",
        "| `run.steps` | integer | — | integration steps |",
    ]
    things = [
        "## `things`",
        "",
        *header,
        "| `things` | array of object | — | things to do |",
        "| `things[].name` | string or null | — | label |",
    ]
    assert text.startswith("# Configuration reference\n\ntoy configuration. This file is generated")
    assert text.endswith("\n\n" + "\n".join(run) + "\n\n" + "\n".join(things) + "\n")
