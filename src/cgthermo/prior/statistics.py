"""Bead statistics for the prior fit: histograms of bonds, bend angles, close non-bonded pairs
and dihedrals.

Histograms (not samples) are accumulated chunk by chunk, so paper-size datasets
(millions of frames) fit in memory, and several proteins simply add up.
"""

from dataclasses import dataclass, field

import numpy as np

CHUNK_FRAMES = 500  # an 80-bead chain has 3081 pairs: ~40 MB of pair vectors per chunk


def bond_lengths(pos) -> np.ndarray:
    """Consecutive Cα–Cα distances (frames, beads − 1) in Å."""
    return np.linalg.norm(np.diff(np.asarray(pos, dtype=np.float64), axis=1), axis=2)


# the chain neighbours the repulsion leaves out (prior.repulsion_excludes), as torchmd names
# them, and the smallest sequence separation of a pair it acts on
EXCLUDED = {"bonds": (("bonds",), 2), "angles": (("bonds", "angles"), 3)}


def nonbonded_pairs(beads: int, min_separation: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Bead pairs i < j that the prior's repulsion acts on: all but chain neighbours closer
    than `min_separation` in sequence (2: all but 1-2 pairs)."""
    return np.triu_indices(beads, k=min_separation)


def bend_angles(pos) -> np.ndarray:
    """Angles at the middle bead of consecutive Cα triplets (frames, beads − 2) in radians."""
    pos = np.asarray(pos, dtype=np.float64)
    r_ji = pos[:, :-2] - pos[:, 1:-1]
    r_jk = pos[:, 2:] - pos[:, 1:-1]
    cos_theta = np.sum(r_ji * r_jk, axis=-1) / (
        np.linalg.norm(r_ji, axis=-1) * np.linalg.norm(r_jk, axis=-1)
    )
    return np.arccos(np.clip(cos_theta, -1.0, 1.0))


def dihedral_angles(pos) -> np.ndarray:
    """Dihedrals of consecutive Cα quadruples (frames, beads − 3) in radians, as torchmd defines them."""
    pos = np.asarray(pos, dtype=np.float64)
    r12 = pos[:, :-3] - pos[:, 1:-2]
    r23 = pos[:, 1:-2] - pos[:, 2:-1]
    r34 = pos[:, 2:-1] - pos[:, 3:]
    cross_a = np.cross(r12, r23)
    cross_b = np.cross(r23, r34)
    cross_c = np.cross(r23, cross_a)
    unit_b = cross_b / np.linalg.norm(cross_b, axis=-1, keepdims=True)
    cos_phi = np.sum(cross_a * unit_b, axis=-1) / np.linalg.norm(cross_a, axis=-1)
    sin_phi = np.sum(cross_c * unit_b, axis=-1) / np.linalg.norm(cross_c, axis=-1)
    return -np.arctan2(sin_phi, cos_phi)


def bond_pair(types, i: int) -> tuple[str, str]:
    """Bead-type pair of bond i → i+1, ordered N→C."""
    return (str(types[i]), str(types[i + 1]))


def contact_pair(a: str, b: str) -> tuple[str, str]:
    """Non-bonded pairs are symmetric: one sorted key per type pair."""
    return tuple(sorted((str(a), str(b))))


def dihedral_quadruple(types, i: int) -> tuple[str, str, str, str]:
    """Bead-type key of dihedral i (beads i..i+3): a dihedral read backwards has the same value,
    so A-B-C-D and D-C-B-A are one key (the smaller of the two)."""
    forward = tuple(str(t) for t in types[i : i + 4])
    return min(forward, forward[::-1])


@dataclass
class Histograms:
    """Counts per bead-type pair on fixed bins; `add` more frames (or proteins) at any time."""

    bond_edges: np.ndarray
    repulsion_edges: np.ndarray
    dihedral_edges: np.ndarray
    repulsion_cutoff: float
    repulsion_min_separation: int = 2  # 3: the 1-3 pairs are left to the angle term
    angle_edges: np.ndarray | None = None
    angles: np.ndarray | None = None  # one shared histogram, like the dihedral
    bonds: dict = field(default_factory=dict)
    repulsion: dict = field(default_factory=dict)
    dihedrals: np.ndarray | None = None  # all quadruples together
    dihedral_types: dict = field(default_factory=dict)  # bead-type quadruple → counts
    frames: int = 0
    temperatures: dict = field(default_factory=dict)  # temperature → frames

    @classmethod
    def from_settings(cls, settings: dict) -> "Histograms":
        return cls(
            bond_edges=np.linspace(*settings["bond_range"], settings["bond_bins"] + 1),
            repulsion_edges=np.linspace(
                *settings["repulsion_range"], settings["repulsion_bins"] + 1
            ),
            dihedral_edges=np.linspace(-np.pi, np.pi, settings["dihedral_bins"] + 1),
            repulsion_cutoff=float(settings["repulsion_cutoff"]),
            repulsion_min_separation=EXCLUDED[settings.get("repulsion_excludes", "bonds")][1],
            dihedrals=np.zeros(settings["dihedral_bins"]),
            angle_edges=np.linspace(0.0, np.pi, settings["angle_bins"] + 1),
            angles=np.zeros(settings["angle_bins"]),
        )

    @property
    def temperature(self) -> float:
        """Frame-weighted mean temperature of everything added."""
        total = sum(self.temperatures.values())
        return sum(t * n for t, n in self.temperatures.items()) / total

    def add(self, types, pos, temperature: float) -> None:
        """Add the frames (frames, beads, 3) Å of a chain whose beads have prior atom `types`."""
        types = [str(t) for t in types]
        for start in range(0, len(pos), CHUNK_FRAMES):
            block = np.asarray(pos[start : start + CHUNK_FRAMES], dtype=np.float64)
            self._add_bonds(types, block)
            self._add_repulsion(types, block)
            if len(types) >= 3 and self.angles is not None:
                self.angles += np.histogram(bend_angles(block), self.angle_edges)[0]
            if len(types) >= 4:
                self._add_dihedrals(types, block)
        self.frames += len(pos)
        self.temperatures[float(temperature)] = self.temperatures.get(float(temperature), 0) + len(
            pos
        )

    @staticmethod
    def _add_columns(table: dict, keys, values, edges) -> np.ndarray:
        """Histogram column i of `values` into table[keys[i]]; return the counts of all columns."""
        total = np.zeros(len(edges) - 1, dtype=np.int64)
        for i, key in enumerate(keys):
            counts = np.histogram(values[:, i], edges)[0]
            table[key] = table.get(key, 0) + counts
            total += counts
        return total

    def _add_bonds(self, types, block) -> None:
        lengths = bond_lengths(block)
        keys = [bond_pair(types, i) for i in range(lengths.shape[1])]
        self._add_columns(self.bonds, keys, lengths, self.bond_edges)

    def _add_dihedrals(self, types, block) -> None:
        phi = dihedral_angles(block)
        keys = [dihedral_quadruple(types, i) for i in range(phi.shape[1])]
        self.dihedrals += self._add_columns(self.dihedral_types, keys, phi, self.dihedral_edges)

    def _add_repulsion(self, types, block) -> None:
        first, second = nonbonded_pairs(len(types), self.repulsion_min_separation)
        if not len(first):
            return
        pair_keys = [contact_pair(types[i], types[j]) for i, j in zip(first, second, strict=True)]
        keys = sorted(set(pair_keys))
        key_of_pair = np.array([keys.index(key) for key in pair_keys])
        dist = np.linalg.norm(block[:, first] - block[:, second], axis=-1)
        edges = self.repulsion_edges
        close = (dist < self.repulsion_cutoff) & (dist >= edges[0]) & (dist < edges[-1])
        bins = len(edges) - 1
        bin_index = np.clip(np.searchsorted(edges, dist[close], side="right") - 1, 0, bins - 1)
        pair_index = np.broadcast_to(key_of_pair, dist.shape)[close]
        counts = np.bincount(pair_index * bins + bin_index, minlength=len(keys) * bins)
        for k, key in enumerate(keys):
            self.repulsion[key] = self.repulsion.get(key, 0) + counts[k * bins : (k + 1) * bins]
