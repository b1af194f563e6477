"""The CG dataset in torchmd-net's HDF5 layout (docs/artifacts.md): one group per protein."""

import json
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import h5py
import numpy as np

from ..errors import CgthermoError
from ..io import atomic_path, require_file
from ..residues import bead_type

BLOCK_VALUES = 1 << 20  # floats per block when copying frames (8 MB in float64)
DENSE_SPAN = 4  # rows spread over at most this many times their number are read as one slice


class LazyFrames:
    """A read-only (frames, beads, 3) array whose frames are read or computed only when
    sliced, so a stage can write it a block at a time; subclasses set `shape` and `dtype`
    and define `__getitem__`."""

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self[0 : len(self)], dtype=dtype)


@dataclass
class CGData:
    """Mapped frames of one protein, in Å, kcal/mol/Å and fs."""

    name: str
    resnames: list[str]
    pos: np.ndarray  # (frames, beads, 3) Å
    forces: np.ndarray  # (frames, beads, 3) kcal/mol/Å
    replica: np.ndarray  # (frames,)
    time: np.ndarray  # (frames,) fs within the replica
    temperature: float
    force_map: str
    dropped_frames: int = 0
    extra_attrs: dict = field(default_factory=dict)
    force_weights: np.ndarray | None = None  # (beads, saved atoms) map that made `forces`

    @property
    def types(self) -> np.ndarray:
        return np.array([bead_type(r) for r in self.resnames], dtype=np.int64)

    @property
    def frames(self) -> int:
        return len(self.pos)

    def with_forces(self, forces) -> "CGData":
        return replace(self, forces=np.asarray(forces, dtype=np.float32))


def write_dataset(path, groups: list[CGData]) -> None:
    """Write all groups to `path` atomically (one group per protein)."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
        for data in groups:
            _write_group(h5, data)


def _write_group(h5: h5py.File, data: CGData) -> None:
    if data.frames == 0:
        raise CgthermoError(
            f"protein '{data.name}' has no frames left to write",
            "check the all-atom runs, or raise cg_map.max_bond if every frame was dropped",
        )
    group = h5.create_group(data.name)
    group.create_dataset("types", data=data.types)
    _write_blocks(group, "pos", data.pos)
    _write_blocks(group, "forces", data.forces)
    group.create_dataset("replica", data=np.asarray(data.replica, dtype=np.int64))
    group.create_dataset("time", data=np.asarray(data.time, dtype=np.float64))
    group.attrs["temperature_K"] = float(data.temperature)
    group.attrs["force_map"] = data.force_map
    group.attrs["dropped_frames"] = int(data.dropped_frames)
    group.attrs["residue_names"] = json.dumps(list(data.resnames))
    for key, value in data.extra_attrs.items():
        group.attrs[key] = value
    if data.force_weights is not None:
        group.create_dataset("force_map_weights", data=np.asarray(data.force_weights))


def _write_blocks(group, name: str, values) -> None:
    """(frames, beads, 3) float32 from an array, h5py dataset or lazy array (prior.delta),
    read and written a bounded block of frames at a time."""
    frames, beads = len(values), values.shape[1]
    out = group.create_dataset(name, shape=(frames, beads, 3), dtype=np.float32)
    block = max(1, BLOCK_VALUES // (beads * 3))
    for start in range(0, frames, block):
        out[start : start + block] = np.asarray(values[start : start + block], dtype=np.float32)


def read_rows(dataset, rows) -> np.ndarray:
    """Rows of an h5py dataset in the order given, as float32: one slice where they run
    contiguously or densely (the usual replica-then-time order, a time block), else one
    sorted selection (h5py's selections grow slow with many scattered rows)."""
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        return np.empty((0, *dataset.shape[1:]), dtype=np.float32)
    low, high = int(rows.min()), int(rows.max()) + 1
    if high - low <= DENSE_SPAN * rows.size:
        return np.asarray(dataset[low:high], dtype=np.float32)[rows - low]
    unique, where = np.unique(rows, return_inverse=True)  # h5py takes increasing rows only
    return np.asarray(dataset[unique], dtype=np.float32)[where]


@contextmanager
def open_dataset(path):
    """Every protein group of a dataset file, with `pos` and `forces` left on disk as h5py
    datasets (sliced a block at a time by the stages that stream); valid inside the block."""
    require_file(path, "the cg_map stage")
    with h5py.File(path, "r") as h5:
        yield [_read_group(path, h5, name, lazy=True) for name in h5 if name != "_metadata"]


def path_list(paths) -> list:
    """A rule's input as a list of paths (Snakemake hands a single file as a string)."""
    return [paths] if isinstance(paths, (str, Path)) else list(paths)


@contextmanager
def open_datasets(paths):
    """Every protein group of every dataset file, in order, left on disk (`open_dataset`)."""
    with ExitStack() as stack:
        yield [data for path in path_list(paths) for data in stack.enter_context(open_dataset(path))]


def read_dataset(path) -> list[CGData]:
    """Every protein group of a dataset file, in file order."""
    require_file(path, "the cg_map stage")
    with h5py.File(path, "r") as h5:
        return [_read_group(path, h5, name) for name in h5 if name != "_metadata"]


def _read_group(path, h5: h5py.File, name: str, lazy: bool = False) -> CGData:
    group = h5[name]
    missing = [k for k in ("types", "pos", "forces", "replica", "time") if k not in group]
    if missing or "residue_names" not in group.attrs:
        raise CgthermoError(
            f"dataset {path} group '{name}' lacks {missing or ['residue_names']}",
            "rerun the cg_map stage",
        )
    return CGData(
        name=name,
        resnames=json.loads(group.attrs["residue_names"]),
        pos=group["pos"] if lazy else np.asarray(group["pos"]),
        forces=group["forces"] if lazy else np.asarray(group["forces"]),
        replica=np.asarray(group["replica"]),
        time=np.asarray(group["time"]),
        temperature=float(group.attrs["temperature_K"]),
        force_map=str(group.attrs["force_map"]),
        dropped_frames=int(group.attrs["dropped_frames"]),
    )
