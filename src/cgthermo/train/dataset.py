"""Reading and checking the CG force datasets (torchmd-net HDF5 layout, docs/artifacts.md).

torchmd-net's `HDF5` dataset numbers frames group by group in the order h5py
iterates the groups, skipping `_metadata`; every index we hand it (the splits)
follows that same order, which `frame_table` reproduces.
"""

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..errors import CgthermoError
from ..io import require_file

METADATA_GROUP = "_metadata"  # torchmd-net reads this group as dataset attributes, not frames
CHUNK_FRAMES = 50_000  # bound memory while scanning large datasets for NaN


@dataclass
class GroupFrames:
    """The frames of one group (one protein) in dataset order."""

    name: str
    offset: int  # global index of the group's first frame
    beads: int
    replica: np.ndarray  # (frames,) int
    time: np.ndarray  # (frames,) float, fs within the replica

    @property
    def frames(self) -> int:
        return len(self.replica)

    @property
    def indices(self) -> np.ndarray:
        return np.arange(self.offset, self.offset + self.frames)

    def local(self, index) -> np.ndarray:
        """This group's rows among the global frame numbers `index`, as its own row numbers."""
        index = np.asarray(index, dtype=np.int64)
        return index[(index >= self.offset) & (index < self.offset + self.frames)] - self.offset


def data_groups(h5: h5py.File) -> list[str]:
    """Group names holding frames, in the order torchmd-net's HDF5 dataset reads them."""
    return [name for name in h5 if name != METADATA_GROUP]


def frame_table(path) -> list[GroupFrames]:
    """Replica and time of every frame, group by group; checks the group's shape contract."""
    require_file(path, "the prior stage")
    groups, offset = [], 0
    with h5py.File(path, "r") as h5:
        for name in data_groups(h5):
            group = h5[name]
            frames, beads = _check_group_shapes(path, name, group)
            replica = (
                np.asarray(group["replica"], dtype=np.int64)
                if "replica" in group
                else np.zeros(frames, dtype=np.int64)
            )
            # without recorded times the stored order is the time order
            time = np.asarray(group["time"], dtype=float) if "time" in group else np.arange(frames)
            if len(replica) != frames or len(time) != frames:
                raise CgthermoError(
                    f"{path} group '{name}': 'replica'/'time' lengths differ from the {frames} frames in 'pos'",
                    "rerun the cg_map and prior stages",
                )
            groups.append(GroupFrames(name, offset, beads, replica, time))
            offset += frames
    if not groups:
        raise CgthermoError(
            f"dataset {path} holds no protein group", "rerun the cg_map and prior stages"
        )
    return groups


def _check_group_shapes(path, name, group) -> tuple[int, int]:
    for key in ("types", "pos", "forces"):
        if key not in group:
            raise CgthermoError(
                f"{path} group '{name}' lacks the '{key}' dataset",
                "rerun the cg_map and prior stages",
            )
    pos, forces, types = group["pos"], group["forces"], group["types"]
    if pos.ndim != 3 or pos.shape[2] != 3 or forces.shape != pos.shape:
        raise CgthermoError(
            f"{path} group '{name}': pos {pos.shape} and forces {forces.shape} are not the same (frames, beads, 3)",
            "rerun the cg_map and prior stages",
        )
    frames, beads = pos.shape[:2]
    if frames == 0:
        raise CgthermoError(
            f"dataset {path} group '{name}' has no frames",
            "check the all-atom runs and the cg_map max_bond filter, then rerun",
        )
    if types.shape not in ((beads,), (frames, beads)):
        raise CgthermoError(
            f"{path} group '{name}': types {types.shape} does not match {beads} beads",
            "rerun the cg_map stage",
        )
    return frames, beads


def check_finite(path) -> None:
    """Fail with one line when any position or force is NaN or infinite."""
    with h5py.File(path, "r") as h5:
        for name in data_groups(h5):
            for key in ("pos", "forces"):
                data = h5[name][key]
                for start in range(0, data.shape[0], CHUNK_FRAMES):
                    block = data[start : start + CHUNK_FRAMES]
                    bad = ~np.isfinite(block).all(axis=(1, 2))
                    if bad.any():
                        frame = start + int(np.flatnonzero(bad)[0])
                        raise CgthermoError(
                            f"{path} group '{name}' has NaN/inf {key} in {int(bad.sum())}+ frames (first: frame {frame})",
                            "rerun the stage that wrote it; drop broken frames in cg_map",
                        )


