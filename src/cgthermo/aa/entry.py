"""Rule-script plumbing: logging into the rule's log, user errors as one line and exit code 1."""

import contextlib
import logging
import sys

from ..errors import CgthermoError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def rule_logging(snakemake, append: bool = False):
    """Send logging and stderr to snakemake.log[0]; a CgthermoError ends the job with one line."""
    log_file = open(snakemake.log[0], "a" if append else "w", buffering=1)
    terminal = sys.stderr
    sys.stderr = log_file
    logging.basicConfig(stream=log_file, level=logging.INFO, format=FORMAT, force=True)
    try:
        yield
    except CgthermoError as err:
        logging.getLogger("cgthermo").error("%s", err)
        print(f"cgthermo: {err}", file=terminal)
        sys.exit(1)
    except Exception:  # a bug, not a user error: keep the traceback in the rule's log too
        logging.getLogger("cgthermo").exception("unexpected error")
        raise
    finally:
        sys.stderr = terminal
        log_file.flush()
