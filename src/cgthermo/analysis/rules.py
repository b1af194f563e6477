"""Input, params and resource functions of the analysis and report rules (kept out of the
.smk files so the rule files hold rules only and pytest can check the functions)."""

from .. import config as cgconfig
from .. import seeds
from ..resources import input_mb, minutes, position_shapes
from .features import distance_pairs

PER_MODEL_FIGURES = ("fes", "tica_1d", "rmsd", "meanforce", "dssp")
FORCEFIELD_KEYS = ("forcefield", "solvent", "implicit_model", "water_model")
# measured peaks (benchmarks/RESULTS.md, "scale.py"): 0.4 GB of libraries; 1.3 GB at 80 beads'
# 3,003 features whatever the frames; the per-frame outputs
REFERENCE_BASE_MB, REFERENCE_MATRICES, REFERENCE_BYTES_PER_FRAME = 500, 13, 250
MODEL_BASE_MB, XTC_COPIES, REFERENCE_COPIES = 500, 6, 3


class AnalysisRules:
    # requests of the rules whose needs do not grow with the data (measured far below them)
    model_runtime = "30m"
    summary_mem_mb, summary_runtime = 1000, "10m"
    report_mem_mb, report_runtime = 1000, "10m"

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

    def converged(self, wildcards) -> dict:
        """The protein's converged reference artifact as the `converged` input, if it has one."""
        path = cgconfig.protein(self.config, wildcards.protein).get("converged_reference")
        return {"converged": path} if path else {}

    def meanforce_inputs(self, wildcards) -> dict:
        """The all-atom frames, the model's prior and network, the protein's reference (its
        folded structure and TICA) and the model's CG run."""
        from .. import paths
        from ..cgsim.settings import model_input_paths

        protein, model = wildcards.protein, wildcards.model
        run = {name: paths.cg_run(self.results, protein, model, f)
               for name, f in (("traj", "traj.xtc"), ("frames", "frames.csv"),
                               ("run", "run.json"))}  # fmt: skip
        return {**model_input_paths(self.results, protein, model), **run,
                "reference": paths.reference(self.results, protein)}

    @staticmethod
    def meanforce_mem_mb(wildcards, input, attempt) -> int:
        """The libraries and network, and the frames' positions and four force arrays in
        float64 (at most analysis.meanforce_max_frames of them)."""
        return int(1.5 * (MODEL_BASE_MB + 500 + 10 * input_mb(input, "dataset")) * attempt)

    def forcefield(self, wildcards) -> dict:
        """The protein's all-atom force field settings (aa.forcefields.forcefield_files reads
        them in the job: OpenMM is not imported while the workflow loads)."""
        aa = cgconfig.aa_settings(self.config, wildcards.protein)
        return {key: aa[key] for key in FORCEFIELD_KEYS}

    def temperature(self, wildcards) -> float:
        return cgconfig.protein(self.config, wildcards.protein)["temperature"]

    def seed(self, wildcards) -> int:
        return seeds.analysis(self.config["seed"], wildcards.protein)

    def held_out(self, wildcards) -> dict:
        """With train.split: replica, what fixes the replicas no network of the protein was
        trained on (the analysis reports the metrics against them too); else empty."""
        train = self.config["train"]
        if train["split"] != "replica":
            return {}
        return {"val_size": train["val_size"], "test_size": train["test_size"],
                "seed": seeds.replica_split(self.config["seed"], wildcards.protein)}  # fmt: skip

    def bootstrap_seed(self, wildcards) -> int:
        """One seed per protein: every model of it is resampled alike (paired differences)."""
        return seeds.bootstrap(self.config["seed"], wildcards.protein)

    def reference_mem_mb(self, wildcards, input, attempt) -> int:
        """The libraries, TICA's covariance estimates (features² matrices), and the outputs
        of every frame; the positions and pair distances are read a block at a time.
        From measured peaks (benchmarks/RESULTS.md, "scale.py"), asked half as much again."""
        frames, beads = position_shapes(input.dataset)[wildcards.protein][:2]
        features = len(distance_pairs(beads, self.config["analysis"]["min_sequence_separation"]))
        needed = (REFERENCE_BASE_MB + REFERENCE_MATRICES * 8 * features**2 / 1e6
                  + REFERENCE_BYTES_PER_FRAME * frames / 1e6)  # fmt: skip
        return int(1.5 * needed * attempt)

    @staticmethod
    def model_mem_mb(wildcards, input, attempt) -> int:
        """The CG trajectory's positions (an xtc stores about a third of their float32
        size) held twice while cut into pieces, and the reference's per-frame arrays (the
        parent's, for a prediction)."""
        needed = (MODEL_BASE_MB + XTC_COPIES * input_mb(input, "traj")
                  + REFERENCE_COPIES * input_mb(input, "reference", "parent_reference"))  # fmt: skip
        return int(1.5 * needed * attempt)

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

    def structure_files(self, wildcards=None) -> list:
        """Every model's backmapped.json (its backmapped.pdb beside it)."""
        return [f"{self.results}/{p}/analysis/{m}/backmapped.json"
                for p in self.proteins for m in self.models]  # fmt: skip

    def state_files(self, wildcards=None) -> list:
        """Every model's structures.json (its states.pdb beside it)."""
        return [f"{self.results}/{p}/analysis/{m}/structures.json"
                for p in self.proteins for m in self.models]  # fmt: skip

    def reference_state_files(self, wildcards=None) -> list:
        """Every protein's reference_states.json (its reference_states.pdb beside it)."""
        return [f"{self.results}/{p}/analysis/reference_states.json" for p in self.proteins]

    def viewer_library(self, basedir) -> str:
        """The 3Dmol.js file the report embeds, a relative path taken from `basedir`."""
        from pathlib import Path

        return str(Path(basedir) / self.config["analysis"]["viewer_library"])

    def figure_files(self, wildcards=None) -> list:
        its = [f"{self.results}/{p}/analysis/msm_its.png" for p in self.proteins]
        per_model = [
            f"{self.results}/{p}/analysis/{m}/{name}.png"
            for p in self.proteins
            for m in self.models
            for name in PER_MODEL_FIGURES
        ]
        return its + per_model
