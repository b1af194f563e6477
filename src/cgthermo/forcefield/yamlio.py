"""Prior YAML files: their sections and terms, read and written (atomically)."""

from ..io import atomic_path

PRIOR_TERMS = ("bonds", "repulsioncg", "dihedrals")
OPTIONAL_TERMS = ("angles",)  # written only when the prior fits them (prior.angles)


def read_prior(prior_yaml) -> dict:
    """The sections of a prior YAML."""
    import yaml

    with open(prior_yaml) as fh:
        return yaml.safe_load(fh) or {}


def terms_of(sections: dict) -> tuple:
    """The torchmd force terms of a prior's sections: the paper's three, plus angles if present."""
    return PRIOR_TERMS + tuple(t for t in OPTIONAL_TERMS if sections.get(t))


def prior_terms(prior_yaml) -> tuple:
    """The torchmd force terms a prior YAML defines."""
    return terms_of(read_prior(prior_yaml))


def write_prior_sections(path, sections: dict, header: str = "") -> None:
    """Write a prior's sections as YAML (in their order) under a comment header, atomically."""
    import yaml

    with atomic_path(path) as tmp:
        tmp.write_text(header + yaml.safe_dump(sections, sort_keys=False))
