"""The mean-force diagnostics of one protein × model (rule meanforce): the all-atom frames,
the forces of the mapped data, the prior and prior + network on them, the variables from the
protein's reference, written as meanforce.csv, pmf.csv, meanforce.json and meanforce.png."""

import json
import logging
import math

import numpy as np

from ..io import atomic_path
from . import meanforce, plots

log = logging.getLogger("cgthermo.analysis")
# what the variables are made of: the folded structure and the TICA fit of the reference
REFERENCE_KEYS = ("temperature_K", "reference_structure", "tica_mean", "tica_eigenvectors", "pairs")


def frame_stride(n_frames: int, at_most: int) -> int:
    return max(1, math.ceil(n_frames / at_most))


def load_frames(dataset, protein: str, at_most: int):
    """(positions, mapped forces, replica of every frame, residue names), every n-th frame."""
    from ..cgmap.dataset import open_dataset

    with open_dataset(dataset) as groups:
        data = next(g for g in groups if g.name == protein)
        stride = frame_stride(len(data.pos), at_most)
        pos = np.asarray(data.pos[::stride], dtype=np.float64)
        forces = np.asarray(data.forces[::stride], dtype=np.float64)
        return pos, forces, np.asarray(data.replica)[::stride], list(data.resnames), data.types


def model_forces(prior_yaml, checkpoint, resnames, types, pos) -> dict:
    """{"prior": prior forces, "model": prior + network forces} (without a network: prior)."""
    from ..cgtopology import CGTopology
    from ..forcefield.evaluate import PriorEvaluator

    _, prior = PriorEvaluator(prior_yaml, CGTopology(resnames))(pos)
    if checkpoint is None:
        return {"prior": prior}
    from ..train.evaluate import load_network, predict_forces

    network = predict_forces(load_network(checkpoint), types, pos.astype(np.float32))
    return {"prior": prior, "model": prior + network}


def replica_splits(replicas, held_out: list | None) -> tuple[np.ndarray, dict]:
    """(bootstrap unit of every frame, {split: units}): all replicas, and with a replica split
    the training replicas and the held-out ones apart."""
    ids = np.unique(replicas)
    unit = np.searchsorted(ids, replicas)
    splits = {"all": np.arange(len(ids))}
    if held_out:
        held = np.searchsorted(ids, held_out)
        splits["train"] = np.setdiff1d(np.arange(len(ids)), held)
        splits["held_out"] = held
    return unit, splits


def cg_positions(traj, frames_csv, topology_path, burnin: float, run_json):
    """The CG run's kept frames (Å), exploded replicas and burn-in left out as the analysis
    leaves them out."""
    from . import inputs

    topology = inputs.load_topology(topology_path)
    ensemble, _, _ = inputs.load_cg_run(traj, frames_csv, topology, burnin, run_json)
    pieces = [np.asarray(p) for p in ensemble.pieces]
    return np.concatenate(pieces) if pieces else None


def run_diagnostics(files: dict, protein: str, model: str, settings: dict, seed: int,
                    held_out: list | None, outputs: dict) -> dict:  # fmt: skip
    """`files`: dataset, topology, prior, checkpoint (or None), reference, traj, frames, run."""
    from ..io import require_file

    with np.load(require_file(files["reference"], "the analysis_reference rule")) as data:
        ref = {key: data[key] for key in REFERENCE_KEYS}
    pos, mapped, replicas, resnames, types = load_frames(files["dataset"], protein,
                                                         settings["meanforce_max_frames"])
    forces = {"mapped": mapped, **model_forces(files["prior"], files.get("checkpoint"),
                                               resnames, types, pos)}  # fmt: skip
    unit, splits = replica_splits(replicas, held_out)
    frames = meanforce.Frames(pos, forces, unit, len(splits["all"]), float(ref["temperature_K"]))
    variables = meanforce.protein_variables(ref["reference_structure"], ref["tica_mean"],
                                            ref["tica_eigenvectors"], ref["pairs"])  # fmt: skip
    cg = cg_positions(files["traj"], files["frames"], files["topology"],
                      settings["cg_burnin_fraction"], files["run"])  # fmt: skip
    table, pmf, summary = meanforce.diagnose(
        variables, frames, splits, cg,
        {"bins": settings["meanforce_bins"], "min_frames": settings["meanforce_min_frames"],
         "resamples": settings["bootstrap_resamples"]}, seed)  # fmt: skip
    summary = {"protein": protein, "model": model, "frames_aa": len(pos), **summary}
    write(table, pmf, summary, outputs, f"{protein} — {model}: mean forces")
    return summary


def write(table, pmf, summary: dict, outputs: dict, title: str) -> None:
    """Figure and tables first, the json last: its presence means the diagnostics are whole."""
    plots.mean_force_panels(outputs["figure"], table, pmf, title)
    for frame, key in ((table, "forces"), (pmf, "pmf")):
        with atomic_path(outputs[key]) as tmp:
            frame.to_csv(tmp, index=False)
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
             for k, v in summary.items()}  # fmt: skip
    with atomic_path(outputs["summary"]) as tmp:
        tmp.write_text(json.dumps(clean, indent=1) + "\n")
