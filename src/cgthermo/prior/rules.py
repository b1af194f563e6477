"""Input and resource functions of the prior rules (kept here so the .smk holds rules only)."""

from .. import config as cgconfig
from .. import paths
from ..resources import DATASET_BYTES_PER_BEAD_FRAME, minutes

# measured (benchmarks/RESULTS.md, "scale.py"): histograms, fit and the batched prior's
# delta forces take 1.0 µs per bead-frame at 10 beads and 4.2 µs at 80 (more pairs per bead)
SECONDS_PER_BEAD_FRAME = 4.2e-6
# streamed a block at a time: 487 MB at the paper's 1,868,861 chignolin frames, 0.4 GB at
# 5×10⁵ frames of 80 beads, whatever the frames
MEMORY_MB = 1000


class PriorRules:
    """Input/resource functions of workflow/rules/prior.smk, bound to the config."""

    @staticmethod
    def mem_mb(wildcards, attempt) -> int:
        return MEMORY_MB * attempt

    extend_mem_mb, extend_runtime = 1000, "10m"  # one YAML read and written

    def __init__(self, config: dict):
        self.config = config
        self.results = config["results"]

    def group_proteins(self, wildcards) -> list[str]:
        """The proteins a multi-protein group (multi, multi_loo/{protein}) is trained on."""
        return cgconfig.model_groups(self.config)[wildcards.group]

    def group_datasets(self, wildcards) -> list[str]:
        return [paths.dataset(self.results, p) for p in self.group_proteins(wildcards)]

    @staticmethod
    def runtime(wildcards, input, attempt) -> str:
        """Histograms, fits and the delta forces of every frame, at the measured speed; 4× slack."""
        bead_frames = sum(input.size_files) / DATASET_BYTES_PER_BEAD_FRAME
        return minutes(4 * bead_frames * SECONDS_PER_BEAD_FRAME / 60, attempt, least=30)
