"""The artifacts of cg_sim (docs/artifacts.md): traj.xtc, frames.csv, log.csv and run.json, all
written atomically.

Under replica exchange only the target-temperature slot of every ladder makes the
trajectory (one trajectory replica per ladder); log.csv holds every slot.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import atomic_path
from ..units import FS_PER_PS, angstrom_to_nm

FRAME_COLUMNS = ["replica", "frame", "step", "time_fs", "exploded"]
LOG_COLUMNS = ["step", "time_fs", "replica", "potential", "kinetic", "temperature", "ladder",
               "rung", "set_temperature", "walker", "exchange_acceptance"]


@dataclass(frozen=True)
class RunPart:
    """A finished run over a contiguous slice of the replicas: its work folder and explosions."""

    work_dir: Path
    chunk_ids: list[int]
    stop_steps: np.ndarray  # per replica of the slice: the step it exploded at, or −1
    set_temperatures: np.ndarray  # per replica of the slice: its thermostat's temperature (K)
    rungs: int = 1  # replicas per temperature ladder; rung 0 is the target temperature


def kept_frames(steps: np.ndarray, stop_step: int) -> np.ndarray:
    """Mask of the frames of one replica that precede its explosion (all when it never exploded)."""
    return np.ones(len(steps), bool) if stop_step < 0 else steps < stop_step


def _replicas_in_run_order(parts):
    """(index in the run, index in its part, stop step, the part's chunks) for every replica."""
    from .checkpoint import WorkFolder

    first = 0
    for part in parts:
        work = WorkFolder(part.work_dir)
        chunks = [work.load_chunk(index) for index in part.chunk_ids]  # positions: memory maps
        for local, stop in enumerate(np.asarray(part.stop_steps)):
            yield first + local, local, int(stop), chunks, part
        first += len(part.stop_steps)


def acceptance(accepted: np.ndarray, attempted: np.ndarray) -> np.ndarray:
    """Accepted ÷ attempted swaps, NaN where none was attempted."""
    accepted, attempted = np.asarray(accepted, float), np.asarray(attempted, float)
    return np.divide(accepted, attempted, out=np.full(attempted.shape, np.nan),
                     where=attempted > 0)


def write_outputs(parts, timestep_fs, outputs) -> int:
    """Assemble the parts' chunks replica by replica into the final files; return the frames.

    Replicas are numbered through the parts in order, as in one unsplit run; the
    trajectory holds the target-temperature replica of every ladder, numbered by ladder.
    """
    frame_rows, log_rows = [], []
    with atomic_path(outputs.traj_xtc) as xtc_tmp:
        from mdtraj.formats import XTCTrajectoryFile

        with XTCTrajectoryFile(str(xtc_tmp), "w") as xtc:
            for replica, local, stop, chunks, part in _replicas_in_run_order(parts):
                ladder, rung = divmod(replica, part.rungs)
                nframe = 0
                for positions, scalars in chunks:
                    steps = scalars["step"]
                    keep = kept_frames(steps, stop)
                    if not keep.any():
                        continue
                    times = steps[keep] * timestep_fs
                    count = int(keep.sum())
                    if rung == 0:
                        xyz = angstrom_to_nm(np.asarray(positions[local][keep], dtype=np.float32))
                        xtc.write(xyz, time=times / FS_PER_PS, step=steps[keep])
                        frame_rows.append(pd.DataFrame({
                            "replica": ladder, "frame": np.arange(nframe, nframe + count),
                            "step": steps[keep], "time_fs": times, "exploded": stop >= 0}))
                    log_rows.append(pd.DataFrame({
                        "step": steps[keep], "time_fs": times, "replica": replica,
                        **{key: scalars[key][local][keep]
                           for key in ("potential", "kinetic", "temperature")},
                        "ladder": ladder, "rung": rung,
                        "set_temperature": part.set_temperatures[local],
                        "walker": scalars["walker"][local][keep],
                        "exchange_acceptance": acceptance(scalars["accepted"][local][keep],
                                                          scalars["attempted"][local][keep])}))
                    nframe += count
        frames = _concat(frame_rows, FRAME_COLUMNS)
        log = _concat(log_rows, LOG_COLUMNS)
        with atomic_path(outputs.frames_csv) as frames_tmp, \
                atomic_path(outputs.log_csv) as log_tmp:
            frames.to_csv(frames_tmp, index=False)
            log.to_csv(log_tmp, index=False)
    return len(frames)


def write_run_record(record: dict, path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def _concat(parts, columns) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
