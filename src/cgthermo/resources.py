"""Resource requests shared by every rule: memory that grows with the inputs, and runtimes,
both scaled by the attempt so that a job Snakemake retries asks for more."""

BASE_MEMORY_MB = 2000  # Python, torch, OpenMM and the libraries before any data


def memory_from_inputs(copies: float, base_mb: int = BASE_MEMORY_MB):
    """A Snakemake resource function: the base plus `copies` times the inputs' size."""

    def mem_mb(wildcards, input, attempt) -> int:
        return int((base_mb + copies * input.size_mb) * attempt)

    return mem_mb


def minutes(value: float, attempt: int = 1, least: int = 0) -> str:
    """A runtime resource in Snakemake's notation ('90m'), at least `least` minutes."""
    return f"{max(least, int(value)) * attempt}m"
