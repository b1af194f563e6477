"""Input and resource functions of the cg_sim rule (kept here so the .smk holds rules only)."""

from ..resources import minutes
from .settings import batch_count, model_input_paths

# CPU, 10-80 beads, paper-sized network; GPUs are faster
SECONDS_PER_REPLICA_STEP = 1.0e-3
MEMORY_MB = 4000


class CgSimRules:
    """Input/resource functions of workflow/rules/cg_sim.smk, bound to the config."""

    mem_mb = MEMORY_MB

    def __init__(self, config: dict):
        self.config = config
        self.results = config["results"]
        self.sim = config["cgsim"]

    def inputs(self, wildcards) -> dict:
        """prior_only: no network; specific: the protein's network and prior; multi: the multi ones."""
        return model_input_paths(self.results, wildcards.protein, wildcards.model,
                                 self.config["train"]["networks"])

    def runtime(self, wildcards, attempt) -> str:
        """Integration time at CPU speed with 2× slack; a retry continues from the checkpoint."""
        seconds = self.sim["steps"] * self.sim["replicas"] * SECONDS_PER_REPLICA_STEP
        return minutes(2 * seconds / 60, attempt, least=30)

    def threads(self, cores) -> int:
        """One worker process per batch of replicas, as many as the cores allow (CPU runs); the
        trajectories do not depend on it, so Snakemake may scale it down freely."""
        batches = batch_count(self.sim["replicas"], self.sim["batch_replicas"])
        return max(1, min(batches, int(cores) if isinstance(cores, int) else batches))

    def gpus(self) -> int:
        """One GPU when the config asks for CUDA; 'auto' leaves the request to the profile."""
        return 1 if self.sim["device"] == "cuda" else 0

    def temperature(self, wildcards) -> float:
        from .. import config as cgconfig

        return cgconfig.protein(self.config, wildcards.protein)["temperature"]
