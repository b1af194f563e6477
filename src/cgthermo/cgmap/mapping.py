"""Cα mapping: coordinates of the Cα atoms, forces through a force map of atom→bead weights.

A force map is a (beads × atoms) weight matrix; `map_to_beads` applies any such
matrix.

- `slice`: weight 1 on the Cα (what the paper did).
- `constraint-aware`: weight 1 on the Cα and on every hydrogen rigidly
  constrained to it. OpenMM's `getForces()` leaves out constraint forces; the
  Cα–H constraint forces are equal and opposite on the two atoms, so they
  cancel only when both atoms' forces are summed. The result is the generalized
  force conjugate to translating the rigid Cα–H unit, which is what a CG
  coordinate that moves the Cα (and, by the constraint, its hydrogens) feels.
- `optimized`: statistically optimal force aggregation (Krämer et al., JCTC 2023).
  Any weights with weight 1 on a bead's own Cα cluster and 0 on the other Cα
  clusters give an unbiased estimate of the mean force, because the force on an
  atom the map does not fix averages to zero at fixed bead positions. Among those,
  the one with the least variance solves a linear system in the second moments of
  the atomic forces; atoms joined by constraints share one weight so constraint
  forces still cancel. It cuts the force noise 5–6× (benchmarks/RESULTS.md).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass

import h5py
import numpy as np

from .. import units
from ..aa.timing import GPU_PLATFORMS
from ..errors import CgthermoError
from ..io import require_file
from .dataset import CGData, LazyFrames

log = logging.getLogger(__name__)

FORCE_MAPS = ("slice", "constraint-aware", "optimized")
CA_NAME = "CA"
CHUNK_FRAMES = 2000  # bounds memory for large all-atom trajectories
# Ridge added to the force second moments, relative to their mean diagonal: keeps the
# solve well posed when clusters' forces are (nearly) linearly dependent.
OPTIMIZED_RIDGE = 1e-6

@dataclass
class AtomTable:
    """The saved atoms of an all-atom trajectory (one row per column of positions/forces)."""

    names: list[str]
    elements: list[str]
    residue_index: np.ndarray  # (atoms,) 0-based residue of each atom
    residue_names: list[str]  # (residues,)

    @property
    def n_atoms(self) -> int:
        return len(self.names)

    def ca_columns(self) -> np.ndarray:
        """Column of the Cα of every residue, N→C; a residue without one is an error."""
        columns = np.full(len(self.residue_names), -1, dtype=np.int64)
        for col, (name, res) in enumerate(zip(self.names, self.residue_index, strict=True)):
            if name == CA_NAME:
                columns[res] = col
        missing = np.flatnonzero(columns < 0)
        if len(missing):
            res = int(missing[0])
            raise CgthermoError(
                f"residue {res + 1} ({self.residue_names[res]}) has no atom named CA",
                "map only amino-acid residues (remove caps, ligands and ions from the saved atoms)",
            )
        return columns


def map_to_beads(values, weights) -> np.ndarray:
    """Apply a (beads, atoms) weight matrix to (frames, atoms, 3) values → (frames, beads, 3)."""
    return np.asarray(weights, dtype=np.float64) @ np.asarray(values, dtype=np.float64)


def slice_weights(ca_columns, n_atoms: int) -> np.ndarray:
    weights = np.zeros((len(ca_columns), n_atoms))
    weights[np.arange(len(ca_columns)), ca_columns] = 1.0
    return weights


def constraint_aware_weights(ca_columns, rigid_partners: list[list[int]], n_atoms: int):
    """Weight 1 on each Cα and on the atoms rigidly constrained to it."""
    weights = slice_weights(ca_columns, n_atoms)
    for bead, partners in enumerate(rigid_partners):
        weights[bead, partners] = 1.0
    return weights


def force_second_moments(forces) -> np.ndarray:
    """(atoms, atoms) sum over frames and components of f_a · f_b for (frames, atoms, 3) forces."""
    f = np.asarray(forces, dtype=np.float64)
    return np.einsum("tad,tbd->ab", f, f)


def rigid_clusters(n_atoms: int, constraint_pairs) -> tuple:
    """(cluster id per atom, ids of clusters constrained to an unsaved atom)."""
    neighbours = constraint_neighbours(constraint_pairs)
    labels = np.full(n_atoms, -1, dtype=np.int64)
    tied_to_unsaved = set()
    cluster_id = -1
    for atom in range(n_atoms):
        if labels[atom] < 0:
            cluster = _connected(atom, neighbours)
            cluster_id += 1
            if any(c < 0 for c in cluster):
                tied_to_unsaved.add(cluster_id)
            labels[[c for c in cluster if c >= 0]] = cluster_id
    return labels, tied_to_unsaved


def optimized_weights(ca_columns, constraint_pairs, second_moments, n_atoms: int):
    """Least-variance force map: own Cα cluster 1, other Cα clusters 0, free weights elsewhere.

    Per bead I the free cluster weights u minimise (e_I + u)ᵀ C (e_I + u) with C the
    second moments summed within clusters, so u = −C_ff⁻¹ C_f,I.
    """
    labels, tied_to_unsaved = rigid_clusters(n_atoms, constraint_pairs)
    membership = np.zeros((n_atoms, int(labels.max()) + 1))
    membership[np.arange(n_atoms), labels] = 1.0
    moments = membership.T @ np.asarray(second_moments, dtype=np.float64) @ membership
    moments += OPTIMIZED_RIDGE * np.trace(moments) / len(moments) * np.eye(len(moments))
    bead_clusters = labels[np.asarray(ca_columns)]
    fixed = set(bead_clusters.tolist()) | tied_to_unsaved
    free = np.array([c for c in range(len(moments)) if c not in fixed], dtype=np.int64)
    cluster_weights = np.zeros((len(bead_clusters), len(moments)))
    cluster_weights[np.arange(len(bead_clusters)), bead_clusters] = 1.0
    if len(free):
        rhs = moments[np.ix_(free, bead_clusters)]
        cluster_weights[:, free] = -np.linalg.solve(moments[np.ix_(free, free)], rhs).T
    return cluster_weights @ membership.T


def force_map_weights(
    kind: str, table: AtomTable, constraint_pairs, second_moments=None
) -> np.ndarray:
    """The (beads, atoms) force map `kind` for atoms with the given constraint pairs (columns).

    `optimized` needs the (atoms, atoms) force second moments of the data it will map.
    """
    ca = table.ca_columns()
    if kind == "slice":
        return slice_weights(ca, table.n_atoms)
    if kind == "constraint-aware":
        partners = rigid_partners(table, ca, constraint_pairs)
        return constraint_aware_weights(ca, partners, table.n_atoms)
    if kind == "optimized":
        if second_moments is None:
            raise ValueError("the optimized force map needs the force second moments")
        rigid_partners(table, ca, constraint_pairs)  # refuses Cα constrained to heavy atoms
        return optimized_weights(ca, constraint_pairs, second_moments, table.n_atoms)
    raise CgthermoError(
        f"force map '{kind}' is unknown", f"set cg_map.force_map to one of {FORCE_MAPS}"
    )


def rigid_partners(table: AtomTable, ca_columns, constraint_pairs) -> list[list[int]]:
    """For each Cα, the other atoms of its rigid cluster (connected through constraints).

    Only hydrogens may join a Cα: with heavier atoms rigidly tied to it the cluster
    would reach into neighbouring beads and no Cα map would be consistent.
    """
    neighbours = constraint_neighbours(constraint_pairs)
    partners = []
    for ca in ca_columns:
        cluster = _connected(int(ca), neighbours) - {int(ca)}
        heavy = [c for c in cluster if c < 0 or table.elements[c] != "H"]
        if heavy:
            raise CgthermoError(
                f"the Cα of residue {table.residue_names[table.residue_index[ca]]} is constrained to a "
                "heavy or unsaved atom, so no Cα force map is consistent with the constraints",
                "run the all-atom MD with aa.constraints HBonds or none",
            )
        partners.append(sorted(cluster))
    return partners


def constraint_neighbours(constraint_pairs) -> defaultdict:
    """Atom column → the columns constrained to it."""
    neighbours = defaultdict(set)
    for a, b in np.asarray(constraint_pairs, dtype=np.int64).reshape(-1, 2):
        neighbours[int(a)].add(int(b))
        neighbours[int(b)].add(int(a))
    return neighbours


def _connected(start: int, neighbours) -> set:
    seen, todo = {start}, [start]
    while todo:
        for other in neighbours[todo.pop()]:
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def system_constraint_pairs(system_xml, atom_indices) -> np.ndarray:
    """Constraints of a serialized OpenMM system as pairs of saved-atom columns.

    A constraint to an atom that was not saved gets column −1 so the map can refuse it.
    """
    import openmm

    system = openmm.XmlSerializer.deserialize(require_file(system_xml, "rule prepare").read_text())
    column_of = {int(a): col for col, a in enumerate(atom_indices)}
    pairs = []
    for k in range(system.getNumConstraints()):
        i, j, _ = system.getConstraintParameters(k)
        if i in column_of or j in column_of:
            pairs.append((column_of.get(i, -1), column_of.get(j, -1)))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def broken_frames(pos_angstrom, max_bond: float) -> np.ndarray:
    """Frames where any consecutive Cα–Cα distance exceeds `max_bond` Å (broken chains)."""
    bonds = np.linalg.norm(np.diff(np.asarray(pos_angstrom), axis=1), axis=2)
    return (bonds > max_bond).any(axis=1)


@dataclass
class MappedBlock:
    """Mapped frames of one replica (CG units), with every force map's forces."""

    pos: np.ndarray
    forces: dict  # force map name → (frames, beads, 3)
    replica: int
    time_fs: np.ndarray


