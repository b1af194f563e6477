"""Atomic artifact writing: nothing half-written ever carries the final name."""

import contextlib
import os
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary sibling path; rename it to `path` only if the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    # the extension is kept so writers that infer the format from it (mdtraj, matplotlib) work
    tmp = final.with_name(f".partial-{os.getpid()}-{final.name}")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def require_file(path, produced_by: str = "the previous stage"):
    """Fail with one line when an input file is missing."""
    from .errors import CgthermoError

    if not Path(path).is_file():
        raise CgthermoError(
            f"missing input file {path}", f"run {produced_by} first or correct the path"
        )
    return Path(path)
