"""Temperature replica exchange among the replicas of one batch.

With `cgsim.sampler: exchange` the run's replicas form ladders of `exchange.temperatures`
consecutive replicas (slots). Slot k of a ladder is held at the k-th temperature of a
geometric ladder from the protein's temperature up to `exchange.highest_factor` times
it; slot 0 is the target temperature and only its frames become the trajectory. Every
`exchange.every` steps neighbouring slots try to swap configurations, alternating the
even (0–1, 2–3, …) and the odd (1–2, 3–4, …) pairs so that the pairs of one attempt are
disjoint. A swap of the configurations in slots i and j is accepted with probability
min(1, exp[(βi − βj)(Ui − Uj)]) on the total potential (prior + NNP), which keeps every
slot's Boltzmann distribution at its own temperature; the velocities are rescaled by
√(Tnew/Told), so no kinetic energy has to be thermalized again.

The uniform numbers of a ladder come from its own CPU generator (saved with the
checkpoint), and a ladder never spans two batches, so a run is the same for any number
of workers and exact under resume. Plain Langevin is the one-slot ladder: nothing swaps.
"""

import hashlib

import numpy as np
import torch
from torchmd.integrator import BOLTZMAN


def ladder_temperatures(target_K: float, highest_factor: float, rungs: int) -> np.ndarray:
    """Geometric ladder of `rungs` temperatures from the target up to `highest_factor` × it."""
    if rungs == 1:
        return np.array([float(target_K)])
    return float(target_K) * float(highest_factor) ** (np.arange(rungs) / (rungs - 1))


def swap_log_acceptance(beta_low, beta_high, u_low, u_high):
    """log of the Metropolis ratio for swapping the configurations of two slots."""
    return (beta_low - beta_high) * (u_low - u_high)


def exchange_seed(run_seed: int, replica: int) -> int:
    """The seed of the swap stream a ladder draws from (that of its slot-0 replica)."""
    digest = hashlib.sha256(f"cgsim-exchange/{int(run_seed)}/{int(replica)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class Exchange:
    """The ladders of one batch of replicas: slot temperatures, swap streams and counts.

    `walker` says which starting configuration each slot holds (the swap history);
    `accepted`/`attempted` count the swaps between a slot and the slot above it.
    """

    def __init__(self, temperatures, rungs: int, every: int, first_replica: int, run_seed: int,
                 device, dtype):
        self.rungs, self.every = int(rungs), int(every)
        self.temperature_K = np.asarray(temperatures, dtype=np.float64)
        # in the run's precision, as torchmd's own thermostat computes its noise amplitude
        self.temperature = torch.as_tensor(self.temperature_K, dtype=dtype, device=device)
        count = len(self.temperature)
        if count % self.rungs:
            raise ValueError("a batch must hold whole ladders")
        self.beta = torch.as_tensor(1.0 / (BOLTZMAN * self.temperature_K), device=device)
        self.walker = torch.arange(first_replica, first_replica + count, device=device)
        self.accepted = torch.zeros(count, dtype=torch.long, device=device)
        self.attempted = torch.zeros(count, dtype=torch.long, device=device)
        # one stream per replica keeps checkpoints per replica; a ladder uses its slot 0's
        self.generators = [torch.Generator().manual_seed(exchange_seed(run_seed, r))
                           for r in range(first_replica, first_replica + count)]

    def due(self, step: int) -> bool:
        return self.rungs > 1 and step % self.every == 0

    def _uniforms(self) -> torch.Tensor:
        """One uniform per neighbour pair of every ladder, each ladder from its own stream."""
        draws = [torch.rand(self.rungs - 1, generator=g, dtype=torch.float64)
                 for g in self.generators[::self.rungs]]
        return torch.stack(draws).to(self.beta.device)

    def attempt(self, integrator, step: int) -> None:
        """Try the even or odd neighbour swaps of every ladder and carry out the accepted ones."""
        rungs, uniforms = self.rungs, self._uniforms()
        shape = (-1, rungs)
        potential = integrator.potential.reshape(shape).double()
        beta = self.beta.reshape(shape)
        log_ratio = swap_log_acceptance(beta[:, :-1], beta[:, 1:], potential[:, :-1],
                                        potential[:, 1:])
        active = integrator.active.reshape(shape)
        # two temperatures have one pair: it tries at every attempt, not every other one
        parity = (step // self.every) % 2 if rungs > 2 else 0
        turn = (torch.arange(rungs - 1, device=active.device) % 2) == parity
        tried = turn & active[:, :-1] & active[:, 1:]
        accept = tried & (torch.log(uniforms) < log_ratio)
        self.attempted.view(shape)[:, :-1] += tried
        self.accepted.view(shape)[:, :-1] += accept
        self._swap(integrator, self._permutation(accept))

    def _permutation(self, accept: torch.Tensor) -> torch.Tensor:
        """The slot each slot takes its configuration from (pairs of one turn are disjoint)."""
        source = torch.arange(accept.shape[0] * self.rungs, device=accept.device)
        source = source.reshape(-1, self.rungs).clone()
        source[:, :-1] += accept.long()
        source[:, 1:] -= accept.long()
        return source.reshape(-1)

    def _swap(self, integrator, source: torch.Tensor) -> None:
        system = integrator.systems
        scale = torch.sqrt(self.temperature / self.temperature[source])
        system.pos.copy_(system.pos[source])
        system.vel.copy_(system.vel[source] * scale[:, None, None])
        system.forces.copy_(system.forces[source])
        integrator.potential = integrator.potential[source]
        integrator.safe_pos = integrator.safe_pos[source]
        self.walker = self.walker[source]

    def state(self) -> dict:
        return {**{name: getattr(self, name).to("cpu", copy=True)
                   for name in ("walker", "accepted", "attempted")},
                "exchange_rng": [g.get_state() for g in self.generators]}

    def load(self, state: dict) -> None:
        for name in ("walker", "accepted", "attempted"):
            getattr(self, name).copy_(state[name])
        for generator, rng in zip(self.generators, state["exchange_rng"], strict=True):
            generator.set_state(rng)
