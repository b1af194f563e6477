"""Temperature replica exchange in cg_sim: the ladder, the Metropolis swaps, and sampling at
every temperature of the ladder against the exact Boltzmann distribution."""

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from helpers.cgsim_toy import chignolin_inputs, outputs_in, write_dataset, write_prior
from torchmd.integrator import BOLTZMAN
from torchmd.systems import System

from cgthermo.cgsim import SimInputs, SimSettings
from cgthermo.cgsim import exchange as exchange_module
from cgthermo.cgsim.exchange import Exchange, ladder_temperatures
from cgthermo.cgsim.run import simulate
from cgthermo.errors import CgthermoError
from cgthermo.units import kT_kcal

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# the trimer's two harmonic bonds (k0 kcal/mol/Å², req Å); repulsion and angles negligible
BONDS = {("ALA", "GLY"): (5.0, 3.8), ("GLY", "SER"): (10.0, 3.9)}


def test_ladder_is_geometric_from_the_target_to_the_highest():
    ladder = ladder_temperatures(350.0, 1.6, 5)
    assert ladder[0] == 350.0 and ladder[-1] == pytest.approx(560.0)
    np.testing.assert_allclose(ladder[1:] / ladder[:-1], 1.6 ** 0.25)
    assert ladder_temperatures(350.0, 1.6, 1).tolist() == [350.0]


def two_slots(potentials, temperatures=(300.0, 450.0)):
    """An integrator's state as Exchange sees it: one ladder of two slots, fixed configurations."""
    system = System(3, 2, torch.float64, "cpu")
    system.pos[:] = torch.arange(18, dtype=torch.float64).reshape(2, 3, 3)
    system.vel[:] = torch.tensor([1.0, 2.0], dtype=torch.float64).reshape(2, 1, 1)
    system.forces[:] = torch.tensor([-1.0, -2.0], dtype=torch.float64).reshape(2, 1, 1)
    integrator = SimpleNamespace(
        systems=system, potential=torch.tensor(potentials, dtype=torch.float64),
        active=torch.ones(2, dtype=torch.bool), safe_pos=system.pos.clone())
    exchange = Exchange(temperatures, 2, every=1, first_replica=0, run_seed=3, device="cpu",
                        dtype=torch.float64)
    return exchange, integrator


@pytest.mark.parametrize("potentials", [(-10.0, -9.0), (-10.0, -11.0), (-10.0, -10.2)])
def test_swap_acceptance_is_the_metropolis_ratio(potentials):
    """Forced swap attempts from fixed configurations: the accepted fraction is
    min(1, exp[(β0 − β1)(U0 − U1)]) within its binomial error."""
    attempts, accepted = 4000, 0
    exchange, _ = two_slots(potentials)
    beta = 1.0 / (BOLTZMAN * np.array([300.0, 450.0]))
    expected = min(1.0, np.exp((beta[0] - beta[1]) * (potentials[0] - potentials[1])))
    for attempt in range(attempts):
        _, integrator = two_slots(potentials)
        exchange.walker = torch.arange(2)
        exchange.attempt(integrator, step=2 * attempt)  # even turns: the pair 0-1
        accepted += int(exchange.walker[0] == 1)
    assert exchange.attempted[0] == attempts and exchange.accepted[0] == accepted
    error = np.sqrt(max(expected * (1 - expected), 1e-4) / attempts)
    assert accepted / attempts == pytest.approx(expected, abs=4 * error)


