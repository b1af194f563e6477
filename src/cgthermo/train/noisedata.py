"""The forces + noise training set (train.noise, docs/noise.md): noised copies of every CG
frame with their delta labels, in the layout of cg/delta.h5 (docs/artifacts.md).

Per protein group and noise level σ, every frame x of cg/dataset.h5 gets `copies` noised
copies x̃ = x + σε; each copy's label is n + w (F − n) (cgthermo.train.noise) minus the prior's
force at x̃. The file is written a block of `CHUNK_FRAMES` source frames at a time, so memory
does not grow with the data. The optimal weight needs the whole level first: a first pass adds
up its least-squares sums, and a second pass draws the very same noise again (each block's
noise comes from its own stream, keyed by seed, level and block) and writes the labels.

Rows are level-major, then frame, then copy. Every row keeps its source frame's replica and
time, so the training splits keep all copies of a frame on one side, and `source` (the frame's
row in cg/dataset.h5) and `sigma` (Å) per row.
"""

import json
import logging
from dataclasses import dataclass

import h5py
import numpy as np

from ..cgmap.dataset import CGData
from ..cgtopology import CGTopology
from ..errors import CgthermoError
from ..io import atomic_path
from . import noise

log = logging.getLogger(__name__)

# source frames drawn together: it fixes which noise each frame gets, so it is part of the
# result (a different value gives another, equally valid, draw)
CHUNK_FRAMES = 4096
LABELS_ATTR = "forces + noise labels minus the prior's force at the noised positions"


@dataclass(frozen=True)
class NoiseSettings:
    """train.noise: σ values in Å, noised copies per frame and level, the label weighting
    ("optimal", "force", "noise" or a number w in [0, 1]) and the optimal weight's scope."""

    sigmas: tuple
    copies: int = 1
    weighting: str | float = "optimal"
    scope: str = "global"

    @classmethod
    def from_train(cls, train: dict) -> "NoiseSettings | None":
        """The settings of a config's train section; None where forces + noise is off."""
        section = train.get("noise") or {}
        sigmas = tuple(float(s) for s in section.get("sigmas", ()))
        if not sigmas:
            return None
        return cls(sigmas, int(section.get("copies", 1)), section.get("weighting", "optimal"),
                   section.get("scope", "global"))  # fmt: skip

    def fixed_weight(self):
        """The weight of a fixed weighting; None for "optimal" (estimated per level)."""
        if isinstance(self.weighting, str):
            return {"force": 1.0, "noise": 0.0}.get(self.weighting)
        return float(self.weighting)


def noise_enabled(train: dict) -> bool:
    return NoiseSettings.from_train(train) is not None


def block_stream(seed: int, level: int, block: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(level), int(block)])


def noised_block(data: CGData, start: int, sigma: float, copies: int,
                 rng: np.random.Generator) -> noise.NoisedFrames:
    """The noised copies of frames start … start + CHUNK_FRAMES of one group."""
    stop = min(start + CHUNK_FRAMES, data.frames)
    frames = noise.draw_noised(np.asarray(data.pos[start:stop]),
                               np.asarray(data.forces[start:stop]), sigma, copies, rng,
                               data.temperature)  # fmt: skip
    return noise.NoisedFrames(frames.positions, frames.forces, frames.noise_forces,
                              frames.source + start, frames.sigma, frames.kT)  # fmt: skip


def level_weight(data: CGData, settings: NoiseSettings, level: int, seed: int):
    """The label weight at noise level `level`: the fixed one, or the optimal one over every
    frame of the group (first pass)."""
    fixed = settings.fixed_weight()
    if fixed is not None:
        return fixed
    sums = noise.WeightSums(settings.scope)
    sigma = settings.sigmas[level]
    for block, start in enumerate(range(0, data.frames, CHUNK_FRAMES)):
        sums.add(noised_block(data, start, sigma, settings.copies,
                              block_stream(seed, level, block)))  # fmt: skip
    return sums.solve()


