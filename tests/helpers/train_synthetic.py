"""Synthetic CG datasets with a known answer, for tests and benchmarks of the train stage.

Bead chains (3.8 Å bonds, random directions) carry delta forces from a smooth
Gaussian pair potential U = Σ_{i<j} a_i a_j exp(−r²/(2 s²)) over all bead pairs,
with amplitudes a per bead type, so a network that learns pair interactions per
type can reproduce them. The mapped forces add a harmonic bond "prior" and noise,
so mapped − prior = delta + noise, as in the real data.
"""

import h5py
import numpy as np

from .chains import random_chains

BOND = 3.8  # Å, Cα–Cα
MIN_NONBONDED = 4.0  # Å, keeps every pair above the network's lower cutoff (3 Å)
WIDTH = 3.0  # Å, s of the Gaussian
AMPLITUDE = {1: 1.5, 2: -1.0, 4: 2.0, 7: 1.2}  # kcal/mol^½ per bead type (ALA, GLY, TYR, TRP)
PRIOR_K = 10.0  # kcal/mol/Å², harmonic bond prior of the mapped forces


def amplitude(bead_type: int) -> float:
    """Pair amplitude of a bead type; types outside the table get a fixed, type-dependent value."""
    return AMPLITUDE.get(bead_type, 1.5 * np.cos(0.9 * bead_type))


def pair_forces(pos: np.ndarray, types: np.ndarray) -> np.ndarray:
    """−∇ of Σ_{i<j} a_i a_j exp(−r²/(2 s²)) for (frames, beads, 3) positions."""
    amp = np.array([amplitude(int(t)) for t in types])
    aij = amp[:, None] * amp[None, :]
    np.fill_diagonal(aij, 0.0)
    diff = pos[:, :, None, :] - pos[:, None, :, :]  # r_i − r_j
    r2 = (diff**2).sum(-1)
    # −∂/∂r_i of a exp(−r²/2s²) = a exp(−r²/2s²) (r_i − r_j) / s²
    weight = aij * np.exp(-r2 / (2 * WIDTH**2)) / WIDTH**2
    return (weight[..., None] * diff).sum(axis=2)


def bond_prior_forces(pos: np.ndarray) -> np.ndarray:
    """Forces of Σ k (r − BOND)² over consecutive beads."""
    forces = np.zeros_like(pos)
    vec = pos[:, 1:] - pos[:, :-1]
    r = np.linalg.norm(vec, axis=-1, keepdims=True)
    f = -2 * PRIOR_K * (r - BOND) * vec / r  # on bead i+1
    forces[:, 1:] += f
    forces[:, :-1] -= f
    return forces


def make_protein(name, types, replicas, frames_per_replica, seed, noise=0.0, jitter=0.2):
    """Arrays of one synthetic protein: types, pos, mapped and delta forces, replica, time."""
    rng = np.random.default_rng(seed)
    types = np.asarray(types, dtype=np.int64)
    frames = replicas * frames_per_replica
    pos = random_chains(frames, len(types), rng, bond=BOND, min_distance=MIN_NONBONDED)
    pos += rng.normal(scale=jitter, size=pos.shape)  # bonds off 3.8 Å so the prior acts
    delta = pair_forces(pos, types)
    mapped = delta + bond_prior_forces(pos) + rng.normal(scale=noise, size=pos.shape)
    return {
        "name": name,
        "types": types,
        "pos": pos.astype(np.float32),
        "mapped": mapped.astype(np.float32),
        "delta": delta.astype(np.float32),
        "replica": np.repeat(np.arange(replicas), frames_per_replica),
        "time": np.tile(np.arange(frames_per_replica) * 100.0, replicas),  # fs
    }


def write_dataset(path, proteins, forces_key) -> None:
    """Write proteins in the cg/dataset.h5 layout with `forces` taken from `forces_key`."""
    with h5py.File(path, "w") as h5:
        for protein in proteins:
            group = h5.create_group(protein["name"])
            group.create_dataset("types", data=protein["types"])
            group.create_dataset("pos", data=protein["pos"])
            group.create_dataset("forces", data=protein[forces_key])
            group.create_dataset("replica", data=protein["replica"])
            group.create_dataset("time", data=protein["time"])
            group.attrs["temperature_K"] = 300.0


def write_pair(folder, proteins, delta_name="delta.h5") -> dict:
    """Mapped dataset per protein and one delta file with all proteins; returns their paths."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mapped = {}
    for protein in proteins:
        mapped[protein["name"]] = folder / f"{protein['name']}_dataset.h5"
        write_dataset(mapped[protein["name"]], [protein], "mapped")
    delta = folder / delta_name
    write_dataset(delta, proteins, "delta")
    return {"delta": delta, "mapped": mapped}
