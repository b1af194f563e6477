"""The batch engine of a CG run: replicas integrated as fixed torchmd batches, and the
merging and slicing of their frames and states.

A replica's forces come out of a batched network evaluation, whose last bits depend on the
batch it is in; the batches are fixed by `cgsim.batch_replicas`, never by the workers, so
every replica always shares its batch with the same others. The run (`run.CGSimulation`)
drives a `BlockGroup` in its own process or in worker processes (`workers`).
"""

import numpy as np
import torch
from torchmd.systems import System

from ..cgtopology import CGTopology
from ..forcefield.batched import build_batched_forces
from ..io import require_file
from .exchange import Exchange
from .integrate import GuardedLangevin, maxwell_boltzmann, replica_generators
from .nnp import load_network, make_external
from .settings import SimInputs, SimSettings, run_batches

PER_REPLICA = ("pos", "vel", "forces", "active", "stop_step", "stop_reason", "walker",
               "accepted", "attempted")
PER_FRAME = ("potential", "kinetic", "temperature", "walker", "accepted", "attempted")


class ReplicaBatch:
    """A block of consecutive replicas integrated as one torchmd batch (a fixed batch, see
    the module's docstring)."""

    def __init__(self, inputs: SimInputs, settings: SimSettings, start_positions: np.ndarray,
                 replicas: range, network=None):
        self.inputs, self.settings, self.replicas = inputs, settings, replicas
        self.device, self.dtype = settings.torch_device, settings.dtype
        self.topology = CGTopology.from_pdb(require_file(inputs.topology_pdb, "cg_map"))
        external = None if network is None else make_external(
            network, self.topology.embeddings, len(replicas), self.device, self.dtype,
            cuda_graph=settings.cuda_graph)
        self.forces = build_batched_forces(inputs.prior_yaml, self.topology, self.device,
                                           self.dtype, external=external)
        self.system = System(self.topology.numAtoms, len(replicas), self.dtype, self.device)
        self.system.set_masses(torch.as_tensor(self.topology.masses))
        self.system.set_box(np.zeros((3, 1)))  # zeros: no periodic box
        self.generators = replica_generators(settings.seed, replicas)
        self.exchange = Exchange(settings.slot_temperatures()[replicas.start:replicas.stop],
                                 settings.rungs, settings.exchange_every, replicas.start,
                                 settings.seed, self.device, self.dtype)
        self.integrator = GuardedLangevin(
            self.system, self.forces, settings.timestep_fs, settings.friction_per_ps,
            self.exchange, self.topology.bonds, settings.max_bond,
            settings.max_temperature_factor, self.generators, self.device)
        self.start_positions = start_positions
        self.step = 0

    def start_fresh(self) -> None:
        """Start positions, and velocities drawn from each replica's own stream at its
        thermostat's temperature."""
        self.system.set_positions(np.transpose(self.start_positions, (1, 2, 0)))
        masses = self.system.masses
        self.system.set_velocities(torch.cat([
            maxwell_boltzmann(masses, float(temperature), 1, g)
            for temperature, g in zip(self.exchange.temperature_K, self.generators,
                                      strict=True)]))
        self.integrator.compute_forces()
        self.integrator.mark_safe()

    def load(self, state: dict) -> None:
        """Continue from a checkpoint slice (see `state`)."""
        integ = self.integrator
        self.step = int(state["step"])
        for name in ("pos", "vel", "forces"):
            getattr(self.system, name).copy_(state[name])
        for name in ("active", "stop_step", "stop_reason"):
            getattr(integ, name).copy_(state[name])
        for generator, rng in zip(self.generators, state["rng"], strict=True):
            generator.set_state(rng)
        self.exchange.load(state)
        integ.mark_safe()

    def state(self) -> dict:
        """Everything the next step depends on, per replica (CPU copies)."""
        integ, system = self.integrator, self.system
        tensors = {"pos": system.pos, "vel": system.vel, "forces": system.forces,
                   "active": integ.active, "stop_step": integ.stop_step,
                   "stop_reason": integ.stop_reason}
        return {"step": self.step, **{k: v.to("cpu", copy=True) for k, v in tensors.items()},
                "rng": [g.get_state() for g in self.generators], **self.exchange.state()}

    def advance(self, frames: int, after_frame=None) -> list[dict]:
        """Integrate `frames` save intervals; return the saved frames."""
        saved = []
        for _ in range(frames):
            every = self.settings.save_every
            self.integrator.step(every, first_step=self.step + 1)
            self.step += every
            self.integrator.end_interval(self.step)
            saved.append(self._frame())
            if after_frame is not None:
                after_frame(self)
        return saved

    def _frame(self) -> dict:
        """This frame's values, copied: on a CPU `.to`/`.cpu` of a tensor already there returns
        that tensor, which the next steps change in place."""
        integ = self.integrator

        def snapshot(tensor, dtype):
            return tensor.detach().to("cpu", dtype, copy=True).numpy()

        return {"step": self.step,
                "pos": snapshot(self.system.pos, torch.float32),
                "potential": snapshot(integ.potential, torch.float64),
                "kinetic": snapshot(integ.kinetic(), torch.float64),
                "temperature": snapshot(integ.temperatures(), torch.float64),
                **{name: snapshot(getattr(self.exchange, name), torch.long)
                   for name in ("walker", "accepted", "attempted")}}


