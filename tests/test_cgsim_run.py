"""cg_sim runs: Boltzmann sampling, equipartition, explosions, resume after a kill, outputs."""

import json
import logging

import mdtraj
import numpy as np
import pandas as pd
import pytest
import torch
from helpers.cgsim_toy import CHIGNOLIN, chignolin_inputs, outputs_in, write_dataset, write_prior

from cgthermo.cgsim import CGSimulation, SimInputs, SimOutputs, SimSettings
from cgthermo.cgsim.integrate import draw_noise, replica_generators, replica_seed
from cgthermo.cgsim.run import simulate
from cgthermo.cgsim.workers import worker_slices
from cgthermo.errors import CgthermoError
from cgthermo.units import kT_kcal

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def chignolin(tmp_path_factory):
    return chignolin_inputs(tmp_path_factory.mktemp("cln"))


def short_run(**changes) -> SimSettings:
    base = dict(temperature_K=340.0, seed=11, replicas=4, steps=300, save_every=20,
                checkpoint_every=100, precision="float64", device="cpu")
    return SimSettings(**{**base, **changes})


def read_run(outputs: SimOutputs, topology):
    traj = mdtraj.load(str(outputs.traj_xtc), top=str(topology))
    return traj.xyz * 10.0, pd.read_csv(outputs.frames_csv), pd.read_csv(outputs.log_csv)


def boltzmann_bond_moments(k0, req, temperature_K):
    """Mean and variance of r under r² exp(−k0 (r − req)² / kT), by numerical integration."""
    r = np.linspace(req - 3.0, req + 3.0, 60001)
    weight = r**2 * np.exp(-k0 * (r - req) ** 2 / kT_kcal(temperature_K))
    weight /= weight.sum()
    mean = (r * weight).sum()
    return mean, ((r - mean) ** 2 * weight).sum()


def test_prior_only_trimer_samples_bond_boltzmann_distribution(tmp_path):
    """Without angle terms and with negligible repulsion, each bond of a trimer is an
    isolated harmonic bond: its length follows r² exp(−V(r)/kT) exactly."""
    resnames = ["ALA", "GLY", "SER"]
    bonds = {("ALA", "GLY"): (5.0, 3.8), ("GLY", "SER"): (10.0, 3.9)}
    prior = write_prior(tmp_path / "prior.yaml", resnames, bonds=bonds, epsilon=0.01,
                        dihedrals=None)
    dataset, topology = write_dataset(tmp_path, "tri", resnames, frames=16)
    # γ·dt = 0.01 keeps the kinetic-temperature bias of torchmd's scheme, 1/(1 − γdt/2), at
    # 0.5 %; with 9 degrees of freedom a 100 fs mean temperature above 3× target is a normal
    # fluctuation (p ≈ 1e-3), so the runaway guard is set far out
    settings = SimSettings(temperature_K=340.0, seed=5, replicas=64, steps=10000,
                           timestep_fs=2.0, friction_per_ps=5.0, save_every=50,
                           checkpoint_every=5000, precision="float64", device="cpu",
                           max_temperature_factor=10.0)
    outputs = outputs_in(tmp_path)
    simulate(SimInputs("tri", dataset, topology, prior, None), settings, outputs,
             tmp_path / "work")
    xyz, frames, log = read_run(outputs, topology)

    assert len(frames) == 64 * 200 and not frames.exploded.any()
    for (a, b), (k0, req) in zip([(0, 1), (1, 2)], bonds.values(), strict=True):
        r = np.linalg.norm(xyz[:, a] - xyz[:, b], axis=1)
        mean, variance = boltzmann_bond_moments(k0, req, 340.0)
        assert abs(r.mean() - mean) < 0.03 * np.sqrt(variance)  # ~0.2 % of the 3.8 Å mean shift scale
        assert r.var() == pytest.approx(variance, rel=0.05)
    assert log.temperature.mean() == pytest.approx(340.0, rel=0.03)


def damage(batch, replica: int, how: str):
    """Break one replica of the run in whichever batch holds it."""
    if replica in batch.replicas:
        local = replica - batch.replicas.start
        if how == "nan":
            batch.system.pos[local, 3, 0] = float("nan")
        else:
            batch.system.pos[local, 9:, :] += 20.0