def map_frames(positions_nm, forces_kj, coord_weights, force_weights: dict):
    """Cα coordinates in Å and each force map's forces in kcal/mol/Å for a block of frames."""
    pos = units.nm_to_angstrom(map_to_beads(positions_nm, coord_weights))
    forces = {
        kind: units.kj_per_mol_nm_to_kcal_per_mol_angstrom(map_to_beads(forces_kj, w))
        for kind, w in force_weights.items()
    }
    return pos, forces


def assemble(name, resnames, blocks: list[MappedBlock], temperature, force_map, max_bond) -> CGData:
    """Join replicas, drop broken frames, log each map's mean squared force; keep `force_map`."""
    pos = np.concatenate([b.pos for b in blocks]).astype(np.float32)
    forces = {k: np.concatenate([b.forces[k] for b in blocks]) for k in blocks[0].forces}
    replica = np.concatenate([np.full(len(b.pos), b.replica, dtype=np.int64) for b in blocks])
    time = np.concatenate([b.time_fs for b in blocks])
    broken = broken_frames(pos, max_bond)
    keep = ~broken
    log.info(
        "%s: %d frames mapped, %d dropped (a Cα–Cα distance above %.1f Å)",
        name,
        len(pos),
        int(broken.sum()),
        max_bond,
    )
    if not keep.any():
        raise CgthermoError(
            f"protein '{name}': all {len(pos)} frames have a Cα–Cα distance above {max_bond} Å",
            "check the all-atom runs (broken chains?) or raise cg_map.max_bond",
        )
    noise = {k: float(np.mean(f[keep] ** 2)) for k, f in forces.items()}
    for kind, value in noise.items():
        log.info(
            "%s: force map %s: mean squared mapped force %.3f (kcal/mol/Å)² per component",
            name,
            kind,
            value,
        )
    return CGData(
        name=name,
        resnames=list(resnames),
        pos=pos[keep],
        forces=forces[force_map][keep].astype(np.float32),
        replica=replica[keep],
        time=time[keep],
        temperature=float(temperature),
        force_map=force_map,
        dropped_frames=int(broken.sum()),
        extra_attrs={f"mean_square_force_{k}": v for k, v in noise.items()},
    )


