"""What the adaptive_choice rule asks of Snakemake: its inputs, settings and seed."""

from .. import config as cgconfig
from .. import paths, seeds
from ..errors import CgthermoError


class AdaptiveRules:
    """Input/params functions of workflow/rules/adaptive.smk, bound to the config."""

    def __init__(self, config: dict):
        self.config = config

    def settings(self, protein: str) -> dict:
        return cgconfig.aa_settings(self.config, protein)["adaptive"]

    def earlier_trajectories(self, wildcards) -> list[str]:
        """Every trajectory of the epochs before `wildcards.epoch`."""
        aa = cgconfig.aa_settings(self.config, wildcards.protein)
        epoch = int(wildcards.epoch)
        if not cgconfig.is_adaptive(aa) or not 0 < epoch < aa["adaptive"]["epochs"]:
            raise CgthermoError(
                f"protein '{wildcards.protein}' has no adaptive epoch {epoch}",
                "ask for epochs 1 to aa.adaptive.epochs - 1 of a protein with sampling: adaptive",
            )
        count = epoch * aa["adaptive"]["trajectories"]
        return [paths.aa_trajectory(self.config["results"], wildcards.protein, r) for r in range(count)]

    def params(self, wildcards) -> dict:
        """What a choice depends on beyond its trajectories: not `epochs`, so more epochs
        later leave the earlier choices as they are."""
        settings = self.settings(wildcards.protein)
        return {key: settings[key] for key in sorted(settings) if key != "epochs"}

    def seed(self, wildcards) -> int:
        return seeds.adaptive_epoch(self.config["seed"], wildcards.protein, wildcards.epoch)
