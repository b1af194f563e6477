"""Paper-scale data: time and peak memory of every data stage against the number of frames.

For each size, synthetic data in the paper's layout (`coords`, `forces`, `embeddings` .npy;
Å and kcal/mol/Å) go through the stages the workflow runs on them, each in a fresh process:

  import      cg_map's .npy import: unit and NaN checks, broken-chain filter, dataset.h5
  prior       the histograms and the Boltzmann-inversion fit (prior.yaml)
  delta       mapped − prior forces of every frame with the batched prior (delta.h5)
  train_input torchmd-net's HDF5 dataset on delta.h5 and a DataLoader drawing a fixed 200
              batches of 256 at random (the input side of training, without the network),
              preloaded as the train stage does under 1 GB, then read from disk (frames/s
              of each in the note; the peak is the preloaded one's)
  analysis    the all-atom reference (reference.npz): pair distances and TICA a block of
              frames at a time, k-means (50 centres, on at most 200,000 frames) and the MSM
  cg_analysis one CG model against it: the same frames written as an 8-replica CG
              trajectory (traj.xtc, frames.csv) and every model metric with its bootstrap
              interval (the time of the analysis alone is in the note)

and prints, per stage and size, wall seconds and peak resident memory (VmHWM), then per
stage the exponent of time against frames fitted over the three largest sizes (1: linear).
The delta stage also prints the ratio of torchmd's own per-frame force evaluation to the
batched prior on the same 2,000 frames. Synthetic chains are random walks with 3.8 Å steps
(no dynamics: TICA and the MSM see noise, which costs what real frames cost).

    python benchmarks/scale.py                       # 10 beads: 1e4 … 2e6; 80 beads: 1e4 … 5e5
    python benchmarks/scale.py --beads 10 --frames 10000 100000   # a quick look
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = {10: [10_000, 100_000, 1_000_000, 2_000_000], 80: [10_000, 100_000, 500_000]}
STAGES = ("import", "prior", "delta", "train_input", "analysis", "cg_analysis")
CG_REPLICAS = 8
WRITE_BLOCK = 100_000  # frames synthesized at a time
TEMPERATURE = 350.0
NAME = "syn"


def random_walk_chains(rng, n: int, beads: int) -> np.ndarray:
    """`n` Cα chains (Å) of 3.8 Å steps in random directions, from the origin; float32."""
    steps = rng.normal(size=(n, beads - 1, 3)).astype(np.float32)
    steps *= 3.8 / np.linalg.norm(steps, axis=-1, keepdims=True)
    return np.concatenate([np.zeros((n, 1, 3), np.float32), np.cumsum(steps, axis=1)], 1)


def write_paper_layout(folder: Path, frames: int, beads: int) -> dict:
    """coords/forces/embeddings .npy of random-walk Cα chains, written block by block."""
    rng = np.random.default_rng(beads)
    coords = np.lib.format.open_memmap(folder / "coords.npy", "w+", np.float32, (frames, beads, 3))
    forces = np.lib.format.open_memmap(folder / "forces.npy", "w+", np.float32, (frames, beads, 3))
    for start in range(0, frames, WRITE_BLOCK):
        n = min(WRITE_BLOCK, frames - start)
        chain = random_walk_chains(rng, n, beads)
        coords[start : start + n] = chain + rng.normal(0, 0.05, chain.shape)
        # forces of the size mapped Cα forces have (|F| ~ 10–20 kcal/mol/Å per component)
        forces[start : start + n] = rng.normal(0, 15, chain.shape)
    coords.flush()
    forces.flush()
    types = np.resize(np.array([4, 4, 5, 15, 6, 17, 8, 17, 19, 4]), beads)  # chignolin's, repeated
    np.save(folder / "embeddings.npy", types)
    return {k: str(folder / f"{k}.npy") for k in ("coords", "forces", "embeddings")}


def peak_resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1]) / 1024
    return float("nan")


def run_stage(stage: str, folder: str) -> dict:
    """One stage in this (fresh) process; returns its timings and extras."""
    folder = Path(folder)
    spec = json.loads((folder / "spec.json").read_text())
    start = time.perf_counter()
    extra = STAGE_FUNCTIONS[stage](folder, spec)
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_resident_mb(), **(extra or {})}


def stage_import(folder: Path, spec: dict):
    from cgthermo.cgmap.dataset import write_dataset
    from cgthermo.cgmap.importer import import_npy

    data = import_npy(NAME, spec, TEMPERATURE, 100.0, 10.0)
    write_dataset(folder / "dataset.h5", [data])


def prior_settings() -> dict:
    from cgthermo import config as cgconfig

    return cgconfig.validate({"proteins": [{"name": "x", "sequence": "AAAAA"}],
                              "prior": {"dihedral_types": "per_quadruple"}})["prior"]  # fmt: skip


def stage_prior(folder: Path, spec: dict):
    from cgthermo.cgmap.dataset import open_dataset
    from cgthermo.cgtopology import CGTopology
    from cgthermo.prior.fitting import fit_prior
    from cgthermo.prior.statistics import Histograms
    from cgthermo.prior.yamlio import write_prior_yaml

    settings = prior_settings()
    hist = Histograms.from_settings(settings)
    with open_dataset(folder / "dataset.h5") as groups:
        for data in groups:
            hist.add(CGTopology(data.resnames).atomtype, data.pos, data.temperature)
    write_prior_yaml(folder / "prior.yaml", fit_prior(hist, settings))


def stage_delta(folder: Path, spec: dict):
    from cgthermo.cgmap.dataset import open_dataset, write_dataset
    from cgthermo.cgtopology import CGTopology
    from cgthermo.forcefield.evaluate import PriorEvaluator
    from cgthermo.forcefield.yamlio import PRIOR_TERMS, prior_terms
    from cgthermo.prior.delta import delta_data

    with open_dataset(folder / "dataset.h5") as groups:
        write_dataset(folder / "delta.h5", [delta_data(d, folder / "prior.yaml") for d in groups])
        data = groups[0]
        sample = np.asarray(data.pos[:2000], dtype=np.float64)
        topology = CGTopology(data.resnames)
    timings = {}
    terms = prior_terms(folder / "prior.yaml") or PRIOR_TERMS
    for label, evaluator in (("batched", PriorEvaluator(folder / "prior.yaml", topology)),
                             ("torchmd", PriorEvaluator(folder / "prior.yaml", topology,
                                                        terms=terms))):  # fmt: skip
        begin = time.perf_counter()
        evaluator(sample)
        timings[label] = time.perf_counter() - begin
    return {"torchmd_over_batched": timings["torchmd"] / timings["batched"]}


def stage_train_input(folder: Path, spec: dict):
    """torchmd-net's HDF5 dataset as the train stage sets it up (preloaded under its limit)
    and read from disk (limit 0), each drawing 200 batches of 256 at random in this process."""
    import torch
    from torch.utils.data import RandomSampler
    from torch_geometric.loader import DataLoader
    from torchmdnet.datasets import HDF5

    rates = {}
    for label, limit in (("preloaded", 1024), ("disk", 0)):
        dataset = HDF5(str(folder / "delta.h5"), dataset_preload_limit=limit)
        sampler = RandomSampler(range(len(dataset)), num_samples=200 * 256,
                                generator=torch.Generator().manual_seed(0))  # fmt: skip
        begin = time.perf_counter()
        batches = sum(1 for _ in DataLoader(dataset, batch_size=256, sampler=sampler))
        rates[f"{label}_frames_per_s"] = batches * 256 / (time.perf_counter() - begin)
    return rates


def analysis_settings() -> dict:
    from cgthermo.config import validate

    return validate({"proteins": [{"name": "x", "sequence": "AAAAA"}],
                     "analysis": {"n_clusters": 50, "reweight": "msm"}})["analysis"]  # fmt: skip


def stage_analysis(folder: Path, spec: dict):
    from cgthermo.analysis.reference import build_reference
    from cgthermo.cgmap.dataset import open_dataset
    from cgthermo.cgtopology import write_ca_pdb

    with open_dataset(folder / "dataset.h5") as groups:
        write_ca_pdb(folder / "topology.pdb", groups[0].resnames, groups[0].pos[0])
    settings = analysis_settings()
    arrays = build_reference(folder / "dataset.h5", folder / "topology.pdb", NAME, settings,
                             TEMPERATURE)  # fmt: skip
    with open(folder / "reference.npz", "wb") as fh:
        np.savez(fh, **arrays)
    return {"kmeans_stride": int(arrays["kmeans_stride"])}


def write_cg_trajectory(folder: Path, spec: dict) -> None:
    """traj.xtc and frames.csv as cg_sim writes them: the synthetic frames as CG_REPLICAS
    replicas, written a block at a time."""
    import mdtraj as md
    import pandas as pd

    from cgthermo.units import ANGSTROM_PER_NM

    coords = np.load(spec["coords"], mmap_mode="r")
    per_replica = len(coords) // CG_REPLICAS
    with md.formats.XTCTrajectoryFile(str(folder / "traj.xtc"), "w") as fh:
        for start in range(0, per_replica * CG_REPLICAS, WRITE_BLOCK):
            stop = min(start + WRITE_BLOCK, per_replica * CG_REPLICAS)
            fh.write(np.asarray(coords[start:stop]) / ANGSTROM_PER_NM)
    frame = np.arange(per_replica)
    pd.DataFrame({"replica": np.repeat(np.arange(CG_REPLICAS), per_replica),
                  "frame": np.tile(frame, CG_REPLICAS),
                  "time_fs": np.tile(frame * 1000.0, CG_REPLICAS),
                  "exploded": False}).to_csv(folder / "frames.csv", index=False)  # fmt: skip


def stage_cg_analysis(folder: Path, spec: dict):
    from cgthermo.analysis.compare import analyse_model

    write_cg_trajectory(folder, spec)
    settings = analysis_settings()
    begin = time.perf_counter()
    metrics, _, _ = analyse_model(folder / "reference.npz", folder / "traj.xtc",
                                  folder / "frames.csv", folder / "topology.pdb", "syn",
                                  settings, seed=1)  # fmt: skip
    return {"analysis_seconds": time.perf_counter() - begin,
            "cg_frames": metrics["n_frames_cg_total"]}  # fmt: skip


STAGE_FUNCTIONS = {"import": stage_import, "prior": stage_prior, "delta": stage_delta,
                   "train_input": stage_train_input, "analysis": stage_analysis,
                   "cg_analysis": stage_cg_analysis}  # fmt: skip


def measure(stage: str, folder: Path) -> dict:
    command = [sys.executable, __file__, "--child", stage, str(folder)]
    proc = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    if proc.returncode:
        raise SystemExit(f"{stage} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def exponent(frames, seconds) -> float:
    """Slope of log(time) against log(frames) over the three largest sizes."""
    x, y = np.log(np.asarray(frames[-3:], float)), np.log(np.asarray(seconds[-3:], float))
    return float(np.polyfit(x, y, 1)[0]) if len(x) >= 2 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beads", type=int, nargs="+", default=sorted(DEFAULT_SIZES))
    parser.add_argument("--frames", type=int, nargs="+", help="sizes (default: per bead count)")
    parser.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    if args.child:
        print(json.dumps(run_stage(*args.child)))
        return
    print("| beads | frames | stage | seconds | peak MB | note |")
    print("| --- | --- | --- | --- | --- | --- |")
    summary = {}
    for beads in args.beads:
        for frames in args.frames or DEFAULT_SIZES[beads]:
            with tempfile.TemporaryDirectory(dir=REPO.parent) as tmp:
                folder = Path(tmp)
                spec = write_paper_layout(folder, frames, beads)
                (folder / "spec.json").write_text(json.dumps(spec))
                for stage in args.stages:
                    result = measure(stage, folder)
                    summary.setdefault((beads, stage), []).append((frames, result["seconds"],
                                                                   result["peak_mb"]))  # fmt: skip
                    note = ", ".join(f"{k} {v:.3g}" for k, v in result.items()
                                     if k not in ("seconds", "peak_mb"))  # fmt: skip
                    print(f"| {beads} | {frames} | {stage} | {result['seconds']:.1f} | "
                          f"{result['peak_mb']:.0f} | {note} |", flush=True)  # fmt: skip
    print("\n| beads | stage | time exponent (3 largest sizes) | largest peak MB |")
    print("| --- | --- | --- | --- |")
    for (beads, stage), rows in summary.items():
        frames, seconds, peaks = zip(*rows, strict=True)
        print(f"| {beads} | {stage} | {exponent(frames, seconds):.2f} | {max(peaks):.0f} |")


if __name__ == "__main__":
    main()
