"""Resource requests shared by every rule: memory that grows with the inputs, and runtimes,
both scaled by the attempt so that a job Snakemake retries asks for more."""

from pathlib import Path

BASE_MEMORY_MB = 2000  # Python, torch, OpenMM and the libraries before any data
DATASET_BYTES_PER_BEAD_FRAME = 24  # float32 positions and forces in a dataset file


def memory_from_inputs(copies: float, base_mb: int = BASE_MEMORY_MB):
    """A Snakemake resource function: the base plus `copies` times the inputs' size."""

    def mem_mb(wildcards, input, attempt) -> int:
        return int((base_mb + copies * input.size_mb) * attempt)

    return mem_mb


def minutes(value: float, attempt: int = 1, least: int = 0) -> str:
    """A runtime resource in Snakemake's notation ('90m'), at least `least` minutes."""
    return f"{max(least, int(value)) * attempt}m"


def input_mb(input, *names) -> float:
    """MB of the rule's inputs called `names` (those it has). A file not yet written raises
    FileNotFoundError with its name, so Snakemake leaves the request to when the job runs."""
    return sum(Path(input.get(name)).stat().st_size for name in names if input.get(name)) / 1024**2


def position_shapes(path) -> dict:
    """{group: shape of its `pos`} of a dataset file, read from its metadata only. A file
    that is not (yet) a readable HDF5 file defers the request like a missing one."""
    import errno

    import h5py

    Path(path).stat()  # as in input_mb: a file not yet written defers the request
    try:
        with h5py.File(path, "r") as h5:
            return {name: h5[name]["pos"].shape for name in h5 if "pos" in h5[name]}
    except OSError:
        raise FileNotFoundError(errno.ENOENT, "not a readable HDF5 file yet", str(path)) from None
