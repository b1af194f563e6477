"""One CG simulation of a protein with the prior (and an NNP): set up, run, checkpoint, write.

A run is its replicas, each with its own start and noise stream (`integrate.replica_seed`),
so its trajectories do not depend on how the replicas are shared out. `CGSimulation`
owns the run: its work folder, checkpoints, explosion budget and outputs. The
integration happens in `engine.BlockGroup`s of fixed batches, one for the whole run in this
process or one per slice in worker processes (`workers`); at every checkpoint the workers
hand their replicas' frames and state to the run, which writes one checkpoint of all
replicas at one step.
A run killed under any number of workers therefore resumes under any other.
"""

import logging
import time

import numpy as np
import torch

from ..cgtopology import CGTopology
from ..errors import CgthermoError
from ..io import require_file
from ..rulelog import FORMAT as LOG_FORMAT
from ..units import SECONDS_PER_DAY
from .checkpoint import WorkFolder, attempt_record, fingerprint
from .engine import PER_FRAME, BlockGroup, merge_frames, merge_states, slice_state
from .integrate import REASONS
from .output import RunPart, acceptance, write_outputs, write_run_record
from .settings import SimInputs, SimOutputs, SimSettings, check_ladders, network_groups
from .starts import load_start_data, start_frames
from .workers import WorkerPool, worker_slices

log = logging.getLogger("cgthermo.cgsim")
NS_PER_FS = 1e-6
def segment_speeds(segments: list, replicas: int, timestep_fs: float) -> dict:
    """Each checkpoint segment's simulated ns (all replicas) and core seconds, the pieces a
    throughput interval resamples."""
    ns = [steps * replicas * timestep_fs * NS_PER_FS for steps, _ in segments]
    return {"simulated_ns": ns, "core_seconds": [float(core) for _, core in segments]}


def ns_per_day(steps: int, seconds: float, timestep_fs: float) -> float:
    return steps * timestep_fs * NS_PER_FS / max(seconds, 1e-12) * SECONDS_PER_DAY