@pytest.mark.parametrize("how, reason", [("nan", "non-finite"), ("stretch", "bond longer")])
def test_exploding_replica_stops_alone(tmp_path, chignolin, caplog, how, reason):
    settings = short_run()
    reference = outputs_in(tmp_path / "reference")
    simulate(chignolin, settings, reference, tmp_path / "reference" / "work")

    def break_replica_2(batch):
        if batch.step == 100:
            damage(batch, 2, how)

    broken = outputs_in(tmp_path / "broken")
    sim = CGSimulation(chignolin, settings, tmp_path / "broken" / "work")
    with caplog.at_level(logging.WARNING, logger="cgthermo.cgsim"):
        sim.run(after_frame=break_replica_2)
    sim.write(broken)

    ref_xyz, ref_frames, _ = read_run(reference, chignolin.topology_pdb)
    xyz, frames, log = read_run(broken, chignolin.topology_pdb)
    assert f"replica 2 exploded at step 101 ({reason}" in caplog.text
    mine = frames.replica == 2
    assert frames[mine].step.tolist() == [20, 40, 60, 80, 100] and frames[mine].exploded.all()
    assert not frames[~mine].exploded.any()
    assert (frames[~mine].groupby("replica").size() == settings.frames).all()
    assert set(log[log.replica == 2].step) == {20, 40, 60, 80, 100}
    assert np.isfinite(xyz).all() and np.isfinite(log[["potential", "kinetic"]]).all().all()
    # the other replicas never noticed: their trajectories are those of the intact run
    np.testing.assert_array_equal(xyz[~mine.to_numpy()],
                                  ref_xyz[(ref_frames.replica != 2).to_numpy()])
    np.testing.assert_array_equal(xyz[mine.to_numpy()],
                                  ref_xyz[(ref_frames.replica == 2).to_numpy()][:5])


def test_an_injected_explosion_is_a_real_one(tmp_path, chignolin, monkeypatch, caplog):
    """CGTHERMO_FAULT_EXPLODE breaks the named replica of the named run after the frame at
    the given step: the integrator's guard stops it there, the other replicas run on as in
    the intact run, and a run of another label is untouched."""
    settings = short_run()
    reference = outputs_in(tmp_path / "reference")
    simulate(chignolin, settings, reference, tmp_path / "reference" / "work", label="cln/m")
    monkeypatch.setenv("CGTHERMO_FAULT_EXPLODE", "other/m:0@20; cln/m:1@50")
    broken = outputs_in(tmp_path / "broken")
    with caplog.at_level(logging.WARNING, logger="cgthermo.cgsim"):
        simulate(chignolin, settings, broken, tmp_path / "broken" / "work", label="cln/m")
    assert "replica 1 exploded at step 61 (non-finite" in caplog.text
    ref_xyz, ref_frames, _ = read_run(reference, chignolin.topology_pdb)
    xyz, frames, _ = read_run(broken, chignolin.topology_pdb)
    mine = (frames.replica == 1).to_numpy()
    assert frames[mine].step.tolist() == [20, 40, 60] and frames[mine].exploded.all()
    assert not frames[~mine].exploded.any()
    np.testing.assert_array_equal(xyz[~mine], ref_xyz[(ref_frames.replica != 1).to_numpy()])


@pytest.mark.parametrize("text", ["cln/m:1", "cln/m:x@20", ":1@20"])
def test_a_malformed_injection_is_named(text):
    from cgthermo.cgsim.faults import planned_faults

    with pytest.raises(CgthermoError, match="is not LABEL:REPLICA@STEP"):
        planned_faults("cln/m", text)


def test_too_many_explosions_fail_without_outputs(tmp_path, chignolin):
    """The budget is the whole run's: two replicas in two different batches break it."""
    settings = short_run(max_exploded_fraction=0.25, batch_replicas=2)

    def break_two(batch):
        if batch.step == 60:
            damage(batch, 0, "nan")
            damage(batch, 3, "nan")

    outputs = outputs_in(tmp_path)
    sim = CGSimulation(chignolin, settings, tmp_path / "work")
    with pytest.raises(CgthermoError, match=r"2 of 4 replicas of cln exploded \(replica 0 at "
                                            r"step 61, replica 3 at step 61\)") as err:
        sim.run(after_frame=break_two)
    assert "\n" not in str(err.value)
    assert not any(p.exists() for p in (outputs.traj_xtc, outputs.frames_csv, outputs.log_csv))
    assert not (tmp_path / "work").exists()


def test_runaway_temperature_stops_replicas(tmp_path, chignolin):
    """A target the replicas cannot meet (max factor below 1) stops them all: the run fails."""
    sim = CGSimulation(chignolin, short_run(max_temperature_factor=0.5), tmp_path / "work")
    with pytest.raises(CgthermoError, match="4 of 4 replicas of cln exploded"):
        sim.run()


