"""What the all-atom rules ask of Snakemake: settings, seeds, threads and resources per job.

Only the settings a rule's output depends on go into its `params`, so Snakemake reruns
it when they change; where the job runs (platform, precision, threads) never does.
"""

import math

from .. import config as cgconfig
from .. import paths, seeds
from .timing import GPU_PLATFORMS

RUNTIME_KEYS = ("platform", "precision", "threads")
STRUCTURE_KEYS = (
    "solvent", "forcefield", "implicit_model", "water_model", "padding_nm",
    "ionic_strength_molar", "hmr", "hydrogen_mass_amu", "constraints", "minimize_tolerance",
)  # fmt: skip
DYNAMICS_KEYS = ("timestep_fs", "friction_per_ps")
UNFOLD_KEYS = (*DYNAMICS_KEYS, "unfold_temperature", "unfold_ps")
MD_KEYS = (*DYNAMICS_KEYS, "length_ns", "save_every_ps", "equilibration_ps")
# Conservative speeds for the runtime request (ns/day) of a protein of REFERENCE_RESIDUES;
# a SLURM profile can override them.
EXPECTED_NS_PER_DAY = {("implicit", False): 20.0, ("implicit", True): 300.0,
                       ("explicit", False): 1.0, ("explicit", True): 100.0}  # fmt: skip
REFERENCE_RESIDUES = 10
# How the cost of a step grows with the protein: generalized Born without a cutoff sums over
# every atom pair (∝ residues²); PME in a box padded around the protein grows with the atoms
# (∝ residues, the water growing with the protein).
COST_EXPONENT = {"implicit": 2.0, "explicit": 1.0}
DEFAULT_THREADS = {"prepare": 1, "unfold": 1, "aa_md": 2}


class AaRules:
    """Input/params/resources functions of workflow/rules/aa_md.smk, bound to the config."""

    def __init__(self, config: dict):
        self.config = config
        self._settings = {}
        self._residues = {}

    def settings(self, protein: str) -> dict:
        # Snakemake calls these functions for every job; merging reads the schema file
        if protein not in self._settings:
            self._settings[protein] = cgconfig.aa_settings(self.config, protein)
        return self._settings[protein]

    def _subset(self, protein: str, keys) -> dict:
        settings = self.settings(protein)
        return {key: settings[key] for key in keys}

    # params (what each output depends on)
    def prepare_params(self, wildcards) -> dict:
        entry = cgconfig.protein(self.config, wildcards.protein)
        source = {k: entry[k] for k in ("sequence", "pdb") if k in entry}
        return {**source, **self._subset(wildcards.protein, STRUCTURE_KEYS)}

    def unfold_params(self, wildcards) -> dict:
        return self._subset(wildcards.protein, UNFOLD_KEYS)

    def md_params(self, wildcards) -> dict:
        temperature = cgconfig.protein(self.config, wildcards.protein)["temperature"]
        params = {**self._subset(wildcards.protein, MD_KEYS), "temperature": temperature}
        settings = self.settings(wildcards.protein)
        if cgconfig.is_adaptive(settings):
            params["restart_every_ps"] = settings["adaptive"]["restart_every_ps"]
            if cgconfig.epoch_of(settings, wildcards.replica) > 0:
                params["equilibration_ps"] = 0.0
        return params

    def prepare_seed(self, wildcards) -> int:
        return seeds.prepare(self.config["seed"], wildcards.protein)

    def unfold_seed(self, wildcards) -> int:
        return seeds.unfold(self.config["seed"], wildcards.protein, wildcards.replica)

    def md_seed(self, wildcards) -> int:
        return seeds.aa_md(self.config["seed"], wildcards.protein, wildcards.replica)

    # inputs
    def md_start(self, wildcards) -> dict:
        """An unfolded start (plain sampling, adaptive epoch 0) or an adaptive restart with
        the record of its parent frame."""
        protein, replica = wildcards.protein, wildcards.replica
        results = self.config["results"]
        if cgconfig.epoch_of(self.settings(protein), replica) == 0:
            return {"start": paths.unfolded_start(results, protein, replica)}
        return {"start": paths.restart(results, protein, replica),
                "origin": paths.restart(results, protein, replica, "json")}  # fmt: skip

    def restart_inputs(self, wildcards) -> dict:
        """What an adaptive restart is cut from: its epoch's choice and every earlier
        trajectory (the choice names one of them)."""
        protein, replica = wildcards.protein, wildcards.replica
        settings, results = self.settings(protein), self.config["results"]
        epoch = cgconfig.epoch_of(settings, replica)
        earlier = epoch * settings["adaptive"]["trajectories"]
        return {
            "choice": paths.epoch_choice(results, protein, epoch),
            "parents": [paths.aa_trajectory(results, protein, r) for r in range(earlier)],
            "structure": f"{results}/{protein}/aa/structure.pdb",
        }

    def pdb_input(self, wildcards) -> list[str]:
        entry = cgconfig.protein(self.config, wildcards.protein)
        return [entry["pdb"]] if "pdb" in entry else []

    # threads and resources
    def threads(self, rule: str):
        def threads_of(wildcards):
            return self.settings(wildcards.protein)["threads"] or DEFAULT_THREADS[rule]

        return threads_of

    def gpu(self, wildcards) -> int:
        return int(self.settings(wildcards.protein)["platform"] in GPU_PLATFORMS)

    def mem_mb(self, wildcards) -> int:
        return 8000 if self.settings(wildcards.protein)["solvent"] == "explicit" else 2000

    def residues(self, protein: str) -> int:
        """The protein's residues (its sequence, or the amino acids of its pdb)."""
        if protein not in self._residues:
            self._residues[protein] = protein_residues(cgconfig.protein(self.config, protein))
        return self._residues[protein]

    def prepare_runtime(self, wildcards) -> str:
        explicit = self.settings(wildcards.protein)["solvent"] == "explicit"
        size = max(1.0, self.residues(wildcards.protein) / 100.0)  # PDBFixer, minimization
        return f"{math.ceil((120 if explicit else 30) * size)}m"

    def unfold_runtime(self, wildcards) -> str:
        settings = self.settings(wildcards.protein)
        return _runtime(settings, settings["unfold_ps"] / 1000.0,
                        self.residues(wildcards.protein))

    def md_runtime(self, wildcards) -> str:
        settings = self.settings(wildcards.protein)
        return _runtime(settings, settings["length_ns"] + settings["equilibration_ps"] / 1000.0,
                        self.residues(wildcards.protein))


def protein_residues(entry: dict) -> int:
    from ..residues import tokenize_sequence

    if "sequence" in entry:
        return len(tokenize_sequence(entry["sequence"])[0])
    from .pdbinput import inspect

    return inspect(entry["pdb"]).n_residues


def expected_ns_per_day(settings: dict, residues: int) -> float:
    """The conservative speed of one replica of a protein of `residues`."""
    gpu = settings["platform"] in GPU_PLATFORMS
    speed = EXPECTED_NS_PER_DAY[(settings["solvent"], gpu)]
    scale = max(1.0, residues / REFERENCE_RESIDUES) ** COST_EXPONENT[settings["solvent"]]
    return speed / scale


def _runtime(settings: dict, ns: float, residues: int = REFERENCE_RESIDUES) -> str:
    days = ns / expected_ns_per_day(settings, residues)
    return f"{10 + math.ceil(1.5 * days * 1440)}m"
