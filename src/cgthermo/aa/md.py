"""Production all-atom MD with forces (aa/md/{replica}.h5 + .xtc), checkpointed and resumable.

Frames are taken every `save_every_ps` from the context state at that very step, so
saved forces belong to saved positions. Frames wait in memory until the next
checkpoint, where they are appended to the working `.partial.h5` and then the
OpenMM checkpoint (`.chk`) is replaced. The checkpoint's step count says how many
frames are valid; a rerun drops any frame beyond it and continues, so the final
file equals an uninterrupted run frame for frame.

The run's integration speed is measured as it goes (`Speed`): the wall seconds of every
production stretch (the steps and the read of the frame that ends them) and the
picoseconds they simulated are added to the working copy at each checkpoint, so a resumed
run reports the speed of all its attempts; the final file carries it as `ns_per_day`,
with the `platform` and `threads` it was measured on.
"""

import hashlib
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CgthermoError
from ..io import atomic_path
from . import h5, timing
from .dynamics import (
    SimulationBlewUp,
    advance,
    check_finite,
    check_matches,
    load_start,
    new_context,
    protein_atom_table,
    set_start,
    state_arrays,
)
from .system import load_system
from .timing import saved_frames, steps_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    timestep_ps: float
    save_steps: int
    n_frames: int
    equilibration_steps: int
    checkpoint_frames: int
    report_frames: int
    restart_frames: int = 0  # every how many frames the full state is kept (0: never)

    def frame_time_ps(self, frame: int) -> float:
        """Production time of frame 1..n_frames, computed from integers so reruns match exactly."""
        return frame * self.save_steps * self.timestep_ps


def make_plan(settings: dict) -> Plan:
    save_every = settings["save_every_ps"]
    save_steps = steps_for(save_every, settings["timestep_fs"], "save_every_ps", exact=True)
    n_frames = saved_frames(settings["length_ns"], save_every)
    if n_frames < 1:
        raise CgthermoError(
            f"aa.length_ns ({settings['length_ns']} ns) is shorter than one save stride",
            "make aa.length_ns at least aa.save_every_ps / 1000",
        )
    return Plan(
        timestep_ps=settings["timestep_fs"] / 1000.0,
        save_steps=save_steps,
        n_frames=n_frames,
        equilibration_steps=steps_for(
            settings["equilibration_ps"], settings["timestep_fs"], "equilibration_ps"
        ),
        checkpoint_frames=max(1, round(settings["checkpoint_every_ps"] / save_every)),
        report_frames=max(1, round(settings["report_every_ps"] / save_every)),
        restart_frames=restart_stride(settings),
    )


def restart_stride(settings: dict) -> int:
    """`timing.restart_stride` of the run, refused in one line where it is not whole."""
    every = settings.get("adaptive", {}).get("restart_every_ps")
    frames = timing.restart_stride(settings.get("sampling", "plain"), every, settings["save_every_ps"])
    if frames is None:
        raise CgthermoError(
            f"aa.adaptive.restart_every_ps ({every}) is not a whole number of save strides "
            f"(aa.save_every_ps {settings['save_every_ps']})",
            "make it a multiple of aa.save_every_ps, or null for every saved frame",
        )
    return frames


def run_replica(system_path, start_pdb, out_h5, out_xtc, settings: dict, temperature: float,
                replica, seed: int, threads: int = 1, on_frame=None,
                origin: dict | None = None) -> None:  # fmt: skip
    """Run (or resume) one replica. `on_frame(frame)` is called after each saved frame;
    `origin` (epoch, parent trajectory and frame of an adaptive restart) goes into the file's
    attributes."""
    plan = make_plan(settings)
    system = load_system(system_path)
    topology, positions, box = load_start(start_pdb)
    check_matches(system, topology, start_pdb, system_path)
    table = protein_atom_table(topology)
    atoms = np.asarray(table["atom_indices"], dtype=np.int64)
    fingerprint = run_fingerprint(settings, temperature, seed, system_path, start_pdb)
    if plan.restart_frames:
        fingerprint["restart_frames"] = plan.restart_frames
    chk, partial = h5.working_paths(out_h5)
    label = f"replica {replica}"
    context, integrator = new_context(system, settings, temperature, seed, threads)
    platform, used_threads = platform_in_use(context)
    try:
        done = resume(context, chk, partial, fingerprint, plan, label)
        if done is None:
            attrs = {**run_attrs(settings, temperature, replica, seed), **(origin or {})}
            restart_atoms = system.getNumParticles() if plan.restart_frames else 0
            done = start_fresh(context, integrator, plan, positions, box, temperature, seed,
                               table, attrs, fingerprint, chk, partial, label,
                               restart_atoms)  # fmt: skip
        speed = Speed.resume(partial, platform, used_threads, label)
        produce(context, integrator, plan, atoms, chk, partial, done, label, on_frame, speed)
    except SimulationBlewUp:
        remove_working_files(chk, partial)
        raise
    finish(partial, chk, out_h5, out_xtc, plan, label)


