"""Reading analysis inputs: the all-atom Cα dataset, CG trajectories and native structures.

Positions inside the analysis are in Å; mdtraj works in nm, so crossing into mdtraj
goes through `to_mdtraj`/`from_mdtraj` with the constant from `cgthermo.units`.
"""

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cgmap.dataset import read_rows
from ..errors import CgthermoError
from ..io import require_file
from ..units import ANGSTROM_PER_NM

log = logging.getLogger("cgthermo.analysis")


@dataclass
class Ensemble:
    """Cα positions (Å) cut into time-contiguous pieces (one replica, no gaps)."""

    pieces: list  # float32 (frames, beads, 3) arrays, or StoredPieces read when sliced
    source: str
    frame_fs: float = float("nan")  # time between saved frames
    replicas: list | None = None  # the replica of each piece (a replica with gaps has several)
    n_replicas: int | None = None  # the run's replicas, with those that hold no piece

    @property
    def n_units(self) -> int:
        """Bootstrap units: every replica of the run, also one without frames."""
        return self.n_replicas if self.n_replicas is not None else int(max(self.replicas)) + 1

    @property
    def n_frames(self) -> int:
        return int(sum(len(p) for p in self.pieces))

    @property
    def frame_replica(self) -> np.ndarray:
        """The replica of every frame, the pieces in order."""
        return np.repeat(self.replicas, [len(p) for p in self.pieces])

    @property
    def n_beads(self) -> int:
        return int(self.pieces[0].shape[1])


def load_topology(path):
    import mdtraj as md

    require_file(path, "the cg_map stage")
    return md.load_topology(str(path))


def to_mdtraj(pos_angstrom, topology):
    import mdtraj as md

    return md.Trajectory(np.asarray(pos_angstrom, dtype=np.float32) / ANGSTROM_PER_NM, topology)


def angstrom_from_nm(xyz_nm):
    return np.asarray(xyz_nm, dtype=np.float32) * np.float32(ANGSTROM_PER_NM)


def split_contiguous(replica, time, gap_factor: float = 1.5):
    """Index arrays of contiguous pieces: a new piece at a replica change or a time gap.

    Frames dropped upstream (broken chains) leave gaps; lagged pairs must not span them.
    """
    replica = np.asarray(replica)
    time = np.asarray(time, dtype=np.float64)
    order = np.lexsort((time, replica))
    replica, time = replica[order], time[order]
    new_replica = np.diff(replica) != 0
    dt = np.diff(time)
    same = dt[~new_replica]
    step = np.median(same) if same.size else 0.0
    gap = (dt > gap_factor * step) if step > 0 else np.zeros_like(new_replica)
    cuts = np.flatnonzero(new_replica | gap) + 1
    return [idx for idx in np.split(order, cuts) if idx.size]


class StoredPiece:
    """The positions (Å) of one time-contiguous piece, left in the dataset file and read
    only when sliced, so the reference holds a bounded block of frames at a time."""

    def __init__(self, positions, rows: np.ndarray, path):
        self.positions, self.rows, self.path = positions, rows, path
        self.shape = (len(rows), *positions.shape[1:])

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key) -> np.ndarray:
        pos = read_rows(self.positions, np.atleast_1d(self.rows[key]))
        if not np.all(np.isfinite(pos)):
            raise CgthermoError(f"{self.path} has non-finite coordinates",
                                "rerun the stage that writes it")  # fmt: skip
        return pos


@contextmanager
def open_reference(dataset_path, protein: str, topology):
    """The all-atom Cα ensemble of `protein` from the cg_map dataset, and its temperature.

    Its pieces are `StoredPiece`s: the positions stay in the file, which is open inside the
    block; only replica and time (16 bytes a frame) are read whole.
    """
    import h5py

    require_file(dataset_path, "the cg_map stage")
    with h5py.File(dataset_path, "r") as fh:
        if protein not in fh:
            raise CgthermoError(
                f"{dataset_path} has no group '{protein}'", "rerun cg_map for this protein"
            )
        group = fh[protein]
        positions = group["pos"]
        check_shape(positions.shape, topology, dataset_path)
        n = positions.shape[0]
        replica = group["replica"][:] if "replica" in group else np.zeros(n, np.int64)
        time = group["time"][:] if "time" in group else np.arange(n, dtype=np.float64)
        split = split_contiguous(replica, time)
        steps = np.concatenate([np.diff(np.asarray(time)[idx]) for idx in split])
        frame_fs = float(np.median(steps)) if steps.size else float("nan")
        pieces = [StoredPiece(positions, idx, dataset_path) for idx in split]
        replicas = [int(replica[idx[0]]) for idx in split]
        yield (Ensemble(pieces, str(dataset_path), frame_fs, replicas),
               group.attrs.get("temperature_K"))  # fmt: skip


