"""Resource functions of the train rules (memory, runtime, GPUs), for Snakemake and SLURM."""

from .. import config as cgconfig
from .. import paths
from ..resources import (
    DATASET_BYTES_PER_BEAD_FRAME,
    input_mb,
    memory_from_inputs,
    minutes,
    position_shapes,
)
from .noisedata import noise_enabled
from .settings import loader_workers

# Measured (benchmarks/RESULTS.md, "train_input.py" and "GPU readings"): the work of a
# frame grows with its edges (beads × neighbours within the cutoff) × width × layers. One CPU
# thread did 7.8e6 such units a second at 80 beads (2.0e7 at 10), one H200 2.7e8; the CPU
# request assumes a slower 4.8e6.
UNITS_PER_S = {"cpu": 4.8e6, "auto": 4.8e6, "gpu": 2.7e8}
# each unit of a training batch held 92 bytes of activations for the backward pass at 10
# beads and 59 at 80; the request takes the larger
ACTIVATION_BYTES_PER_UNIT = 92
LIBRARIES_MB = 700  # torch, Lightning, the network and its optimizer
CUDA_HOST_MB = 3000  # what a CUDA context holds in host memory
MIN_MINUTES, MAX_MINUTES = 30, 7 * 24 * 60
PRELOAD_COPIES = 1.5  # a preloaded file becomes tensors of its own size, a field at a time
INDEX_BYTES_PER_FRAME = 120  # torchmd-net's index of a file read from disk: a tuple a frame
# the noise step evaluates the batched prior on every noised row, twice the frames' reading
NOISE_SECONDS_PER_BEAD_ROW = 2.0e-5


def training_shape(path) -> tuple[int, int]:
    """(rows of every group, the most beads of any group) of a training file."""
    shapes = position_shapes(path).values()
    return int(sum(shape[0] for shape in shapes)), int(max(shape[1] for shape in shapes))


class TrainRules:
    """Resource functions of workflow/rules/train.smk, bound to the config."""

    def units_per_frame(self, beads: int) -> float:
        """The network's work on one frame: edges (each bead's neighbours, at most
        max_num_neighbors) × width × layers; an upper bound, as if every neighbour slot
        were within the cutoff."""
        edges = beads * min(self.settings["max_num_neighbors"], beads - 1)
        return edges * self.settings["embedding_dimension"] * self.settings["num_layers"]

    def mem_mb(self, wildcards, input, threads, attempt) -> int:
        """Libraries and the network; on the CPU the activations of a batch, on a GPU the
        CUDA context's host memory (auto: the larger of the two); what torchmd-net holds
        of the training file: the file itself where it preloads it (built a field at a time),
        and its index of every frame in the main process and each loader worker of the
        training and validation loaders. From measurements, asked half as much again."""
        path = input.labels
        limit = self.settings["dataset_preload_limit"]
        size_mb = input_mb(input, "labels")
        workers = loader_workers(self.settings["num_workers"], path, limit, cpus=threads)
        frames, beads = training_shape(path)
        needed = LIBRARIES_MB + (PRELOAD_COPIES * size_mb if size_mb <= limit else 0.0)
        needed += (1 + 2 * workers) * INDEX_BYTES_PER_FRAME * frames / 1e6
        activations = (ACTIVATION_BYTES_PER_UNIT * self.settings["batch_size"]
                       * self.units_per_frame(beads) / 1e6)  # fmt: skip
        needed += {"cpu": activations, "gpu": CUDA_HOST_MB,
                   "auto": max(activations, CUDA_HOST_MB)}[self.settings["device"]]  # fmt: skip
        return int(1.5 * needed * attempt)

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
        return (paths.noise_labels if name == "noise_labels" else paths.delta)(self.results, folder)

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
        bead_frames = sum(input.size_files) / DATASET_BYTES_PER_BEAD_FRAME  # every protein's dataset
        return minutes(4 * rows * bead_frames * NOISE_SECONDS_PER_BEAD_ROW / 60, attempt,
                       least=MIN_MINUTES)  # fmt: skip

    def runtime(self, wildcards, input, attempt) -> str:
        """Epochs × frames × their work at the measured speed, doubled for slack."""
        frames, beads = training_shape(input.labels)
        units = frames * self.units_per_frame(beads) * self.settings["num_epochs"]
        seconds = units / UNITS_PER_S[self.settings["device"]]
        return minutes(min(MAX_MINUTES, 2 * seconds / 60), attempt, least=MIN_MINUTES)

    def gpus(self) -> int:
        """GPUs a job asks for when the config demands a GPU; a SLURM profile may set it for auto."""
        return self.settings["ngpus"] if self.settings["device"] == "gpu" else 0
