"""Input and resource functions of the prior rules (kept here so the .smk holds rules only)."""

SECONDS_PER_BEAD_FRAME = 2.0e-4  # torchmd evaluates the prior frame by frame (one CPU core)
DATASET_BYTES_PER_BEAD_FRAME = 24  # float32 positions and forces in the dataset


def multi_datasets_for(results: str, proteins: list[str]):
    def prior_multi_datasets(wildcards):
        return [f"{results}/{protein}/cg/dataset.h5" for protein in proteins]

    return prior_multi_datasets


def mem_mb(wildcards, input, attempt) -> int:
    """The datasets are read whole; delta forces are computed in float64."""
    return int((2000 + 6 * input.size_mb) * attempt)


def runtime(wildcards, input, attempt) -> str:
    """Histograms, fits and, above all, torchmd's prior forces on every frame; 4× slack."""
    bead_frames = sum(input.size_files) / DATASET_BYTES_PER_BEAD_FRAME
    minutes = max(30, int(4 * bead_frames * SECONDS_PER_BEAD_FRAME / 60))
    return f"{minutes * attempt}m"