def needs_tiled_types(path) -> bool:
    """True where torchmd-net would misread `types`.

    torchmd-net's HDF5 reader takes a 1-D dataset whose length equals the frame
    count as one value per frame; a (beads,) `types` with beads == frames would
    then become one type per frame.
    """
    with h5py.File(path, "r") as h5:
        for name in data_groups(h5):
            group = h5[name]
            if group["types"].ndim == 1 and group["types"].shape[0] == group["pos"].shape[0]:
                return True
    return False


def write_tiled_copy(source, target) -> Path:
    """Copy the dataset with `types` stored per frame, the unambiguous form torchmd-net reads."""
    with h5py.File(source, "r") as src, h5py.File(target, "w") as dst:
        for name in data_groups(src):
            group = dst.create_group(name)
            frames = src[name]["pos"].shape[0]
            types = np.asarray(src[name]["types"])
            if types.ndim == 1:
                types = np.tile(types, (frames, 1))
            group.create_dataset("types", data=types)
            for key in ("pos", "forces"):
                group.create_dataset(key, data=src[name][key])
    return Path(target)


def source_rows(path, name: str):
    """The source frame (row of cg/dataset.h5) of every row of a forces + noise group; None
    for a delta group, whose rows are the frames themselves."""
    with h5py.File(path, "r") as h5:
        group = h5[name]
        return np.asarray(group["source"], dtype=np.int64) if "source" in group else None


def source_frames(path, groups: list[GroupFrames], clean_groups: list[GroupFrames],
                  index) -> np.ndarray:  # fmt: skip
    """Global frame numbers in the clean delta file of the source frames of rows `index` of
    `path` (each frame once, sorted); the same numbers where `path` is the clean file."""
    index = np.asarray(index, dtype=np.int64)
    offsets = {g.name: g.offset for g in clean_groups}
    frames = []
    for group in groups:
        local = group.local(index)
        source = source_rows(path, group.name)
        local = local if source is None else np.unique(source[local])
        frames.append(offsets[group.name] + local)
    return np.sort(np.concatenate(frames)) if frames else index


def split_replicas(groups: list[GroupFrames], frame_splits: dict) -> dict:
    """{protein: {"train"|"val"|"test": sorted replica numbers with frames in that set}}."""
    result = {}
    for group in groups:
        result[group.name] = {}
        for name in ("train", "val", "test"):
            local = group.local(frame_splits[f"idx_{name}"])
            result[group.name][name] = sorted(int(r) for r in np.unique(group.replica[local]))
    return result


def check_matches(delta_path, dataset_paths: dict) -> None:
    """Delta forces must be frame-by-frame the mapped dataset minus a prior: same groups, same
    frames; forces + noise rows must name source frames the mapped dataset has."""
    with h5py.File(delta_path, "r") as delta:
        for name in data_groups(delta):
            if name not in dataset_paths:
                raise CgthermoError(
                    f"{delta_path} has group '{name}' but no mapped dataset was given for it",
                    "rerun the prior stage with the current config",
                )
            with h5py.File(dataset_paths[name], "r") as mapped:
                if "source" in delta[name] and name in mapped:
                    _check_sources(delta_path, name, delta[name], mapped[name], dataset_paths[name])
                    continue
                if name not in mapped or mapped[name]["pos"].shape != delta[name]["pos"].shape:
                    raise CgthermoError(
                        f"{delta_path} group '{name}' does not match the frames of {dataset_paths[name]}",
                        "rerun the prior stage after cg_map",
                    )


def _check_sources(labels_path, name, labels, mapped, mapped_path) -> None:
    source = np.asarray(labels["source"])
    frames, beads = mapped["pos"].shape[:2]
    if len(source) != labels["pos"].shape[0] or labels["pos"].shape[1] != beads or (
        len(source) and (source.min() < 0 or source.max() >= frames)
    ):
        raise CgthermoError(
            f"{labels_path} group '{name}' does not match the frames of {mapped_path}",
            "rerun the noise_labels step after cg_map",
        )
