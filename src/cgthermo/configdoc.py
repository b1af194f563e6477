"""The configuration reference (config/README.md), rendered from the config schema.

`python -m cgthermo.configdoc` writes it; `--check` fails when it no longer matches the
schema. The schema is the one source of truth: the reference is never edited by hand.
"""

import argparse
import math
import sys
from collections.abc import Iterator

import yaml

from .config import SCHEMA, load_schema

ROOT = SCHEMA.parents[2]
REFERENCE = ROOT / "config" / "README.md"
NO_DEFAULT = "—"
HEADER = ("key", "type", "default", "description")


def cell(text: str) -> str:
    """Table-safe text: a newline or a bare `|` would end the cell or the row."""
    return " ".join(str(text).split()).replace("|", "\\|")


def code(text: str) -> str:
    return f"`{text}`"


def yaml_text(value) -> str:
    """`value` as it would be written in a config file (YAML flow style, one line)."""
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=math.inf
    )
    # A lone scalar is dumped as a document ("300\n...\n"); only its first line is the value.
    return text.splitlines()[0]


def type_text(schema: dict) -> str:
    """The type of a key in words, with the allowed values when the schema lists them."""
    types = schema.get("type", "object" if "properties" in schema else "any")
    text = " or ".join(types) if isinstance(types, list) else types
    if "items" in schema:
        text = f"{text} of {type_text(schema['items'])}"
    if "enum" in schema:
        text += ": one of " + ", ".join(code(yaml_text(v)) for v in schema["enum"])
    return text


def default_text(schema: dict) -> str:
    return code(yaml_text(schema["default"])) if "default" in schema else NO_DEFAULT


def sub_keys(schema: dict) -> dict:
    """The keys nested under a key: its properties, or those of each item of a list."""
    if "properties" in schema:
        return schema["properties"]
    return schema.get("items", {}).get("properties", {})


def child_path(path: str, schema: dict, key: str) -> str:
    """`a.b` for an object's key, `a[].b` for a key of every item of a list."""
    return f"{path}[].{key}" if "properties" not in schema else f"{path}.{key}"


def walk(path: str, schema: dict) -> Iterator[tuple[str, dict]]:
    """Every key from `path` down, depth first in schema order, the key before its children."""
    yield path, schema
    for key, sub in sub_keys(schema).items():
        yield from walk(child_path(path, schema, key), sub)


def row(path: str, schema: dict) -> str:
    cells = (
        code(path),
        type_text(schema),
        default_text(schema),
        schema.get("description", ""),
    )
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def section(key: str, schema: dict) -> str:
    lines = [
        f"## `{key}`",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" for _ in HEADER) + "|",
        *(row(path, sub) for path, sub in walk(key, schema)),
    ]
    return "\n".join(lines)


def intro(schema: dict) -> str:
    source = SCHEMA.relative_to(ROOT).as_posix()
    purpose = schema.get("description", "")
    return (
        (f"{purpose}. " if purpose else "")
        + f"This file is generated from `{source}` by `python -m cgthermo.configdoc`; "
        "do not edit it by hand. `config/config.yaml` is the demo, `config/test.yaml` "
        "the test sizes and `config/paper.yaml` the paper scale."
    )


def render(schema: dict) -> str:
    parts = [
        "# Configuration reference",
        intro(schema),
        *(section(key, sub) for key, sub in schema.get("properties", {}).items()),
    ]
    return "\n\n".join(parts) + "\n"


def is_current() -> bool:
    return REFERENCE.exists() and REFERENCE.read_text(encoding="utf-8") == render(load_schema())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if config/README.md is out of date"
    )
    args = parser.parse_args(argv)
    reference = REFERENCE.relative_to(ROOT).as_posix()
    if args.check:
        if is_current():
            return 0
        print(
            f"{reference} does not match {SCHEMA.relative_to(ROOT).as_posix()}: "
            "run python -m cgthermo.configdoc",
            file=sys.stderr,
        )
        return 1
    with open(REFERENCE, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(render(load_schema()))
    print(f"wrote {reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
