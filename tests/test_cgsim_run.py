"""cg_sim runs: Boltzmann sampling, equipartition, explosions, resume after a kill, outputs."""

import logging

import mdtraj
import numpy as np
import pandas as pd
import pytest

from cgthermo.cgsim import CGSimulation, SimInputs, SimOutputs, SimSettings, SimulationStopped
from cgthermo.cgsim.nnp import write_untrained_checkpoint
from cgthermo.cgsim.run import replica_slices, simulate
from cgthermo.cgsim.toy import write_dataset, write_prior
from cgthermo.errors import CgthermoError
from cgthermo.units import kT_kcal

CHIGNOLIN = ["TYR", "TYR", "ASP", "PRO", "GLU", "THR", "GLY", "THR", "TRP", "TYR"]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def chignolin(tmp_path_factory):
    """Inputs of a 10-bead chain with the paper-sized prior and a tiny untrained NNP."""
    folder = tmp_path_factory.mktemp("cln")
    dataset, topology = write_dataset(folder, "cln", CHIGNOLIN, frames=24, replicas=4)
    prior = write_prior(folder / "prior.yaml", CHIGNOLIN)
    checkpoint = write_untrained_checkpoint(folder / "model.ckpt", embedding_dimension=16,
                                            num_layers=1, num_rbf=8)
    return SimInputs("cln", dataset, topology, prior, checkpoint)


def short_run(**changes) -> SimSettings:
    base = dict(temperature_K=340.0, seed=11, replicas=4, steps=300, save_every=20,
                checkpoint_every=100, precision="float64", device="cpu")
    return SimSettings(**{**base, **changes})


def outputs_in(folder) -> SimOutputs:
    return SimOutputs(folder / "traj.xtc", folder / "frames.csv", folder / "log.csv")


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


@pytest.mark.parametrize("damage, reason", [("nan", "non-finite"), ("stretch", "bond longer")])
def test_exploding_replica_stops_alone(tmp_path, chignolin, caplog, damage, reason):
    settings = short_run()
    reference = outputs_in(tmp_path / "reference")
    simulate(chignolin, settings, reference, tmp_path / "reference" / "work")

    def break_replica_2(sim):
        if sim.step == 100:
            if damage == "nan":
                sim.system.pos[2, 3, 0] = float("nan")
            else:
                sim.system.pos[2, 9:, :] += 20.0

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


def test_too_many_explosions_fail_without_outputs(tmp_path, chignolin):
    settings = short_run(max_exploded_fraction=0.25)

    def break_two(sim):
        if sim.step == 60:
            sim.system.pos[[0, 3], 0, :] = float("nan")

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


def test_resume_after_kill_matches_uninterrupted_run(tmp_path, chignolin, caplog):
    settings = short_run()
    whole = outputs_in(tmp_path / "whole")
    simulate(chignolin, settings, whole, tmp_path / "whole" / "work")

    resumed = outputs_in(tmp_path / "resumed")
    work = tmp_path / "resumed" / "work"
    with pytest.raises(SimulationStopped):  # killed at step 240, 40 steps after a checkpoint
        CGSimulation(chignolin, settings, work).run(stop_at_step=240)
    assert not resumed.traj_xtc.exists() and (work / "state.pt").exists()
    with caplog.at_level(logging.INFO, logger="cgthermo.cgsim"):
        simulate(chignolin, settings, resumed, work)
    assert "resuming from the checkpoint at step 200" in caplog.text

    whole_xyz, whole_frames, whole_log = read_run(whole, chignolin.topology_pdb)
    xyz, frames, log = read_run(resumed, chignolin.topology_pdb)
    assert len(frames) == len(whole_frames) == settings.replicas * settings.frames
    pd.testing.assert_frame_equal(frames, whole_frames)
    np.testing.assert_allclose(xyz, whole_xyz, atol=1e-5)
    np.testing.assert_allclose(log.to_numpy(), whole_log.to_numpy(), rtol=1e-9)
    assert not work.exists()


