"""predict_prepare: the Cα topology, the extended prior and the starts of one prediction.

Outputs, under predictions/{name}/: `cg/topology.pdb` (the chain, bead types from its
residues), `prior/prior.yaml` (the model's prior extended to the chain, forcefield.extend),
`cg/starts.h5` (the replicas' starting frames in the dataset layout, Å, replica k starting
from frame k), `prepare.json` (where the starts came from and what the prior lacked).
"""

import json
import logging

import h5py
import numpy as np

from .. import config as cgconfig
from .. import paths, seeds
from ..cgtopology import CGTopology, write_ca_pdb
from ..errors import CgthermoError
from ..forcefield.extend import write_extended_prior
from ..forcefield.yamlio import read_prior
from ..io import atomic_path
from ..residues import bead_type, sequence_text
from .entries import Prediction, protein_resnames
from .structure import pdb_chain, random_coils, trajectory_ca

log = logging.getLogger(__name__)
DEFAULT_ANGLE_DEG = 100.0  # Cα bend angle of random coils where the prior has no angle term
RELAX_STEPS = 500  # steepest-descent steps of random coils under the prior
RELAX_MAX_MOVE = 0.02  # Å: the most a bead moves in one relaxation step


def model_files(config: dict, prediction: Prediction) -> dict:
    """The network checkpoint (absent for prior_only) and the prior it was trained with."""
    results = config["results"]
    if prediction.model == "checkpoint":
        return {"checkpoint": prediction.checkpoint, "prior": prediction.prior}
    if prediction.model == "specific":
        return {"checkpoint": paths.specific_model(results, prediction.parent),
                "prior": paths.prior(results, prediction.parent)}  # fmt: skip
    if prediction.model == "prior_only" and prediction.compares_to_parent:
        # the parent's prior_only run uses the parent's prior: ΔΔG then compares like with like
        return {"prior": paths.prior(results, prediction.parent)}
    files = {"prior": paths.prior(results, cgconfig.MULTI)}
    if prediction.model == "multi":
        files["checkpoint"] = paths.group_model(results, cgconfig.MULTI)
    return files


def parent_starts(config: dict, prediction: Prediction, dataset_h5) -> np.ndarray:
    """The frames the parent's own CG runs start from (its cgsim.starts and start seed), so
    a mutant and its wild type start replica by replica from the same conformations."""
    from ..cgsim.starts import load_start_data, start_frames

    data = load_start_data(dataset_h5, prediction.parent)
    if data.pos.shape[1] != prediction.beads:
        raise CgthermoError(
            f"prediction '{prediction.name}' has {prediction.beads} beads but its parent "
            f"'{prediction.parent}' {data.pos.shape[1]}", "use starts: pdb, trajectory or extended")
    sim = config["cgsim"]
    seed = seeds.cg_starts(config["seed"], prediction.parent)
    return data.pos[start_frames(data, sim["replicas"], seed, sim["starts"])]


def relax_under_prior(positions: np.ndarray, prior_yaml, resnames) -> np.ndarray:
    """Steepest descent of every chain on the prior's energy (each bead moving at most
    RELAX_MAX_MOVE Å a step, RELAX_STEPS steps): random coils lose the strain of their
    ideal geometry and close contacts before the first integration step."""
    from ..forcefield.evaluate import PriorEvaluator

    prior = PriorEvaluator(prior_yaml, CGTopology(list(resnames)))
    x = np.array(positions, dtype=np.float64)
    energy_before = prior(x)[0]
    for _ in range(RELAX_STEPS):
        _, forces = prior(x)
        norm = np.linalg.norm(forces, axis=-1, keepdims=True)
        x += forces * np.minimum(1e-3, RELAX_MAX_MOVE / np.maximum(norm, 1e-12))
    log.info("random coils relaxed under the prior: energy %.1f → %.1f kcal/mol (mean)",
             energy_before.mean(), prior(x)[0].mean())  # fmt: skip
    return x


