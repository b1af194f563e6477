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


BLOCK_DISTANCES = 1 << 23  # pair distances held at once: 32 MB of float32


def frames_per_block(n_pairs: int) -> int:
    """Frames whose pair distances fit one block (at least one frame)."""
    return max(1, BLOCK_DISTANCES // max(1, int(n_pairs)))


def frame_blocks(piece, block: int, overlap: int = 0):
    """(first frame, positions) of consecutive blocks of `block` frames of a piece (array or
    StoredPiece), each reaching `overlap` frames into the next, so that every pair of frames
    `overlap` apart lies inside one block; no block lies wholly inside the one before."""
    n = len(piece)
    for start in range(0, n, block):
        stop = min(n, start + block + overlap)
        yield start, np.asarray(piece[start:stop])
        if stop == n:
            return


def distance_blocks(piece, pairs, topology, overlap: int = 0):
    """(first frame, pair distances) of a piece, a bounded block of frames at a time (the
    overlap included in the bound)."""
    block = max(1, frames_per_block(len(pairs)) - overlap)
    for start, pos in frame_blocks(piece, block, overlap):
        yield start, pair_distances(pos, pairs, topology)
