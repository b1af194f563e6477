"""Rule-script plumbing: everything a job prints goes to its log; user errors end it in one line."""

import contextlib
import logging
import os
import sys
from pathlib import Path

from .errors import CgthermoError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def _file_descriptors_to(path, append: bool):
    """Point fds 1 and 2 at the log, so prints from C extensions, warp and Lightning land there too."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    log_fd = os.open(path, flags, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    # Python-level streams too: under a test runner sys.stderr is not fd 2
    streams = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = open(path, "a", buffering=1)  # noqa: SIM115
    terminal = os.fdopen(os.dup(saved[1]), "w")
    try:
        yield terminal
    finally:
        sys.stderr.close()
        sys.stdout, sys.stderr = streams
        terminal.close()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


@contextlib.contextmanager
def rule_logging(snakemake, append: bool = False, torch_threads: bool = False):
    """Log to snakemake.log[0]; a CgthermoError becomes one line on the terminal and exit code 1.

    `append` keeps the lines of an interrupted job when a resumable rule reruns;
    `torch_threads` caps torch at the rule's threads (it would take every core).
    """
    with _file_descriptors_to(snakemake.log[0], append) as terminal:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format=FORMAT, force=True)
        if torch_threads:
            import torch

            torch.set_num_threads(max(1, int(snakemake.threads)))
        try:
            yield
        except CgthermoError as err:
            logging.getLogger("cgthermo").error("%s", err)
            print(f"cgthermo: {err}", file=terminal, flush=True)
            sys.exit(1)
        except Exception:  # a bug, not a user error: keep the traceback in the rule's log
            logging.getLogger("cgthermo").exception("unexpected error")
            raise