# --- all-atom trajectories of the aa stage (aa/md/{replica}.h5) ---


def read_atom_table(h5: h5py.File) -> AtomTable:
    return AtomTable(
        names=[_text(n) for n in h5["atom_names"][:]],
        elements=[_text(e) for e in h5["elements"][:]],
        residue_index=np.asarray(h5["residue_index"], dtype=np.int64),
        residue_names=[_text(r) for r in h5["residue_names"][:]],
    )


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _check_aa_file(path, h5: h5py.File) -> None:
    expected = {"positions": "nm", "forces": "kJ/mol/nm"}
    for key, unit in expected.items():
        if key not in h5:
            raise CgthermoError(
                f"all-atom file {path} has no '{key}' dataset", "rerun the aa_md rule"
            )
        found = _text(h5[key].attrs.get("units", ""))
        if found != unit:
            raise CgthermoError(
                f"all-atom file {path}: '{key}' has units '{found}', expected '{unit}'",
                "write OpenMM units in aa/md files (docs/artifacts.md)",
            )


def _check_finite(path, start, positions, forces) -> None:
    bad = ~(np.isfinite(positions).all(axis=(1, 2)) & np.isfinite(forces).all(axis=(1, 2)))
    if bad.any():
        raise CgthermoError(
            f"all-atom file {path} has NaN/inf positions or forces at frame {start + int(np.flatnonzero(bad)[0])}",
            "rerun that all-atom replica (it blew up), or remove it",
        )