def platform_in_use(context) -> tuple[str, int]:
    """(platform name, CPU threads) of a context: the CPU platform's own `Threads` property
    (what it really uses, also when the config left it to OpenMM); 1 on the other platforms
    (Reference computes on one thread; a GPU platform drives its device from one)."""
    platform = context.getPlatform()
    name = platform.getName()
    if name == "CPU":
        return name, int(platform.getPropertyValue(context, "Threads"))
    return name, 1


def run_attrs(settings: dict, temperature: float, replica, seed: int) -> dict:
    return {
        "temperature_K": float(temperature),
        "timestep_fs": float(settings["timestep_fs"]),
        "save_every_ps": float(settings["save_every_ps"]),
        "equilibration_ps": float(settings["equilibration_ps"]),
        "friction_per_ps": float(settings["friction_per_ps"]),
        "replica": int(replica),
        "seed": int(seed),
        "constraints": settings["constraints"],
        "hmr": bool(settings["hmr"]),
        "hydrogen_mass_amu": float(settings["hydrogen_mass_amu"]),
        "solvent": settings["solvent"],
        "forcefield": settings["forcefield"],
    }


def run_fingerprint(settings, temperature, seed, system_path, start_pdb) -> dict:
    """What a working copy must share with this run to be continued (length may differ)."""
    keys = ("timestep_fs", "save_every_ps", "equilibration_ps", "friction_per_ps")
    return {
        **{key: settings[key] for key in keys},
        "temperature": temperature,
        "seed": seed,
        "system_sha256": _sha256(system_path),
        "start_sha256": _sha256(start_pdb),
    }


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def resume(context, chk: Path, partial: Path, fingerprint, plan: Plan, label) -> int | None:
    """Frames already done according to the checkpoint, or None to start from the beginning."""
    if not (chk.exists() and partial.exists()):
        return None
    try:
        context.loadCheckpoint(chk.read_bytes())
    except Exception as err:  # another platform/machine, or a corrupt file
        log.warning("%s: checkpoint %s not usable (%s); starting over", label, chk, err)
        return None
    produced = context.getStepCount() - plan.equilibration_steps
    frames = min(produced // plan.save_steps, plan.n_frames)
    available = h5.valid_frames(partial, fingerprint)
    if produced < 0 or produced % plan.save_steps or available is None or available < frames:
        log.warning("%s: %s does not match the checkpoint or the settings; starting over",
                    label, partial)  # fmt: skip
        return None
    if available > frames:
        log.info("%s: dropping %d frames written after the checkpoint", label, available - frames)
    h5.truncate(partial, frames)
    log.info("%s: resuming at frame %d of %d (%.3f ns)", label, frames, plan.n_frames,
             plan.frame_time_ps(frames) / 1000.0)  # fmt: skip
    return frames


def start_fresh(context, integrator, plan, positions, box, temperature, seed, table, attrs,
                fingerprint, chk, partial, label, restart_atoms: int = 0) -> int:  # fmt: skip
    remove_working_files(chk, partial)
    context.setStepCount(0)
    context.setTime(0.0)
    set_start(context, positions, box, temperature, seed)
    equilibrate(context, integrator, plan, f"{label} (equilibration)")
    h5.create(partial, table, attrs, fingerprint, restart_atoms)
    write_checkpoint(context, chk)
    log.info("%s: equilibrated %d steps; production of %d frames", label,
             plan.equilibration_steps, plan.n_frames)  # fmt: skip
    return 0


def equilibrate(context, integrator, plan: Plan, label) -> None:
    done = 0
    while done < plan.equilibration_steps:
        n = min(plan.save_steps, plan.equilibration_steps - done)
        advance(integrator, context, n, label)
        check_finite(context, label)
        done += n


def produce(context, integrator, plan: Plan, atoms, chk, partial, done, label, on_frame,
            speed: "Speed") -> None:  # fmt: skip
    pending = Pending()
    progress = Progress(plan, done, label)
    stride_ps = plan.save_steps * plan.timestep_ps
    for frame in range(done + 1, plan.n_frames + 1):
        began = time.perf_counter()
        advance(integrator, context, plan.save_steps, label)
        # reading the frame waits for a GPU to finish the steps, so it is timed with them
        positions, forces, state = state_arrays(context, atoms, label)
        speed.add(time.perf_counter() - began, stride_ps)
        pending.add(positions, forces, plan.frame_time_ps(frame))
        if plan.restart_frames and frame % plan.restart_frames == 0:
            pending.add_restart(frame - 1, state)
        if frame % plan.checkpoint_frames == 0 or frame == plan.n_frames:
            pending.flush_to(partial, speed.attrs())
            write_checkpoint(context, chk)
        if frame % plan.report_frames == 0 or frame == plan.n_frames:
            progress.report(frame)
        if on_frame is not None:
            on_frame(frame)


class Pending:
    """Frames since the last checkpoint, held in memory until the checkpoint is written."""

    def __init__(self):
        self.positions, self.forces, self.time = [], [], []
        self.restarts = h5.RestartStates.empty()

    def add(self, positions, forces, time_ps) -> None:
        self.positions.append(positions.astype(np.float32))
        self.forces.append(forces.astype(np.float32))
        self.time.append(time_ps)

    def add_restart(self, frame_index: int, state) -> None:
        """The full state (every atom, solvent included, and the box) of a saved frame."""
        from openmm import unit

        self.restarts.add(frame_index,
                          state.getPositions(asNumpy=True).value_in_unit(unit.nanometer),
                          state.getPeriodicBoxVectors(asNumpy=True).value_in_unit(unit.nanometer))  # fmt: skip

    def flush_to(self, partial, attrs: dict) -> None:
        if self.time:
            h5.append(partial, np.stack(self.positions), np.stack(self.forces),
                      np.asarray(self.time, dtype=np.float64), attrs, self.restarts)  # fmt: skip
        self.__init__()


class Speed:
    """Production wall seconds and simulated picoseconds over every attempt at a replica.

    Saved with the frames at each checkpoint (`h5.SPEED_KEYS`), so what an attempt
    integrated after its last checkpoint is counted by neither; frames a resumed attempt
    integrates again are counted twice, time and picoseconds alike, so the ratio stays the
    measured speed. Equilibration is not counted. An attempt on another platform or thread
    count starts the sums afresh: the speed always belongs to the `platform` and `threads`
    it is stored with.
    """

    def __init__(self, platform: str, threads: int, seconds: float = 0.0, ps: float = 0.0):
        self.platform, self.threads, self.seconds, self.ps = platform, threads, seconds, ps

    @classmethod
    def resume(cls, partial, platform: str, threads: int, label: str) -> "Speed":
        saved = h5.read_speed(partial)
        if saved is None:
            return cls(platform, threads)
        if (saved["platform"], saved["threads"]) != (platform, threads):
            log.info("%s: earlier attempts ran on %s with %d thread(s), this one on %s with %d; "
                     "ns_per_day will measure this attempt only", label, saved["platform"],
                     saved["threads"], platform, threads)  # fmt: skip
            return cls(platform, threads)
        return cls(platform, threads, saved["integration_s"], saved["integration_ps"])

    def add(self, seconds: float, ps: float) -> None:
        self.seconds += seconds
        self.ps += ps

    def attrs(self) -> dict:
        return {"platform": self.platform, "threads": int(self.threads),
                "integration_s": float(self.seconds), "integration_ps": float(self.ps)}  # fmt: skip


def write_checkpoint(context, chk: Path) -> None:
    with atomic_path(chk) as tmp:
        tmp.write_bytes(context.createCheckpoint())


class Progress:
    def __init__(self, plan: Plan, start_frame: int, label: str):
        self.plan, self.start_frame, self.label = plan, start_frame, label
        self.start = time.perf_counter()

    def report(self, frame: int) -> None:
        ns_done = self.plan.frame_time_ps(frame) / 1000.0
        ns_total = self.plan.frame_time_ps(self.plan.n_frames) / 1000.0
        ns_here = ns_done - self.plan.frame_time_ps(self.start_frame) / 1000.0
        days = (time.perf_counter() - self.start) / 86400.0
        rate = ns_here / days if days > 0 else float("inf")
        eta_s = (ns_total - ns_done) / rate * 86400.0 if rate > 0 else float("inf")
        log.info("%s: %.4f / %.4f ns (%.0f %%), %.1f ns/day, ETA %s", self.label, ns_done,
                 ns_total, 100.0 * ns_done / ns_total, rate, _duration(eta_s))  # fmt: skip


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "unknown"
    hours, rest = divmod(int(round(seconds)), 3600)
    return f"{hours}h{rest // 60:02d}m{rest % 60:02d}s"


def finish(partial: Path, chk: Path, out_h5, out_xtc, plan: Plan, label: str = "") -> None:
    positions, times = h5.read_positions(partial)
    if len(times) != plan.n_frames:
        raise CgthermoError(
            f"{partial} holds {len(times)} frames, expected {plan.n_frames}",
            f"delete {partial} and {chk} and rerun",
        )
    speed = h5.write_ns_per_day(partial)
    if speed is not None:
        log.info("%s: production ran at %.1f ns/day on %s with %d thread(s)", label,
                 speed["ns_per_day"], speed["platform"], speed["threads"])  # fmt: skip
    write_xtc(positions, times, out_xtc)
    os.replace(partial, out_h5)  # same folder: an atomic rename, the file is complete
    chk.unlink(missing_ok=True)


def write_xtc(positions, times, path) -> None:
    from mdtraj.formats import XTCTrajectoryFile

    with atomic_path(path) as tmp:
        with XTCTrajectoryFile(str(tmp), "w") as xtc:
            xtc.write(xyz=positions, time=times)


def remove_working_files(*paths) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)
