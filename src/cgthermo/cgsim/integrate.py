"""torchmd's Langevin integrator with per-replica noise streams and explosion guards.

The Langevin noise of every replica comes from that replica's own generator
(`replica_generators`), drawn on the CPU one save interval at a time: a replica's
trajectory then depends only on its start, its seed and the forces, never on which
other replicas share its batch or process, nor on the device that integrates it.

Each step runs torchmd's velocity-Verlet halves and Langevin kick, then checks every
replica on the device (no host synchronization per step): non-finite positions,
velocities or forces, or a bond longer than `max_bond`, stop that replica at once.
A stopped replica is put back to its positions at the last saved frame, with zero
velocities and forces, so it stays finite and still while the others go on. The temperature check
uses the mean over each save interval: the instantaneous kinetic temperature of a
short chain has so few degrees of freedom that it crosses a few times the target
now and then without anything being wrong.
"""

import hashlib

import torch
from torchmd.integrator import (
    BOLTZMAN,
    Integrator,
    _first_VV,
    _second_VV,
    kinetic_energy,
    kinetic_to_temp,
)

# why a replica was stopped (the codes live on the device between host syncs)
REASONS = {1: "non-finite positions, velocities or forces", 2: "bond longer than max_bond",
           3: "temperature above max_temperature_factor x its thermostat's"}
NONFINITE, LONG_BOND, HOT = 1, 2, 3


