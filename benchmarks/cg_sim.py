"""Benchmark of the cg_sim stage: how close the simulation runs to the network's own speed.

For a chignolin-sized chain (10 beads) and an 80-bead chain (λ-repressor), both with
32 replicas and the paper's network size (graph network, 128 wide, 4 layers, 18 RBFs;
untrained weights, which cost the same as trained ones), prints

  (a) cg_sim steps/s over bare repeated force evaluation (prior + NNP) of the same
      batched system                                                   target ≥ 0.8
  (b) the cost of everything that is not the network (prior, integrator, guards,
      checkpoint and output: the same simulation run without the network) as a
      fraction of the network's own time                               target ≤ 0.25
  (c) CG aggregate ns/day over the all-atom ns/day of chignolin (OpenMM, implicit
      solvent, the workflow's default all-atom settings), measured in the same run

plus, for reference, torchmd's own replica-looping prior in place of the batched one.

    python benchmarks/cg_sim.py [--threads 2] [--precision float64] [--device auto]
                                [--clock wall|cpu] [--skip-aa]

`--clock cpu` times with the process CPU clock: on a shared, oversubscribed machine it
gives what an idle one would show (use it with --threads 1; not for GPUs). `--skip-aa`
leaves out the all-atom run and (c), for a machine without OpenMM.
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
from cgthermo.forcefield.torchmd import build_forces, zero_box
from cgthermo.residues import parse_sequence

CHIGNOLIN = "YYDPETGTWY"
LAMBDA_REPRESSOR = ("PLTQEQLEDARRLKAIYEKKKNELGLSQESVADKMGMGQSGVGALFNGINALNAYNAALLAKILKVS"
                    "VEEFSPSIAREIY")
TEMPERATURE_K = 340.0
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter


def seconds_per_call(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    sync()
    start = clock()
    for _ in range(repeats):
        fn()
    sync()
    return (clock() - start) / repeats


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed_run(sim) -> float:
    """Seconds per step of a whole simulation: integration, guards, checkpoint and output."""
    folder = sim.work.path.parent
    start = clock()
    sim.run()
    sim.write(SimOutputs(folder / "traj.xtc", folder / "frames.csv", folder / "log.csv",
                         folder / "run.json"))
    sync()
    return (clock() - start) / sim.total_steps


def cg_rates(folder: Path, sequence: str, checkpoint: Path, args) -> dict:
    """Per-step seconds of the network, prior + network, the simulation with and without it."""
    resnames = parse_sequence(sequence)
    dataset, topology = write_dataset(folder, "bench", resnames, frames=64, replicas=8)
    prior = write_prior(folder / "prior.yaml", resnames)
    steps = args.steps_small if len(resnames) <= 20 else args.steps_large
    settings = SimSettings(temperature_K=TEMPERATURE_K, seed=1, replicas=args.replicas,
                           batch_replicas=args.batch_replicas or args.replicas,
                           steps=steps, save_every=max(1, steps // 10), checkpoint_every=steps,
                           precision=args.precision, device=args.device)
    with_net = CGSimulation(SimInputs("bench", dataset, topology, prior, checkpoint), settings,
                            folder / "nnp" / "work")
    prior_only = CGSimulation(SimInputs("bench", dataset, topology, prior, None), settings,
                              folder / "prior" / "work")
    # the run integrates its fixed batches (cgsim.batch_replicas) one after another, so
    # each bare call below evaluates every batch once, as one step does
    net_blocks, prior_blocks = with_net.group.blocks, prior_only.group.blocks
    first = net_blocks[0]
    device, dtype = first.device, first.dtype
    with_net.group.start_fresh()
    inputs = [(b.system.pos.clone(), b.system.box, torch.zeros_like(b.system.pos))
              for b in net_blocks]
    looping = build_forces(prior, first.topology, device, dtype)
    boxes = [zero_box(len(pos), device, dtype) for pos, _, _ in inputs]

    def each(fn):
        return lambda: [fn(b, *args) for b, args in zip(net_blocks, inputs, strict=True)]

    calls = {
        "net": each(lambda b, pos, box, scratch: b.forces.external.calculate(pos)),
        "force": each(lambda b, pos, box, scratch: b.forces.compute(pos, box, scratch,
                                                                    toNumpy=False)),
        "prior": lambda: [b.forces.compute(pos, box, scratch, toNumpy=False)
                          for b, (pos, box, scratch) in zip(prior_blocks, inputs, strict=True)],
        "torchmd_prior": lambda: [looping.compute(pos, zbox, scratch, toNumpy=False)
                                  for (pos, _, scratch), zbox in zip(inputs, boxes, strict=True)],
    }
    # rounds interleave the measurements so that a busy machine slows them alike
    rounds = {name: [] for name in calls}
    repeats = max(2, steps // 20)
    for _ in range(5):
        for name, fn in calls.items():
            rounds[name].append(seconds_per_call(fn, repeats, warmup=1))
    rates = {name: float(np.median(times)) for name, times in rounds.items()}
    rates["step"] = timed_run(with_net)
    rates["step_without_network"] = timed_run(prior_only)
    return {"beads": len(resnames), "device": device, "batches": len(net_blocks), **rates}


def aa_ns_per_day(args) -> float:
    """OpenMM chignolin in implicit solvent with the workflow's default all-atom settings."""
    import openmm
    from openmm import unit

    from cgthermo.aa.build import complete_protein, fixer_from_sequence
    from cgthermo.aa.system import create_system

    config = cgconfig.validate({"proteins": [{"name": "cln", "sequence": CHIGNOLIN}]})
    settings = cgconfig.aa_settings(config, "cln")
    protein, positions = complete_protein(fixer_from_sequence(CHIGNOLIN), seed=1)
    # the workflow's own system: OBC2 on the built-in GBSAOBCForce
    _, positions, system = create_system(protein, positions, settings)
    integrator = openmm.LangevinMiddleIntegrator(
        TEMPERATURE_K * unit.kelvin, settings["friction_per_ps"] / unit.picosecond,
        settings["timestep_fs"] * unit.femtosecond)
    platform = openmm.Platform.getPlatformByName("CUDA" if args.device == "cuda" else "CPU")
    properties = {} if args.device == "cuda" else {"Threads": str(args.threads)}
    context = openmm.Context(system, integrator, platform, properties)
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context, 10.0, 200)
    context.setVelocitiesToTemperature(TEMPERATURE_K * unit.kelvin, 1)
    integrator.step(200)
    start = clock()
    integrator.step(args.aa_steps)
    context.getState(getEnergy=True)
    seconds = clock() - start
    return args.aa_steps * settings["timestep_fs"] * 1e-6 / seconds * 86400.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--replicas", type=int, default=32)
    parser.add_argument("--batch-replicas", type=int, default=0,
                        help="replicas per fixed batch (cgsim.batch_replicas); 0: all in one")
    parser.add_argument("--precision", choices=["float32", "float64"], default="float64")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--steps-small", type=int, default=400, help="CG steps, 10 beads")
    parser.add_argument("--steps-large", type=int, default=60, help="CG steps, 80 beads")
    parser.add_argument("--aa-steps", type=int, default=5000, help="all-atom steps (4 fs)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument("--skip-aa", action="store_true",
                        help="no all-atom run and no (c), for a machine without OpenMM")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    torch.set_num_threads(args.threads)

    aa = None if args.skip_aa else aa_ns_per_day(args)
    print(f"# cg_sim benchmark: {args.replicas} replicas, {args.precision}, "
          f"torch threads {args.threads}, device {args.device}, {args.clock} clock")
    if args.device == "cuda":
        print(f"# GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    if aa is not None:
        print(f"all-atom chignolin (OpenMM implicit, 4 fs): {aa:.1f} ns/day", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        checkpoint = write_untrained_checkpoint(tmp / "paper.ckpt")  # 128 wide, 4 layers, 18 RBFs
        for name, sequence in (("chignolin", CHIGNOLIN), ("lambda", LAMBDA_REPRESSOR)):
            folder = tmp / name
            folder.mkdir()
            report(name, cg_rates(folder, sequence, checkpoint, args), aa, args)


def report(name: str, r: dict, aa: float, args) -> None:
    cg_aggregate = args.replicas * 1.0e-6 / r["step"] * 86400.0  # 1 fs steps
    # torchmd's replica-looping prior in place of ours
    looping = r["step_without_network"] - r["prior"] + r["torchmd_prior"]
    print(f"{name} ({r['beads']} beads, {r['device']}, {r['batches']} batch(es)): network {1e3 * r['net']:.2f} ms, "
          f"prior+network {1e3 * r['force']:.2f} ms, cg_sim step {1e3 * r['step']:.2f} ms, "
          f"cg_sim step without network {1e3 * r['step_without_network']:.2f} ms, "
          f"batched prior {1e3 * r['prior']:.2f} ms, "
          f"torchmd looping prior {1e3 * r['torchmd_prior']:.2f} ms")
    print(f"  (a) cg_sim steps/s over bare force evaluations: {r['force'] / r['step']:.3f}")
    print(f"  (b) non-network cost / network time: {r['step_without_network'] / r['net']:.3f}"
          f"  (with torchmd's looping prior instead: {looping / r['net']:.3f})")
    if aa is None:
        print(f"  (c) CG aggregate {cg_aggregate:.1f} ns/day (all-atom skipped)", flush=True)
    else:
        print(f"  (c) CG aggregate {cg_aggregate:.1f} ns/day over all-atom {aa:.1f} ns/day: "
              f"{cg_aggregate / aa:.2f}", flush=True)


if __name__ == "__main__":
    main()
