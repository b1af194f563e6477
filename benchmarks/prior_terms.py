"""What does the fitted prior charge the all-atom states? Prior energy per term along TIC1.

Reads a finished results folder (no simulation). For the all-atom frames of one protein,
binned along the reference's TIC1, it prints the all-atom free energy of each bin next to the
mean energy of each prior term (torchmd's own force terms), and then the repulsion energy by
sequence separation and the pairs whose repulsion differs most between the most compact
TIC1 bins and the middle ones. A prior is meant to keep the chain physical, not to shape
the landscape where the data are: a term whose mean energy rises by several kT into an
all-atom basin is one the network has to undo from noisy forces.

    python benchmarks/prior_terms.py results chignolin --bins 8
"""

import argparse
from pathlib import Path

import numpy as np

from cgthermo.analysis import fes, inputs
from cgthermo.analysis.reference import load_reference_npz
from cgthermo.cgtopology import CGTopology
from cgthermo.forcefield.evaluate import prior_forces
from cgthermo.forcefield.torchmd import load_parameters
from cgthermo.forcefield.yamlio import prior_terms
from cgthermo.prior.statistics import nonbonded_pairs
from cgthermo.units import kT_kcal


def term_energies(prior_yaml, topology, pos) -> dict:
    """Per frame energy (kcal/mol) of each prior term, evaluated one term at a time."""
    return {
        term: prior_forces(prior_yaml, topology, pos, chunk=2000, terms=[term])[0]
        for term in prior_terms(prior_yaml)
    }


def pair_repulsion(prior_yaml, topology, pos):
    """(i, j, B_ij, distances, energies frames × pairs) of the RepulsionCG term, from torchmd's B table."""
    params = load_parameters(prior_yaml, topology)
    _, b_table = params.get_AB()
    types = params.mapped_atom_types.numpy()
    i, j = nonbonded_pairs(len(types))
    b = b_table.numpy()[types[i], types[j]]
    dist = np.linalg.norm(pos[:, i] - pos[:, j], axis=-1)
    return i, j, b, dist, b / dist**6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("protein")
    parser.add_argument("--bins", type=int, default=8)
    args = parser.parse_args()
    root = args.results / args.protein
    ref = load_reference_npz(root / "analysis" / "reference.npz")
    topology = CGTopology.from_pdb(root / "cg" / "topology.pdb")
    with inputs.open_reference(root / "cg" / "dataset.h5", args.protein,
                               inputs.load_topology(root / "cg" / "topology.pdb")) as (ensemble, _):  # fmt: skip
        # the order of the reference tics
        pos = np.concatenate([p[:] for p in ensemble.pieces]).astype(np.float64)
    tic1, weights = ref["tics"][:, 0], ref["weights"]
    prior_yaml = root / "prior" / "prior.yaml"
    energies = term_energies(prior_yaml, topology, pos)

    edges = np.linspace(tic1.min(), tic1.max(), args.bins + 1)
    which = np.clip(np.digitize(tic1, edges[1:-1]), 0, args.bins - 1)
    temperature = float(ref["temperature_K"])
    free = fes.free_energy(fes.probabilities_1d(tic1, edges, weights)[0], temperature)
    kT = kT_kcal(temperature)
    terms = list(energies)
    print(f"prior {prior_yaml}; kT = {kT:.3f} kcal/mol")
    print("TIC1 range      frames  F_aa  " + "  ".join(f"<{t}>" for t in terms))
    for k in range(args.bins):
        sel = which == k
        row = "  ".join(f"{energies[t][sel].mean():{len(t) + 2}.2f}" for t in terms)
        print(f"{edges[k]:6.2f}..{edges[k + 1]:5.2f}  {sel.mean():6.3f}  {free[k]:4.2f}  {row}")

    compact = which >= args.bins - 3
    middle = (which >= 1) & (which <= 3)
    i, j, b, dist, pair_e = pair_repulsion(prior_yaml, topology, pos)
    print(
        "repulsion by sequence separation: mean over compact (top 3 TIC1 bins) / middle (bins 1-3)"
    )
    for sep in sorted(set(j - i)):
        cols = (j - i) == sep
        print(f"  |i-j| = {sep}: {pair_e[compact][:, cols].sum(1).mean():6.2f}"
              f" / {pair_e[middle][:, cols].sum(1).mean():6.2f} kcal/mol")  # fmt: skip
    gap = pair_e[compact].mean(0) - pair_e[middle].mean(0)
    print("pairs charged most in the compact bins:")
    for k in np.argsort(-gap)[:6]:
        print(f"  {topology.resnames[i[k]]}{i[k] + 1}-{topology.resnames[j[k]]}{j[k] + 1}: "
              f"B {b[k]:.0f}, distance {dist[compact][:, k].mean():.2f} / {dist[middle][:, k].mean():.2f} Å, "
              f"energy +{gap[k]:.2f} kcal/mol")  # fmt: skip


if __name__ == "__main__":
    main()
