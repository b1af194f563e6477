"""Synthetic inputs of the cg_sim stage (prior YAML, dataset.h5, topology.pdb) for tests and benchmarks.

The numbers follow the paper's chignolin prior in size: bonds
k0 ≈ 50 kcal/mol/Å² at 3.8 Å, repulsion ε ≈ 2000 with σ = 1 Å, two dihedral terms.
"""

from pathlib import Path

import numpy as np
import yaml

from cgthermo.cgtopology import CGTopology, prior_atomtype, write_ca_pdb

from .chains import random_chain

PAPER_DIHEDRALS = [{"phi_k": 0.202, "phase": -130.5, "per": 1},
                   {"phi_k": 0.330, "phase": -98.0, "per": 2}]


def write_prior(path, resnames, bonds=None, k0=50.0, req=3.8, epsilon=2000.0,
                dihedrals=PAPER_DIHEDRALS, angle=None, exclusions=None) -> Path:
    """A torchmd force-field YAML for a chain; `bonds` maps (A, B) type pairs to (k0, req),
    `angle` is an optional shared (k0 kcal/mol/rad², theta0 degrees) bend term,
    `exclusions` the chain neighbours the repulsion leaves out (absent: the 1-2 pairs)."""
    types = sorted({prior_atomtype(r) for r in resnames})
    bond_table = {"(X, X)": {"k0": k0, "req": req}}
    for (a, b), (k, r) in (bonds or {}).items():
        bond_table[f"({a}, {b})"] = {"k0": float(k), "req": float(r)}
    prior = {
        "atomtypes": types,
        "bonds": bond_table,
        "lj": {t: {"epsilon": float(epsilon), "sigma": 1.0} for t in types},
        "electrostatics": {t: {"charge": 0.0} for t in types},
        "masses": {t: 12.0 for t in types},
    }
    if angle:
        prior["angles"] = {"(X, X, X)": {"k0": float(angle[0]), "theta0": float(angle[1])}}
    if dihedrals:
        prior["dihedrals"] = {"(X, X, X, X)": {"terms": [dict(t) for t in dihedrals]}}
    if exclusions:
        prior["exclusions"] = list(exclusions)
    with open(path, "w") as fh:
        yaml.safe_dump(prior, fh)
    return Path(path)


def write_dataset(folder, protein, resnames, frames=24, replicas=4, seed=0,
                  temperature_K=None) -> tuple[Path, Path]:
    """`dataset.h5` (group `protein`, random chains) and `topology.pdb` in `folder`."""
    import h5py

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pos = np.stack([random_chain(len(resnames), rng) for _ in range(frames)]).astype(np.float32)
    topology = CGTopology(list(resnames))
    dataset = folder / "dataset.h5"
    with h5py.File(dataset, "w") as fh:
        group = fh.create_group(protein)
        group["pos"] = pos
        group["forces"] = np.zeros_like(pos)
        group["types"] = topology.embeddings
        group["replica"] = np.arange(frames) % replicas
        group["time"] = (np.arange(frames) // replicas) * 100.0
        if temperature_K is not None:
            group.attrs["temperature_K"] = float(temperature_K)
    top = folder / "topology.pdb"
    write_ca_pdb(top, resnames, pos[0])
    return dataset, top


CHIGNOLIN = ["TYR", "TYR", "ASP", "PRO", "GLU", "THR", "GLY", "THR", "TRP", "TYR"]


def chignolin_inputs(folder):
    """Inputs of a 10-bead chain with the paper-sized prior and a tiny untrained NNP."""
    from cgthermo.cgsim import SimInputs

    from .untrained import write_untrained_checkpoint

    dataset, topology = write_dataset(folder, "cln", CHIGNOLIN, frames=24, replicas=4)
    prior = write_prior(folder / "prior.yaml", CHIGNOLIN)
    checkpoint = write_untrained_checkpoint(folder / "model.ckpt", embedding_dimension=16,
                                            num_layers=1, num_rbf=8)
    return SimInputs("cln", dataset, topology, prior, checkpoint)


def outputs_in(folder):
    """traj.xtc, frames.csv, log.csv and run.json of a CG run in `folder`."""
    from cgthermo.cgsim import SimOutputs

    return SimOutputs(folder / "traj.xtc", folder / "frames.csv", folder / "log.csv",
                      folder / "run.json")
