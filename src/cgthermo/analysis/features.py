"""Cα–Cα distance features (Å) for TICA."""

import numpy as np

from ..errors import CgthermoError


def distance_pairs(n_beads: int, min_separation: int) -> np.ndarray:
    """Bead index pairs (i, j), j − i ≥ min_separation; close neighbours carry only chain stiffness."""
    pairs = np.array(
        [(i, j) for i in range(n_beads) for j in range(i + min_separation, n_beads)],
        dtype=np.int64,
    ).reshape(-1, 2)
    if len(pairs) < 2:
        raise CgthermoError(
            f"{n_beads} beads with min_sequence_separation {min_separation} give "
            f"{len(pairs)} distance feature(s), TICA needs at least 2",
            "lower analysis.min_sequence_separation",
        )
    return pairs


def pair_distances(pos_angstrom, pairs, topology) -> np.ndarray:
    """Distances (Å) of `pairs` in every frame, computed by mdtraj; float32 (frames, pairs)."""
    import mdtraj as md

    from .inputs import angstrom_from_nm, to_mdtraj

    traj = to_mdtraj(pos_angstrom, topology)
    return angstrom_from_nm(md.compute_distances(traj, pairs, periodic=False))
