"""Input, params and resource functions of the analysis and report rules (kept out of the
.smk files so the rule files hold rules only and pytest can check the functions)."""

from .. import config as cgconfig
from ..resources import memory_from_inputs, minutes
from ..train import splits

PER_MODEL_FIGURES = ("fes", "tica_1d", "rmsd")


class AnalysisRules:
    def __init__(self, config: dict):
        self.config = config
        self.results = config["results"]
        self.proteins = cgconfig.protein_names(config)
        self.models = list(config["models"])

    # analysis_reference
    def native(self, wildcards) -> str:
        """The protein's `native` structure, else its `pdb` as prepared (gaps filled, so one
        Cα per bead); empty: the top microstate's medoid."""
        entry = cgconfig.protein(self.config, wildcards.protein)
        if entry.get("native"):
            return entry["native"]
        if entry.get("pdb"):
            return f"{self.results}/{wildcards.protein}/aa/structure.pdb"
        return ""

    def reference_inputs(self, wildcards) -> dict:
        base = f"{self.results}/{wildcards.protein}/cg"
        inputs = {"dataset": f"{base}/dataset.h5", "topology": f"{base}/topology.pdb"}
        if self.native(wildcards):
            inputs["native"] = self.native(wildcards)
        return inputs

    def temperature(self, wildcards) -> float:
        return cgconfig.protein(self.config, wildcards.protein)["temperature"]

    def seed(self, wildcards) -> int:
        return cgconfig.stage_seed(self.config, "analysis", wildcards.protein)

    def held_out(self, wildcards) -> dict:
        """With train.split: replica, what fixes the replicas no network of the protein was
        trained on (the analysis reports the metrics against them too); else empty."""
        train = self.config["train"]
        if train["split"] != "replica":
            return {}
        return {"val_size": train["val_size"], "test_size": train["test_size"],
                "seed": splits.replica_seed(self.config["seed"], wildcards.protein)}  # fmt: skip

    def bootstrap_seed(self, wildcards) -> int:
        """One seed per protein: every model of it is resampled alike (paired differences)."""
        return cgconfig.stage_seed(self.config, "bootstrap", wildcards.protein)

    # positions of every frame stay in memory; features are built one replica at a time
    reference_mem_mb = staticmethod(memory_from_inputs(2))
    model_mem_mb = staticmethod(memory_from_inputs(4))

    @staticmethod
    def reference_runtime(wildcards, input, attempt) -> str:
        """k-means and one MSM per implied-timescale lag grow with the number of frames."""
        return minutes(30 + input.size_mb / 10, attempt)

    # summary and report
    def metrics_files(self, wildcards=None) -> list:
        return [
            f"{self.results}/{p}/analysis/{m}/metrics.json"
            for p in self.proteins
            for m in self.models
        ]

    def resample_files(self, wildcards=None) -> list:
        return [
            f"{self.results}/{p}/analysis/{m}/resamples.npz"
            for p in self.proteins
            for m in self.models
        ]

    def figure_files(self, wildcards=None) -> list:
        its = [f"{self.results}/{p}/analysis/msm_its.png" for p in self.proteins]
        per_model = [
            f"{self.results}/{p}/analysis/{m}/{name}.png"
            for p in self.proteins
            for m in self.models
            for name in PER_MODEL_FIGURES
        ]
        return its + per_model