def given_starts(prediction: Prediction, replicas: int, prior: dict, seed: int) -> np.ndarray:
    """Starts from the entry's pdb, trajectory or random coils (Å)."""
    if prediction.starts == "pdb":
        names, ca = pdb_chain(prediction.pdb)
        check_chain(prediction, names, f"pdb {prediction.pdb}")
        return ca[None]
    if prediction.starts == "trajectory":
        names, frames = trajectory_ca(prediction.trajectory["file"],
                                      prediction.trajectory["topology"])  # fmt: skip
        check_chain(prediction, names, f"trajectory {prediction.trajectory['file']}")
        return frames
    bond, angle = coil_geometry(prior)
    return random_coils(replicas, prediction.beads, bond, angle, np.random.default_rng(seed))


def check_chain(prediction: Prediction, names, source: str) -> None:
    """The structure must be the entry's chain: same length, same bead types."""
    if len(names) != prediction.beads or any(
        bead_type(a) != bead_type(b) for a, b in zip(names, prediction.resnames, strict=True)
    ):
        raise CgthermoError(
            f"prediction '{prediction.name}': {source} has {len(names)} Cα of residues "
            f"{sequence_text(names)}, the entry {prediction.beads} of "
            f"{sequence_text(prediction.resnames)}",
            "give a structure of the entry's sequence")


def coil_geometry(prior: dict) -> tuple[float, float]:
    """(bond length Å, bend angle °) of random-coil starts: the prior's mean req and θ0."""
    bonds = prior.get("bonds") or {}
    bond = float(np.mean([float(v["req"]) for v in bonds.values()])) if bonds else 3.8
    angles = prior.get("angles") or {}
    angle = (float(np.mean([float(v["theta0"]) for v in angles.values()])) if angles
             else DEFAULT_ANGLE_DEG)  # fmt: skip
    return bond, angle


def write_starts(path, prediction: Prediction, starts: np.ndarray) -> None:
    """The starts as a dataset group the CG simulation reads (cgsim.starts.load_start_data)."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
        group = h5.create_group(prediction.name)
        group.create_dataset("pos", data=np.asarray(starts, dtype=np.float32))
        group.create_dataset("types", data=CGTopology(list(prediction.resnames)).embeddings)
        group.create_dataset("replica", data=np.arange(len(starts), dtype=np.int64))
        group.attrs["temperature_K"] = prediction.temperature
        group.attrs["residue_names"] = json.dumps(list(prediction.resnames))


def prepare(config: dict, prediction: Prediction, outputs: dict, dataset_h5=None) -> dict:
    """Write topology, extended prior, starts and prepare.json; returns prepare.json's content."""
    files = model_files(config, prediction)
    # a same-length parent lends its bonded terms by position (a mutant keeps its handedness)
    parent = protein_resnames(config, prediction.parent) if prediction.compares_to_parent \
        else None  # fmt: skip
    filled = write_extended_prior(files["prior"], list(prediction.resnames), outputs["prior"],
                                  parent)
    prior = read_prior(outputs["prior"])
    if prediction.starts == "parent":
        starts = parent_starts(config, prediction, dataset_h5)
    else:
        # keyed by the chain, not the entry: every model of one sequence gets the same coils
        seed = seeds.extended_starts(config["seed"], prediction.resnames)
        starts = given_starts(prediction, config["cgsim"]["replicas"], prior, seed)
        if prediction.starts == "extended":
            starts = relax_under_prior(starts, outputs["prior"], prediction.resnames)
    write_ca_pdb(outputs["topology"], list(prediction.resnames), starts[0])
    write_starts(outputs["starts"], prediction, starts)
    record = {"prediction": prediction.name, "model": prediction.model,
              "model_files": files, "starts": prediction.starts, "start_frames": len(starts),
              "temperature_K": prediction.temperature, "parent": prediction.parent,
              "prior_filled": filled}  # fmt: skip
    with atomic_path(outputs["record"]) as tmp:
        tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    log.info("%s: %d start frames (%s), prior extended by %d entries", prediction.name,
             len(starts), prediction.starts, len(filled))  # fmt: skip
    return record
