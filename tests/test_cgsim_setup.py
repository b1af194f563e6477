"""cg_sim setup: start selection, Maxwell–Boltzmann velocities, settings and model inputs."""

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from helpers.chains import random_chain

from cgthermo import config as cgconfig
from cgthermo import seeds
from cgthermo.cgsim import CGSimulation, SimInputs
from cgthermo.cgsim.integrate import maxwell_boltzmann
from cgthermo.cgsim.settings import SimSettings, model_input_paths
from cgthermo.cgsim.starts import StartData, kcenter_frames, start_frames
from cgthermo.errors import CgthermoError

REPO = Path(__file__).resolve().parents[1]


def clustered_frames(groups=4, per_group=30, replicas=6, seed=0):
    """Frames of a 6-bead chain in `groups` shapes (scaled copies) with small noise."""
    rng = np.random.default_rng(seed)
    base = random_chain(6, rng)
    pos = np.concatenate([base * (1 + 0.5 * g) + rng.normal(0, 0.05, (per_group, 6, 3))
                          for g in range(groups)])
    group = np.repeat(np.arange(groups), per_group)
    replica = rng.integers(0, replicas, len(pos))
    return pos, group, replica


def test_kcenters_finds_every_conformation_from_distinct_replicas():
    pos, group, replica = clustered_frames()
    picks = kcenter_frames(pos, replica, count=4, seed=1)
    assert sorted(group[picks]) == [0, 1, 2, 3]
    assert len(set(replica[picks])) == 4


def test_kcenters_prefers_unused_replicas_then_distinct_frames():
    pos, _, replica = clustered_frames(replicas=3)
    picks = kcenter_frames(pos, replica, count=10, seed=2)
    assert len(set(replica[picks[:3]])) == 3
    assert len(set(picks)) == 10


def test_kcenters_repeats_frames_only_when_there_are_too_few():
    pos, _, replica = clustered_frames(groups=1, per_group=5)
    picks = kcenter_frames(pos, replica, count=12, seed=0)
    assert len(picks) == 12 and set(picks) == set(range(5))


def test_equilibrium_starts_follow_the_all_atom_populations_and_kcenters_do_not():
    """Frames in four shapes populated 70/20/7/3 %: starts drawn from the ensemble carry
    those populations (binomial bounds, 4 σ), k-centers gives each shape a quarter."""
    rng = np.random.default_rng(4)
    base = random_chain(6, rng)
    counts = [1400, 400, 140, 60]
    pos = np.concatenate([base * (1 + 0.5 * g) + rng.normal(0, 0.05, (n, 6, 3))
                          for g, n in enumerate(counts)])
    group = np.repeat(np.arange(4), counts)
    data = StartData(pos, rng.integers(0, 8, len(pos)), np.ones(6, dtype=np.int64))
    n = 400
    drawn = np.bincount(group[start_frames(data, n, seed=5, method="equilibrium")], minlength=4)
    expected = np.array(counts) / sum(counts)
    assert np.all(np.abs(drawn / n - expected) < 4 * np.sqrt(expected * (1 - expected) / n))
    assert len(set(start_frames(data, n, seed=5, method="equilibrium"))) == n
    spread = np.bincount(group[start_frames(data, 4, seed=5, method="kcenters")], minlength=4)
    assert spread.tolist() == [1, 1, 1, 1]
    with pytest.raises(CgthermoError, match="cgsim.starts"):
        start_frames(data, 4, seed=5, method="random")


def test_maxwell_boltzmann_velocities_have_the_target_temperature():
    from torchmd.integrator import kinetic_energy, kinetic_to_temp

    masses = torch.full((10,), 12.0, dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    vel = maxwell_boltzmann(masses, 340.0, 4000, generator)
    temps = kinetic_to_temp(kinetic_energy(masses[:, None], vel).reshape(-1), 10)
    assert temps.mean().item() == pytest.approx(340.0, rel=0.01)
    # each component is Gaussian with variance kT/m: the kurtosis of a normal is 3
    comp = vel.reshape(-1)
    assert (comp**4).mean() / (comp**2).mean() ** 2 == pytest.approx(3.0, rel=0.03)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_start_velocities_on_a_gpu_are_those_of_the_cpu_stream():
    """The replicas' noise streams are CPU generators; a GPU run draws its start velocities
    from them and moves them (drawing on the GPU with a CPU generator fails), so it starts
    where a CPU run starts."""
    masses = torch.full((10,), 12.0, dtype=torch.float64)
    cpu = maxwell_boltzmann(masses, 340.0, 3, torch.Generator().manual_seed(5))
    gpu = maxwell_boltzmann(masses.cuda(), 340.0, 3, torch.Generator().manual_seed(5))
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=0, atol=0)


def test_settings_come_from_the_config():
    with open(REPO / "config" / "test.yaml") as fh:
        config = cgconfig.validate(yaml.safe_load(fh))
    settings = SimSettings.from_config(config, "pep", "specific")
    assert settings.temperature_K == 340.0
    assert settings.dtype == torch.float32 and settings.replicas == config["cgsim"]["replicas"]
    assert settings.seed == seeds.cg_sim(config["seed"], "pep", "specific")
    assert settings.seed != SimSettings.from_config(config, "pep", "multi").seed
    assert settings.frames == config["cgsim"]["steps"] // config["cgsim"]["save_every"]
    with pytest.raises(CgthermoError, match="unknown CG model 'big'"):
        SimSettings.from_config(config, "pep", "big")


def test_each_model_reads_its_own_network_and_prior():
    assert model_input_paths("res", "cln", "prior_only") == {
        "dataset": "res/cln/cg/dataset.h5", "topology": "res/cln/cg/topology.pdb",
        "prior": "res/cln/prior/prior.yaml"}
    specific = model_input_paths("res", "cln", "specific")
    assert specific["prior"] == "res/cln/prior/prior.yaml"
    assert specific["checkpoint"] == "res/cln/model/specific/model.ckpt"
    multi = model_input_paths("res", "cln", "multi")
    assert multi["prior"] == "res/multi/prior/prior.yaml"
    assert multi["checkpoint"] == "res/multi/model/model.ckpt"
    assert multi["dataset"] == "res/cln/cg/dataset.h5"


def test_cuda_without_gpu_and_too_short_runs_are_reported(tmp_path):
    if not torch.cuda.is_available():
        with pytest.raises(CgthermoError, match="cgsim.device is 'cuda'"):
            _ = SimSettings(temperature_K=300, seed=1, device="cuda").torch_device
    short = SimSettings(temperature_K=300, seed=1, steps=99, save_every=100)
    inputs = SimInputs("x", tmp_path / "d.h5", tmp_path / "t.pdb", tmp_path / "p.yaml")
    with pytest.raises(CgthermoError, match=r"cgsim.steps \(99\) is shorter"):
        CGSimulation(inputs, short, tmp_path / "work")


def test_rule_resources_follow_the_config():
    from types import SimpleNamespace

    from cgthermo.cgsim.rules import CgSimRules

    config = cgconfig.validate({"proteins": [{"name": "cln", "sequence": "YYDPETGTWY"}],
                                "results": "out",
                                "cgsim": {"steps": 5_000_000, "device": "cuda"}})
    rules = CgSimRules(config)
    assert rules.gpus() == 1
    assert rules.runtime(None, attempt=2) == f"{2 * int(rules.runtime(None, attempt=1)[:-1])}m"
    assert int(rules.runtime(None, attempt=1)[:-1]) > 60 * 24
    wildcards = SimpleNamespace(protein="cln", model="multi")
    assert rules.inputs(wildcards)["checkpoint"] == "out/multi/model/model.ckpt"