def write_group(h5: h5py.File, data: CGData, settings: NoiseSettings, prior: noise.PriorForces,
                seed: int) -> dict:  # fmt: skip
    """One protein's noised rows and delta labels (`prior(positions) -> (energies, forces)`
    subtracted at the noised positions); returns the weight used per σ."""
    per_level = data.frames * settings.copies
    rows = per_level * len(settings.sigmas)
    group = h5.create_group(data.name)
    group.create_dataset("types", data=data.types)
    out = {key: group.create_dataset(key, shape=(rows, data.pos.shape[1], 3), dtype=np.float32)
           for key in ("pos", "forces")}  # fmt: skip
    source = group.create_dataset("source", shape=(rows,), dtype=np.int64)
    weights = {}
    for level, sigma in enumerate(settings.sigmas):
        weight = level_weight(data, settings, level, seed)
        weights[sigma] = np.asarray(weight).tolist()
        for block, start in enumerate(range(0, data.frames, CHUNK_FRAMES)):
            frames = noised_block(data, start, sigma, settings.copies,
                                  block_stream(seed, level, block))  # fmt: skip
            labels = noise.subtract_prior(frames.positions, noise.apply_weight(frames, weight),
                                          prior)  # fmt: skip
            first = level * per_level + start * settings.copies
            span = slice(first, first + len(frames.source))
            out["pos"][span] = frames.positions.astype(np.float32)
            out["forces"][span] = labels.astype(np.float32)
            source[span] = frames.source
    every_source = np.tile(np.repeat(np.arange(data.frames), settings.copies), len(settings.sigmas))
    group.create_dataset("replica", data=np.asarray(data.replica, dtype=np.int64)[every_source])
    group.create_dataset("time", data=np.asarray(data.time, dtype=np.float64)[every_source])
    group.create_dataset("sigma", data=np.repeat(np.asarray(settings.sigmas), per_level))
    group.attrs.update({
        "temperature_K": float(data.temperature), "force_map": data.force_map,
        "dropped_frames": int(data.dropped_frames),
        "residue_names": json.dumps(list(data.resnames)), "forces": LABELS_ATTR,
        "sigmas_angstrom": json.dumps(list(settings.sigmas)),
        "copies": int(settings.copies), "weighting": json.dumps(settings.weighting),
        "scope": settings.scope, "weights": json.dumps({str(k): v for k, v in weights.items()}),
    })  # fmt: skip
    return weights


def yaml_prior(prior_yaml):
    """The prior of a torchmd YAML for a group (PriorEvaluator: the batched prior cg_sim uses)."""
    from ..forcefield.evaluate import (
        PriorEvaluator,  # torch: not while Snakemake parses train.rules
    )

    return lambda data: PriorEvaluator(prior_yaml, CGTopology(data.resnames))


def write_noised_delta(path, groups: list[CGData], settings: NoiseSettings, prior_yaml,
                       seeds: dict, prior_for=None) -> dict:  # fmt: skip
    """Write every group's noised rows to `path` atomically; {protein: {σ: weight}}.

    The labels are less the prior of `prior_yaml` at the noised positions (`prior_for(data)`,
    a callable of positions, replaces it)."""
    prior_for = prior_for or yaml_prior(prior_yaml)
    if settings is None:
        raise CgthermoError("train.noise.sigmas is empty, so there is no forces + noise set",
                            "give one or more noise levels in Å, e.g. sigmas: [0.1]")  # fmt: skip
    used = {}
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
        for data in groups:
            used[data.name] = write_group(h5, data, settings, prior_for(data), seeds[data.name])
            h5[data.name].attrs["prior"] = str(prior_yaml)
            log.info("%s: %d frames × %d copies × σ %s Å, weights %s", data.name, data.frames,
                     settings.copies, list(settings.sigmas), used[data.name])  # fmt: skip
    return used