def test_accepted_swap_exchanges_configurations_and_rescales_velocities():
    exchange, integrator = two_slots((-10.0, -20.0))  # downhill for the cold slot: accepted
    before = integrator.systems.pos.clone()
    exchange.attempt(integrator, step=0)
    system = integrator.systems
    assert torch.equal(system.pos, before.flip(0)) and torch.equal(integrator.safe_pos, system.pos)
    assert integrator.potential.tolist() == [-20.0, -10.0]
    assert system.forces[:, 0, 0].tolist() == [-2.0, -1.0]
    # each slot keeps its own temperature: v scales by √(T_slot / T_from)
    np.testing.assert_allclose(system.vel[:, 0, 0].numpy(),
                               [2.0 * np.sqrt(300 / 450), 1.0 * np.sqrt(450 / 300)])
    # a two-slot ladder has no odd pair: its one pair tries at every attempt, here uphill
    # for the cold slot by 10 kcal/mol (acceptance e^−5.6 ≈ 0.4 %)
    exchange.attempt(integrator, step=1)
    assert exchange.attempted.tolist() == [2, 0] and exchange.walker.tolist() == [1, 0]


def test_stopped_replicas_never_swap():
    exchange, integrator = two_slots((-10.0, -20.0))
    integrator.active[1] = False
    exchange.attempt(integrator, step=0)
    assert exchange.attempted.tolist() == [0, 0] and exchange.walker.tolist() == [0, 1]


def expected_bond_energy(k0, req, temperature_K):
    """⟨k0 (r − req)²⟩ under r² exp(−k0 (r − req)²/kT), by numerical integration."""
    r = np.linspace(max(req - 4.0, 0.0), req + 4.0, 80001)
    energy = k0 * (r - req) ** 2
    weight = r**2 * np.exp(-energy / kT_kcal(temperature_K))
    return float((energy * weight).sum() / weight.sum())


def run_trimer_ladder(folder):
    resnames = ["ALA", "GLY", "SER"]
    prior = write_prior(folder / "prior.yaml", resnames, bonds=BONDS, epsilon=0.01,
                        dihedrals=None)
    dataset, topology = write_dataset(folder, "tri", resnames, frames=16)
    settings = SimSettings(temperature_K=340.0, seed=5, replicas=64, batch_replicas=32,
                           steps=8000, timestep_fs=2.0, friction_per_ps=5.0, save_every=50,
                           checkpoint_every=4000, precision="float64", device="cpu",
                           max_temperature_factor=10.0, sampler="exchange",
                           exchange={"temperatures": 4, "highest_factor": 2.0, "every": 10})
    outputs = outputs_in(folder)
    simulate(SimInputs("tri", dataset, topology, prior, None), settings, outputs,
             folder / "work")
    return settings, pd.read_csv(outputs.log_csv), pd.read_csv(outputs.frames_csv), outputs


def mean_and_error(values: pd.Series, units: pd.Series) -> tuple[float, float]:
    """Mean and its standard error with whole replicas as independent units."""
    per_unit = values.groupby(units).mean()
    return float(values.mean()), float(per_unit.std(ddof=1) / np.sqrt(len(per_unit)))


def test_every_ladder_temperature_samples_its_own_boltzmann_distribution(tmp_path):
    """Each slot of a 340–680 K ladder has the bond energy of its own temperature (exact, by
    integration) within 4 standard errors, and its thermostat's kinetic temperature. Swaps
    accepted without the Metropolis test would mix the temperatures: the same check then
    fails (see the next test)."""
    settings, log, frames, outputs = run_trimer_ladder(tmp_path)
    log = log[log.step > 1000]  # the first 2 ps relax the random starts
    assert set(log.rung) == {0, 1, 2, 3} and len(set(log.ladder)) == 16
    for rung, rows in log.groupby("rung"):
        temperature = float(rows.set_temperature.iloc[0])
        assert temperature == pytest.approx(340.0 * 2.0 ** (rung / 3))
        expected = sum(expected_bond_energy(k0, req, temperature) for k0, req in BONDS.values())
        mean, error = mean_and_error(rows.potential, rows.walker * 100 + rows.replica)
        assert abs(mean - expected) < 4 * error + 0.005 * expected, (rung, mean, expected)
        assert rows.temperature.mean() == pytest.approx(temperature, rel=0.03)
    # swaps happened, and configurations travelled through the ladder
    record = json.loads(outputs.run_json.read_text())
    assert record["sampler"] == "exchange" and record["trajectory_replicas"] == 16
    assert all(0.2 < rate < 1.0 for rate in record["exchange_acceptance"])
    assert log.groupby("replica").walker.nunique().min() > 1
    # the trajectory is the target slot of every ladder, numbered by ladder
    assert sorted(set(frames.replica)) == list(range(16))
    assert len(frames) == 16 * settings.frames


