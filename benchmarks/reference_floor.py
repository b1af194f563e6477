"""How converged is an all-atom reference, and where do the CG models put their frames?

Reads a finished results folder (no simulation): the split-half FES MAE / JS floor of the
reference for several bin counts and two splits (even vs odd replicas, first vs last half of
the replicas), each replica's mean TIC1 per third of its run, and for each CG model the
fraction of frames per TIC1 region, its mean TIC1 per fifth of the run and its own
split-half FES MAE / JS (even vs odd CG replicas, after the analysis burn-in): the CG
sampling noise of that model's numbers.

    python benchmarks/reference_floor.py results chignolin --models prior_only,specific
"""

import argparse

import numpy as np

from cgthermo.analysis import fes, inputs, metrics
from cgthermo.analysis.compare import model_floor, project_cg
from cgthermo.analysis.reference import load_reference_npz

TIC1_REGIONS = ((-np.inf, -0.3), (-0.3, 0.5), (0.5, np.inf))


def replica_pieces(ref: dict) -> list:
    ends = np.cumsum(ref["piece_lengths"])
    return np.split(ref["tics"], ends[:-1])


def floors(ref: dict, bins: int) -> dict:
    pieces = replica_pieces(ref)
    grid = fes.grid_from_reference(ref["tics"], bins, 0.1)
    owner = np.repeat(np.arange(len(pieces)), [len(p) for p in pieces])
    first_half = (owner >= len(pieces) // 2).astype(int)  # two "replicas": first and last half
    T = float(ref["temperature_K"])
    return {
        "even/odd": metrics.reference_split_floor(ref["tics"], owner, ref["weights"], grid, T),
        "first/last": metrics.reference_split_floor(ref["tics"], first_half, ref["weights"], grid, T),
    }


def region_fractions(tic1) -> list:
    return [float(np.mean((tic1 > lo) & (tic1 < hi))) for lo, hi in TIC1_REGIONS]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("protein")
    parser.add_argument("--models", default="prior_only,specific")
    parser.add_argument("--bins", default="25,20,15,12,10")
    parser.add_argument("--burnin", type=float, default=0.1, help="CG burn-in fraction")
    args = parser.parse_args()
    base = f"{args.results}/{args.protein}"
    ref = load_reference_npz(f"{base}/analysis/reference.npz")
    for bins in (int(b) for b in args.bins.split(",")):
        for split, floor in floors(ref, bins).items():
            print(f"bins {bins:3d} {split:10s}: FES MAE {floor['fes_mae_aa_split_kcal']:.3f} "
                  f"kcal/mol, JS {floor['js_divergence_aa_split']:.3f}")  # fmt: skip
    for replica, piece in enumerate(replica_pieces(ref)):
        thirds = [float(part[:, 0].mean()) for part in np.array_split(piece, 3)]
        print(f"all-atom replica {replica}: mean TIC1 per third {np.round(thirds, 2).tolist()}")
    regions = ", ".join(f"({lo}, {hi})" for lo, hi in TIC1_REGIONS)
    print(f"TIC1 regions {regions}: all-atom fractions "
          f"{np.round(region_fractions(ref['tics'][:, 0]), 2).tolist()}")  # fmt: skip
    topology = inputs.load_topology(f"{base}/cg/topology.pdb")
    for model in args.models.split(","):
        traj = f"{base}/cgsim/{model}"
        ensemble, _ = inputs.load_cg(f"{traj}/traj.xtc", f"{traj}/frames.csv", topology, 0.0)
        tic1 = [project_cg(ref, inputs.Ensemble([p], traj), topology)[:, 0]
                for p in ensemble.pieces]  # fmt: skip
        shortest = min(len(t) for t in tic1)
        fifths = [float(np.mean([np.array_split(t[:shortest], 5)[k].mean() for t in tic1]))
                  for k in range(5)]  # fmt: skip
        print(f"{model}: fractions {np.round(region_fractions(np.concatenate(tic1)), 2).tolist()}, "
              f"mean TIC1 per fifth {np.round(fifths, 2).tolist()}")  # fmt: skip
        print(f"{model}: CG replicas, even vs odd: {cg_floor(ref, traj, topology, args.burnin)}")


def cg_floor(ref: dict, traj: str, topology, burnin: float) -> str:
    """The split-half floor of one CG model, as `analysis` reports it (`*_cg_split`)."""
    ensemble, _ = inputs.load_cg(f"{traj}/traj.xtc", f"{traj}/frames.csv", topology, burnin)
    floor, _ = model_floor(ref, project_cg(ref, ensemble, topology), ensemble)
    return f"FES MAE {floor['fes_mae_cg_split_kcal']:.3f} kcal/mol, JS {floor['js_divergence_cg_split']:.3f}"

if __name__ == "__main__":
    main()
