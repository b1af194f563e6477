"""Input, params and resource functions of the predict rules (workflow/rules/predict.smk)."""

from dataclasses import asdict

from .. import paths, seeds
from .entries import names, resolve
from .prepare import model_files


class PredictRules:
    # requests of the rules whose needs do not grow with the data (measured far below them)
    prepare_mem_mb, prepare_runtime = 2000, "30m"
    analysis_runtime = "30m"
    summary_mem_mb, summary_runtime = 1000, "10m"

    def __init__(self, config: dict):
        self.config = config
        self.results = config["results"]
        self.names = names(config)
        self._resolved = {}

    def prediction(self, wildcards):
        """The resolved entry, once per entry: resolving may read structure files, and every
        input and params function of every job asks for it while Snakemake builds the DAG."""
        name = wildcards.prediction
        if name not in self._resolved:
            self._resolved[name] = resolve(self.config, name)
        return self._resolved[name]

    def folder(self, name: str) -> str:
        return f"{self.results}/predictions/{name}"

    def entry(self, wildcards) -> dict:
        """The resolved entry: what its outputs depend on (a change reruns it)."""
        return asdict(self.prediction(wildcards))

    def prepare_inputs(self, wildcards) -> dict:
        prediction = self.prediction(wildcards)
        found = {"prior": model_files(self.config, prediction)["prior"]}
        if prediction.starts == "parent":
            found["dataset"] = paths.dataset(self.results, prediction.parent)
        if prediction.starts == "pdb":
            found["pdb"] = prediction.pdb
        if prediction.starts == "trajectory":
            found["trajectory"] = prediction.trajectory["file"]
            found["trajectory_topology"] = prediction.trajectory["topology"]
        return found

    def sim_inputs(self, wildcards) -> dict:
        prediction = self.prediction(wildcards)
        base = self.folder(prediction.name)
        found = {"starts": f"{base}/cg/starts.h5", "topology": f"{base}/cg/topology.pdb",
                 "prior": f"{base}/prior/prior.yaml"}  # fmt: skip
        checkpoint = model_files(self.config, prediction).get("checkpoint")
        if checkpoint:
            found["checkpoint"] = checkpoint
        if checkpoint and prediction.model in ("specific", "multi"):
            # the networks trained here drive their shares of the replicas, as in the parent's run
            from ..cgsim.settings import draw_checkpoints

            found["draws"] = draw_checkpoints(checkpoint, self.config["train"]["networks"])
        return found

    def parent_model(self, prediction) -> str | None:
        """The parent's CG run the ΔΔG compares with: the same model, where the config runs it."""
        if not prediction.compares_to_parent or prediction.model not in self.config["models"]:
            return None
        return prediction.model

    def analysis_inputs(self, wildcards) -> dict:
        prediction = self.prediction(wildcards)
        base = self.folder(prediction.name)
        found = {"traj": f"{base}/cgsim/traj.xtc", "frames": f"{base}/cgsim/frames.csv",
                 "run": f"{base}/cgsim/run.json", "topology": f"{base}/cg/topology.pdb",
                 "starts": f"{base}/cg/starts.h5"}  # fmt: skip
        if prediction.native:
            found["native"] = prediction.native
        if prediction.compares_to_parent:
            found["parent_reference"] = paths.reference(self.results, prediction.parent)
            found["parent_dataset"] = paths.dataset(self.results, prediction.parent)
            model = self.parent_model(prediction)
            if model:
                found["parent_metrics"] = paths.model_analysis(self.results, prediction.parent,
                                                               model, "metrics.json")
                found["parent_resamples"] = paths.model_analysis(self.results, prediction.parent,
                                                                 model, "resamples.npz")
                for key, name in (("parent_traj", "traj.xtc"), ("parent_frames", "frames.csv"),
                                  ("parent_run", "run.json")):  # fmt: skip
                    found[key] = paths.cg_run(self.results, prediction.parent, model, name)
        return found

    def analysis_seed(self, wildcards) -> int:
        """The parent's bootstrap seed (its resamples pair with the parent's), else its own."""
        prediction = self.prediction(wildcards)
        if prediction.compares_to_parent:
            return seeds.bootstrap(self.config["seed"], prediction.parent)
        return seeds.prediction_bootstrap(self.config["seed"], prediction.name)

    def metrics_files(self, wildcards=None) -> list:
        return [f"{self.folder(n)}/analysis/metrics.json" for n in self.names]

    def figure_files(self, wildcards=None) -> list:
        return [f"{self.folder(n)}/analysis/figure.png" for n in self.names]

    def structures_inputs(self, wildcards) -> dict:
        """The prediction's CG run, its native, and with a parent of the same length the
        parent's all-atom reference and states (rule reference_structures)."""
        found = {key: value for key, value in self.analysis_inputs(wildcards).items()
                 if key in ("traj", "frames", "run", "topology", "native",
                            "parent_reference")}  # fmt: skip
        if "parent_reference" in found:
            parent = self.prediction(wildcards).parent
            found["parent_dssp"] = paths.reference_structures(self.results, parent, "dssp.npz")
        return found

    def forcefield(self, wildcards) -> dict:
        """The all-atom force field its states are backmapped in: the parent's, else the
        config's `aa` block."""
        from ..analysis.rules import FORCEFIELD_KEYS
        from ..config import aa_settings

        parent = self.prediction(wildcards).parent
        aa = aa_settings(self.config, parent) if parent else dict(self.config["aa"])
        return {key: aa[key] for key in FORCEFIELD_KEYS}

    def structure_files(self, wildcards=None) -> list:
        return [f"{self.folder(n)}/analysis/structures.json" for n in self.names]

    def report_inputs(self, wildcards=None) -> dict:
        """The predictions' table and figures for the report (nothing without predictions)."""
        if not self.names:
            return {}
        return {"predictions": f"{self.results}/predictions.csv",
                "prediction_figures": self.figure_files(),
                "prediction_structures": self.structure_files()}  # fmt: skip