def map_aa_protein(name, md_files, system_xml, force_map, max_bond) -> CGData:
    """The CG dataset of one protein from its all-atom replicas and serialized system.

    Its `pos` and `forces` are `MappedFrames`: computed from the all-atom files a block at a
    time when read, so writing the dataset never holds every frame in memory.
    """
    if not md_files:
        raise CgthermoError(
            f"protein '{name}' has no all-atom trajectories", "run the aa_md rule first"
        )
    with h5py.File(require_file(md_files[0], "rule aa_md"), "r") as h5:
        table = read_atom_table(h5)
        atom_indices = np.asarray(h5["atom_indices"], dtype=np.int64)
    pairs = system_constraint_pairs(system_xml, atom_indices)
    ca = table.ca_columns()
    coord_weights = slice_weights(ca, table.n_atoms)
    for path in md_files:
        _check_same_atoms(md_files[0], path, table, atom_indices)
    moments = sum(replica_force_moments(path) for path in md_files)
    force_weights = {kind: force_map_weights(kind, table, pairs, moments) for kind in FORCE_MAPS}
    log.info(
        "%s: %d beads; constraint-aware map adds %d hydrogens constrained to Cα atoms",
        name,
        len(ca),
        int(force_weights["constraint-aware"].sum() - len(ca)),
    )
    replicas = [scan_replica(path, i, coord_weights, force_weights, max_bond)
                for i, path in enumerate(md_files)]  # fmt: skip
    temperatures = {r.temperature for r in replicas}
    if len(temperatures) > 1:
        raise CgthermoError(
            f"all-atom replicas of '{name}' were run at different temperatures {sorted(temperatures)}",
            "rerun the replicas at one temperature",
        )
    kept = sum(int(r.keep.sum()) for r in replicas)
    total = sum(len(r.keep) for r in replicas)
    log.info("%s: %d frames mapped, %d dropped (a Cα–Cα distance above %.1f Å)",
             name, total, total - kept, max_bond)  # fmt: skip
    if kept == 0:
        raise CgthermoError(
            f"protein '{name}': all {total} frames have a Cα–Cα distance above {max_bond} Å",
            "check the all-atom runs (broken chains?) or raise cg_map.max_bond",
        )
    noise = {k: sum(r.square_sums[k] for r in replicas) / (kept * len(ca) * 3) for k in FORCE_MAPS}
    for kind, value in noise.items():
        log.info("%s: force map %s: mean squared mapped force %.3f (kcal/mol/Å)² per component",
                 name, kind, value)  # fmt: skip
    data = CGData(
        name=name,
        resnames=list(table.residue_names),
        pos=MappedFrames(replicas, coord_weights, None),
        forces=MappedFrames(replicas, coord_weights, force_weights[force_map]),
        replica=np.concatenate([np.full(r.keep.sum(), r.replica, dtype=np.int64) for r in replicas]),
        time=np.concatenate([r.time_fs[r.keep] for r in replicas]),
        temperature=temperatures.pop(),
        force_map=force_map,
        dropped_frames=total - kept,
        extra_attrs={f"mean_square_force_{k}": v for k, v in noise.items()},
    )
    data.extra_attrs.update(aa_speed_attrs(name, replicas))
    data.extra_attrs.update(adaptive_attrs(replicas))
    data.force_weights = force_weights[force_map]
    return data


