"""Resource functions of the train rules (memory, runtime, GPUs), for Snakemake and SLURM."""

from .. import config as cgconfig
from ..resources import memory_from_inputs, minutes
from .noisedata import noise_enabled

# training throughput used for the runtime request, in bead-frames per second and epoch
# (paper network: about 1e4 on 2 CPU cores, roughly ten times more on one GPU)
BEAD_FRAMES_PER_S = {"cpu": 1.0e4, "auto": 1.0e4, "gpu": 1.0e5}
BYTES_PER_BEAD_FRAME = 24  # float32 positions and forces in the delta file
MIN_MINUTES, MAX_MINUTES = 30, 7 * 24 * 60
# the noise step evaluates the batched prior on every noised row, twice the frames' reading
NOISE_SECONDS_PER_BEAD_ROW = 2.0e-5


class TrainRules:
    """Resource functions of workflow/rules/train.smk, bound to the config."""

    # torchmd-net preloads the delta file; evaluation reads delta and mapped forces again
    mem_mb = staticmethod(memory_from_inputs(6))

    # blocks of CHUNK_FRAMES source frames: memory does not grow with the data
    noise_mem_mb = staticmethod(memory_from_inputs(0))

    def __init__(self, config: dict):
        self.config = config
        self.settings = config["train"]
        self.results = config["results"]

    def noise_settings(self) -> dict:
        """What the noise step's output depends on: train.noise and the run's seed."""
        return {"noise": dict(sorted(self.settings.get("noise", {}).items())),
                "seed": self.config["seed"]}  # fmt: skip

    def labels_in(self, folder: str) -> str:
        """What a network trains on: forces + noise labels or the delta forces of `folder`."""
        name = "noise_labels" if noise_enabled(self.settings) else "delta"
        return f"{self.results}/{folder}/cg/{name}.h5"

    def labels(self, wildcards) -> str:
        return self.labels_in(wildcards.protein)

    def labels_multi(self, wildcards) -> str:
        return self.labels_in(wildcards.group)

    @staticmethod
    def group_kind(wildcards) -> str:
        """multi for the all-protein group, multi_loo for a leave-one-out one."""
        return cgconfig.LOO if wildcards.group.startswith(cgconfig.LOO + "/") else cgconfig.MULTI

    def noise_runtime(self, wildcards, input, attempt) -> str:
        """The prior on every noised row (copies × levels per frame), 4× slack."""
        noise = self.settings.get("noise", {})
        rows = len(noise.get("sigmas", ())) * noise.get("copies", 1)
        bead_frames = sum(input.size_files) / BYTES_PER_BEAD_FRAME  # every protein's dataset
        return minutes(4 * rows * bead_frames * NOISE_SECONDS_PER_BEAD_ROW / 60, attempt,
                       least=MIN_MINUTES)  # fmt: skip

    def runtime(self, wildcards, input, attempt) -> str:
        """Epochs × frames at the expected speed, doubled for slack."""
        bead_frames = input.size_files[0] / BYTES_PER_BEAD_FRAME  # the delta file comes first
        seconds = bead_frames * self.settings["num_epochs"] / BEAD_FRAMES_PER_S[self.settings["device"]]
        return minutes(min(MAX_MINUTES, 2 * seconds / 60), attempt, least=MIN_MINUTES)

    def gpus(self) -> int:
        """GPUs a job asks for when the config demands a GPU; a SLURM profile may set it for auto."""
        return self.settings["ngpus"] if self.settings["device"] == "gpu" else 0
