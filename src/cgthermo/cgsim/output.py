"""The artifacts of cg_sim (docs/artifacts.md): traj.xtc, frames.csv, log.csv, all written atomically."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import atomic_path
from ..units import FS_PER_PS, angstrom_to_nm

FRAME_COLUMNS = ["replica", "frame", "step", "time_fs", "exploded"]
LOG_COLUMNS = ["step", "time_fs", "replica", "potential", "kinetic", "temperature"]


@dataclass(frozen=True)
class RunPart:
    """A finished run over a contiguous slice of the replicas: its work folder and explosions."""

    work_dir: Path
    chunk_ids: list[int]
    stop_steps: np.ndarray  # per replica of the slice: the step it exploded at, or −1


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
            yield first + local, local, int(stop), chunks
        first += len(part.stop_steps)


def write_outputs(parts, timestep_fs, outputs) -> int:
    """Assemble the parts' chunks replica by replica into the final files; return the frames.

    Replicas are numbered through the parts in order, as in one unsplit run.
    """
    frame_rows, log_rows = [], []
    with atomic_path(outputs.traj_xtc) as xtc_tmp:
        from mdtraj.formats import XTCTrajectoryFile

        with XTCTrajectoryFile(str(xtc_tmp), "w") as xtc:
            for replica, local, stop, chunks in _replicas_in_run_order(parts):
                nframe = 0
                for positions, scalars in chunks:
                    steps = scalars["step"]
                    keep = kept_frames(steps, stop)
                    if not keep.any():
                        continue
                    times = steps[keep] * timestep_fs
                    xyz = angstrom_to_nm(np.asarray(positions[local][keep], dtype=np.float32))
                    xtc.write(xyz, time=times / FS_PER_PS, step=steps[keep])
                    count = int(keep.sum())
                    frame_rows.append(pd.DataFrame({
                        "replica": replica, "frame": np.arange(nframe, nframe + count),
                        "step": steps[keep], "time_fs": times, "exploded": stop >= 0}))
                    log_rows.append(pd.DataFrame({
                        "step": steps[keep], "time_fs": times, "replica": replica,
                        "potential": scalars["potential"][local][keep],
                        "kinetic": scalars["kinetic"][local][keep],
                        "temperature": scalars["temperature"][local][keep]}))
                    nframe += count
        frames = _concat(frame_rows, FRAME_COLUMNS)
        log = _concat(log_rows, LOG_COLUMNS)
        with atomic_path(outputs.frames_csv) as frames_tmp, \
                atomic_path(outputs.log_csv) as log_tmp:
            frames.to_csv(frames_tmp, index=False)
            log.to_csv(log_tmp, index=False)
    return len(frames)


def _concat(parts, columns) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
