"""Fault injection for tests of the whole workflow: break one replica of a named CG run.

Which replica of a real run explodes depends on the last bits of the CPU's arithmetic, so
a workflow test cannot rely on one. Setting the environment variable

    CGTHERMO_FAULT_EXPLODE="pep/prior_only:3@200"

(several separated by ';', the label as cg_sim logs it) makes the run `pep/prior_only` set
replica 3's positions to NaN after its first saved frame at or past step 200. The
integrator's own guard then stops the replica, and every later step (outputs, analysis)
takes the path of a real explosion. A run with an injection integrates in one process,
which leaves its trajectories unchanged (they never depend on the workers).
"""

import logging
import os

from ..errors import CgthermoError

log = logging.getLogger("cgthermo.cgsim")
ENVIRONMENT = "CGTHERMO_FAULT_EXPLODE"


def planned_faults(label: str, text: str | None = None) -> list[tuple[int, int]]:
    """(replica, step) of every injection the environment asks for in run `label`."""
    text = os.environ.get(ENVIRONMENT, "") if text is None else text
    faults = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, _, where = item.rpartition(":")
        replica, _, step = where.partition("@")
        if not (name and replica.isdigit() and step.isdigit()):
            raise CgthermoError(f"{ENVIRONMENT} entry '{item}' is not LABEL:REPLICA@STEP",
                                "write it as e.g. pep/prior_only:3@200, or unset it")
        if name == label:
            faults.append((int(replica), int(step)))
    return faults


def explosion_hook(label: str):
    """The `after_frame` callback that breaks the planned replicas of run `label`, or None."""
    faults = planned_faults(label)
    if not faults:
        return None
    done: set[int] = set()

    def break_replicas(batch):
        for replica, step in faults:
            if replica not in batch.replicas or replica in done or batch.step < step:
                continue
            done.add(replica)
            local = replica - batch.replicas.start
            if bool(batch.integrator.active[local]):  # a resumed run may have stopped it
                batch.system.pos[local] = float("nan")
                log.warning("%s: %s breaks replica %d after step %d", label, ENVIRONMENT,
                            replica, batch.step)

    return break_replicas
