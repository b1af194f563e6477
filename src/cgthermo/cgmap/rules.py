"""Input and resource functions of the cg_map rule (kept here so the .smk holds rules only)."""

from .. import config as cgconfig
from ..resources import BASE_MEMORY_MB, memory_from_inputs
from .importer import file_keys

NPY_BASE_MB, NPY_PER_INPUT_MB = 500, 1.5
# the all-atom block grows with the atoms (~0.1 GB per 1,000 atoms): the base covers
# proteins far larger than the paper's
ALL_ATOM_MB = BASE_MEMORY_MB
TRAJECTORY_COPIES = 3  # positions and forces as read, and mapped


class CgMapRules:
    """Input/resource functions of workflow/rules/cg_map.smk, bound to the config."""

    runtime = "2h"

    def __init__(self, config: dict):
        self.config = config
        self.results = config["results"]

    def source(self, wildcards) -> dict:
        """The protein's temperature (and import block) as a param: see map_source."""
        return map_source(self.config, wildcards.protein)

    def mem_mb(self, wildcards, input, attempt) -> int:
        """From measured peaks (benchmarks/RESULTS.md, "scale.py"): an .npy import holds its
        kept-frame mask and time axes beside one block (0.3 GB + 0.9 × its .npy files: 539
        MB for the paper's 1,868,861 chignolin frames), asked half as much again; the
        all-atom path one block of 2,000 frames (90 MB at chignolin's 138 atoms); an mdtraj
        trajectory import the whole trajectory."""
        spec = cgconfig.protein(self.config, wildcards.protein).get("import")
        if spec is None:
            return ALL_ATOM_MB * attempt
        if "coords" in spec:
            return int((NPY_BASE_MB + NPY_PER_INPUT_MB * input.size_mb) * attempt)
        return memory_from_inputs(TRAJECTORY_COPIES)(wildcards, input, attempt)

    def aa_md_paths(self, protein: str) -> list[str]:
        """The all-atom trajectories of one protein (none for imported data)."""
        if cgconfig.is_imported(self.config, protein):
            return []
        replicas = cgconfig.aa_settings(self.config, protein)["replicas"]
        return [f"{self.results}/{protein}/aa/md/{replica}.h5" for replica in range(replicas)]

    def inputs(self, wildcards) -> dict:
        """All-atom replicas and the system (for its constraints), or the imported files."""
        name = wildcards.protein
        if cgconfig.is_imported(self.config, name):
            spec = cgconfig.protein(self.config, name)["import"]
            return {"imported": [path for key, path in spec.items() if key in file_keys(spec)]}
        return {"md": self.aa_md_paths(name), "system": f"{self.results}/{name}/aa/system.xml"}


def map_source(config: dict, protein: str) -> dict:
    """What the dataset of `protein` depends on beyond its input files and the cg_map
    settings: the protein's temperature, and for imported data the import block (the rule's
    `source` param, so a change of either reruns cg_map and everything after it)."""
    entry = cgconfig.protein(config, protein)
    source = {"temperature": float(entry["temperature"])}
    if "import" in entry:
        source["import"] = dict(sorted(entry["import"].items()))
    return source