def replica_seed(run_seed: int, replica: int) -> int:
    """The seed of one replica's noise stream: a digest of the run's seed and its index."""
    digest = hashlib.sha256(f"cgsim-replica/{int(run_seed)}/{int(replica)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1  # torch seeds are < 2**63


def replica_generators(run_seed: int, replicas) -> list:
    """One CPU generator per replica index, seeded with `replica_seed`."""
    return [torch.Generator().manual_seed(replica_seed(run_seed, r)) for r in replicas]


def draw_noise(generators, steps: int, natoms: int, dtype, device) -> torch.Tensor:
    """Standard normal noise (steps, replicas, natoms, 3), each replica from its own stream."""
    noise = [torch.randn((steps, natoms, 3), generator=g, dtype=dtype) for g in generators]
    return torch.stack(noise, dim=1).to(device)


class GuardedLangevin(Integrator):
    """Langevin dynamics of a batch of replicas in which an exploded replica freezes alone.

    Every replica has its own thermostat temperature (`exchange.temperature`, all the
    target's under plain Langevin); `exchange` swaps configurations between them.
    """

    def __init__(self, system, forces, timestep_fs, friction_per_ps, exchange,
                 bonds, max_bond, max_temperature_factor, generators, device):
        temperature = exchange.temperature
        super().__init__(system, forces, timestep_fs, device, gamma=friction_per_ps,
                         T=float(temperature[0]))
        self.exchange = exchange
        # torchmd's noise amplitude √(2γ kT dt / m), per replica
        self.vcoeff = torch.sqrt(2.0 * self.gamma / self.masses.reshape(1, -1, 1) * BOLTZMAN
                                 * temperature.reshape(-1, 1, 1) * self.dt)
        self.generators = list(generators)
        if len(self.generators) != system.nreplicas:
            raise ValueError("one noise generator per replica is needed")
        self.bonds = torch.as_tensor(bonds, dtype=torch.long, device=device)
        self.max_bond = float(max_bond)
        self.max_temperature = float(max_temperature_factor) * temperature
        nrep = system.nreplicas
        self.active = torch.ones(nrep, dtype=torch.bool, device=device)
        self.stop_step = torch.full((nrep,), -1, dtype=torch.long, device=device)
        self.stop_reason = torch.zeros(nrep, dtype=torch.long, device=device)
        self.potential = torch.zeros(nrep, dtype=system.pos.dtype, device=device)
        self._temperature_sum = torch.zeros(nrep, dtype=system.pos.dtype, device=device)
        self._steps_in_interval = 0
        self.safe_pos = system.pos.clone()

    def mark_safe(self):
        """Remember the current positions as the ones a replica returns to when it explodes."""
        self.safe_pos = self.systems.pos.clone()

    def compute_forces(self):
        """Forces (and potential) at the current positions, e.g. after a start or resume."""
        system = self.systems
        self.potential = self.forces.compute(system.pos, system.box, system.forces,
                                             toNumpy=False)
        self._freeze_stopped()

    def step(self, niter=1, first_step=1):
        """Advance `niter` steps; `first_step` is the number of the first of them."""
        system = self.systems
        noise = draw_noise(self.generators, niter, system.pos.shape[1], system.vel.dtype,
                           system.vel.device)
        for n in range(niter):
            _first_VV(system.pos, system.vel, system.forces, self.masses, self.dt)
            self.potential = self.forces.compute(system.pos, system.box, system.forces,
                                                 toNumpy=False)
            self._langevin_kick(noise[n])
            _second_VV(system.vel, system.forces, self.masses, self.dt)
            self._temperature_sum += self.temperatures()
            self._steps_in_interval += 1
            self._guard(first_step + n)
            if self.exchange.due(first_step + n):
                self.exchange.attempt(self, first_step + n)

    def _langevin_kick(self, noise):
        vel = self.systems.vel
        vel.mul_(1 - self.gamma * self.dt).add_(noise * self.vcoeff)

    def kinetic(self) -> torch.Tensor:
        return kinetic_energy(self.masses, self.systems.vel).reshape(-1)

    def temperatures(self) -> torch.Tensor:
        return kinetic_to_temp(self.kinetic(), self.natoms)

    def _guard(self, step: int):
        system = self.systems
        finite = (torch.isfinite(system.pos).all(dim=(1, 2))
                  & torch.isfinite(system.vel).all(dim=(1, 2))
                  & torch.isfinite(system.forces).all(dim=(1, 2)))
        bond = (system.pos[:, self.bonds[:, 1]] - system.pos[:, self.bonds[:, 0]]).norm(dim=-1)
        short = bond.amax(dim=1) <= self.max_bond  # NaN compares False
        fresh = self.active & ~(finite & short)
        reason = torch.where(finite, LONG_BOND, NONFINITE)
        self._stop(fresh, step, reason)
        self._freeze_stopped(fresh)

    def end_interval(self, step: int) -> torch.Tensor:
        """Close a save interval: stop replicas whose mean temperature ran away; return the means."""
        mean = self._temperature_sum / max(self._steps_in_interval, 1)
        hot = self.active & ~(mean <= self.max_temperature)
        self._stop(hot, step, torch.full_like(self.stop_reason, HOT))
        self._freeze_stopped(hot)
        self._temperature_sum.zero_()
        self._steps_in_interval = 0
        self.safe_pos = torch.where(self.active[:, None, None], self.systems.pos, self.safe_pos)
        return mean

    def _stop(self, which: torch.Tensor, step: int, reason: torch.Tensor):
        self.stop_step.copy_(torch.where(which, step, self.stop_step))
        self.stop_reason.copy_(torch.where(which, reason, self.stop_reason))
        self.active &= ~which

    def _freeze_stopped(self, fresh=None):
        system = self.systems
        if fresh is not None:
            system.pos.copy_(torch.where(fresh[:, None, None], self.safe_pos, system.pos))
        keep = self.active[:, None, None]
        system.vel.copy_(torch.where(keep, system.vel, 0.0))
        system.forces.copy_(torch.where(keep, system.forces, 0.0))


def maxwell_boltzmann(masses: torch.Tensor, temperature: float, nreplicas: int,
                      generator: torch.Generator) -> torch.Tensor:
    """Velocities (replicas, beads, 3) in torchmd units drawn at `temperature`, on the
    masses' device.

    Drawn where the generator lives (the replicas' noise streams are CPU generators) and
    then moved: a GPU run starts from the velocities a CPU run starts from.
    """
    sigma = torch.sqrt(temperature * BOLTZMAN / masses.reshape(1, -1, 1))
    noise = torch.randn((nreplicas, masses.numel(), 3), generator=generator,
                        device=generator.device, dtype=masses.dtype)
    return sigma * noise.to(masses.device)
