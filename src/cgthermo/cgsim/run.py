"""One CG simulation of a protein with the prior (and an NNP): set up, run, checkpoint, write."""

import logging
import multiprocessing
import time
from pathlib import Path

import numpy as np
import torch
from torchmd.systems import System

from ..cgtopology import CGTopology
from ..errors import CgthermoError
from ..io import require_file
from ..rulelog import FORMAT as LOG_FORMAT
from .batched import build_batched_forces
from .checkpoint import WorkFolder, fingerprint
from .integrate import REASONS, GuardedLangevin
from .nnp import load_network, make_external
from .output import RunPart, write_outputs
from .settings import SimInputs, SimOutputs, SimSettings
from .starts import StartData, load_start_data, maxwell_boltzmann, start_frames

log = logging.getLogger("cgthermo.cgsim")
NS_PER_FS = 1e-6
SECONDS_PER_DAY = 86400.0


class SimulationStopped(RuntimeError):
    """Raised by the `stop_at_step` hook: the run ends as if the job had been killed."""


def ns_per_day(steps: int, seconds: float, timestep_fs: float) -> float:
    return steps * timestep_fs * NS_PER_FS / max(seconds, 1e-12) * SECONDS_PER_DAY


class CGSimulation:
    """Batched replicas of one Cα chain under the prior (+ NNP), resumable from its work folder."""

    def __init__(self, inputs: SimInputs, settings: SimSettings, work_dir, label: str = "",
                 replicas: range | None = None):
        """`replicas`: the slice of the run's replicas this object integrates (all by default)."""
        if settings.frames < 1:
            raise CgthermoError(
                f"cgsim.steps ({settings.steps}) is shorter than cgsim.save_every "
                f"({settings.save_every}): no frame would be saved",
                "make cgsim.steps at least cgsim.save_every")
        self.inputs, self.settings = inputs, settings
        self.replicas = replicas if replicas is not None else range(settings.replicas)
        self._check_replicas()
        self.label = label or inputs.protein
        self.device, self.dtype = settings.torch_device, settings.dtype
        self.work = WorkFolder(work_dir)
        self.topology = CGTopology.from_pdb(require_file(inputs.topology_pdb, "cg_map"))
        data = load_start_data(require_file(inputs.dataset_h5, "cg_map"), inputs.protein)
        self._check_data(data)
        # starts are chosen for the whole run, so a slice starts where the unsplit run would
        starts = start_frames(data, settings.replicas, settings.start_seed,
                              settings.starts)[self.replicas.start:self.replicas.stop]
        self.start_positions = data.pos[starts]
        files = [require_file(inputs.prior_yaml, "the prior stage")]
        if inputs.checkpoint is not None:
            files.append(require_file(inputs.checkpoint, "the train stage"))
        identity = {**settings.identity(), "replicas": [self.replicas.start, self.replicas.stop]}
        self.fingerprint = fingerprint(identity, files, self.start_positions)
        self.forces = build_batched_forces(inputs.prior_yaml, self.topology, self.device,
                                           self.dtype, external=self._external(data.types))
        self.system = self._system()
        # each slice draws its own noise; the unsplit run (first replica 0) keeps the config seed
        self.generator = torch.Generator(device=self.device).manual_seed(
            settings.seed + self.replicas.start)
        self.integrator = GuardedLangevin(
            self.system, self.forces, settings.timestep_fs, settings.friction_per_ps,
            settings.temperature_K, self.topology.bonds, settings.max_bond,
            settings.max_temperature_factor, self.generator, self.device)
        self.step = 0
        self.chunk_ids: list[int] = []
        self._reported = set()
        if not self._resume():
            log.info("%s: starting %d replicas from all-atom frames %s", self.label,
                     self.nreplicas, starts.tolist())
            self.system.set_positions(np.transpose(self.start_positions, (1, 2, 0)))
            self.system.set_velocities(maxwell_boltzmann(
                self.system.masses, settings.temperature_K, self.nreplicas, self.generator))
            self.integrator.compute_forces()
        self.integrator.mark_safe()

    @property
    def nreplicas(self) -> int:
        return len(self.replicas)

    def _check_replicas(self):
        whole = range(self.settings.replicas)
        if self.replicas.step != 1 or not self.replicas or self.replicas.start < 0 \
                or self.replicas.stop > whole.stop:
            raise CgthermoError(f"replica slice {self.replicas} is not a non-empty part of "
                                f"the run's {whole}",
                                "pass a contiguous range inside range(cgsim.replicas)")

    def _check_data(self, data: StartData):
        embeddings = self.topology.embeddings
        if data.pos.shape[1] != len(embeddings) or not np.array_equal(data.types, embeddings):
            raise CgthermoError(
                f"{self.inputs.dataset_h5} ({data.pos.shape[1]} beads, types "
                f"{data.types.tolist()}) does not match {self.inputs.topology_pdb} "
                f"({len(embeddings)} beads, types {embeddings.tolist()})",
                "rerun cg_map so the dataset and topology come from the same protein")
        if data.temperature_K is not None and abs(data.temperature_K
                                                   - self.settings.temperature_K) > 1e-6:
            log.warning("%s: all-atom data at %.1f K, CG simulation at %.1f K", self.label,
                        data.temperature_K, self.settings.temperature_K)

    def _external(self, types):
        if self.inputs.checkpoint is None:
            return None
        network = load_network(self.inputs.checkpoint, self.device, self.dtype)
        return make_external(network, types, self.nreplicas, self.device, self.dtype)

    def _system(self) -> System:
        system = System(self.topology.numAtoms, self.nreplicas, self.dtype, self.device)
        system.set_masses(torch.as_tensor(self.topology.masses))
        system.set_box(np.zeros((3, 1)))  # zeros: no periodic box
        return system

    # -- checkpoints -------------------------------------------------------------------------
    def _state(self) -> dict:
        integ = self.integrator
        return {"fingerprint": self.fingerprint, "step": self.step,
                "chunk_ids": list(self.chunk_ids), "pos": self.system.pos.cpu(),
                "vel": self.system.vel.cpu(), "forces": self.system.forces.cpu(),
                "rng": self.generator.get_state(), "active": integ.active.cpu(),
                "stop_step": integ.stop_step.cpu(), "stop_reason": integ.stop_reason.cpu(),
                "reported": sorted(self._reported)}

    def _resume(self) -> bool:
        state = self.work.load_state(self.fingerprint)
        if state is None or state["step"] > self.settings.frames * self.settings.save_every:
            self.work.remove()  # stale work of other settings or inputs
            return False
        integ = self.integrator
        self.step, self.chunk_ids = state["step"], list(state["chunk_ids"])
        for name in ("pos", "vel", "forces"):
            getattr(self.system, name).copy_(state[name])
        self.generator.set_state(state["rng"])
        for name in ("active", "stop_step", "stop_reason"):
            getattr(integ, name).copy_(state[name])
        self._reported = set(state["reported"])
        log.info("%s: resuming from the checkpoint at step %d", self.label, self.step)
        return True

    def _flush(self, frames: list[dict]):
        index = len(self.chunk_ids)
        positions = np.stack([f["pos"] for f in frames], axis=1)  # replicas, frames, beads, 3
        scalars = {key: np.stack([f[key] for f in frames], axis=1)
                   for key in ("potential", "kinetic", "temperature")}
        scalars["step"] = np.array([f["step"] for f in frames], dtype=np.int64)
        self.work.write_chunk(index, positions, scalars)
        self.chunk_ids.append(index)
        self.work.save_state(self._state())

    # -- the run -----------------------------------------------------------------------------
    @property
    def total_steps(self) -> int:
        return self.settings.frames * self.settings.save_every

    def run(self, stop_at_step: int | None = None, after_frame=None) -> None:
        """Integrate to the end, checkpointing.

        Hooks for tests: `stop_at_step` ends the run after that step without a
        checkpoint, as a killed job would; `after_frame(self)` is called after each
        saved frame (and checkpoint).
        """
        settings = self.settings
        pending: list[dict] = []
        first_step, started = self.step, time.perf_counter()
        while self.step < self.total_steps:
            self.integrator.step(settings.save_every, first_step=self.step + 1)
            self.step += settings.save_every
            self.integrator.end_interval(self.step)
            pending.append(self._frame())
            self._check_explosions()
            if stop_at_step is not None and self.step >= stop_at_step:
                raise SimulationStopped(f"stopped at step {self.step} before checkpointing")
            frames_done = self.step // settings.save_every
            if frames_done % settings.frames_per_checkpoint == 0 or \
                    self.step == self.total_steps:
                self._flush(pending)
                pending = []
                self._progress(self.step - first_step, time.perf_counter() - started)
            if after_frame is not None:
                after_frame(self)

    def _frame(self) -> dict:
        integ = self.integrator
        return {"step": self.step,
                "pos": self.system.pos.detach().to("cpu", torch.float32).numpy(),
                "potential": integ.potential.detach().cpu().double().numpy(),
                "kinetic": integ.kinetic().cpu().double().numpy(),
                "temperature": integ.temperatures().cpu().double().numpy()}

    def _check_explosions(self):
        stop_step = self.integrator.stop_step.cpu().numpy()
        reasons = self.integrator.stop_reason.cpu().numpy()
        first = self.replicas.start  # logs and errors name replicas by their index in the run
        for replica in np.flatnonzero(stop_step >= 0):
            if replica not in self._reported:
                self._reported.add(int(replica))
                log.warning("%s: replica %d exploded at step %d (%s); it is stopped, its frames "
                            "before that step are kept and flagged", self.label, first + replica,
                            stop_step[replica], REASONS[int(reasons[replica])])
        allowed = self.settings.max_exploded_fraction * self.nreplicas
        if len(self._reported) > allowed:
            self.work.remove()
            which = ", ".join(f"replica {first + r} at step {stop_step[r]}"
                              for r in sorted(self._reported))
            raise CgthermoError(
                f"{len(self._reported)} of {self.nreplicas} replicas of {self.label} "
                f"exploded ({which}), more than cgsim.max_exploded_fraction = "
                f"{self.settings.max_exploded_fraction}",
                "check the prior and model, or lower cgsim.timestep_fs")

    def _progress(self, steps: int, seconds: float):
        running = int(self.integrator.active.sum())
        rate = ns_per_day(steps, seconds, self.settings.timestep_fs)
        log.info("%s: step %d/%d (%.0f %%), %.3g ns/day per replica, %.3g ns/day aggregate "
                 "over %d running replicas", self.label, self.step, self.total_steps,
                 100.0 * self.step / self.total_steps, rate, rate * running, running)

    def finished_part(self) -> RunPart:
        """What the output writer needs of this finished run; the work folder stays."""
        if self.step < self.total_steps:
            raise CgthermoError(f"{self.label} has run {self.step} of {self.total_steps} steps",
                                "call run() to the end before writing the outputs")
        return RunPart(self.work.path, list(self.chunk_ids),
                       self.integrator.stop_step.cpu().numpy())

    def write(self, outputs: SimOutputs) -> int:
        """Write traj.xtc, frames.csv and log.csv, then drop the work folder; return the frames."""
        return write_parts([self.finished_part()], self.settings.timestep_fs, outputs,
                           self.work.path, self.label)


