"""Every seed the workflow derives from the config's master seed, one function each.

A seed is a pure function of the master seed and what it is for (the stage, the protein,
the replica, …), so a rerun of one job draws what the full run drew. Two stages that must
draw the same numbers (a prediction started from its parent's CG starts, and the parent's
run) call the same function, never a string spelled twice.
"""

import zlib

MODULUS = 2**31 - 1


def _derive(master: int, *key) -> int:
    text = "/".join(map(str, key)).encode()
    return (int(master) * 1_000_003 + zlib.crc32(text)) % MODULUS


def prepare(master: int, protein: str) -> int:
    """Where PDBFixer and Modeller put new atoms and ions."""
    return _derive(master, "prepare", protein)


def unfold(master: int, protein: str, replica) -> int:
    return _derive(master, "unfold", protein, replica)


def aa_md(master: int, protein: str, replica) -> int:
    return _derive(master, "aa_md", protein, replica)


def replica_split(master: int, protein: str) -> int:
    """A protein's replica split: the same for every model of it."""
    return _derive(master, "split", protein)


def training(master: int, model: str, draw: int = 0) -> int:
    """A network's training: `model` is the protein (specific) or the group (multi, …);
    `draw` (train.draw) ≥ 1 is another independent training of the same data."""
    if draw:
        return _derive(master, "train", model, "draw", draw)
    return _derive(master, "train", model)


def noise_labels(master: int, protein: str) -> int:
    return _derive(master, "noise", protein)


def cg_sim(master: int, protein: str, model: str) -> int:
    """A CG run's noise and velocities; a prediction started from its parent's starts takes
    its parent's, so the two differ by their potentials alone."""
    return _derive(master, "cg_sim", protein, model)


def cg_starts(master: int, protein: str) -> int:
    """Which all-atom frames start a protein's CG replicas: the same for every model."""
    return _derive(master, "cg_starts", protein)


def analysis(master: int, protein: str) -> int:
    """The analysis reference's own draws (k-means)."""
    return _derive(master, "analysis", protein)


def bootstrap(master: int, protein: str) -> int:
    """A protein's bootstrap resamples: the same for every model, so their differences pair."""
    return _derive(master, "bootstrap", protein)


def prediction_bootstrap(master: int, prediction: str) -> int:
    """The resamples of a prediction without a parent to pair with."""
    return _derive(master, "bootstrap", "predict", prediction)


def prediction_sim(master: int, prediction: str) -> int:
    return _derive(master, "predict_sim", prediction)


def extended_starts(master: int, resnames) -> int:
    """Random-coil starts of a sequence, keyed by the sequence itself."""
    return _derive(master, "predict_starts", "".join(resnames))


def adaptive_epoch(master: int, protein: str, epoch) -> int:
    """An adaptive epoch's restart choice: its clusters and the frames drawn from them."""
    return _derive(master, "adaptive", protein, epoch)
