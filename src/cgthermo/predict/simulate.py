"""predict_sim: the CG simulation of one prediction, with the cg_sim machinery."""

from pathlib import Path

from .. import seeds
from ..cgsim.settings import SimInputs, SimOutputs, SimSettings
from .entries import Prediction


def prediction_settings(config: dict, prediction: Prediction) -> SimSettings:
    """The config's cgsim settings at the prediction's temperature, every replica starting
    from its own given frame. Started from the parent's starts, each replica also draws the
    parent's noise (the parent's seed for the same model): mutant and wild type then differ
    replica by replica by their potentials alone, which narrows the ΔΔG interval."""
    sim = dict(config["cgsim"], starts="given")
    parent_run = prediction.starts == "parent" and prediction.model != "checkpoint"
    seed = (seeds.cg_sim(config["seed"], prediction.parent, prediction.model)
            if parent_run else seeds.prediction_sim(config["seed"], prediction.name))
    return SimSettings(temperature_K=prediction.temperature, seed=seed, start_seed=0, **sim)


def simulate_prediction(config: dict, prediction: Prediction, inputs: dict, outputs: dict,
                        work_dir, workers: int = 1) -> None:  # fmt: skip
    from ..cgsim.run import simulate

    checkpoint = inputs.get("checkpoint")
    sim_inputs = SimInputs(protein=prediction.name, dataset_h5=Path(inputs["starts"]),
                           topology_pdb=Path(inputs["topology"]), prior_yaml=Path(inputs["prior"]),
                           checkpoint=Path(checkpoint) if checkpoint else None,
                           draws=tuple(Path(p) for p in inputs.get("draws") or ()))  # fmt: skip
    sim_outputs = SimOutputs(traj_xtc=Path(outputs["traj"]), frames_csv=Path(outputs["frames"]),
                             log_csv=Path(outputs["log"]), run_json=Path(outputs["run"]))  # fmt: skip
    simulate(sim_inputs, prediction_settings(config, prediction), sim_outputs, work_dir,
             label=f"prediction {prediction.name}", workers=workers)  # fmt: skip
