"""One CG simulation of a protein with the prior (and an NNP): set up, run, checkpoint, write."""

import logging
import time

import numpy as np
import torch
from torchmd.systems import System

from ..cgtopology import CGTopology
from ..errors import CgthermoError
from ..io import require_file
from .batched import build_batched_forces
from .checkpoint import WorkFolder, fingerprint
from .integrate import REASONS, GuardedLangevin
from .nnp import load_network, make_external
from .output import write_outputs
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

    def __init__(self, inputs: SimInputs, settings: SimSettings, work_dir, label: str = ""):
        if settings.frames < 1:
            raise CgthermoError(
                f"cgsim.steps ({settings.steps}) is shorter than cgsim.save_every "
                f"({settings.save_every}): no frame would be saved",
                "make cgsim.steps at least cgsim.save_every")
        self.inputs, self.settings = inputs, settings
        self.label = label or inputs.protein
        self.device, self.dtype = settings.torch_device, settings.dtype
        self.work = WorkFolder(work_dir)
        self.topology = CGTopology.from_pdb(require_file(inputs.topology_pdb, "cg_map"))
        data = load_start_data(require_file(inputs.dataset_h5, "cg_map"), inputs.protein)
        self._check_data(data)
        starts = start_frames(data, settings.replicas, settings.start_seed, settings.starts)
        self.start_positions = data.pos[starts]
        files = [require_file(inputs.prior_yaml, "the prior stage")]
        if inputs.checkpoint is not None:
            files.append(require_file(inputs.checkpoint, "the train stage"))
        self.fingerprint = fingerprint(settings.identity(), files, self.start_positions)
        self.forces = build_batched_forces(inputs.prior_yaml, self.topology, self.device,
                                           self.dtype, external=self._external(data.types))
        self.system = self._system()
        self.generator = torch.Generator(device=self.device).manual_seed(settings.seed)
        self.integrator = GuardedLangevin(
            self.system, self.forces, settings.timestep_fs, settings.friction_per_ps,
            settings.temperature_K, self.topology.bonds, settings.max_bond,
            settings.max_temperature_factor, self.generator, self.device)
        self.step = 0
        self.chunk_ids: list[int] = []
        self._reported = set()
        if not self._resume():
            log.info("%s: starting %d replicas from all-atom frames %s", self.label,
                     settings.replicas, starts.tolist())
            self.system.set_positions(np.transpose(self.start_positions, (1, 2, 0)))
            self.system.set_velocities(maxwell_boltzmann(
                self.system.masses, settings.temperature_K, settings.replicas, self.generator))
            self.integrator.compute_forces()
        self.integrator.mark_safe()

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
        return make_external(network, types, self.settings.replicas, self.device, self.dtype)

    def _system(self) -> System:
        system = System(self.topology.numAtoms, self.settings.replicas, self.dtype, self.device)
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
        for replica in np.flatnonzero(stop_step >= 0):
            if replica not in self._reported:
                self._reported.add(int(replica))
                log.warning("%s: replica %d exploded at step %d (%s); it is stopped, its frames "
                            "before that step are kept and flagged", self.label, replica,
                            stop_step[replica], REASONS[int(reasons[replica])])
        allowed = self.settings.max_exploded_fraction * self.settings.replicas
        if len(self._reported) > allowed:
            self.work.remove()
            which = ", ".join(f"replica {r} at step {stop_step[r]}" for r in sorted(self._reported))
            raise CgthermoError(
                f"{len(self._reported)} of {self.settings.replicas} replicas of {self.label} "
                f"exploded ({which}), more than cgsim.max_exploded_fraction = "
                f"{self.settings.max_exploded_fraction}",
                "check the prior and model, or lower cgsim.timestep_fs")

    def _progress(self, steps: int, seconds: float):
        running = int(self.integrator.active.sum())
        rate = ns_per_day(steps, seconds, self.settings.timestep_fs)
        log.info("%s: step %d/%d (%.0f %%), %.3g ns/day per replica, %.3g ns/day aggregate "
                 "over %d running replicas", self.label, self.step, self.total_steps,
                 100.0 * self.step / self.total_steps, rate, rate * running, running)

    def write(self, outputs: SimOutputs) -> int:
        """Write traj.xtc, frames.csv and log.csv, then drop the work folder; return the frames."""
        if self.step < self.total_steps:
            raise CgthermoError(f"{self.label} has run {self.step} of {self.total_steps} steps",
                                "call run() to the end before writing the outputs")
        stop_steps = self.integrator.stop_step.cpu().numpy()
        count = write_outputs(self.work, self.chunk_ids, stop_steps, self.settings.timestep_fs,
                              outputs)
        self.work.remove()
        log.info("%s: wrote %d frames of %d replicas (%d exploded) to %s", self.label, count,
                 self.settings.replicas, int((stop_steps >= 0).sum()), outputs.traj_xtc)
        return count


def simulate(inputs: SimInputs, settings: SimSettings, outputs: SimOutputs, work_dir,
             label: str = "") -> int:
    """Run (or resume) one CG simulation to the end and write its artifacts."""
    sim = CGSimulation(inputs, settings, work_dir, label)
    sim.run()
    return sim.write(outputs)