def check_shape(shape, topology, path) -> None:
    if len(shape) != 3 or shape[0] == 0:
        raise CgthermoError(f"{path} holds no frames", "rerun the stage that writes it")
    if shape[1] != topology.n_atoms:
        raise CgthermoError(
            f"{path} has {shape[1]} beads but the topology has {topology.n_atoms}",
            "rerun it with the current cg/topology.pdb",
        )


def check_positions(pos, topology, path) -> None:
    check_shape(pos.shape, topology, path)
    if not np.all(np.isfinite(pos)):
        raise CgthermoError(f"{path} has non-finite coordinates", "rerun the stage that writes it")


def read_xtc_angstrom(path, topology):
    """All frames of an xtc in Å, checked against the topology's bead count."""
    from mdtraj.formats import XTCTrajectoryFile

    path = require_file(path, "the cg_sim stage")
    if path.stat().st_size == 0:
        raise CgthermoError(f"{path} is empty", "rerun cg_sim for this model")
    try:
        with XTCTrajectoryFile(str(path), "r") as fh:
            xyz, *_ = fh.read()
    except Exception as err:  # mdtraj raises assorted IOError/RuntimeError types
        raise CgthermoError(f"{path} is not a readable xtc ({err})", "rerun cg_sim") from None
    pos = angstrom_from_nm(xyz)
    check_positions(pos, topology, path)
    return pos


def read_frames_table(path, n_frames: int):
    import pandas as pd

    path = require_file(path, "the cg_sim stage")
    table = pd.read_csv(path)
    missing = {"replica", "frame", "exploded"} - set(table.columns)
    if missing:
        raise CgthermoError(
            f"{path} lacks column(s) {sorted(missing)}", "rerun cg_sim to rewrite it"
        )
    if len(table) != n_frames:
        raise CgthermoError(
            f"{path} has {len(table)} rows but the trajectory has {n_frames} frames",
            "rerun cg_sim so both are written together",
        )
    return table


def frame_time(table) -> float:
    """The time between saved frames (fs) of a frames.csv table (NaN without `time_fs`)."""
    if "time_fs" not in table or len(table) < 2:
        return float("nan")
    steps = table.groupby("replica")["time_fs"].diff().dropna()
    return float(steps.median()) if len(steps) else float("nan")


def exploded_flags(table) -> np.ndarray:
    """The `exploded` column of a frames.csv table as booleans (CSV writes True/False)."""
    return table["exploded"].astype(str).str.lower().isin(["1", "true", "1.0"]).to_numpy()


def replica_count(table, n_replicas: int | None, path) -> int:
    """The run's trajectory replicas: `n_replicas` (cg_sim's run.json), else the table's.

    A replica that exploded before its first saved frame has no row in frames.csv, so only
    the run's own record knows it; the table may never name a replica beyond that count.
    """
    in_table = int(table["replica"].max()) + 1 if len(table) else 0
    if n_replicas is None:
        return in_table
    if in_table > n_replicas:
        raise CgthermoError(
            f"{path} has replica {in_table - 1} but its run.json records {n_replicas} "
            f"trajectory replicas", "rerun cg_sim so both are written together")
    return int(n_replicas)


def replica_numbers(dataset, protein: str) -> np.ndarray:
    """The sorted replica numbers of a protein's all-atom frames (cg_map's dataset)."""
    import h5py

    if dataset is None:
        raise CgthermoError("held-out replicas were asked for without the cg_map dataset",
                            "pass the dataset the reference was built from")  # fmt: skip
    with h5py.File(dataset, "r") as h5:
        return np.unique(np.asarray(h5[protein]["replica"]))


