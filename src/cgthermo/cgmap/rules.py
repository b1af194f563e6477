"""Input and resource functions of the cg_map rule (kept here so the .smk holds rules only)."""

from .. import config as cgconfig
from ..resources import memory_from_inputs


class CgMapRules:
    """Input/resource functions of workflow/rules/cg_map.smk, bound to the config."""

    # mapped positions and forces of every frame are held in memory (float64, every map)
    mem_mb = staticmethod(memory_from_inputs(3))

    def __init__(self, config: dict):
        self.config = config
        self.results = config["results"]

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
            return {"imported": [path for key, path in spec.items() if key != "timestep_ps"]}
        return {"md": self.aa_md_paths(name), "system": f"{self.results}/{name}/aa/system.xml"}
