"""A short high-temperature run per replica: distinct random-coil starts (aa/starts/{replica}.pdb)."""

import logging

from openmm import app

from ..io import atomic_path
from .dynamics import (
    advance,
    check_finite,
    check_matches,
    load_start,
    new_context,
    set_start,
)
from .system import load_system
from .timing import steps_for

log = logging.getLogger(__name__)
CHUNK_PS = 1.0


def unfold_replica(structure_path, system_path, out_pdb, settings: dict, replica, seed: int,
                   threads: int = 1) -> None:  # fmt: skip
    system = load_system(system_path)
    topology, positions, box = load_start(structure_path)
    check_matches(system, topology, structure_path, system_path)
    temperature = settings["unfold_temperature"]
    context, integrator = new_context(system, settings, temperature, seed, threads)
    set_start(context, positions, box, temperature, seed)
    label = f"replica {replica} (unfold at {temperature} K)"
    total = steps_for(settings["unfold_ps"], settings["timestep_fs"], "unfold_ps")
    chunk = max(1, steps_for(CHUNK_PS, settings["timestep_fs"], "timestep_fs"))
    done = 0
    while done < total:
        n = min(chunk, total - done)
        advance(integrator, context, n, label)
        check_finite(context, label)
        done += n
    state = check_finite(context, label)
    log.info("%s: %d steps (%.1f ps), seed %d", label, total, settings["unfold_ps"], seed)
    write_frame(topology, state, out_pdb)


def write_frame(topology, state, path) -> None:
    if topology.getPeriodicBoxVectors() is not None:
        topology.setPeriodicBoxVectors(state.getPeriodicBoxVectors())
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        app.PDBFile.writeFile(topology, state.getPositions(), fh, keepIds=True)
