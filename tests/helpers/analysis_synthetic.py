"""Small synthetic analysis inputs (Cα dataset, topology, CG trajectories) for tests and demos.

A chain switches between a compact and an extended conformation through a two-state
Markov process smoothed in time, plus Gaussian noise: a slow process TICA and an MSM can see.
"""

from pathlib import Path

import numpy as np

from cgthermo.residues import BEAD_TYPE, parse_sequence
from cgthermo.units import ANGSTROM_PER_NM

# the analysis block of a small config: 20 × 20 bins, 10 microstates, short lags
SETTINGS = dict(
    min_sequence_separation=3, tica_lag=2, tica_dim=4, n_clusters=10, msm_lag=2,
    reweight="msm", fes_bins=20, fes_margin=0.1, its_lags=[], cg_burnin_fraction=0.1,
    native_cutoff=8.0, folded_rmsd=2.0, bootstrap_resamples=40, min_shared_bins=10,
    min_shared_bins_1d=5, min_aa_mass_shared=0.2, min_connected_fraction=0.5,
)  # fmt: skip


def ca_topology(sequence: str):
    import mdtraj as md

    top = md.Topology()
    chain = top.add_chain()
    for name in parse_sequence(sequence):
        residue = top.add_residue(name, chain)
        top.add_atom("CA", md.element.carbon, residue)
    atoms = list(top.atoms)
    for a, b in zip(atoms[:-1], atoms[1:], strict=True):
        top.add_bond(a, b)
    return top


def two_conformations(n_beads: int, bond: float = 3.8):
    """(compact helix-like, extended zig-zag) Cα structures in Å."""
    k = np.arange(n_beads)
    helix = np.stack([2.3 * np.cos(k * 1.745), 2.3 * np.sin(k * 1.745), 1.5 * k], axis=1)
    extended = np.stack([k * bond * 0.95, 1.0 * (-1.0) ** k, np.zeros(n_beads)], axis=1)
    return helix.astype(np.float32), extended.astype(np.float32)


def switching_trajectory(rng, n_frames: int, n_beads: int, p_switch: float = 0.02,
                         noise: float = 0.4, shift: float = 0.0):  # fmt: skip
    """Positions (frames, beads, 3) Å mixing two conformations by a slow two-state process.

    `shift` moves the mixing coordinate, i.e. a CG model with a biased population.
    """
    compact, extended = two_conformations(n_beads)
    state = np.empty(n_frames)
    s = rng.integers(2)
    for t in range(n_frames):
        if rng.random() < p_switch:
            s = 1 - s
        state[t] = s
    lam = (
        np.convolve(state, np.ones(5) / 5, mode="same")
        + shift
        + 0.1 * rng.standard_normal(n_frames)
    )
    pos = (1 - lam)[:, None, None] * compact + lam[:, None, None] * extended
    pos = pos + noise * rng.standard_normal(pos.shape)
    return pos.astype(np.float32)


def write_topology(path, sequence: str):
    import mdtraj as md

    top = ca_topology(sequence)
    compact, _ = two_conformations(top.n_atoms)
    md.Trajectory(compact[None] / ANGSTROM_PER_NM, top).save_pdb(str(path))
    return top


def write_dataset(path, protein: str, sequence: str, replicas: int, frames: int, seed: int,
                  temperature_K: float = 340.0, frame_fs: float = 100.0):  # fmt: skip
    import h5py

    rng = np.random.default_rng(seed)
    names = parse_sequence(sequence)
    pos = np.concatenate([switching_trajectory(rng, frames, len(names)) for _ in range(replicas)])
    with h5py.File(path, "w") as fh:
        g = fh.create_group(protein)
        g["pos"] = pos
        g["forces"] = np.zeros_like(pos)
        g["types"] = np.array([BEAD_TYPE[n] for n in names], dtype=np.int64)
        g["replica"] = np.repeat(np.arange(replicas), frames).astype(np.int64)
        g["time"] = np.tile(np.arange(frames) * frame_fs, replicas).astype(np.float64)
        g.attrs["temperature_K"] = temperature_K
    return pos


def write_cg_run(folder, topology, replicas: int, frames: int, seed: int, shift: float = 0.0,
                 exploded=None, frame_fs: float = 10.0):  # fmt: skip
    """traj.xtc, frames.csv and run.json as cg_sim writes them (replica-major).

    `exploded`: {replica: frames it kept}. Such a replica stops after that many frames, and
    every one it kept is flagged, as cg_sim does; with 0 it has no row at all. The frames
    the other replicas draw do not depend on it. `frame_fs`: the time between saved frames.
    """
    import json

    import mdtraj as md
    import pandas as pd

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    runs = [switching_trajectory(rng, frames, topology.n_atoms, shift=shift)
            for _ in range(replicas)]  # fmt: skip
    kept = {r: (exploded or {}).get(r, frames) for r in range(replicas)}
    pos = np.concatenate([run[: kept[r]] for r, run in enumerate(runs)])
    md.Trajectory(pos / ANGSTROM_PER_NM, topology).save_xtc(str(folder / "traj.xtc"))
    pd.DataFrame({
        "replica": np.concatenate([np.full(kept[r], r) for r in range(replicas)]),
        "frame": np.concatenate([np.arange(kept[r]) for r in range(replicas)]),
        "step": np.concatenate([np.arange(kept[r]) * 10 for r in range(replicas)]),
        "time_fs": np.concatenate([np.arange(kept[r]) * frame_fs for r in range(replicas)]),
        "exploded": np.concatenate([np.full(kept[r], r in (exploded or {}))
                                    for r in range(replicas)]),
    }).to_csv(folder / "frames.csv", index=False)  # fmt: skip
    (folder / "run.json").write_text(json.dumps({"sampler": "langevin", "replicas": replicas,
                                                 "trajectory_replicas": replicas}))
    return pos