def adaptive_attrs(replicas: list["ReplicaScan"]) -> dict:
    """Where adaptive trajectories came from, as arrays over the replicas in order:
    `trajectory_replica`, `trajectory_epoch` and `trajectory_parent` (the replica its start
    was cut from; -1 for epoch 0). None for plain replicas."""
    if not any(r.epoch is not None for r in replicas):
        return {}
    return {
        "trajectory_replica": np.array([r.replica for r in replicas], dtype=np.int64),
        "trajectory_epoch": np.array([r.epoch or 0 for r in replicas], dtype=np.int64),
        "trajectory_parent": np.array([r.parent if r.parent is not None else -1 for r in replicas],
                                      dtype=np.int64),  # fmt: skip
    }


def aa_speed_attrs(name, replicas: list["ReplicaScan"]) -> dict:
    """`aa_ns_per_day_per_core` (mean over the replicas of ns_per_day ÷ cores: the threads on
    the CPU and Reference platforms, 1 per GPU), each replica's own
    (`aa_ns_per_day_per_core_replicas`, for its interval) and `aa_platform`, from the speed aa_md
    records in each file; none when a replica lacks it (older or foreign files)."""
    lacking = [r for r in replicas if r.speed is None]
    if lacking:
        log.info("%s: %d of %d all-atom replicas (first %s) record no production speed "
                 "(ns_per_day, threads, platform), so the dataset has no aa_ns_per_day_per_core",
                 name, len(lacking), len(replicas), lacking[0].path)  # fmt: skip
        return {}
    per_core = [r.speed["ns_per_day"] / _cores(r.speed) for r in replicas]
    platforms = sorted({r.speed["platform"] for r in replicas})
    mean = float(np.mean(per_core))
    log.info("%s: all-atom production %.1f ns/day per core (mean of %d replicas, %s)",
             name, mean, len(replicas), ", ".join(platforms))  # fmt: skip
    return {"aa_ns_per_day_per_core": mean, "aa_platform": ",".join(platforms),
            "aa_ns_per_day_per_core_replicas": np.asarray(per_core, dtype=np.float64)}


def _cores(speed: dict) -> int:
    return 1 if speed["platform"] in GPU_PLATFORMS else speed["threads"]


def read_speed(h5: h5py.File) -> dict | None:
    """The production speed aa_md records in a trajectory's root attributes, or None when
    it is absent or not a positive, finite rate on at least one thread."""
    if not all(key in h5.attrs for key in ("ns_per_day", "threads", "platform")):
        return None
    speed = {
        "ns_per_day": float(h5.attrs["ns_per_day"]),
        "threads": int(h5.attrs["threads"]),
        "platform": _text(h5.attrs["platform"]),
    }
    if not (np.isfinite(speed["ns_per_day"]) and speed["ns_per_day"] > 0 and speed["threads"] >= 1):
        return None
    return speed


@dataclass
class ReplicaScan:
    """One all-atom replica after a first pass: which frames are kept, and sums over them."""

    path: str
    replica: int
    temperature: float
    time_fs: np.ndarray
    keep: np.ndarray  # (frames,) bool: no Cα–Cα distance above max_bond
    square_sums: dict  # force map → sum of squared mapped forces over the kept frames
    speed: dict | None = None  # ns_per_day, threads, platform as aa_md recorded them
    epoch: int | None = None  # the adaptive epoch (None: plain sampling)
    parent: int | None = None  # the replica an adaptive restart was cut from (-1: epoch 0)


def scan_replica(path, fallback_replica, coord_weights, force_weights, max_bond) -> ReplicaScan:
    """Map one aa/md/{replica}.h5 a block at a time, keeping only what the dataset needs
    besides the frames: the broken-chain mask and each force map's squared-force sum.

    The file was checked (datasets, units, finite values) by `replica_force_moments`.
    """
    keep, sums = [], dict.fromkeys(force_weights, 0.0)
    with h5py.File(path, "r") as h5:
        n = h5["positions"].shape[0]
        for start in range(0, n, CHUNK_FRAMES):
            x, f = h5["positions"][start : start + CHUNK_FRAMES], h5["forces"][start : start + CHUNK_FRAMES]
            pos, mapped = map_frames(x, f, coord_weights, force_weights)
            ok = ~broken_frames(pos.astype(np.float32), max_bond)
            keep.append(ok)
            for kind, value in mapped.items():
                sums[kind] += float(np.sum(value[ok] ** 2))
        time = units.ps_to_fs(np.asarray(h5["time"], dtype=np.float64)) if "time" in h5 else np.zeros(n)
        replica = int(h5.attrs.get("replica", fallback_replica))
        temperature = float(h5.attrs["temperature_K"])
        speed = read_speed(h5)
        epoch = int(h5.attrs["epoch"]) if "epoch" in h5.attrs else None
        parent = int(h5.attrs["parent_replica"]) if "parent_replica" in h5.attrs else None
    keep = np.concatenate(keep) if keep else np.zeros(0, dtype=bool)
    return ReplicaScan(str(path), replica, temperature, time, keep, sums, speed, epoch, parent)  # fmt: skip


