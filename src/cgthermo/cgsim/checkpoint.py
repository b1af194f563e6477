"""The work folder of a running simulation: frame chunks plus a resumable state.

Frames are written in chunks (one per checkpoint) as `.npy` files laid out
replica-major, so the final trajectory can be assembled one replica at a time
through memory maps. The state file lists the chunks that belong to it and is
renamed into place after them: a job killed at any moment leaves a state that
points only at complete chunks.
"""

import contextlib
import hashlib
import json
import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

from ..io import atomic_path

STATE = "state.pt"
RECORD = "attempts.log"  # the progress lines of every attempt at this run


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

    def load_state(self, expected_fingerprint: str) -> tuple[dict | None, str]:
        """(the saved state, "") when it belongs to this run, else (None, why not)."""
        path = self.path / STATE
        if not path.is_file():
            return None, f"it holds no {STATE}"
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as err:  # torch raises assorted pickle and zip errors
            return None, f"{STATE} is unreadable ({type(err).__name__})"
        if not isinstance(state, dict) or not isinstance(state.get("rng"), list) \
                or not {"walker", "exchange_rng", "cost"} <= set(state):
            return None, f"{STATE} was written by an older cgthermo"
        if state.get("fingerprint") != expected_fingerprint:
            return None, ("the settings, inputs or start structures differ from those of its "
                          "checkpoint")
        return state, ""

    def load_chunk(self, index: int) -> tuple[np.ndarray, dict]:
        pos_path, scalar_path = self.chunk_paths(index)
        with np.load(scalar_path) as data:
            scalars = {key: data[key] for key in data.files}
        return np.load(pos_path, mmap_mode="r"), scalars

    def holds_run(self) -> bool:
        """Whether anything of an earlier attempt is here besides its log record."""
        return self.path.is_dir() and any(p.name != RECORD for p in self.path.iterdir())

    def remove(self, keep_record: bool = False) -> None:
        """Delete the folder; `keep_record` keeps the log of the attempts made so far."""
        if not keep_record:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        for path in self.path.glob("*"):
            if path.name != RECORD:
                shutil.rmtree(path) if path.is_dir() else path.unlink()


@contextlib.contextmanager
def attempt_record(work: WorkFolder, log_format: str):
    """Copy the earlier attempts' lines into this job's log, and record this attempt's.

    Snakemake starts a rerun with an empty rule log; the record in the work folder keeps
    what every interrupted attempt logged until the run finishes.
    """
    record = work.path / RECORD
    if record.is_file() and record.stat().st_size:
        sys.stderr.write(f"--- earlier attempts at this run (kept in {record}) ---\n"
                         f"{record.read_text()}--- this attempt ---\n")
        sys.stderr.flush()
    work.path.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(record, mode="a")
    handler.setFormatter(logging.Formatter(log_format))
    logger = logging.getLogger("cgthermo")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()
