"""CG starts with both states well represented: N folded and N unfolded Cα frames of a run's
all-atom data, written as a trajectory a `predict` entry starts from (`starts: trajectory`).

Folded: Cα RMSD below --folded-rmsd to the folded structure; unfolded: at or above
--unfolded-rmsd, so that no start sits on the boundary. Each group's frames are taken evenly
spaced through the group's frames in (replica, time) order, so they spread over the
replicas and over time. The xtc stores nm, as the format does; its topology is the run's
`cg/topology.pdb`.

    python scripts/balanced_starts.py RESULTS chignolin data/reference/chignolin_folded.pdb \
        starts.xtc --per-state 16
"""

import argparse

import numpy as np

from cgthermo import paths
from cgthermo.analysis import inputs, structure
from cgthermo.errors import CgthermoError


def evenly_spaced_members(flags: np.ndarray, n: int, label: str) -> np.ndarray:
    """`n` indices of the True entries of `flags`, evenly spaced through them."""
    members = np.flatnonzero(flags)
    if len(members) < n:
        raise CgthermoError(f"the data hold {len(members)} {label} frames, fewer than {n}",
                            "ask for fewer starts per state or widen the RMSD bounds")  # fmt: skip
    return members[np.linspace(0, len(members) - 1, n).round().astype(int)]


def choose_balanced(rmsd: np.ndarray, n: int, folded_below: float, unfolded_from: float):
    """(folded indices, unfolded indices) of frames ordered by (replica, time)."""
    if unfolded_from < folded_below:
        raise CgthermoError(f"--unfolded-rmsd {unfolded_from} lies below --folded-rmsd "
                            f"{folded_below}", "give an unfolded bound at or above the folded one")  # fmt: skip
    return (evenly_spaced_members(rmsd < folded_below, n, "folded"),
            evenly_spaced_members(rmsd >= unfolded_from, n, "unfolded"))  # fmt: skip


def ordered_positions(ensemble) -> np.ndarray:
    """Every frame's Cα positions (Å), in (replica, time) order."""
    order = sorted(range(len(ensemble.pieces)), key=lambda k: ensemble.replicas[k])
    return np.concatenate([ensemble.pieces[k][:] for k in order])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("protein")
    parser.add_argument("folded", help="PDB of the folded structure (e.g. the protein's native)")
    parser.add_argument("out", help="the xtc to write")
    parser.add_argument("--per-state", type=int, default=16)
    parser.add_argument("--folded-rmsd", type=float, default=2.0, help="Å")
    parser.add_argument("--unfolded-rmsd", type=float, default=4.0, help="Å")
    args = parser.parse_args()

    topology = inputs.load_topology(paths.cg_topology(args.results, args.protein))
    folded_ca = inputs.load_native_ca(args.folded, topology)
    with inputs.open_reference(paths.dataset(args.results, args.protein), args.protein,
                               topology) as (ensemble, _):  # fmt: skip
        every = ordered_positions(ensemble)
    rmsd = structure.rmsd_to(every, folded_ca, topology)
    chosen = np.concatenate(choose_balanced(rmsd, args.per_state, args.folded_rmsd,
                                            args.unfolded_rmsd))  # fmt: skip
    pos = every[chosen]
    inputs.to_mdtraj(pos, topology).save_xtc(args.out)
    print(f"{args.out}: {args.per_state} folded (RMSD < {args.folded_rmsd} Å, "
          f"{np.mean(rmsd < args.folded_rmsd):.3f} of the frames) and {args.per_state} unfolded "
          f"(RMSD ≥ {args.unfolded_rmsd} Å) starts; topology "
          f"{paths.cg_topology(args.results, args.protein)}")


if __name__ == "__main__":
    main()