class MappedFrames(LazyFrames):
    """The kept frames of all-atom replicas as a (frames, beads, 3) array-like: Cα positions in
    Å (`force_weights` None) or mapped forces in kcal/mol/Å, computed from the files when
    sliced, in blocks of CHUNK_FRAMES all-atom frames."""

    def __init__(self, replicas: list[ReplicaScan], coord_weights, force_weights):
        self.replicas, self.coord_weights, self.force_weights = replicas, coord_weights, force_weights
        self.dtype = np.dtype(np.float32 if force_weights is None else np.float64)
        self.offsets = np.cumsum([0] + [int(r.keep.sum()) for r in replicas])
        self.shape = (int(self.offsets[-1]), coord_weights.shape[0], 3)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            return self[int(index) : int(index) + 1][0]
        start, stop, _ = index.indices(len(self))
        out = np.empty((max(0, stop - start), *self.shape[1:]), dtype=self.dtype)
        for r, replica in enumerate(self.replicas):
            lo, hi = max(start, self.offsets[r]), min(stop, self.offsets[r + 1])
            if lo < hi:
                out[lo - start : hi - start] = self._replica_frames(replica, lo - self.offsets[r], hi - self.offsets[r])
        return out

    def _replica_frames(self, replica: ReplicaScan, first: int, last: int) -> np.ndarray:
        """Kept frames first..last (in kept numbering) of one replica."""
        frames = np.flatnonzero(replica.keep)[first:last]
        weights = {"f": self.force_weights} if self.force_weights is not None else {}
        out = []
        with h5py.File(replica.path, "r") as h5:
            for begin in range(0, len(frames), CHUNK_FRAMES):
                chunk = frames[begin : begin + CHUNK_FRAMES]
                lo, hi = int(chunk[0]), int(chunk[-1]) + 1
                x = h5["positions"][lo:hi][chunk - lo]
                f = h5["forces"][lo:hi][chunk - lo] if weights else None
                pos, mapped = map_frames(x, f, self.coord_weights, weights) if weights else (
                    units.nm_to_angstrom(map_to_beads(x, self.coord_weights)), {})
                out.append(mapped["f"] if weights else pos.astype(np.float32))
        return np.concatenate(out)


def replica_force_moments(path) -> np.ndarray:
    """Force second moments (atoms × atoms, (kJ/mol/nm)²) of one aa/md/{replica}.h5,
    after checking its datasets, units and that every value is finite."""
    with h5py.File(require_file(path, "rule aa_md"), "r") as h5:
        _check_aa_file(path, h5)
        n_atoms = h5["forces"].shape[1]
        moments = np.zeros((n_atoms, n_atoms))
        for start in range(0, h5["forces"].shape[0], CHUNK_FRAMES):
            stop = start + CHUNK_FRAMES
            x, f = h5["positions"][start:stop], h5["forces"][start:stop]
            _check_finite(path, start, x, f)
            moments += force_second_moments(f)
    return moments


def _check_same_atoms(reference, path, table: AtomTable, atom_indices) -> None:
    with h5py.File(require_file(path, "rule aa_md"), "r") as h5:
        same = (
            np.array_equal(np.asarray(h5["atom_indices"]), atom_indices)
            and [_text(r) for r in h5["residue_names"][:]] == table.residue_names
        )
    if not same:
        raise CgthermoError(
            f"all-atom file {path} saves other atoms than {reference}",
            "rerun the aa_md replicas of this protein from the same system",
        )