def test_outputs_follow_the_artifact_contract(tmp_path, chignolin):
    settings = short_run(precision="float32")
    outputs = outputs_in(tmp_path)
    simulate(chignolin, settings, outputs, tmp_path / "work")
    xyz, frames, log = read_run(outputs, chignolin.topology_pdb)
    assert list(frames.columns) == ["replica", "frame", "step", "time_fs", "exploded"]
    assert list(log.columns) == ["step", "time_fs", "replica", "potential", "kinetic",
                                 "temperature"]
    assert frames.replica.is_monotonic_increasing  # replica-major, like traj.xtc
    assert frames.frame.tolist() == list(range(settings.frames)) * settings.replicas
    assert (frames.time_fs == frames.step * settings.timestep_fs).all()
    # beads stay bonded (Å, not nm): consecutive Cα 3–5 Å apart
    bonds = np.linalg.norm(np.diff(xyz, axis=1), axis=-1)
    assert 3.0 < bonds.min() and bonds.max() < 5.0
    kinetic_temperature = 2 * log.kinetic / (3 * len(CHIGNOLIN) * 0.001987191)
    np.testing.assert_allclose(kinetic_temperature, log.temperature, rtol=1e-5)


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


@pytest.mark.parametrize("replicas, workers, sizes", [(32, 2, [16, 16]), (5, 3, [2, 1, 2]),
                                                      (3, 8, [1, 1, 1])])
def test_replica_slices_cover_the_run_once(replicas, workers, sizes):
    slices = replica_slices(replicas, workers)
    assert [len(s) for s in slices] == sizes
    assert [i for s in slices for i in s] == list(range(replicas))


def test_split_run_is_its_slices_in_replica_order(tmp_path, chignolin):
    """Two worker processes give exactly what the two slices give run one after the other,
    numbered as one run; each slice starts from the unsplit run's start frames."""
    settings = short_run()
    split = outputs_in(tmp_path / "split")
    simulate(chignolin, settings, split, tmp_path / "split" / "work", workers=2)
    assert not (tmp_path / "split" / "work").exists()
    xyz, frames, log = read_run(split, chignolin.topology_pdb)
    assert frames.replica.tolist() == np.repeat(np.arange(4), settings.frames).tolist()

    whole = CGSimulation(chignolin, settings, tmp_path / "whole" / "work")
    expected = []
    for part in (range(0, 2), range(2, 4)):
        sim = CGSimulation(chignolin, settings, tmp_path / f"part{part.start}" / "work",
                           replicas=part)
        np.testing.assert_array_equal(sim.start_positions,
                                      whole.start_positions[part.start:part.stop])
        sim.run()
        sim.write(outputs_in(tmp_path / f"part{part.start}"))
        expected.append(read_run(outputs_in(tmp_path / f"part{part.start}"),
                                 chignolin.topology_pdb))
    np.testing.assert_array_equal(xyz, np.concatenate([e[0] for e in expected]))
    np.testing.assert_array_equal(log.potential, np.concatenate([e[2].potential for e in expected]))


def test_split_run_failure_is_one_line_without_outputs(tmp_path, chignolin):
    """An error in a worker process reaches the caller as the same one-line CgthermoError."""
    outputs = outputs_in(tmp_path)
    # whichever slice fails first names its replicas by their index in the whole run
    with pytest.raises(CgthermoError, match=r"2 of 2 replicas of cln \[(\d)-(\d)\] exploded "
                                            r"\(replica \1 at step \d+, replica \2 ") as err:
        simulate(chignolin, short_run(max_temperature_factor=0.5), outputs, tmp_path / "work",
                 workers=2)
    assert "\n" not in str(err.value)
    assert not any(p.exists() for p in (outputs.traj_xtc, outputs.frames_csv, outputs.log_csv))
    assert not (tmp_path / "work").exists()
