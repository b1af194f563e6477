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
        return parse_sequence(item["sequence"], all_atom=False)
    from .structure import pdb_chain

    return pdb_chain(item["pdb"])[0]


def protein_resnames(config: dict, name: str) -> list[str]:
    """The residue names of a protein of the config, in chain order: from its sequence, its
    pdb, or its imported data (the embeddings .npy, or the Cα atoms of the trajectory's
    topology)."""
    item = cgconfig.protein(config, name)
    if "sequence" in item:
        return parse_sequence(item["sequence"])
    if "pdb" in item:
        from .structure import pdb_chain

        return pdb_chain(item["pdb"])[0]
    spec = item["import"]
    if "embeddings" in spec:
        import numpy as np

        from ..cgmap.importer import residue_names_from_types

        return residue_names_from_types(np.load(spec["embeddings"], mmap_mode="r").reshape(-1))
    import mdtraj

    topology = mdtraj.load_topology(spec["topology"])
    return [topology.atom(i).residue.name.upper() for i in topology.select("name CA")]


def protein_bead_types(config: dict, name: str) -> list[int]:
    """The bead types (embedding numbers) of a protein of the config, in chain order."""
    from ..residues import BEAD_TYPE

    return [BEAD_TYPE[n] for n in protein_resnames(config, name)]


def protein_length(config: dict, parent: str) -> int:
    """The parent protein's number of residues."""
    return len(protein_bead_types(config, parent))


def trained_proteins(config: dict, prediction) -> list[str] | None:
    """The proteins whose data trained the prediction's network (None: no network of this
    config, so nothing to check)."""
    if prediction.model == "multi":
        return cgconfig.protein_names(config)
    if prediction.model == "specific":
        return [prediction.parent]
    return None


def untrained_residues(config: dict, prediction) -> list[str]:
    """The prediction's residues whose bead type the network never saw in training: its
    embedding for them is the random one it was initialized with."""
    from ..residues import BEAD_TYPE

    proteins = trained_proteins(config, prediction)
    if proteins is None:
        return []
    seen = {t for name in proteins for t in protein_bead_types(config, name)}
    return sorted({n for n in prediction.resnames if BEAD_TYPE[n] not in seen})


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
    """Every prediction's problems at once (for the load-time check), each naming its entry."""
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
            entry_problems(config, item)
        except CgthermoError as err:
            found.append(named(err, name))
    return found


def named(err: CgthermoError, name: str) -> CgthermoError:
    """`err` with the entry's key in front, unless it names it already."""
    if f"'predict.{name}" in err.what:
        return err
    return CgthermoError(f"config key 'predict.{name}': {err.what}", err.fix)


def entry_problems(config: dict, item: dict) -> None:
    """Raise the first problem of one entry: its resolution, files, length and starts."""
    from ..residues import min_residues

    name = item["name"]
    for path_key in ("native", "pdb"):
        if item.get(path_key) and not Path(item[path_key]).is_file():
            raise CgthermoError(f"config key 'predict.{name}.{path_key}': "
                                f"{item[path_key]} does not exist", "fix the path")
    prediction = resolve(config, name)
    untrained = untrained_residues(config, prediction)
    if untrained and not item.get("allow_untrained_types"):
        raise CgthermoError(
            f"config key 'predict.{name}': residue(s) {', '.join(untrained)} never occur in the "
            f"data the {prediction.model} network trained on "
            f"({', '.join(trained_proteins(config, prediction))}), so its embedding of them is "
            "the untrained random one",
            "predict sequences of trained residue types, add a protein with them to the "
            "config, or set allow_untrained_types: true (no ΔΔG verdict is then given)")
    shortest = min_residues(config["analysis"]["min_sequence_separation"])
    if prediction.beads < shortest:
        raise CgthermoError(f"config key 'predict.{name}': {prediction.beads} residue(s); the "
                            f"prior and the analysis need at least {shortest}",
                            "give a longer protein")
    if prediction.model == "checkpoint":
        check_checkpoint_file(f"predict.{name}.checkpoint", prediction.checkpoint)
        check_prior_file(f"predict.{name}.prior", prediction.prior)
    if prediction.native:
        check_native_length(f"predict.{name}.native", prediction.native, prediction.beads)
    if prediction.starts == "trajectory":
        for k in ("file", "topology"):
            if not Path(item["trajectory"][k]).is_file():
                raise CgthermoError(f"config key 'predict.{name}.trajectory.{k}': "
                                    f"{item['trajectory'][k]} does not exist", "fix the path")
        check_trajectory_start(f"predict.{name}.trajectory", item["trajectory"],
                               prediction.resnames)


def check_checkpoint_file(key: str, path) -> None:
    """A torch checkpoint is a zip archive (torch.save) or, written by old releases, a pickle."""
    import zipfile

    with open(path, "rb") as fh:
        head = fh.read(2)
    if not (zipfile.is_zipfile(path) or head[:1] == b"\x80"):
        raise CgthermoError(f"config key '{key}': {path} is not a torch checkpoint",
                            "give the model.ckpt file torchmd-net's training wrote")


def check_prior_file(key: str, path) -> None:
    """A prior YAML readable as text, with the bond term every CG run needs."""
    import yaml

    try:
        sections = yaml.safe_load(Path(path).read_text())
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        raise CgthermoError(f"config key '{key}': {path} is not a YAML file "
                            f"({type(err).__name__})",
                            "give the prior.yaml the checkpoint was trained with") from None
    if not isinstance(sections, dict) or not sections.get("bonds"):
        raise CgthermoError(f"config key '{key}': {path} has no bonds section",
                            "give a torchmd prior YAML with bonds (as the prior stage writes)")


def check_native_length(key: str, path, beads: int) -> None:
    from .structure import pdb_chain

    residues = len(pdb_chain(path)[0])
    if residues != beads:
        raise CgthermoError(f"config key '{key}': {path} has {residues} amino-acid residues, "
                            f"the entry {beads}", "give the folded structure of the same sequence")


def check_trajectory_start(key: str, spec: dict, resnames) -> None:
    """The trajectory's Cα atoms are the entry's residues, with bonds of ~3.8 Å (frame 0)."""
    import numpy as np

    from ..aa.pdbinput import PLAUSIBLE_CA_STEP_ANGSTROM
    from ..residues import BEAD_TYPE
    from .structure import trajectory_ca

    names, positions = trajectory_ca(spec["file"], spec["topology"], frames=1)
    if [BEAD_TYPE.get(n) for n in names] != [BEAD_TYPE[n] for n in resnames]:
        raise CgthermoError(f"config key '{key}': its {len(names)} Cα atoms are "
                            f"{sequence_of(names)}, the entry's residues {sequence_of(resnames)}",
                            "give a trajectory of the entry's sequence")
    median = float(np.median(np.linalg.norm(np.diff(positions[0], axis=0), axis=1)))
    low, high = PLAUSIBLE_CA_STEP_ANGSTROM
    if not low <= median <= high:
        raise CgthermoError(f"config key '{key}': consecutive Cα atoms of its first frame are "
                            f"{median:.3g} Å apart, not ~3.8 Å",
                            "give a trajectory in the units its format stores (nm for xtc and "
                            "dcd as mdtraj reads them), with Cα atoms in chain order")


def sequence_of(names) -> str:
    """Residue names as a sequence where each has a bead type, else as they are."""
    from ..residues import BEAD_TYPE, sequence_text

    names = list(names)
    return sequence_text(names) if set(names) <= set(BEAD_TYPE) else " ".join(names)
