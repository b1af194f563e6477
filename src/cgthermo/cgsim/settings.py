"""Simulation settings from the validated config, and the inputs of one (protein, model) run."""

from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import config as cgconfig
from .. import paths, seeds
from ..config import network_groups
from ..errors import CgthermoError

MODELS = cgconfig.model_names()


def _default(key: str):
    return cgconfig.schema_default("cgsim", key)


@dataclass(frozen=True)
class SimSettings:
    temperature_K: float
    seed: int
    replicas: int = _default("replicas")
    batch_replicas: int = _default("batch_replicas")
    steps: int = _default("steps")
    timestep_fs: float = _default("timestep_fs")
    friction_per_ps: float = _default("friction_per_ps")
    save_every: int = _default("save_every")
    checkpoint_every: int = _default("checkpoint_every")
    precision: str = _default("precision")
    device: str = _default("device")
    max_bond: float = _default("max_bond")
    max_temperature_factor: float = _default("max_temperature_factor")
    max_exploded_fraction: float = _default("max_exploded_fraction")
    starts: str = _default("starts")
    # one seed per protein, so every model starts from the same all-atom frames
    start_seed: int = 0
    sampler: str = _default("sampler")
    cuda_graph: bool = _default("cuda_graph")
    exchange: dict = field(default_factory=dict)

    @classmethod
    def from_params(cls, settings: dict, temperature_K: float, protein: str, model: str,
                    placement: dict) -> "SimSettings":
        """From what the cg_sim rule passes as params (`settings`: the cgsim block's keys that
        shape the trajectory, with the run's master `seed`; the protein's temperature) and
        the keys that only place the run (`placement`: device, checkpoint spacing)."""
        if model not in MODELS:
            raise CgthermoError(f"unknown CG model '{model}'", f"use one of {', '.join(MODELS)}")
        sim = {key: value for key, value in settings.items() if key != "seed"}
        master = settings["seed"]
        return cls(temperature_K=float(temperature_K), seed=seeds.cg_sim(master, protein, model),
                   start_seed=seeds.cg_starts(master, protein), **sim, **placement)

    @classmethod
    def from_config(cls, config: dict, protein: str, model: str) -> "SimSettings":
        """The settings the cg_sim rule gives a job of this config (from_params)."""
        return cls.from_params(cgconfig.result_settings(config, "cgsim"),
                               cgconfig.protein(config, protein)["temperature"], protein, model,
                               placement(config))

    @property
    def dtype(self):
        import torch  # deferred: Snakemake imports this module while parsing the workflow

        return getattr(torch, self.precision)

    @property
    def torch_device(self) -> str:
        """'auto' becomes CUDA where torch sees a GPU; asking for CUDA without one is an error."""
        import torch
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self.device == "cuda" and not torch.cuda.is_available():
            raise CgthermoError("cgsim.device is 'cuda' but torch sees no CUDA GPU",
                                "set cgsim.device to 'auto' or 'cpu', or install the CUDA torch")
        return self.device

    @property
    def frames(self) -> int:
        """Frames per replica: the run is `frames × save_every` steps long."""
        return self.steps // self.save_every

    @property
    def frames_per_checkpoint(self) -> int:
        return max(1, round(self.checkpoint_every / self.save_every))

    @property
    def rungs(self) -> int:
        """Replicas per temperature ladder (1: plain Langevin, every replica at the target)."""
        return int(self.exchange.get("temperatures", 4)) if self.sampler == "exchange" else 1

    @property
    def exchange_every(self) -> int:
        return int(self.exchange.get("every", 50))

    def slot_temperatures(self):
        """The thermostat temperature of every replica of the run (K)."""
        import numpy as np

        from .exchange import ladder_temperatures

        ladder = ladder_temperatures(self.temperature_K, self.exchange.get("highest_factor", 1.5),
                                     self.rungs)
        return np.tile(ladder, self.replicas // self.rungs)

    @property
    def trajectory_replicas(self) -> list[int]:
        """The replicas whose frames form the trajectory: those at the target temperature."""
        return list(range(0, self.replicas, self.rungs))

    def identity(self) -> dict:
        """Everything that shapes the trajectory; a checkpoint only resumes a run with the same."""
        ident = asdict(self)
        for key in ("steps", "checkpoint_every", "max_exploded_fraction"):
            ident.pop(key)  # a longer run or other checkpoint spacing may continue the same one
        if self.sampler != "exchange":
            ident.pop("exchange")  # unused settings do not make another run
        return ident


def placement(config: dict) -> dict:
    """The cgsim keys that choose where and how a run is carried out, never its trajectory:
    a job reads them from the config, so changing them reruns nothing."""
    return {key: config["cgsim"][key] for key in cgconfig.WHERE_KEYS["cgsim"]}


def check_ladders(replicas: int, batch_replicas: int, rungs: int) -> None:
    """Ladders must tile the run and every batch, so no swap crosses a batch or a worker."""
    if replicas % rungs or (batch_replicas % rungs and batch_replicas < replicas):
        raise CgthermoError(
            f"cgsim.exchange.temperatures = {rungs} does not divide both cgsim.replicas = "
            f"{replicas} and cgsim.batch_replicas = {batch_replicas}",
            "make both multiples of cgsim.exchange.temperatures")


def batch_count(replicas: int, per_batch: int) -> int:
    """How many fixed batches of `cgsim.batch_replicas` the replicas make (the last may be short)."""
    return -(-replicas // per_batch)


def replica_blocks(replicas: range, per_batch: int) -> list[range]:
    """The fixed batches of a range of replicas (`cgsim.batch_replicas` each, the last may be short)."""
    return [range(a, min(a + per_batch, replicas.stop))
            for a in range(replicas.start, replicas.stop, per_batch)]


def run_batches(replicas: int, per_batch: int, networks: int) -> list[tuple[range, int]]:
    """The fixed batches of a run and the network that drives each: a batch never holds two
    networks' replicas, and with one network they are `replica_blocks` of the whole run."""
    return [(block, j) for j, group in enumerate(network_groups(replicas, networks))
            for block in replica_blocks(group, per_batch)]  # fmt: skip


@dataclass(frozen=True)
class SimInputs:
    """The files one CG simulation reads; `checkpoint` is None for the prior-only baseline.
    `draws`: the checkpoints of further trainings of the same network (`train.networks`),
    each driving its own contiguous share of the replicas (`network_groups`)."""

    protein: str
    dataset_h5: Path
    topology_pdb: Path
    prior_yaml: Path
    checkpoint: Path | None = None
    draws: tuple = ()

    @property
    def networks(self) -> tuple:
        return () if self.checkpoint is None else (self.checkpoint, *self.draws)


@dataclass(frozen=True)
class SimOutputs:
    traj_xtc: Path
    frames_csv: Path
    log_csv: Path
    run_json: Path


def draw_checkpoints(checkpoint: str, networks: int) -> list[str]:
    """The checkpoints of a network's further trainings (draws 1 … networks − 1), beside its own."""
    folder, _, name = checkpoint.rpartition("/")
    return [f"{folder}/draw{j}/{name}" for j in range(1, int(networks))]


def model_input_paths(results: str, protein: str, model: str, networks: int = 1) -> dict:
    """The files a (protein, model) simulation reads, as paths under `results`; with
    `networks` > 1 a network model's run also reads the further trainings (`draws`).

    prior_only: the protein's prior and no network; specific: the protein's network
    with the protein's prior (the prior it learned the delta forces against); multi:
    the multi-protein network with the multi-protein prior; multi_loo: the network and prior
    of every other protein, the prior extended to this one (docs/predict.md).
    """
    if model not in MODELS:
        raise CgthermoError(f"unknown CG model '{model}'", f"use one of {', '.join(MODELS)}")
    files = {"dataset": paths.dataset(results, protein),
             "topology": paths.cg_topology(results, protein)}
    if model == "multi":
        files["prior"] = paths.prior(results, cgconfig.MULTI)
        files["checkpoint"] = paths.group_model(results, cgconfig.MULTI)
    elif model == cgconfig.LOO:  # trained without this protein; its prior extended to it
        files["prior"] = paths.prior(results, f"{cgconfig.LOO}/{protein}", "extended.yaml")
        files["checkpoint"] = paths.group_model(results, f"{cgconfig.LOO}/{protein}")
    else:
        files["prior"] = paths.prior(results, protein)
    if model == "specific":
        files["checkpoint"] = paths.specific_model(results, protein)
    if "checkpoint" in files and networks > 1:
        files["draws"] = draw_checkpoints(files["checkpoint"], networks)
    return files
