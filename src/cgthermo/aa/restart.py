"""An adaptive trajectory's start: the full state of a saved frame of an earlier trajectory.

The start is a PDB of the whole system (solvent and box included) beside a JSON record of
where it came from; aa_md starts from the PDB with velocities drawn from its own seed, as it
starts from an unfolded structure, and copies the record into the trajectory's attributes.
"""

import json

import numpy as np
from openmm import app, unit

from ..errors import CgthermoError
from ..io import atomic_path
from . import h5
from .dynamics import load_start

ORIGIN_KEYS = ("epoch", "parent_replica", "parent_frame", "parent_time_ps")


def write_restart(parent_h5, frame_index: int, structure_pdb, out_pdb, out_json,
                  origin: dict) -> None:  # fmt: skip
    """Write the full state of `parent_h5`'s saved frame `frame_index` as a start PDB on the
    topology of `structure_pdb`, and `origin` (ORIGIN_KEYS and why it was chosen) beside it."""
    topology, _, box = load_start(structure_pdb)
    try:
        positions, box_nm = h5.read_restart(parent_h5, frame_index)
    except KeyError as err:
        raise CgthermoError(str(err).strip("'\""), "rerun that trajectory with sampling: adaptive") from None
    if len(positions) != topology.getNumAtoms():
        raise CgthermoError(
            f"{parent_h5} keeps {len(positions)} atoms a state, {structure_pdb} has {topology.getNumAtoms()}",
            "rerun the protein's all-atom stages from prepare",
        )
    if box is not None:
        topology.setPeriodicBoxVectors([openmm_vec(v) for v in box_nm] * unit.nanometer)
    with atomic_path(out_pdb) as tmp, open(tmp, "w") as fh:
        app.PDBFile.writeFile(topology, positions * unit.nanometer, fh, keepIds=True)
    with atomic_path(out_json) as tmp:
        tmp.write_text(json.dumps(origin, indent=1, sort_keys=True) + "\n")


def openmm_vec(row):
    from openmm import Vec3

    return Vec3(*(float(x) for x in np.asarray(row)))


def read_origin(path) -> dict:
    """The trajectory attributes of a restart's record: its epoch and its parent frame."""
    record = json.loads(open(path).read())
    return {key: record[key] for key in ORIGIN_KEYS}