def write_parts(parts: list[RunPart], timestep_fs: float, outputs: SimOutputs, work_dir,
                label: str) -> int:
    """Write the outputs of the finished parts (replica order), then drop the work folder."""
    count = write_outputs(parts, timestep_fs, outputs)
    WorkFolder(work_dir).remove()
    stop_steps = np.concatenate([part.stop_steps for part in parts])
    log.info("%s: wrote %d frames of %d replicas (%d exploded) to %s", label, count,
             len(stop_steps), int((stop_steps >= 0).sum()), outputs.traj_xtc)
    return count


def replica_slices(replicas: int, workers: int) -> list[range]:
    """Contiguous, nearly equal slices of the replicas, one per worker (never an empty one)."""
    bounds = np.linspace(0, replicas, min(workers, replicas) + 1).round().astype(int)
    return [range(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _run_part(inputs: SimInputs, settings: SimSettings, work_dir, label: str,
              replicas: range) -> RunPart:
    """One worker process: its slice of the replicas on one torch thread."""
    torch.set_num_threads(1)
    if not logging.getLogger().handlers:  # a spawned process: log to the inherited stderr
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    sim = CGSimulation(inputs, settings, work_dir, label, replicas)
    sim.run()
    return sim.finished_part()


def _results_or_first_error(pending, poll_seconds: float = 1.0) -> list:
    """The workers' results in order; the first failure is raised as soon as it happens."""
    while not all(result.ready() for result in pending):
        for result in pending:
            if result.ready() and not result.successful():
                result.get()
        time.sleep(poll_seconds)
    return [result.get() for result in pending]


def simulate(inputs: SimInputs, settings: SimSettings, outputs: SimOutputs, work_dir,
             label: str = "", workers: int = 1) -> int:
    """Run (or resume) one CG simulation to the end and write its artifacts.

    On a CPU, `workers` > 1 splits the replicas over that many one-thread processes:
    the network's many small tensor operations do not speed up with threads, so
    separate batches use the cores far better (benchmarks/RESULTS.md). A GPU runs
    all replicas as one batch.
    """
    label = label or inputs.protein
    if workers <= 1 or settings.torch_device != "cpu" or settings.replicas == 1:
        sim = CGSimulation(inputs, settings, work_dir, label)
        sim.run()
        return sim.write(outputs)
    slices = replica_slices(settings.replicas, workers)
    log.info("%s: %d replicas in %d processes of one thread each (%s)", label,
             settings.replicas, len(slices),
             ", ".join(f"{r.start}-{r.stop - 1}" for r in slices))
    context = multiprocessing.get_context("spawn")  # fork would copy torch's thread pools
    with context.Pool(len(slices)) as pool:  # leaving the block terminates the workers
        pending = [pool.apply_async(_run_part, (
            inputs, settings, Path(work_dir) / f"replicas-{r.start:04d}-{r.stop - 1:04d}",
            f"{label} [{r.start}-{r.stop - 1}]", r)) for r in slices]
        try:
            parts = _results_or_first_error(pending)
        except CgthermoError:
            WorkFolder(work_dir).remove()  # as in one process: a failed run leaves no work
            raise
    return write_parts(parts, settings.timestep_fs, outputs, work_dir, label)
