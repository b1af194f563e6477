"""The work folder of a running simulation: frame chunks plus a resumable state.

Frames are written in chunks (one per checkpoint) as `.npy` files laid out
replica-major, so the final trajectory can be assembled one replica at a time
through memory maps. The state file lists the chunks that belong to it and is
renamed into place after them: a job killed at any moment leaves a state that
points only at complete chunks.
"""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import torch

from ..io import atomic_path

STATE = "state.pt"


def file_digest(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(identity: dict, files, start_positions: np.ndarray) -> str:
    """A digest of the settings, input files and start structures of a run."""
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode())
    for path in files:
        digest.update(file_digest(path).encode())
    digest.update(np.ascontiguousarray(start_positions, dtype=np.float64).tobytes())
    return digest.hexdigest()


class WorkFolder:
    """Checkpoints and frame chunks of one run; removed once the outputs are written."""

    def __init__(self, path):
        self.path = Path(path)

    def chunk_paths(self, index: int) -> tuple[Path, Path]:
        stem = self.path / f"chunk-{index:06d}"
        return stem.with_suffix(".pos.npy"), stem.with_suffix(".scalars.npz")

    def write_chunk(self, index: int, positions: np.ndarray, scalars: dict) -> None:
        """positions (replicas, frames, beads, 3) float32; scalars: arrays of (replicas, frames)."""
        self.path.mkdir(parents=True, exist_ok=True)
        pos_path, scalar_path = self.chunk_paths(index)
        with atomic_path(pos_path) as tmp:
            np.save(tmp, positions.astype(np.float32))
        with atomic_path(scalar_path) as tmp:
            np.savez(tmp, **scalars)

    def save_state(self, state: dict) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path / STATE) as tmp:
            torch.save(state, tmp)

    def load_state(self, expected_fingerprint: str) -> dict | None:
        """The saved state when it belongs to this run, else None (then the run starts fresh)."""
        path = self.path / STATE
        if not path.is_file():
            return None
        state = torch.load(path, map_location="cpu", weights_only=False)
        if state.get("fingerprint") != expected_fingerprint:
            return None
        return state

    def load_chunk(self, index: int) -> tuple[np.ndarray, dict]:
        pos_path, scalar_path = self.chunk_paths(index)
        with np.load(scalar_path) as data:
            scalars = {key: data[key] for key in data.files}
        return np.load(pos_path, mmap_mode="r"), scalars

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
