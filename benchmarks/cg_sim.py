"""Benchmark of the cg_sim stage: how close the simulation runs to the network's own speed.

For a chignolin-sized chain (10 beads) and an 80-bead chain (λ-repressor), both with
32 replicas and the paper's network size (graph network, 128 wide, 4 layers, 18 RBFs;
untrained weights, which cost the same as trained ones), prints

  (a) cg_sim steps/s over bare repeated force evaluation (prior + NNP) of the same
      batched system                                                   target ≥ 0.8
  (b) the cost of everything that is not the network (prior, integrator, guards,
      checkpoint and output) as a fraction of the network's own time   target ≤ 0.25
  (c) CG aggregate ns/day over the all-atom ns/day of chignolin (OpenMM, implicit
      solvent, the workflow's default all-atom settings), measured in the same run

plus, for reference, torchmd's own replica-looping prior in place of the batched one.

    python benchmarks/cg_sim.py [--threads 2] [--precision float64] [--device auto]
"""

import argparse
import tempfile
import time
from pathlib import Path

import torch

from cgthermo import config as cgconfig
from cgthermo.cgsim import CGSimulation, SimInputs, SimOutputs, SimSettings
from cgthermo.cgsim.nnp import write_untrained_checkpoint
from cgthermo.cgsim.toy import write_dataset, write_prior
from cgthermo.priorforces import build_forces, zero_box
from cgthermo.residues import parse_sequence

CHIGNOLIN = "YYDPETGTWY"
LAMBDA_REPRESSOR = ("PLTQEQLEDARRLKAIYEKKKNELGLSQESVADKMGMGQSGVGALFNGINALNAYNAALLAKILKVS"
                    "VEEFSPSIAREIY")
TEMPERATURE_K = 340.0


def seconds_per_call(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync()
    return (time.perf_counter() - start) / repeats


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def cg_rates(folder: Path, sequence: str, checkpoint: Path, args) -> dict:
    """Per-step seconds of the network, prior + network, the simulation, torchmd's prior."""
    resnames = parse_sequence(sequence)
    dataset, topology = write_dataset(folder, "bench", resnames, frames=64, replicas=8)
    prior = write_prior(folder / "prior.yaml", resnames)
    steps = args.steps_small if len(resnames) <= 20 else args.steps_large
    settings = SimSettings(temperature_K=TEMPERATURE_K, seed=1, replicas=args.replicas,
                           steps=steps, save_every=max(1, steps // 10), checkpoint_every=steps,
                           precision=args.precision, device=args.device)
    sim = CGSimulation(SimInputs("bench", dataset, topology, prior, checkpoint), settings,
                       folder / "work")
    pos, box = sim.system.pos.clone(), sim.system.box
    scratch = torch.zeros_like(pos)
    repeats = max(5, steps // 4)
    net = seconds_per_call(lambda: sim.forces.external.calculate(pos), repeats)
    force = seconds_per_call(lambda: sim.forces.compute(pos, box, scratch, toNumpy=False),
                             repeats)
    looping = build_forces(prior, sim.topology, sim.device, sim.dtype)
    torchmd_prior = seconds_per_call(
        lambda: looping.compute(pos, zero_box(len(pos), sim.device, sim.dtype), scratch,
                                toNumpy=False), repeats)
    start = time.perf_counter()
    sim.run()
    sim.write(SimOutputs(folder / "traj.xtc", folder / "frames.csv", folder / "log.csv"))
    sync()
    step = (time.perf_counter() - start) / sim.total_steps
    return {"beads": len(resnames), "net": net, "force": force, "step": step,
            "torchmd_prior": torchmd_prior, "device": sim.device}


def aa_ns_per_day(args) -> float:
    """OpenMM chignolin in implicit solvent with the workflow's default all-atom settings."""
    import openmm
    from openmm import unit

    from cgthermo.aa.build import complete_protein, fixer_from_sequence
    from cgthermo.aa.dynamics import new_context
    from cgthermo.aa.system import create_system

    config = cgconfig.validate({"proteins": [{"name": "cln", "sequence": CHIGNOLIN}]})
    settings = cgconfig.aa_settings(config, "cln")
    topology, positions = complete_protein(fixer_from_sequence(CHIGNOLIN))
    topology, positions, system = create_system(topology, positions, settings)
    context, integrator = new_context(system, settings, TEMPERATURE_K, seed=1,
                                      threads=args.threads)
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context, 10.0, 200)
    context.setVelocitiesToTemperature(TEMPERATURE_K * unit.kelvin, 1)
    integrator.step(200)
    start = time.perf_counter()
    integrator.step(args.aa_steps)
    context.getState(getEnergy=True)
    seconds = time.perf_counter() - start
    return args.aa_steps * settings["timestep_fs"] * 1e-6 / seconds * 86400.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--replicas", type=int, default=32)
    parser.add_argument("--precision", choices=["float32", "float64"], default="float64")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--steps-small", type=int, default=400, help="CG steps, 10 beads")
    parser.add_argument("--steps-large", type=int, default=60, help="CG steps, 80 beads")
    parser.add_argument("--aa-steps", type=int, default=5000, help="all-atom steps (4 fs)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        checkpoint = write_untrained_checkpoint(tmp / "paper.ckpt")  # 128 wide, 4 layers, 18 RBFs
        rows = []
        for name, sequence in (("chignolin", CHIGNOLIN), ("lambda", LAMBDA_REPRESSOR)):
            folder = tmp / name
            folder.mkdir()
            rows.append((name, cg_rates(folder, sequence, checkpoint, args)))
    aa = aa_ns_per_day(args)

    print(f"# cg_sim benchmark: {args.replicas} replicas, {args.precision}, "
          f"torch threads {args.threads}, device {rows[0][1]['device']}")
    print(f"all-atom chignolin (OpenMM implicit, 4 fs): {aa:.1f} ns/day")
    for name, r in rows:
        cg_aggregate = args.replicas * 1.0e-6 / r["step"] * 86400.0  # 1 fs steps
        print(f"{name} ({r['beads']} beads): network {1e3 * r['net']:.2f} ms, "
              f"prior+network {1e3 * r['force']:.2f} ms, cg_sim step {1e3 * r['step']:.2f} ms, "
              f"torchmd looping prior alone {1e3 * r['torchmd_prior']:.2f} ms")
        print(f"  (a) cg_sim steps/s over bare force evaluations: {r['force'] / r['step']:.3f}")
        print(f"  (b) non-network cost / network time: {(r['step'] - r['net']) / r['net']:.3f}")
        # torchmd's prior in place of ours: the step minus our prior's share plus theirs
        looping = r["step"] - (r["force"] - r["net"]) + r["torchmd_prior"]
        print(f"      (with torchmd's looping prior instead: {(looping - r['net']) / r['net']:.3f})")
        print(f"  (c) CG aggregate {cg_aggregate:.1f} ns/day over all-atom {aa:.1f} ns/day: "
              f"{cg_aggregate / aa:.2f}")


if __name__ == "__main__":
    main()
