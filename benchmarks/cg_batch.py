"""cg_sim's step against the batch size: where a device stops being bound by per-call
overhead, per architecture, with and without CUDA-graph replay.

For each architecture (graph network, TensorNet; untrained weights of the given size,
which cost what trained ones do), chain length and replica count, all replicas in one
batch, it builds the simulation cg_sim runs (`cgthermo.cgsim.CGSimulation`, fresh start,
prior + network, the given precision) and prints

  step          seconds per CG step of a whole run (integration, guards, output)
  steps/s, aggregate ns/day at the demo's 2 fs
  network share the network call's time over the step's
  graph ÷ plain steps/s with the network replayed as a CUDA graph over without (TensorNet
                on CUDA only: the graph network changes shape every call)

and, with `--test-config`, runs config/test.yaml's cgsim settings fresh on the device and
checks that every saved frame is finite (the path where a fresh GPU run once failed).

    python benchmarks/cg_batch.py [--device cuda] [--replicas 32 256 1024] [--beads 10 80]
                                  [--steps 200] [--width 128] [--layers 4] [--test-config]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

# the synthetic inputs are test helpers (tests/helpers), not part of the package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.cgsim_toy import write_dataset, write_prior
from helpers.untrained import write_untrained_checkpoint

from cgthermo import config as cgconfig
from cgthermo.cgsim import CGSimulation, SimInputs, SimOutputs, SimSettings
from cgthermo.residues import parse_sequence

REPO = Path(__file__).resolve().parents[1]
SEQUENCES = {10: "YYDPETGTWY",
             80: ("PLTQEQLEDARRLKAIYEKKKNELGLSQESVADKMGMGQSGVGALFNGINALNAYNAALLAKILKVS"
                  "VEEFSPSIAREIY")[:80]}  # fmt: skip
TIMESTEP_FS = 2.0


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--models", nargs="+", default=["graph-network", "tensornet"])
    parser.add_argument("--replicas", type=int, nargs="+", default=[32, 256, 1024])
    parser.add_argument("--beads", type=int, nargs="+", default=[10, 80], choices=SEQUENCES)
    parser.add_argument("--steps", type=int, default=200, help="CG steps per timed run")
    parser.add_argument("--width", type=int, default=128, help="embedding_dimension")
    parser.add_argument("--layers", type=int, default=4, help="num_layers")
    parser.add_argument("--precision", default="float32", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--test-config", action="store_true",
                        help="also run config/test.yaml's cgsim settings fresh on the device")
    return parser.parse_args()


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def simulation(folder: Path, beads: int, replicas: int, checkpoint, opts, cuda_graph=False,
               settings=None) -> CGSimulation:
    resnames = parse_sequence(SEQUENCES[beads])
    dataset, topology = write_dataset(folder, "bench", resnames, frames=16, replicas=4)
    prior = write_prior(folder / "prior.yaml", resnames)
    settings = settings or SimSettings(
        temperature_K=340.0, seed=1, replicas=replicas, batch_replicas=replicas,
        steps=opts.steps, save_every=max(1, opts.steps // 4), checkpoint_every=opts.steps,
        precision=opts.precision, device=opts.device, cuda_graph=cuda_graph)
    return CGSimulation(SimInputs("bench", dataset, topology, prior, checkpoint), settings,
                        folder / "work")


def outputs(folder: Path) -> SimOutputs:
    return SimOutputs(folder / "traj.xtc", folder / "frames.csv", folder / "log.csv",
                      folder / "run.json")


def step_seconds(sim: CGSimulation, folder: Path) -> float:
    sync()
    start = time.perf_counter()
    sim.run()
    sim.write(outputs(folder))
    sync()
    return (time.perf_counter() - start) / sim.total_steps


def network_seconds(sim: CGSimulation, calls: int = 10) -> float:
    """One network call over the whole batch, as the step makes it."""
    block = sim.group.blocks[0]
    pos = block.system.pos.clone()
    call = block.forces.external.calculate
    for _ in range(3):
        call(pos)
    sync()
    start = time.perf_counter()
    for _ in range(calls):
        call(pos)
    sync()
    return (time.perf_counter() - start) / calls


def reading(folder: Path, model: str, beads: int, replicas: int, checkpoint, opts,
            cuda_graph: bool) -> dict:
    sim = simulation(folder, beads, replicas, checkpoint, opts, cuda_graph)
    step = step_seconds(sim, folder)
    net = network_seconds(sim)
    return {"model": model, "beads": beads, "replicas": replicas, "cuda_graph": cuda_graph,
            "step_ms": 1e3 * step, "steps_per_s": 1.0 / step,
            "ns_per_day": replicas * TIMESTEP_FS * 1e-6 / step * 86400.0,
            "network_share": net / step}


def print_reading(r: dict) -> None:
    graph = ", CUDA graph" if r["cuda_graph"] else ""
    print(f"cg_batch/{r['model']}{graph}: {r['replicas']} x {r['beads']} beads: step "
          f"{r['step_ms']:.2f} ms, {r['steps_per_s']:.1f} steps/s, aggregate "
          f"{r['ns_per_day']:.1f} ns/day, network share {r['network_share']:.2f}", flush=True)


def fresh_test_config_run(folder: Path, checkpoint, opts) -> None:
    """config/test.yaml's cgsim settings, started fresh on the device, all frames finite."""
    import mdtraj

    config = cgconfig.load(REPO / "config" / "test.yaml")
    protein = config["proteins"][0]["name"]
    settings = SimSettings.from_config(config, protein, "specific")
    settings = SimSettings(**{**vars(settings), "device": opts.device})
    sim = simulation(folder, 10, settings.replicas, checkpoint, opts, settings=settings)
    sim.run()
    sim.write(outputs(folder))
    frames = mdtraj.load(str(folder / "traj.xtc"), top=str(sim.inputs.topology_pdb)).xyz
    finite = bool(np.isfinite(frames).all())
    print(f"cg_batch/test config fresh on {opts.device}: {settings.replicas} replicas x "
          f"{settings.steps} steps, {len(frames)} frames, all finite: {finite}", flush=True)
    if not finite:
        raise SystemExit("cg_batch: the test config's fresh run saved non-finite frames")


def main():
    opts = parse()
    torch.set_num_threads(opts.threads)
    if opts.device == "cuda":
        print(f"# GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    print(f"# cg_batch: {opts.width} wide, {opts.layers} layers, {opts.precision}, "
          f"{opts.steps} steps per run, device {opts.device}, {opts.threads} threads")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for model in opts.models:
            checkpoint = write_untrained_checkpoint(tmp / f"{model}.ckpt", model=model,
                                                    embedding_dimension=opts.width,
                                                    num_layers=opts.layers)  # fmt: skip
            graphs = [False, True] if opts.device == "cuda" and model == "tensornet" else [False]
            for beads in opts.beads:
                for replicas in opts.replicas:
                    readings = {}
                    for cuda_graph in graphs:
                        folder = tmp / f"{model}-{beads}-{replicas}-{cuda_graph}"
                        readings[cuda_graph] = reading(folder, model, beads, replicas,
                                                       checkpoint, opts, cuda_graph)
                        print_reading(readings[cuda_graph])
                    if True in readings:
                        gain = readings[True]["steps_per_s"] / readings[False]["steps_per_s"]
                        print(f"cg_batch/{model}: {replicas} x {beads} beads: CUDA graph / "
                              f"plain steps/s {gain:.2f}", flush=True)
        if opts.test_config:
            fresh_test_config_run(tmp / "test-config", tmp / f"{opts.models[0]}.ckpt", opts)


if __name__ == "__main__":
    main()
