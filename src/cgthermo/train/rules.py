"""Resource functions of the train rules (memory, runtime, GPUs), for Snakemake and SLURM."""

from ..resources import memory_from_inputs, minutes

# training throughput used for the runtime request, in bead-frames per second and epoch
# (paper network: about 1e4 on 2 CPU cores, roughly ten times more on one GPU)
BEAD_FRAMES_PER_S = {"cpu": 1.0e4, "auto": 1.0e4, "gpu": 1.0e5}
BYTES_PER_BEAD_FRAME = 24  # float32 positions and forces in the delta file
MIN_MINUTES, MAX_MINUTES = 30, 7 * 24 * 60


class TrainRules:
    """Resource functions of workflow/rules/train.smk, bound to the config."""

    # torchmd-net preloads the delta file; evaluation reads delta and mapped forces again
    mem_mb = staticmethod(memory_from_inputs(6))

    def __init__(self, config: dict):
        self.settings = config["train"]

    def runtime(self, wildcards, input, attempt) -> str:
        """Epochs × frames at the expected speed, doubled for slack."""
        bead_frames = input.size_files[0] / BYTES_PER_BEAD_FRAME  # the delta file comes first
        seconds = bead_frames * self.settings["num_epochs"] / BEAD_FRAMES_PER_S[self.settings["device"]]
        return minutes(min(MAX_MINUTES, 2 * seconds / 60), attempt, least=MIN_MINUTES)

    def gpus(self) -> int:
        """GPUs a job asks for when the config demands a GPU; a SLURM profile may set it for auto."""
        return self.settings["ngpus"] if self.settings["device"] == "gpu" else 0
