# Input and resource functions of the cg_map, prior and prior_multi rules (kept out of the
# rule files so `snakemake --lint` finds no rules mixed with functions).


def cg_map_input(wildcards):
    """All-atom replicas and the system (for its constraints), or the imported files."""
    name = wildcards.protein
    if cgconfig.is_imported(config, name):
        spec = cgconfig.protein(config, name)["import"]
        return {"imported": [path for key, path in spec.items() if key != "timestep_ps"]}
    return {"md": aa_md_files(wildcards), "system": f"{RESULTS}/{name}/aa/system.xml"}


def cg_map_mem_mb(wildcards, input, attempt):
    """Mapped positions and forces of every frame are held in memory (float64, both maps)."""
    return int((2000 + 2 * input.size_mb) * attempt)


def prior_multi_datasets(wildcards):
    return expand(f"{RESULTS}/{{protein}}/cg/dataset.h5", protein=PROTEINS)


def prior_mem_mb(wildcards, input, attempt):
    """The datasets are read whole; delta forces are computed in float64."""
    return int((2000 + 6 * input.size_mb) * attempt)


PRIOR_SECONDS_PER_BEAD_FRAME = 2.0e-4  # torchmd evaluates the prior frame by frame (one CPU core)
DATASET_BYTES_PER_BEAD_FRAME = 24  # float32 positions and forces in the dataset


def prior_runtime(wildcards, input, attempt):
    """Histograms, fits and, above all, torchmd's prior forces on every frame; 4× slack."""
    bead_frames = sum(input.size_files) / DATASET_BYTES_PER_BEAD_FRAME
    minutes = max(30, int(4 * bead_frames * PRIOR_SECONDS_PER_BEAD_FRAME / 60))
    return f"{minutes * attempt}m"