class BlockGroup:
    """The blocks of a contiguous slice of a run's replicas, integrated one after another."""

    def __init__(self, inputs: SimInputs, settings: SimSettings, start_positions: np.ndarray,
                 replicas: range):
        self.replicas = replicas
        device, dtype = settings.torch_device, settings.dtype
        batches = [(b, j) for b, j in run_batches(settings.replicas, settings.batch_replicas,
                                                  len(inputs.networks))
                   if replicas.start <= b.start and b.stop <= replicas.stop]  # fmt: skip
        networks = {j: load_network(inputs.networks[j], device, dtype,
                                    static_shapes=settings.cuda_graph)
                    for j in sorted({j for _, j in batches}) if inputs.networks}  # fmt: skip
        first = replicas.start
        self.blocks = [ReplicaBatch(inputs, settings, start_positions[b.start - first:
                                                                      b.stop - first],
                                    b, networks.get(j))
                       for b, j in batches]

    def start_fresh(self) -> None:
        for block in self.blocks:
            block.start_fresh()

    def load(self, state: dict) -> None:
        first = self.replicas.start
        for block in self.blocks:
            block.load(slice_state(state, range(block.replicas.start - first,
                                                block.replicas.stop - first)))

    def state(self) -> dict:
        return merge_states([block.state() for block in self.blocks])

    def advance(self, frames: int, after_frame=None) -> list[dict]:
        return merge_frames([block.advance(frames, after_frame) for block in self.blocks])


def merge_states(states: list[dict]) -> dict:
    """The checkpoint of the whole run from its slices' states (all at one step)."""
    steps = {int(s["step"]) for s in states}
    if len(steps) != 1:
        raise RuntimeError(f"replica slices at different steps {sorted(steps)}")
    merged = {name: torch.cat([s[name] for s in states]) for name in PER_REPLICA}
    for streams in ("rng", "exchange_rng"):
        merged[streams] = [rng for s in states for rng in s[streams]]
    merged["step"] = steps.pop()
    return merged


def slice_state(state: dict, replicas: range) -> dict:
    sliced = {name: state[name][replicas.start:replicas.stop] for name in PER_REPLICA}
    for streams in ("rng", "exchange_rng"):
        sliced[streams] = state[streams][replicas.start:replicas.stop]
    sliced["step"] = state["step"]
    return sliced


def merge_frames(parts: list[list[dict]]) -> list[dict]:
    """Frames of the slices (in replica order) as frames of the whole run."""
    merged = []
    for frames in zip(*parts, strict=True):
        frame = {key: np.concatenate([f[key] for f in frames]) for key in ("pos", *PER_FRAME)}
        frame["step"] = frames[0]["step"]
        merged.append(frame)
    return merged
