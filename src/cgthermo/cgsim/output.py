"""The artifacts of cg_sim (docs/artifacts.md): traj.xtc, frames.csv, log.csv, all written atomically."""

import numpy as np
import pandas as pd

from ..io import atomic_path
from ..units import FS_PER_PS, angstrom_to_nm

FRAME_COLUMNS = ["replica", "frame", "step", "time_fs", "exploded"]
LOG_COLUMNS = ["step", "time_fs", "replica", "potential", "kinetic", "temperature"]


def kept_frames(steps: np.ndarray, stop_step: int) -> np.ndarray:
    """Mask of the frames of one replica that precede its explosion (all when it never exploded)."""
    return np.ones(len(steps), bool) if stop_step < 0 else steps < stop_step


def write_outputs(work, chunk_ids, stop_steps, timestep_fs, outputs) -> int:
    """Assemble the chunks replica by replica into the final files; return the frames written."""
    stop_steps = np.asarray(stop_steps)
    frame_rows, log_rows = [], []
    chunks = [work.load_chunk(index) for index in chunk_ids]  # positions are memory maps
    with atomic_path(outputs.traj_xtc) as xtc_tmp:
        from mdtraj.formats import XTCTrajectoryFile

        with XTCTrajectoryFile(str(xtc_tmp), "w") as xtc:
            for replica, stop in enumerate(stop_steps):
                nframe = 0
                for positions, scalars in chunks:
                    steps = scalars["step"]
                    keep = kept_frames(steps, int(stop))
                    if not keep.any():
                        continue
                    times = steps[keep] * timestep_fs
                    xyz = angstrom_to_nm(np.asarray(positions[replica][keep], dtype=np.float32))
                    xtc.write(xyz, time=times / FS_PER_PS, step=steps[keep])
                    count = int(keep.sum())
                    frame_rows.append(pd.DataFrame({
                        "replica": replica, "frame": np.arange(nframe, nframe + count),
                        "step": steps[keep], "time_fs": times, "exploded": bool(stop >= 0)}))
                    log_rows.append(pd.DataFrame({
                        "step": steps[keep], "time_fs": times, "replica": replica,
                        "potential": scalars["potential"][replica][keep],
                        "kinetic": scalars["kinetic"][replica][keep],
                        "temperature": scalars["temperature"][replica][keep]}))
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