def held_out_replica_numbers(dataset, protein: str, split: dict) -> tuple[np.ndarray, list]:
    """(the protein's sorted replica numbers, those a replica split keeps out of every
    network of it: `split` gives val_size, test_size and seed)."""
    from ..train.splits import held_out_replicas

    ids = replica_numbers(dataset, protein)
    return ids, held_out_replicas(ids, split["val_size"], split["test_size"], split["seed"])


def read_run_record(path) -> dict:
    """cg_sim's run.json ({} when there is none)."""
    import json

    return json.loads(Path(path).read_text()) if path and Path(path).is_file() else {}


def load_cg_run(traj_path, frames_path, topology, burnin_fraction: float, run_json) -> tuple:
    """(Ensemble, frame counts, run record) of a CG run: `load_cg` with the replica count
    its run.json records, so a replica that exploded before its first frame still counts."""
    run = read_run_record(run_json)
    ensemble, counts = load_cg(traj_path, frames_path, topology, burnin_fraction,
                               run.get("trajectory_replicas"))  # fmt: skip
    return ensemble, counts, run


def load_cg(traj_path, frames_path, topology, burnin_fraction: float,
            n_replicas: int | None = None) -> tuple:
    """CG replicas as an Ensemble, minus burn-in and exploded frames, plus frame counts.

    A replica with a frame flagged `exploded` is left out whole (cg_sim flags every kept frame
    of a replica that later exploded): it contributes no frame to any statistic, however late
    it exploded, so one rule holds for the metrics, their intervals, the convergence
    numbers, the speed-up and predictions. It stays a bootstrap unit of weight zero, so every
    model of a protein keeps the same units and their resamples pair up replica by replica.
    Frame counts: total = used + burn-in (of the replicas used) + exploded.
    """
    pos = read_xtc_angstrom(traj_path, topology)
    table = read_frames_table(frames_path, len(pos))
    n_replicas = replica_count(table, n_replicas, frames_path)
    exploded = exploded_flags(table)
    flagged = set(table.loc[exploded, "replica"].astype(int))
    unsaved = set(range(n_replicas)) - set(table["replica"].astype(int))  # exploded at once
    gone = sorted(flagged | unsaved)
    pieces, replicas, n_burnin = [], [], 0
    for replica, rows in table.groupby("replica", sort=True):
        if int(replica) in flagged:
            continue
        idx = rows.index.to_numpy()  # file order is time order within a replica
        skip = int(np.floor(burnin_fraction * len(idx)))
        n_burnin += skip
        if len(idx) > skip:
            pieces.append(pos[idx[skip:]])
            replicas.append(int(replica))
    counts = {
        "n_frames_cg_total": int(len(pos)),
        "n_frames_cg_burnin": int(n_burnin),
        "n_frames_cg_exploded": int(table["replica"].isin(flagged).sum()),
        "n_replicas_cg": n_replicas,
        "n_replicas_cg_exploded": len(gone),
        "exploded_replicas_cg": " ".join(str(r) for r in gone),
    }
    if not pieces:
        raise CgthermoError(
            f"{traj_path} has no frames left after burn-in and exploded frames",
            "run cg_sim longer or check why the model explodes",
        )
    if gone:
        log.warning("%s: CG replica(s) %s exploded; their %d frames enter no statistic",
                    traj_path, counts["exploded_replicas_cg"], counts["n_frames_cg_exploded"])
    return Ensemble(pieces, str(traj_path), frame_time(table), replicas=replicas,
                    n_replicas=n_replicas), counts


def load_native_ca(path, topology):
    """Cα positions (Å) of a native structure (PDB or mmCIF), matched to the CG topology."""
    from ..aa.pdbinput import ca_positions_angstrom

    path = Path(path)
    if not path.is_file():
        raise CgthermoError(f"native structure {path} does not exist", "fix the 'native' key")
    ca = ca_positions_angstrom(path)
    if len(ca) != topology.n_atoms:
        raise CgthermoError(
            f"native structure {path} has {len(ca)} Cα atoms but the protein has "
            f"{topology.n_atoms} beads",
            "give a native structure of the same sequence",
        )
    return ca
