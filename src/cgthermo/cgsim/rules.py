"""Input and resource functions of the cg_sim rule (kept here so the .smk holds rules only)."""

from .settings import batch_count, model_input_paths

# CPU, 10-80 beads, paper-sized network; GPUs are faster
SECONDS_PER_REPLICA_STEP = 1.0e-3


def inputs_for(results: str):
    """prior_only: no network; specific: the protein's network and prior; multi: the multi ones."""

    def cg_sim_inputs(wildcards):
        return model_input_paths(results, wildcards.protein, wildcards.model)

    return cg_sim_inputs


def runtime_for(config: dict):
    """Integration time at CPU speed with 2× slack; a retry continues from the checkpoint."""

    def cg_sim_runtime(wildcards, attempt):
        sim = config["cgsim"]
        seconds = sim["steps"] * sim["replicas"] * SECONDS_PER_REPLICA_STEP
        return f"{max(30, int(2 * seconds / 60)) * attempt}m"

    return cg_sim_runtime


def threads_for(config: dict, cores) -> int:
    """One worker process per batch of replicas, as many as the cores allow (CPU runs); the
    trajectories do not depend on it, so Snakemake may scale it down freely."""
    sim = config["cgsim"]
    batches = batch_count(sim["replicas"], sim["batch_replicas"])
    return max(1, min(batches, int(cores) if isinstance(cores, int) else batches))


def gpus_requested(config: dict) -> int:
    """One GPU when the config asks for CUDA; 'auto' leaves the request to the profile."""
    return 1 if config["cgsim"]["device"] == "cuda" else 0
