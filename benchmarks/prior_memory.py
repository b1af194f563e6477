"""Peak memory of the prior stage against the number of frames: streamed against in memory.

The prior stage histograms every frame and writes mapped − prior forces for every frame.
For synthetic 10-bead datasets of two sizes, this runs, each in a fresh process:

  streamed   `run_prior`, as the workflow runs it: frames are read, histogrammed and turned
             into delta forces a block at a time (h5py slices)
  in memory  the same fit and delta with the dataset read whole first (`read_dataset`)

and prints each one's peak resident memory (VmHWM) and time, and in memory ÷ streamed.
Memory that does not grow with the frames is what lets a 24 GB machine take the paper's
1.87 million chignolin frames.

    python benchmarks/prior_memory.py [--frames 200000 800000]
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SETTINGS = {"dihedral_types": "per_quadruple"}  # random-walk bends have no harmonic well


def write_synthetic(path: Path, frames: int) -> None:
    """Random-walk chignolin chains (3.8 Å bonds, thermal noise) and random forces."""
    from cgthermo.cgmap.dataset import CGData, write_dataset

    rng = np.random.default_rng(0)
    resnames = ["TYR", "TYR", "ASP", "PRO", "GLU", "THR", "GLY", "THR", "TRP", "TYR"]
    steps = rng.normal(size=(frames, 9, 3)).astype(np.float32)
    steps *= 3.8 / np.linalg.norm(steps, axis=-1, keepdims=True)
    pos = np.concatenate([np.zeros((frames, 1, 3), np.float32), np.cumsum(steps, axis=1)], axis=1)
    pos += rng.normal(0, 0.1, pos.shape).astype(np.float32)
    forces = rng.normal(0, 20, pos.shape).astype(np.float32)
    write_dataset(path, [CGData("cln", resnames, pos, forces, np.zeros(frames, np.int64),
                                np.arange(frames) * 100.0, 350.0, "synthetic")])  # fmt: skip


def child(mode: str, dataset: str, out: str) -> None:
    from cgthermo import config as cgconfig
    from cgthermo.cgmap.dataset import read_dataset
    from cgthermo.prior.stage import fit_and_write, run_prior

    settings = cgconfig.validate({"proteins": [{"name": "x", "sequence": "AAAAA"}],
                                  "prior": SETTINGS})["prior"]  # fmt: skip
    args = (settings, f"{out}/prior.yaml", f"{out}/fit.png", f"{out}/delta.h5")
    start = time.perf_counter()
    if mode == "streamed":
        run_prior([dataset], *args)
    else:
        fit_and_write(read_dataset(dataset), *args)
    peak_mb = peak_resident_mb()
    print(f"{peak_mb:.0f} {time.perf_counter() - start:.1f}")


def peak_resident_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries that over
    from the parent at fork, and the parent here held the synthetic dataset."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(mode: str, dataset: Path, out: Path) -> tuple[float, float]:
    command = [sys.executable, __file__, "--child", mode, str(dataset), str(out)]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    text = proc.stdout.split()
    return float(text[-2]), float(text[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[200_000, 800_000])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    if args.child:
        child(*args.child)
        return
    print(f"{'frames':>8} {'dataset MB':>11} {'streamed MB':>12} {'in memory MB':>13} "
          f"{'ratio':>6} {'streamed s':>11} {'in memory s':>12}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for frames in args.frames:
            dataset = Path(tmp) / f"{frames}.h5"
            write_synthetic(dataset, frames)
            size = dataset.stat().st_size / 2**20
            (s_mb, s_s), (m_mb, m_s) = (measure(mode, dataset, Path(tmp) / mode)
                                        for mode in ("streamed", "in_memory"))  # fmt: skip
            print(f"{frames:8d} {size:11.0f} {s_mb:12.0f} {m_mb:13.0f} {m_mb / s_mb:6.2f} "
                  f"{s_s:11.1f} {m_s:12.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