def test_outputs_follow_the_artifact_contract(tmp_path, chignolin):
    settings = short_run(precision="float32")
    outputs = outputs_in(tmp_path)
    simulate(chignolin, settings, outputs, tmp_path / "work")
    xyz, frames, log = read_run(outputs, chignolin.topology_pdb)
    assert list(frames.columns) == ["replica", "frame", "step", "time_fs", "exploded"]
    assert list(log.columns) == ["step", "time_fs", "replica", "potential", "kinetic",
                                 "temperature", "ladder", "rung", "set_temperature", "walker",
                                 "exchange_acceptance"]
    # plain Langevin: every replica its own one-slot ladder at the target, nothing swaps
    assert (log.ladder == log.replica).all() and (log.rung == 0).all()
    assert (log.walker == log.replica).all() and log.exchange_acceptance.isna().all()
    assert (log.set_temperature == settings.temperature_K).all()
    record = json.loads(outputs.run_json.read_text())
    assert record["sampler"] == "langevin" and record["trajectory_replicas"] == 4
    simulated_ns = settings.replicas * settings.steps * settings.timestep_fs * 1e-6
    assert record["simulated_ns"] == pytest.approx(simulated_ns)
    assert record["ns_per_day"] == pytest.approx(
        simulated_ns / (record["wall_seconds"] / 86400.0))
    assert 0 < record["wall_seconds"] <= record["core_seconds"]
    # one segment per checkpoint: together they are the whole run, its ns and its cost
    segments = record["segments"]
    assert len(segments["simulated_ns"]) == -(-settings.frames // settings.frames_per_checkpoint)
    assert sum(segments["simulated_ns"]) == pytest.approx(simulated_ns)
    assert sum(segments["core_seconds"]) == pytest.approx(record["core_seconds"])
    assert frames.replica.is_monotonic_increasing  # replica-major, like traj.xtc
    assert frames.frame.tolist() == list(range(settings.frames)) * settings.replicas
    assert (frames.time_fs == frames.step * settings.timestep_fs).all()
    # beads stay bonded (Å, not nm): consecutive Cα 3–5 Å apart
    bonds = np.linalg.norm(np.diff(xyz, axis=1), axis=-1)
    assert 3.0 < bonds.min() and bonds.max() < 5.0
    kinetic_temperature = 2 * log.kinetic / (3 * len(CHIGNOLIN) * 0.001987191)
    np.testing.assert_allclose(kinetic_temperature, log.temperature, rtol=1e-5)
    # every saved frame is that step's configuration, not a view the next steps overwrite:
    # consecutive frames of a replica differ, and so do their energies
    assert settings.frames_per_checkpoint > 1
    for replica in range(settings.replicas):
        mine = frames.replica == replica
        assert np.all(np.abs(np.diff(xyz[mine.to_numpy()], axis=0)).max(axis=(1, 2)) > 1e-4)
        assert np.all(np.diff(log.potential[log.replica == replica]) != 0)


def test_starts_must_match_the_topology(tmp_path, chignolin):
    dataset, _ = write_dataset(tmp_path, "cln", CHIGNOLIN[:8], frames=4)
    inputs = SimInputs("cln", dataset, chignolin.topology_pdb, chignolin.prior_yaml, None)
    with pytest.raises(CgthermoError, match="does not match"):
        CGSimulation(inputs, short_run(), tmp_path / "work")


def test_missing_checkpoint_is_named(tmp_path, chignolin):
    inputs = SimInputs("cln", chignolin.dataset_h5, chignolin.topology_pdb,
                       chignolin.prior_yaml, tmp_path / "absent.ckpt")
    with pytest.raises(CgthermoError, match="absent.ckpt"):
        CGSimulation(inputs, short_run(), tmp_path / "work")


def test_unreadable_checkpoint_is_one_line(tmp_path, chignolin):
    broken = tmp_path / "model.ckpt"
    broken.write_bytes(b"not a checkpoint")
    inputs = SimInputs("cln", chignolin.dataset_h5, chignolin.topology_pdb,
                       chignolin.prior_yaml, broken)
    with pytest.raises(CgthermoError, match="cannot be loaded by torchmd-net") as err:
        CGSimulation(inputs, short_run(), tmp_path / "work")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("replicas, per_batch, workers, sizes",
                         [(32, 16, 2, [16, 16]), (32, 16, 8, [16, 16]), (5, 1, 3, [2, 1, 2]),
                          (5, 2, 2, [4, 1]), (3, 16, 8, [3])])
def test_worker_slices_are_whole_batches(replicas, per_batch, workers, sizes):
    slices = worker_slices(replicas, per_batch, workers)
    assert [len(s) for s in slices] == sizes
    assert [i for s in slices for i in s] == list(range(replicas))
    assert all(s.start % per_batch == 0 for s in slices)


def test_split_run_equals_the_unsplit_run(tmp_path, chignolin):
    """Each replica draws its own noise and always sits in the same batch: two worker
    processes write the very bytes one process writes."""
    settings = short_run(batch_replicas=2)
    split, whole = outputs_in(tmp_path / "split"), outputs_in(tmp_path / "whole")
    simulate(chignolin, settings, split, tmp_path / "split" / "work", workers=2)
    simulate(chignolin, settings, whole, tmp_path / "whole" / "work", workers=1)
    assert not (tmp_path / "split" / "work").exists()
    for name in ("traj_xtc", "frames_csv", "log_csv"):
        assert getattr(split, name).read_bytes() == getattr(whole, name).read_bytes()
    xyz, frames, _ = read_run(split, chignolin.topology_pdb)
    assert frames.replica.tolist() == np.repeat(np.arange(4), settings.frames).tolist()
    # and the replicas are not copies of one another
    assert not np.allclose(xyz[frames.replica == 0], xyz[frames.replica == 1])


def test_replica_noise_streams_are_independent_normals():
    """The per-replica streams: standard normal, uncorrelated across replicas, reproducible."""
    gens = replica_generators(7, range(3))
    noise = draw_noise(gens, 2000, 10, torch.float64, "cpu").reshape(2000, 3, -1)
    flat = noise.permute(1, 0, 2).reshape(3, -1).numpy()
    assert np.all(np.abs(flat.mean(axis=1)) < 4.0 / np.sqrt(flat.shape[1]))
    assert np.allclose(flat.std(axis=1), 1.0, atol=0.01)
    assert np.all(np.abs(np.corrcoef(flat)[np.triu_indices(3, 1)]) < 4.0 / np.sqrt(flat.shape[1]))
    again = draw_noise(replica_generators(7, [1]), 2000, 10, torch.float64, "cpu")
    np.testing.assert_array_equal(again[:, 0].numpy(), noise[:, 1].reshape(2000, 10, 3).numpy())
    assert replica_seed(7, 1) != replica_seed(8, 1) != replica_seed(7, 2)


def test_split_run_failure_is_one_line_without_outputs(tmp_path, chignolin):
    """Replicas exploding in worker processes fail the run as in one process, in one line."""
    outputs = outputs_in(tmp_path)
    with pytest.raises(CgthermoError, match=r"4 of 4 replicas of cln exploded \(replica 0 at "
                                            r"step \d+, replica 1 ") as err:
        simulate(chignolin, short_run(max_temperature_factor=0.5, batch_replicas=2), outputs,
                 tmp_path / "work", workers=2)
    assert "\n" not in str(err.value)
    assert not any(p.exists() for p in (outputs.traj_xtc, outputs.frames_csv, outputs.log_csv))
    assert not (tmp_path / "work").exists()


def test_each_network_drives_its_own_share_of_the_replicas(tmp_path, chignolin):
    """train.networks = 2: replicas 0–1 run under the first network and 2–3 under the second,
    each byte for byte as a run of that network alone in the same batches, in one process or
    in two; run.json says which network drove which replica."""
    from dataclasses import replace

    from helpers.untrained import write_untrained_checkpoint

    second = write_untrained_checkpoint(tmp_path / "draw1.ckpt", seed=1, embedding_dimension=16,
                                        num_layers=1, num_rbf=8)  # fmt: skip
    both = replace(chignolin, draws=(second,))
    runs = {}
    for name, inputs, batch, workers in (("both", both, 16, 1), ("both2", both, 16, 2),
                                         ("first", chignolin, 2, 1),
                                         ("second", replace(chignolin, checkpoint=second), 2, 1)):
        outputs = outputs_in(tmp_path / name)
        simulate(inputs, short_run(batch_replicas=batch), outputs, tmp_path / name / "work",
                 workers=workers)  # fmt: skip
        runs[name] = (read_run(outputs, chignolin.topology_pdb)[0],
                      json.loads(outputs.run_json.read_text()))
    frames = short_run().frames
    xyz = {name: value[0].reshape(4, frames, -1, 3) for name, value in runs.items()}
    np.testing.assert_array_equal(xyz["both"], xyz["both2"])
    np.testing.assert_array_equal(xyz["both"][:2], xyz["first"][:2])
    np.testing.assert_array_equal(xyz["both"][2:], xyz["second"][2:])
    assert not np.array_equal(xyz["both"][2:], xyz["first"][2:])
    assert runs["both"][1]["networks"] == 2 and runs["both"][1]["replica_network"] == [0, 0, 1, 1]
    assert runs["first"][1]["replica_network"] == [0, 0, 0, 0]