class CGSimulation:
    """The replicas of one Cα chain under the prior (+ NNP), resumable from its work folder."""

    def __init__(self, inputs: SimInputs, settings: SimSettings, work_dir, label: str = ""):
        if settings.frames < 1:
            raise CgthermoError(
                f"cgsim.steps ({settings.steps}) is shorter than cgsim.save_every "
                f"({settings.save_every}): no frame would be saved",
                "make cgsim.steps at least cgsim.save_every")
        check_ladders(settings.replicas, settings.batch_replicas, settings.rungs)
        self.inputs, self.settings = inputs, settings
        self.label = label or inputs.protein
        self.work = WorkFolder(work_dir)
        topology = CGTopology.from_pdb(require_file(inputs.topology_pdb, "cg_map"))
        data = load_start_data(require_file(inputs.dataset_h5, "cg_map"), inputs.protein)
        self._check_data(data, topology)
        self.starts = start_frames(data, settings.replicas, settings.start_seed,
                                   settings.starts)
        self.start_positions = data.pos[self.starts]
        files = [require_file(inputs.prior_yaml, "the prior stage")]
        files += [require_file(path, "the train stage") for path in inputs.networks]
        if len(inputs.networks) > 1 and settings.rungs > 1:
            raise CgthermoError(f"{self.label} has {len(inputs.networks)} networks under "
                                "replica exchange, whose ladders would swap between them",
                                "use train.networks: 1 or cgsim.sampler: langevin")  # fmt: skip
        self.fingerprint = fingerprint(settings.identity(), files, self.start_positions)
        self.chunk_ids: list[int] = []
        self._reported: set[int] = set()
        self._cost = {"wall_seconds": 0.0, "core_seconds": 0.0, "segments": []}
        self._cores, self._clock = 1, time.perf_counter()
        self.state = self._resumable_state()
        self.step = 0 if self.state is None else int(self.state["step"])
        if self.state is not None:
            self.chunk_ids, self._reported = list(self.state["chunk_ids"]), \
                set(self.state["reported"])
            self._cost = {"segments": [], **self.state["cost"]}
            self._cost["segments"] = list(self._cost["segments"])
            log.info("%s: resuming from the checkpoint at step %d", self.label, self.step)
        else:
            log.info("%s: starting %d replicas from all-atom frames %s", self.label,
                     settings.replicas, self.starts.tolist())
        # a broken network or prior fails here, before any worker starts
        self.group = BlockGroup(inputs, settings, self.start_positions,
                                range(settings.replicas))

    def _check_data(self, data, topology: CGTopology):
        embeddings = topology.embeddings
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

    def _resumable_state(self) -> dict | None:
        """The checkpoint of this run, or None; a checkpoint it cannot use is named in a WARNING."""
        if not self.work.holds_run():
            return None
        state, why = self.work.load_state(self.fingerprint)
        if state is not None and state["step"] > self.total_steps:
            state, why = None, (f"its checkpoint is at step {state['step']}, past the run's "
                                f"{self.total_steps} steps")
        if state is None:
            log.warning("%s: cannot resume from %s: %s; starting over", self.label,
                        self.work.path, why)
            self.work.remove(keep_record=True)
        return state

    @property
    def total_steps(self) -> int:
        return self.settings.frames * self.settings.save_every

    def _periods(self):
        """Frames to integrate before each checkpoint, from the current step to the end."""
        every = self.settings.frames_per_checkpoint
        done, total = self.step // self.settings.save_every, self.settings.frames
        while done < total:
            count = min(every - done % every, total - done)
            done += count
            yield count

    def run(self, workers: int = 1, after_frame=None) -> None:
        """Integrate to the end, checkpointing. `workers` > 1 splits the replicas over that
        many one-thread processes (CPU only). `after_frame(batch)` (one process only) is
        called after each saved frame, e.g. by tests that damage a replica."""
        slices = worker_slices(self.settings.replicas, self.settings.batch_replicas, workers,
                               len(self.inputs.networks))
        on_cpu = self.group.blocks[0].device == "cpu"
        in_workers = len(slices) > 1 and on_cpu and after_frame is None
        self._cores, self._clock = (len(slices) if in_workers else 1), time.perf_counter()
        if in_workers:
            self._run_in_workers(slices)
        else:
            self._run_here(after_frame, on_cpu)

    def _run_here(self, after_frame, on_cpu: bool):
        group = self.group
        if self.state is None:
            group.start_fresh()
        else:
            group.load(self.state)
        started, first_step = time.perf_counter(), self.step
        threads = torch.get_num_threads()
        if on_cpu:  # as in a worker: intra-op threads would change the sums' last bits
            torch.set_num_threads(1)
        try:
            for count in self._periods():
                frames = group.advance(count, after_frame)
                self._checkpoint(frames, group.state(), first_step, started)
        finally:
            torch.set_num_threads(threads)

    def _run_in_workers(self, slices: list[range]):
        log.info("%s: %d replicas in %d processes of one thread each (%s)", self.label,
                 self.settings.replicas, len(slices),
                 ", ".join(f"{r.start}-{r.stop - 1}" for r in slices))
        self.group = None  # the workers build their own
        starts = [self.start_positions[r.start:r.stop] for r in slices]
        states = [None if self.state is None else slice_state(self.state, r) for r in slices]
        started, first_step = time.perf_counter(), self.step
        with WorkerPool(self.inputs, self.settings, slices, starts, states) as pool:
            for count in self._periods():
                frames, states = pool.advance(count)
                self._checkpoint(merge_frames(frames), merge_states(states), first_step,
                                 started)

    def _checkpoint(self, frames: list[dict], state: dict, first_step: int, started: float):
        self.step = int(state["step"])
        index = len(self.chunk_ids)
        positions = np.stack([f["pos"] for f in frames], axis=1)  # replicas, frames, beads, 3
        scalars = {key: np.stack([f[key] for f in frames], axis=1) for key in PER_FRAME}
        scalars["step"] = np.array([f["step"] for f in frames], dtype=np.int64)
        self._check_explosions(state)
        self.work.write_chunk(index, positions, scalars)
        self.chunk_ids.append(index)
        self._count_cost(self.step - (self.state["step"] if self.state else 0))
        self.state = {**state, "fingerprint": self.fingerprint,
                      "cost": {**self._cost, "segments": list(self._cost["segments"])},
                      "chunk_ids": list(self.chunk_ids), "reported": sorted(self._reported)}
        self.work.save_state(self.state)
        self._progress(self.step - first_step, time.perf_counter() - started, state)

    def _check_explosions(self, state: dict):
        """Report new explosions; fail once more of the run's replicas exploded than allowed."""
        stop_step = state["stop_step"].numpy()
        reasons = state["stop_reason"].numpy()
        for replica in np.flatnonzero(stop_step >= 0):
            if replica not in self._reported:
                self._reported.add(int(replica))
                log.warning("%s: replica %d exploded at step %d (%s); it is stopped, its frames "
                            "before that step stay in the trajectory, flagged, and the analysis "
                            "leaves the replica out", self.label, replica,
                            stop_step[replica], REASONS[int(reasons[replica])])
        fraction = self.settings.max_exploded_fraction
        # under replica exchange the trajectory is the target slots: they get the same budget
        target = [r for r in self.settings.trajectory_replicas if r in self._reported]
        if (len(self._reported) > fraction * self.settings.replicas
                or len(target) > fraction * len(self.settings.trajectory_replicas)):
            self.work.remove()
            which = ", ".join(f"replica {r} at step {stop_step[r]}"
                              for r in sorted(self._reported))
            if self.settings.rungs > 1:
                which += (f"; {len(target)} of the {len(self.settings.trajectory_replicas)} "
                          f"at the target temperature")
            raise CgthermoError(
                f"{len(self._reported)} of {self.settings.replicas} replicas of {self.label} "
                f"exploded ({which}), more than cgsim.max_exploded_fraction = {fraction}",
                "check the prior and model, or lower cgsim.timestep_fs")

    def _count_cost(self, steps: int):
        """Add the wall time since the last checkpoint, and its core time (one core per
        worker process on a CPU, one device on a GPU), to the run's cost over all attempts;
        keep each segment's (steps, core seconds), whose spread gives the speed an interval."""
        now = time.perf_counter()
        seconds, self._clock = now - self._clock, now
        self._cost["wall_seconds"] += seconds
        self._cost["core_seconds"] += seconds * self._cores
        self._cost["segments"].append([int(steps), seconds * self._cores])

    def _progress(self, steps: int, seconds: float, state: dict):
        running = int(state["active"].sum())
        rate = ns_per_day(steps, seconds, self.settings.timestep_fs)
        log.info("%s: step %d/%d (%.0f %%), %.3g ns/day per replica, %.3g ns/day aggregate "
                 "over %d running replicas", self.label, self.step, self.total_steps,
                 100.0 * self.step / self.total_steps, rate, rate * running, running)
        if self.settings.rungs > 1:
            log.info("%s: swap acceptance between neighbouring temperatures %s", self.label,
                     self._acceptance_text(state))

    def _pair_acceptance(self, state: dict) -> list:
        """Per neighbour pair (rung k, k + 1): accepted ÷ attempted swaps over all ladders."""
        rungs = self.settings.rungs
        accepted = state["accepted"].numpy().reshape(-1, rungs).sum(0)[:-1]
        attempted = state["attempted"].numpy().reshape(-1, rungs).sum(0)[:-1]
        return [None if not np.isfinite(a) else float(a)
                for a in acceptance(accepted, attempted)]

    def _acceptance_text(self, state: dict) -> str:
        temperatures = self.settings.slot_temperatures()
        return ", ".join(
            f"{temperatures[k]:.0f}-{temperatures[k + 1]:.0f} K: "
            + ("none tried" if rate is None else f"{rate:.2f}")
            for k, rate in enumerate(self._pair_acceptance(state)))

    def run_record(self) -> dict:
        """What run.json holds: the sampler, its ladder and swap acceptance, and the run's cost."""
        settings, cost = self.settings, self._cost
        simulated_ns = settings.replicas * self.total_steps * settings.timestep_fs * NS_PER_FS
        days, core_days = (cost["wall_seconds"] / SECONDS_PER_DAY,
                           cost["core_seconds"] / SECONDS_PER_DAY)
        return {
            "sampler": settings.sampler, "replicas": settings.replicas,
            "trajectory_replicas": len(settings.trajectory_replicas),
            "ladder_temperatures_K": settings.slot_temperatures()[:settings.rungs].tolist(),
            "exchange_every": settings.exchange_every if settings.rungs > 1 else None,
            "exchange_acceptance": self._pair_acceptance(self.state),
            "steps": self.total_steps, "timestep_fs": settings.timestep_fs,
            "device": settings.torch_device, "simulated_ns": simulated_ns,
            "networks": len(self.inputs.networks),
            "replica_network": [j for j, group in enumerate(
                network_groups(settings.replicas, len(self.inputs.networks))) for _ in group],
            "wall_seconds": cost["wall_seconds"], "core_seconds": cost["core_seconds"],
            "segments": segment_speeds(cost["segments"], settings.replicas, settings.timestep_fs),
            "ns_per_day": simulated_ns / days if days > 0 else None,
            "ns_per_day_per_core": simulated_ns / core_days if core_days > 0 else None,
        }

    def write(self, outputs: SimOutputs) -> int:
        """Write traj.xtc, frames.csv and log.csv, then drop the work folder; return the frames."""
        if self.step < self.total_steps:
            raise CgthermoError(f"{self.label} has run {self.step} of {self.total_steps} steps",
                                "call run() to the end before writing the outputs")
        stop_steps = self.state["stop_step"].numpy()
        part = RunPart(self.work.path, list(self.chunk_ids), stop_steps,
                       self.settings.slot_temperatures(), self.settings.rungs)
        count = write_outputs([part], self.settings.timestep_fs, outputs)
        write_run_record(self.run_record(), outputs.run_json)
        if self.settings.rungs > 1:
            log.info("%s: swap acceptance between neighbouring temperatures %s", self.label,
                     self._acceptance_text(self.state))
        self.work.remove()
        log.info("%s: wrote %d frames of %d replicas (%d exploded) to %s", self.label, count,
                 len(stop_steps), int((stop_steps >= 0).sum()), outputs.traj_xtc)
        return count


def simulate(inputs: SimInputs, settings: SimSettings, outputs: SimOutputs, work_dir,
             label: str = "", workers: int = 1) -> int:
    """Run (or resume) one CG simulation to the end and write its artifacts.

    On a CPU, `workers` > 1 splits the replicas over that many one-thread processes:
    the network's many small tensor operations do not speed up with threads, so
    separate batches use the cores far better (benchmarks/RESULTS.md). A GPU runs
    the batches in one process (set `cgsim.batch_replicas` to the replicas for one batch).
    The trajectories are the same for every `workers`. A test may break a replica on
    purpose (`faults`).
    """
    from .faults import explosion_hook

    with attempt_record(WorkFolder(work_dir), LOG_FORMAT):
        sim = CGSimulation(inputs, settings, work_dir, label)
        sim.run(workers, after_frame=explosion_hook(sim.label))
        return sim.write(outputs)