def test_swaps_without_the_metropolis_test_are_caught(tmp_path, monkeypatch):
    """The negative control of the test above: accept every swap, and the target slot's
    bond energy moves off its Boltzmann value by many standard errors."""
    monkeypatch.setattr(exchange_module, "swap_log_acceptance",
                        lambda *args: torch.full_like(args[2], np.inf))
    _, log, _, _ = run_trimer_ladder(tmp_path)
    rows = log[(log.step > 1000) & (log.rung == 0)]
    expected = sum(expected_bond_energy(k0, req, 340.0) for k0, req in BONDS.values())
    mean, error = mean_and_error(rows.potential, rows.walker * 100 + rows.replica)
    assert mean - expected > 8 * error


def test_exchange_run_is_the_same_for_any_workers(tmp_path):
    """Ladders never span a batch and draw from their own streams: two worker processes
    write the bytes one process writes, the swap history included."""
    inputs = chignolin_inputs(tmp_path / "cln")
    settings = SimSettings(temperature_K=340.0, seed=11, replicas=8, batch_replicas=4,
                           steps=400, save_every=20, checkpoint_every=200,
                           precision="float64", device="cpu", sampler="exchange",
                           exchange={"temperatures": 2, "highest_factor": 1.3, "every": 5})
    split, whole = outputs_in(tmp_path / "split"), outputs_in(tmp_path / "whole")
    simulate(inputs, settings, split, tmp_path / "split" / "work", workers=2)
    simulate(inputs, settings, whole, tmp_path / "whole" / "work", workers=1)
    for name in ("traj_xtc", "frames_csv", "log_csv"):
        assert getattr(split, name).read_bytes() == getattr(whole, name).read_bytes()
    log = pd.read_csv(whole.log_csv)
    assert log.exchange_acceptance.dropna().iloc[-1] > 0
    # the counts are those of each frame's step, not the end of its checkpoint period
    slot0 = log[log.replica == 0].exchange_acceptance.to_numpy()
    assert len(np.unique(slot0[np.isfinite(slot0)])) > 2


@pytest.mark.parametrize("replicas, batch", [(6, 4), (8, 6)])
def test_ladders_that_do_not_tile_the_batches_are_refused(tmp_path, replicas, batch):
    inputs = chignolin_inputs(tmp_path / "cln")
    settings = SimSettings(temperature_K=340.0, seed=1, replicas=replicas, batch_replicas=batch,
                           steps=40, save_every=20, device="cpu", sampler="exchange",
                           exchange={"temperatures": 4})
    with pytest.raises(CgthermoError, match="exchange.temperatures = 4 does not divide"):
        simulate(inputs, settings, outputs_in(tmp_path), tmp_path / "work")


def test_exploded_target_slots_count_against_the_budget(tmp_path):
    """Two of eight slots exploding is within a 0.25 budget, but when both are the target
    slots of the two ladders the trajectory would be all stopped: the run fails in one line."""
    from cgthermo.cgsim.run import CGSimulation

    inputs = chignolin_inputs(tmp_path / "cln")
    settings = SimSettings(temperature_K=340.0, seed=2, replicas=8, batch_replicas=8, steps=200,
                           save_every=20, checkpoint_every=100, precision="float64",
                           device="cpu", max_exploded_fraction=0.25, sampler="exchange",
                           exchange={"temperatures": 4})

    def stretch_targets(batch):
        if batch.step == 60:
            batch.system.pos[[0, 4], 0] += 50.0

    sim = CGSimulation(inputs, settings, tmp_path / "work")
    with pytest.raises(CgthermoError, match=r"2 of 8 replicas of cln exploded .*2 of the 2 at "
                                            r"the target temperature"):
        sim.run(after_frame=stretch_targets)
