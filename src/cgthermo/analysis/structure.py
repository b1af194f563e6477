"""Structure observables: Cα RMSD (Å) to a reference structure and fraction of native contacts.

Reference structure: the protein's native PDB (config `native`, else its `pdb`) reduced to
its Cα atoms. Without one, the medoid of the all-atom microstate with the largest MSM
stationary probability (the member frame with the smallest mean RMSD to the others,
computed on at most `max_members` evenly spaced members).
"""

import numpy as np

from .inputs import angstrom_from_nm, to_mdtraj

CONTACT_MIN_SEPARATION = 3


def rmsd_to(pos_angstrom, reference_angstrom, topology) -> np.ndarray:
    """Cα RMSD (Å) of every frame to the reference after optimal superposition."""
    import mdtraj as md

    traj = to_mdtraj(pos_angstrom, topology)
    ref = to_mdtraj(np.asarray(reference_angstrom)[None], topology)
    return angstrom_from_nm(md.rmsd(traj, ref, 0))


def radius_of_gyration(pos_angstrom) -> np.ndarray:
    """Cα radius of gyration (Å) of every frame, beads weighted equally."""
    pos = np.asarray(pos_angstrom, dtype=np.float64)
    centred = pos - pos.mean(axis=1, keepdims=True)
    return np.sqrt((centred**2).sum(axis=2).mean(axis=1))


def native_contact_pairs(reference_angstrom, cutoff: float) -> np.ndarray:
    """Cα pairs with |i − j| ≥ 3 closer than `cutoff` Å in the reference structure."""
    ref = np.asarray(reference_angstrom, dtype=np.float64)
    n = len(ref)
    i, j = np.triu_indices(n, k=CONTACT_MIN_SEPARATION)
    close = np.linalg.norm(ref[i] - ref[j], axis=1) < cutoff
    return np.stack([i[close], j[close]], axis=1).astype(np.int64)


def contact_fraction(pos_angstrom, pairs, cutoff: float, topology) -> np.ndarray:
    """Fraction of native contacts present (Cα distance < cutoff) in every frame."""
    from .features import pair_distances

    if len(pairs) == 0:
        return np.full(len(pos_angstrom), np.nan)
    return (pair_distances(pos_angstrom, pairs, topology) < cutoff).mean(axis=1)


def block_observables(pos_angstrom, reference_angstrom, contacts, cutoff: float,
                      topology) -> tuple:  # fmt: skip
    """(RMSD to the reference, native-contact fraction, Rg) of every frame of one block."""
    return (rmsd_to(pos_angstrom, reference_angstrom, topology),
            contact_fraction(pos_angstrom, contacts, cutoff, topology),
            radius_of_gyration(pos_angstrom))  # fmt: skip


def frame_observables(pieces, reference_angstrom, contacts, cutoff: float, topology) -> dict:
    """`block_observables` of every frame of `pieces`, in order, a bounded block at a time."""
    from .features import frame_blocks, frames_per_block

    block = frames_per_block(len(contacts))
    return stack_observables([block_observables(pos, reference_angstrom, contacts, cutoff, topology)
                              for piece in pieces for _, pos in frame_blocks(piece, block)])  # fmt: skip


def stack_observables(rows) -> dict:
    """{"rmsd", "q", "rg"}: the `block_observables` of consecutive blocks, joined in order."""
    return {name: np.concatenate([row[k] for row in rows])
            for k, name in enumerate(("rmsd", "q", "rg"))}  # fmt: skip


MEDOID_MEMBERS = 300


def evenly_spaced(n: int, at_most: int = MEDOID_MEMBERS) -> np.ndarray:
    """Indices of at most `at_most` of `n` members, evenly spaced, first and last included."""
    if n <= at_most:
        return np.arange(n)
    return np.linspace(0, n - 1, at_most).astype(int)


def medoid_index(pos_angstrom, topology, max_members: int = MEDOID_MEMBERS) -> int:
    """The index of the member structure with the smallest mean RMSD to the other members
    (among at most `max_members` evenly spaced ones)."""
    import mdtraj as md

    chosen = evenly_spaced(len(pos_angstrom), max_members)
    traj = to_mdtraj(np.asarray(pos_angstrom)[chosen], topology)
    mean_rmsd = np.array([md.rmsd(traj, traj, k).mean() for k in range(len(traj))])
    return int(chosen[int(np.argmin(mean_rmsd))])


def medoid(pos_angstrom, topology, max_members: int = MEDOID_MEMBERS) -> np.ndarray:
    """The member structure (Å) with the smallest mean RMSD to the other members."""
    pos = np.asarray(pos_angstrom)
    return pos[medoid_index(pos, topology, max_members)]
