"""Input and resource functions of the prior rules (kept here so the .smk holds rules only)."""

from .. import config as cgconfig
from ..resources import memory_from_inputs, minutes

SECONDS_PER_BEAD_FRAME = 2.0e-4  # torchmd evaluates the prior frame by frame (one CPU core)
DATASET_BYTES_PER_BEAD_FRAME = 24  # float32 positions and forces in the dataset


class PriorRules:
    """Input/resource functions of workflow/rules/prior.smk, bound to the config."""

    # frames are streamed a block at a time: memory does not grow with the datasets
    # (benchmarks/prior_memory.py: about 0.7 GB whatever the frames)
    mem_mb = staticmethod(memory_from_inputs(0))

    def __init__(self, config: dict):
        self.config = config
        self.results = config["results"]

    def group_proteins(self, wildcards) -> list[str]:
        """The proteins a multi-protein group (multi, multi_loo/{protein}) is trained on."""
        return cgconfig.model_groups(self.config)[wildcards.group]

    def group_datasets(self, wildcards) -> list[str]:
        return [f"{self.results}/{p}/cg/dataset.h5" for p in self.group_proteins(wildcards)]

    @staticmethod
    def runtime(wildcards, input, attempt) -> str:
        """Histograms, fits and, above all, torchmd's prior forces on every frame; 4× slack."""
        bead_frames = sum(input.size_files) / DATASET_BYTES_PER_BEAD_FRAME
        return minutes(4 * bead_frames * SECONDS_PER_BEAD_FRAME / 60, attempt, least=30)
