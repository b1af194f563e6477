"""The `predict` entries of a config, resolved: residues, temperature, model files, starts.

Everything here runs at workflow load (from the preflight check and the rules' input
functions), so a bad entry fails before any job, one line per problem.
"""

from dataclasses import dataclass
from pathlib import Path

from .. import config as cgconfig
from ..errors import CgthermoError
from ..residues import parse_sequence

DEFAULT_TEMPERATURE = 300.0
NETWORK_MODELS = ("multi", "specific", "checkpoint")


@dataclass(frozen=True)
class Prediction:
    """One resolved `predict` entry."""

    name: str
    resnames: tuple
    temperature: float
    model: str
    starts: str
    parent: str | None = None
    native: str | None = None
    pdb: str | None = None
    checkpoint: str | None = None
    prior: str | None = None
    trajectory: dict | None = None

    @property
    def beads(self) -> int:
        return len(self.resnames)

    @property
    def compares_to_parent(self) -> bool:
        """A parent of the same length: its TICA space, free energies and ΔΔG apply."""
        return self.parent is not None and self.parent_length == self.beads

    parent_length: int | None = None


def entries(config: dict) -> list[dict]:
    return list(config.get("predict") or [])


def names(config: dict) -> list[str]:
    return [entry["name"] for entry in entries(config)]


def entry(config: dict, name: str) -> dict:
    for item in entries(config):
        if item["name"] == name:
            return item
    raise CgthermoError(f"no prediction named '{name}' in the config", "check the predict section")


def residues_of(item: dict) -> list[str]:
    """Residue names from the entry's sequence, else from its pdb's amino-acid residues."""
    if "sequence" in item:
        return parse_sequence(item["sequence"])
    from .structure import pdb_chain

    return pdb_chain(item["pdb"])[0]


def protein_length(config: dict, parent: str) -> int:
    """The parent protein's number of residues: from its sequence, its pdb, or its imported
    data (the embeddings .npy, or the Cα atoms of the trajectory's topology)."""
    item = cgconfig.protein(config, parent)
    if "sequence" in item:
        return len(parse_sequence(item["sequence"]))
    if "pdb" in item:
        from .structure import pdb_chain

        return len(pdb_chain(item["pdb"])[0])
    spec = item["import"]
    if "embeddings" in spec:
        import numpy as np

        return int(np.load(spec["embeddings"], mmap_mode="r").shape[0])
    import mdtraj

    return len(mdtraj.load_topology(spec["topology"]).select("name CA"))


def resolve(config: dict, name: str) -> Prediction:
    """The entry `name` resolved; every inconsistency is a one-line CgthermoError."""
    item = entry(config, name)
    key = f"config key 'predict.{name}"
    resnames = residues_of(item)
    parent = item.get("parent")
    parent_length = None
    if parent is not None:
        if parent not in cgconfig.protein_names(config):
            raise CgthermoError(f"{key}.parent' is '{parent}', not a protein of this config",
                                f"use one of {', '.join(cgconfig.protein_names(config))}")
        parent_length = protein_length(config, parent)
    model = item["model"]
    check_model(config, item, key, model, parent, parent_length, len(resnames))
    starts = resolve_starts(item, key, parent, parent_length, len(resnames))
    temperature = item.get("temperature")
    if temperature is None:
        temperature = (cgconfig.protein(config, parent)["temperature"] if parent
                       else DEFAULT_TEMPERATURE)  # fmt: skip
    return Prediction(name, tuple(resnames), float(temperature), model, starts, parent,
                      item.get("native"), item.get("pdb"), item.get("checkpoint"),
                      item.get("prior"), item.get("trajectory"), parent_length)  # fmt: skip


def check_model(config, item, key, model, parent, parent_length, beads) -> None:
    if model == "checkpoint":
        missing = [k for k in ("checkpoint", "prior") if not item.get(k)]
        if missing:
            raise CgthermoError(f"{key}.model' is checkpoint but {' and '.join(missing)} is not given",
                                "give the torchmd-net checkpoint and the prior YAML it was trained with")
        for k in ("checkpoint", "prior"):
            if not Path(item[k]).is_file():
                raise CgthermoError(f"{key}.{k}': {item[k]} does not exist", "fix the path")
        return
    same_length_parent = parent is not None and parent_length == beads
    if (model == "multi" or (model == "prior_only" and not same_length_parent)) \
            and "multi" not in config["models"]:  # fmt: skip
        raise CgthermoError(
            f"{key}.model' is {model}, which needs this config's multi-protein prior, but "
            "'models' has no multi", "add multi to models, or use model: specific or checkpoint")
    if model == "specific":
        if parent is None:
            raise CgthermoError(f"{key}.model' is specific but the entry has no parent",
                                "name the protein whose network to use in 'parent'")
        if "specific" not in config["models"]:
            raise CgthermoError(f"{key}.model' is specific but 'models' has no specific",
                                "add specific to models, or use model: multi")
        if parent_length is not None and parent_length != beads:
            raise CgthermoError(
                f"{key}.model' is specific: the parent '{parent}' has {parent_length} residues, "
                f"the entry {beads}", "use model: multi, which covers any length")


def resolve_starts(item: dict, key: str, parent, parent_length, beads) -> str:
    starts = item["starts"]
    if starts == "auto":
        if item.get("trajectory"):
            return "trajectory"
        if parent is not None and parent_length == beads:
            return "parent"
        return "pdb" if item.get("pdb") else "extended"
    if starts == "parent" and (parent is None or parent_length != beads):
        raise CgthermoError(f"{key}.starts' is parent but the entry has no parent of its length",
                            "give a parent of the same length, or starts: pdb, trajectory or extended")
    if starts == "pdb" and not item.get("pdb"):
        raise CgthermoError(f"{key}.starts' is pdb but the entry has no pdb", "give pdb: FILE")
    if starts == "trajectory" and not item.get("trajectory"):
        raise CgthermoError(f"{key}.starts' is trajectory but 'trajectory' is not given",
                            "give trajectory: {file: X.xtc, topology: X.pdb}")
    return starts


def problems(config: dict) -> list[CgthermoError]:
    """Every prediction's problems at once (for the load-time check)."""
    found = []
    proteins = set(cgconfig.protein_names(config))
    seen = set()
    for item in entries(config):
        name = item.get("name")
        if name in proteins or name in seen:
            found.append(CgthermoError(
                f"config key 'predict.{name}': the name is already used by "
                f"{'a protein' if name in proteins else 'another prediction'}",
                "give every protein and prediction its own name"))
            continue
        seen.add(name)
        try:
            prediction = resolve(config, name)
            for path_key in ("native", "pdb"):
                if item.get(path_key) and not Path(item[path_key]).is_file():
                    raise CgthermoError(f"config key 'predict.{name}.{path_key}': "
                                        f"{item[path_key]} does not exist", "fix the path")
            if prediction.starts == "trajectory":
                for k in ("file", "topology"):
                    if not Path(item["trajectory"][k]).is_file():
                        raise CgthermoError(f"config key 'predict.{name}.trajectory.{k}': "
                                            f"{item['trajectory'][k]} does not exist", "fix the path")
        except CgthermoError as err:
            found.append(err)
    return found
