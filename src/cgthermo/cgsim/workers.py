"""Worker processes of a CPU run: each integrates one slice of the replicas on one thread.

The run (the parent) hands every worker the number of frames to the next checkpoint and
gets back its slice's frames and state, so all checkpoints hold every replica at one
step. A worker ends with its parent whatever ends the parent: the kernel sends it
SIGKILL when the parent dies (Linux `PR_SET_PDEATHSIG`), and it also leaves when its pipe
to the parent closes.
"""

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from multiprocessing.connection import wait

import numpy as np

from ..errors import CgthermoError
from ..rulelog import FORMAT as LOG_FORMAT
from .settings import run_batches

log = logging.getLogger("cgthermo.cgsim")
PR_SET_PDEATHSIG = 1


def worker_slices(replicas: int, per_batch: int, workers: int, networks: int = 1) -> list[range]:
    """Contiguous slices of the replicas made of whole batches (`run_batches`), one per
    worker, as even as the batches allow (never an empty one)."""
    batches = [block for block, _ in run_batches(replicas, per_batch, networks)]
    bounds = np.linspace(0, len(batches), min(workers, len(batches)) + 1).round().astype(int)
    return [range(batches[a].start, batches[b - 1].stop)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to kill this process when its parent dies; leave now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def _worker_main(conn, parent_pid, inputs, settings, replicas, start_positions, state):
    die_with_parent(parent_pid)
    import torch

    torch.set_num_threads(1)
    if not logging.getLogger().handlers:  # a spawned process: log to the inherited stderr
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    # after die_with_parent: a parent killed while this process loads torch takes it along
    from .engine import BlockGroup

    try:
        batch = BlockGroup(inputs, settings, start_positions, replicas)
        if state is None:
            batch.start_fresh()
        else:
            batch.load(state)
        conn.send(("ready", None))
        while True:
            try:
                frames = conn.recv()
            except EOFError:  # the parent is gone
                return
            if frames is None:
                return
            conn.send(("done", (batch.advance(frames), batch.state())))
    except Exception as err:  # noqa: BLE001 - every failure goes to the parent to be raised
        try:
            conn.send(("error", err))
        except Exception:  # noqa: BLE001 - an unpicklable error: send its text
            conn.send(("error", RuntimeError(f"{type(err).__name__}: {err}")))


class WorkerPool:
    """One spawned process per replica slice, advanced in lockstep from checkpoint to checkpoint."""

    def __init__(self, inputs, settings, slices, start_positions, states):
        self.slices = slices
        context = multiprocessing.get_context("spawn")  # fork would copy torch's thread pools
        self.conns, self.processes = [], []
        for replicas, starts, state in zip(slices, start_positions, states, strict=True):
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_worker_main, daemon=True,
                args=(child_end, os.getpid(), inputs, settings, replicas, starts, state))
            process.start()
            child_end.close()
            self.conns.append(parent_end)
            self.processes.append(process)

    def __enter__(self):
        try:
            self._collect("ready")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def advance(self, frames: int) -> tuple[list, list]:
        """Every slice `frames` further: (frames per slice, state per slice), in slice order."""
        for conn in self.conns:
            conn.send(frames)
        results = self._collect("done")
        return [r[0] for r in results], [r[1] for r in results]

    def _collect(self, expected: str) -> list:
        """Every worker's answer; the first failure is raised as soon as it arrives."""
        answers = [None] * len(self.conns)
        waiting = dict(enumerate(self.conns))
        while waiting:
            for conn in wait(list(waiting.values())):
                index = self.conns.index(conn)
                try:
                    kind, payload = conn.recv()
                except EOFError:
                    replicas = self.slices[index]
                    code = self.processes[index].exitcode
                    raise CgthermoError(
                        f"the worker process of replicas {replicas.start}-{replicas.stop - 1} "
                        f"ended without an answer (exit code {code})",
                        "check the rule's log and the machine's memory, then rerun; the run "
                        "resumes from its last checkpoint") from None
                if kind == "error":
                    raise payload
                answers[index] = payload
                del waiting[index]
        return answers

    def close(self):
        for conn in self.conns:
            try:
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        for conn in self.conns:
            conn.close()
