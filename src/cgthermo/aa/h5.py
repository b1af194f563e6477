"""The all-atom trajectory file (docs/artifacts.md): a growing working copy that becomes final.

The working copy `<name>.partial.h5` is opened only while frames are appended at a
checkpoint and closed right after, so a killed job leaves it as of its last
checkpoint (HDF5 files written to at the moment of a kill can be unreadable).
"""

import json
from pathlib import Path

import h5py
import numpy as np

from ..units import SECONDS_PER_DAY

POSITION_UNITS = "nm"
FORCE_UNITS = "kJ/mol/nm"
TIME_UNITS = "ps"
FRAME_CHUNK = 16
# root attrs of the production speed, kept with the frames at each checkpoint (aa.md.Speed)
SPEED_KEYS = ("platform", "threads", "integration_s", "integration_ps")
# restartable full states of adaptive sampling: every atom (solvent too) and the box, in nm
RESTART_KEYS = ("restart_frame", "restart_positions", "restart_box")


class RestartStates:
    """Full states of saved frames, collected between checkpoints: the saved frame's index
    (from 0), every atom's position and the box vectors."""

    def __init__(self, frames, positions, boxes):
        self.frames, self.positions, self.boxes = frames, positions, boxes

    @classmethod
    def empty(cls) -> "RestartStates":
        return cls([], [], [])

    def add(self, frame_index: int, positions, box) -> None:
        self.frames.append(int(frame_index))
        self.positions.append(np.asarray(positions, dtype=np.float32))
        self.boxes.append(np.asarray(box, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.frames)


def create(path, atom_table: dict, attrs: dict, fingerprint: dict, restart_atoms: int = 0) -> None:
    """An empty, resizable trajectory with the atom table and run attributes; with
    `restart_atoms` (the whole system's atoms) also room for restartable full states."""
    n_atoms = len(atom_table["atom_indices"])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as fh:
        for name, units in (("positions", POSITION_UNITS), ("forces", FORCE_UNITS)):
            data = fh.create_dataset(
                name,
                shape=(0, n_atoms, 3),
                maxshape=(None, n_atoms, 3),
                dtype="float32",
                chunks=(FRAME_CHUNK, n_atoms, 3),
            )
            data.attrs["units"] = units
        time = fh.create_dataset("time", shape=(0,), maxshape=(None,), dtype="float64", chunks=(1024,))
        time.attrs["units"] = TIME_UNITS
        fh.create_dataset("atom_indices", data=np.asarray(atom_table["atom_indices"], dtype="int64"))
        fh.create_dataset("atom_names", data=np.asarray(atom_table["atom_names"], dtype="S"))
        fh.create_dataset("elements", data=np.asarray(atom_table["elements"], dtype="S"))
        fh.create_dataset("residue_index", data=np.asarray(atom_table["residue_index"], dtype="int64"))
        fh.create_dataset("residue_names", data=np.asarray(atom_table["residue_names"], dtype="S"))
        for key, value in attrs.items():
            fh.attrs[key] = value
        fh.attrs["fingerprint"] = json.dumps(fingerprint, sort_keys=True)
        fh.attrs["frames_at_checkpoint"] = 0
        if restart_atoms:
            _create_restart_datasets(fh, restart_atoms, own_positions=restart_atoms != n_atoms)


def _create_restart_datasets(fh, n_atoms: int, own_positions: bool) -> None:
    """Room for restart states; where the saved atoms are the whole system (implicit
    solvent) a state's positions are the saved frame's, and only the box is kept beside."""
    fh.create_dataset("restart_frame", shape=(0,), maxshape=(None,), dtype="int64", chunks=(1024,))
    box = fh.create_dataset("restart_box", shape=(0, 3, 3), maxshape=(None, 3, 3), dtype="float64",
                            chunks=(64, 3, 3))  # fmt: skip
    box.attrs["units"] = POSITION_UNITS
    if not own_positions:
        return
    data = fh.create_dataset("restart_positions", shape=(0, n_atoms, 3), maxshape=(None, n_atoms, 3),
                             dtype="float32", chunks=(1, n_atoms, 3))  # fmt: skip
    data.attrs["units"] = POSITION_UNITS


def append(path, positions: np.ndarray, forces: np.ndarray, time: np.ndarray,
           attrs: dict | None = None, restarts: RestartStates | None = None) -> int:  # fmt: skip
    """Append frames (and the full states of those among them kept as restarts), set `attrs`
    (root attributes that go with them) and record how many frames the file now holds;
    returns that number.

    No HDF5 file lock: someone reading the working copy must not make the job fail.
    """
    with h5py.File(path, "a", locking=False) as fh:
        start = fh["time"].shape[0]
        end = start + len(time)
        for name, values in (("positions", positions), ("forces", forces), ("time", time)):
            fh[name].resize(end, axis=0)
            fh[name][start:end] = values
        if restarts:
            _append_restarts(fh, restarts)
        for key, value in (attrs or {}).items():
            fh.attrs[key] = value
        fh.attrs["frames_at_checkpoint"] = end
        fh.flush()
    return end


def _append_restarts(fh, restarts: RestartStates) -> None:
    start = fh["restart_frame"].shape[0]
    end = start + len(restarts)
    values = (restarts.frames, np.stack(restarts.positions), np.stack(restarts.boxes))
    for name, value in zip(RESTART_KEYS, values, strict=True):
        if name in fh:
            fh[name].resize(end, axis=0)
            fh[name][start:end] = value


def restart_frames(path) -> np.ndarray:
    """The saved frames (indices from 0) of a trajectory whose full state can restart a run
    (none for a trajectory of plain sampling)."""
    with h5py.File(path, "r") as fh:
        return np.asarray(fh["restart_frame"][:], dtype=np.int64) if "restart_frame" in fh else np.zeros(0, np.int64)


def read_restart(path, frame_index: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions of every atom, box vectors), nm, of a saved frame kept as a restart."""
    with h5py.File(path, "r") as fh:
        rows = np.flatnonzero(np.asarray(fh["restart_frame"][:]) == int(frame_index)) if "restart_frame" in fh else []
        if len(rows) != 1:
            raise KeyError(f"{path} keeps no full state of frame {frame_index}")
        if "restart_positions" in fh:
            return fh["restart_positions"][rows[0]], fh["restart_box"][rows[0]]
        return fh["positions"][int(frame_index)], fh["restart_box"][rows[0]]


def valid_frames(path, fingerprint: dict) -> int | None:
    """Frames in a working copy made by the same run settings, or None when it is unusable."""
    try:
        with h5py.File(path, "r") as fh:
            if json.loads(fh.attrs["fingerprint"]) != json.loads(json.dumps(fingerprint)):
                return None
            return int(min(fh["time"].shape[0], fh["positions"].shape[0], fh["forces"].shape[0]))
    except (OSError, KeyError, ValueError):  # unreadable after a kill mid-write, or foreign
        return None


def truncate(path, n_frames: int) -> None:
    """Drop frames written after the checkpoint we resume from."""
    with h5py.File(path, "a") as fh:
        for name in ("positions", "forces", "time"):
            fh[name].resize(n_frames, axis=0)
        if "restart_frame" in fh:
            kept = int(np.count_nonzero(np.asarray(fh["restart_frame"][:]) < n_frames))
            for name in RESTART_KEYS:
                if name in fh:
                    fh[name].resize(kept, axis=0)
        fh.attrs["frames_at_checkpoint"] = n_frames


def read_speed(path) -> dict | None:
    """The production speed sums of a working copy, or None when it has none (written by a
    release that did not keep them)."""
    with h5py.File(path, "r") as fh:
        if not all(key in fh.attrs for key in SPEED_KEYS):
            return None
        return {
            "platform": _text(fh.attrs["platform"]),
            "threads": int(fh.attrs["threads"]),
            "integration_s": float(fh.attrs["integration_s"]),
            "integration_ps": float(fh.attrs["integration_ps"]),
        }


def write_ns_per_day(path) -> dict | None:
    """Set `ns_per_day` from the speed sums of a completed working copy; returns the speed,
    or None (and writes nothing) when the file has no sums to take it from."""
    speed = read_speed(path)
    if speed is None or not speed["integration_s"] > 0 or not speed["integration_ps"] > 0:
        return None
    days = speed["integration_s"] / SECONDS_PER_DAY
    speed["ns_per_day"] = speed["integration_ps"] / 1000.0 / days
    with h5py.File(path, "a") as fh:
        fh.attrs["ns_per_day"] = speed["ns_per_day"]
    return speed


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def read_positions(path) -> tuple[np.ndarray, np.ndarray]:
    with h5py.File(path, "r") as fh:
        return fh["positions"][:], fh["time"][:]


def working_paths(final) -> tuple[Path, Path]:
    """(checkpoint, partial trajectory) beside the final `.h5`."""
    final = Path(final)
    return final.with_suffix(".chk"), final.with_name(f"{final.stem}.partial.h5")
