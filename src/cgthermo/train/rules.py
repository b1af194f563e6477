"""Resource functions of the train rules (memory, runtime, GPUs), for Snakemake and SLURM."""

from pathlib import Path

from .. import config as cgconfig
from ..resources import memory_from_inputs, minutes
from .dataset import training_frames
from .noisedata import noise_enabled
from .settings import loader_workers

# training throughput used for the runtime request, in bead-frames per second and epoch
# (paper network: about 1e4 on 2 CPU cores, roughly ten times more on one GPU)
BEAD_FRAMES_PER_S = {"cpu": 1.0e4, "auto": 1.0e4, "gpu": 1.0e5}
BYTES_PER_BEAD_FRAME = 24  # float32 positions and forces in the delta file
MIN_MINUTES, MAX_MINUTES = 30, 7 * 24 * 60
NETWORK_MB = 1200  # torch, Lightning, the network and its optimizer (the demo's job: 1.0 GB)
PRELOAD_COPIES = 1.5  # a preloaded file becomes tensors of its own size, a field at a time
INDEX_BYTES_PER_FRAME = 120  # torchmd-net's index of a file read from disk: a tuple a frame
# the noise step evaluates the batched prior on every noised row, twice the frames' reading
NOISE_SECONDS_PER_BEAD_ROW = 2.0e-5


class TrainRules:
    """Resource functions of workflow/rules/train.smk, bound to the config."""

    def mem_mb(self, wildcards, input, threads, attempt) -> int:
        """torch, Lightning and the network, plus what torchmd-net holds of the training
        file: the file itself where it preloads it (built field by field, so briefly half
        as much again), and its index of every frame in the main process and in each
        loader worker of the training and validation loaders; half as much again
        (measured: benchmarks/RESULTS.md, "train_input.py")."""
        path = input.labels
        limit = self.settings["dataset_preload_limit"]
        size_mb = Path(path).stat().st_size / 1024**2
        workers = loader_workers(self.settings["num_workers"], path, limit, cpus=threads)
        data_mb = PRELOAD_COPIES * size_mb if size_mb <= limit else 0.0
        data_mb += (1 + 2 * workers) * INDEX_BYTES_PER_FRAME * training_frames(path) / 1e6
        return int(1.5 * (NETWORK_MB + data_mb) * attempt)

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
