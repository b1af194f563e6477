"""Resource requests of the train rules (memory, runtime, GPUs), for Snakemake and SLURM."""

# training throughput used for the runtime request, in bead-frames per second and epoch
# (paper network: about 1e4 on 2 CPU cores, roughly ten times more on one GPU)
BEAD_FRAMES_PER_S = {"cpu": 1.0e4, "auto": 1.0e4, "gpu": 1.0e5}
BYTES_PER_BEAD_FRAME = 24  # float32 positions and forces in the delta file
MIN_MINUTES, MAX_MINUTES = 30, 7 * 24 * 60


def memory_mb(wildcards, input, attempt):
    """torchmd-net preloads the delta file; evaluation reads delta and mapped forces again."""
    return int((2000 + 6 * input.size_mb) * attempt)


def runtime_for(config):
    """A Snakemake resource function: epochs × frames at the expected speed, doubled for slack."""
    settings = config["train"]

    def runtime(wildcards, input, attempt):
        bead_frames = input.size_files[0] / BYTES_PER_BEAD_FRAME  # the delta file comes first
        seconds = bead_frames * settings["num_epochs"] / BEAD_FRAMES_PER_S[settings["device"]]
        minutes = max(MIN_MINUTES, min(MAX_MINUTES, int(2 * seconds / 60)))
        return f"{minutes * attempt}m"

    return runtime


def gpus_requested(config) -> int:
    """GPUs a job asks for when the config demands a GPU; a SLURM profile may set it for auto."""
    return config["train"]["ngpus"] if config["train"]["device"] == "gpu" else 0
