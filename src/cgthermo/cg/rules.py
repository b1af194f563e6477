"""Input and resource functions of the cg_map rule (kept here so the .smk holds rules only)."""

from .. import config as cgconfig


def aa_md_paths(config: dict, results: str, protein: str) -> list[str]:
    """The all-atom trajectories of one protein (none for imported data)."""
    if cgconfig.is_imported(config, protein):
        return []
    replicas = cgconfig.aa_settings(config, protein)["replicas"]
    return [f"{results}/{protein}/aa/md/{replica}.h5" for replica in range(replicas)]


def inputs_for(config: dict, results: str):
    """All-atom replicas and the system (for its constraints), or the imported files."""

    def cg_map_inputs(wildcards):
        name = wildcards.protein
        if cgconfig.is_imported(config, name):
            spec = cgconfig.protein(config, name)["import"]
            return {"imported": [path for key, path in spec.items() if key != "timestep_ps"]}
        return {
            "md": aa_md_paths(config, results, name),
            "system": f"{results}/{name}/aa/system.xml",
        }

    return cg_map_inputs


def mem_mb(wildcards, input, attempt) -> int:
    """Mapped positions and forces of every frame are held in memory (float64, every map)."""
    return int((2000 + 3 * input.size_mb) * attempt)
