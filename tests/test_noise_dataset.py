"""The forces + noise training set (train.noise): rows, labels and weights as written to
noise_labels.h5 a block at a time, and a real torchmd-net training on them."""

import json

import h5py
import numpy as np
import pytest
from helpers import train_synthetic as synthetic

from cgthermo import seeds
from cgthermo.cgmap.dataset import CGData
from cgthermo.train import noise, noisedata, splits
from cgthermo.units import kT_kcal

# bead types of the synthetic chain (ALA 1, GLY 2, TYR 4, TRP 7) as residue names
RESNAMES = {1: "ALA", 2: "GLY", 4: "TYR", 7: "TRP"}
TEMPERATURE = 300.0


def bond_prior(positions):
    """The synthetic data's harmonic bond prior, in the PriorEvaluator interface."""
    return None, synthetic.bond_prior_forces(np.asarray(positions, dtype=np.float64))


def cg_data(protein) -> CGData:
    return CGData(protein["name"], [RESNAMES[int(t)] for t in protein["types"]], protein["pos"],
                  protein["mapped"], protein["replica"], protein["time"], TEMPERATURE,
                  "synthetic")  # fmt: skip


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks smaller than the data and not dividing it: the streaming path is exercised."""
    monkeypatch.setattr(noisedata, "CHUNK_FRAMES", 7)


def write(tmp_path, protein, **settings):
    chosen = noisedata.NoiseSettings(**{"sigmas": (0.1, 0.3), "copies": 2, **settings})
    path = tmp_path / "noise_labels.h5"
    weights = noisedata.write_noised_delta(path, [cg_data(protein)], chosen, "bond-prior",
                                           {protein["name"]: 5},
                                           prior_for=lambda data: bond_prior)  # fmt: skip
    with h5py.File(path) as h5:
        rows = {key: np.asarray(h5[protein["name"]][key]) for key in h5[protein["name"]]}
        attrs = dict(h5[protein["name"]].attrs)
    return chosen, rows, attrs, weights


@pytest.fixture
def protein():
    return synthetic.make_protein("syn", [4, 1, 2, 1, 7], replicas=3, frames_per_replica=10,
                                  seed=3, noise=2.0)  # fmt: skip


def test_rows_keep_their_source_frame_replica_and_time(tmp_path, protein, small_blocks):
    chosen, rows, attrs, _ = write(tmp_path, protein)
    frames = len(protein["pos"])
    assert len(rows["pos"]) == frames * chosen.copies * len(chosen.sigmas)
    expected_source = np.tile(np.repeat(np.arange(frames), chosen.copies), len(chosen.sigmas))
    np.testing.assert_array_equal(rows["source"], expected_source)
    np.testing.assert_array_equal(rows["replica"], protein["replica"][rows["source"]])
    np.testing.assert_array_equal(rows["time"], protein["time"][rows["source"]])
    np.testing.assert_array_equal(rows["sigma"], np.repeat(chosen.sigmas, frames * chosen.copies))
    assert json.loads(attrs["sigmas_angstrom"]) == list(chosen.sigmas)
    # the displacement of each level is Gaussian with its own σ in every coordinate
    for sigma in chosen.sigmas:
        level = rows["sigma"] == sigma
        eps = (rows["pos"][level] - protein["pos"][rows["source"][level]]) / sigma
        assert abs(eps.mean()) < 0.1 and abs(eps.std() - 1.0) < 0.1  # 1500 draws: 5σ bounds
    # the copies of one frame are different draws
    assert not np.allclose(rows["pos"][0], rows["pos"][1])


def test_labels_are_the_mixed_force_less_the_prior_at_the_noised_positions(tmp_path, protein,
                                                                          small_blocks):  # fmt: skip
    _, rows, _, weights = write(tmp_path, protein)
    clean = protein["pos"][rows["source"]].astype(np.float64)
    noised = rows["pos"].astype(np.float64)
    mapped = protein["mapped"][rows["source"]].astype(np.float64)
    w = np.array([weights["syn"][s] for s in rows["sigma"]])[:, None, None]
    n = -kT_kcal(TEMPERATURE) * (noised - clean) / rows["sigma"][:, None, None] ** 2
    expected = w * mapped + (1 - w) * n - synthetic.bond_prior_forces(noised)
    # the stored positions are float32: the noise force is recomputed from them to ~1e-5 Å
    np.testing.assert_allclose(rows["forces"], expected, atol=0.05, rtol=1e-4)


def test_streamed_optimal_weight_is_that_of_the_whole_level(tmp_path, protein, small_blocks):
    chosen, rows, _, weights = write(tmp_path, protein, scope="global")
    data = cg_data(protein)
    for level, sigma in enumerate(chosen.sigmas):
        blocks = [noisedata.noised_block(data, start, sigma, chosen.copies,
                                         noisedata.block_stream(5, level, block))
                  for block, start in enumerate(range(0, data.frames, 7))]  # fmt: skip
        whole = noise.NoisedFrames(*(np.concatenate([getattr(b, k) for b in blocks])
                                     for k in ("positions", "forces", "noise_forces", "source")),
                                   sigma, kT_kcal(TEMPERATURE))  # fmt: skip
        assert weights["syn"][sigma] == pytest.approx(noise.optimal_weight(whole), rel=1e-12)
        np.testing.assert_allclose(whole.positions, rows["pos"][rows["sigma"] == sigma],
                                   atol=1e-5)  # fmt: skip
    # more noise, less weight on the noise force's rival: w falls with σ (both in (0, 1))
    low, high = (weights["syn"][s] for s in chosen.sigmas)
    assert 0 < high < low < 1


def test_force_weighting_labels_are_the_mapped_forces(tmp_path, protein):
    _, rows, _, weights = write(tmp_path, protein, weighting="force")
    assert set(weights["syn"].values()) == {1.0}
    prior = synthetic.bond_prior_forces(rows["pos"].astype(np.float64))
    np.testing.assert_allclose(rows["forces"] + prior, protein["mapped"][rows["source"]],
                               atol=1e-3)  # fmt: skip


def test_no_noise_level_is_a_clear_error(tmp_path, protein):
    from cgthermo.errors import CgthermoError

    assert noisedata.NoiseSettings.from_train({"noise": {"sigmas": []}}) is None
    with pytest.raises(CgthermoError, match="train.noise.sigmas is empty"):
        noisedata.write_noised_delta(tmp_path / "x.h5", [cg_data(protein)], None, "p", {})


def test_replica_split_is_the_proteins_whatever_the_model():
    replicas = np.repeat(np.arange(8), 5)
    seed = seeds.replica_split(1, "chignolin")
    roles = splits.replica_roles(replicas, 0.05, 0.25, seed)
    assert [len(roles[k]) for k in ("train", "val", "test")] == [5, 1, 2]
    assert sorted(roles["train"] + roles["val"] + roles["test"]) == list(range(8))
    assert splits.held_out_replicas(replicas, 0.05, 0.25, seed) == sorted(roles["val"] + roles["test"])
    # the protein and the run's seed choose it; another protein gets its own
    assert seeds.replica_split(1, "chignolin") != seeds.replica_split(1, "trpcage")
    assert seeds.replica_split(1, "chignolin") != seeds.replica_split(2, "chignolin")


def test_training_on_noise_labels_learns_the_clean_delta_forces(tmp_path):
    """torchmd-net trains on the noise_labels rows and is tested against the clean delta forces
    of the held-out replicas. The synthetic chains are not Boltzmann-distributed under their
    forces, so a noise force here would teach the chains' sampling, not the force field:
    the weighting is "force" (labels F(x) − prior(x̃)) at σ = 0.01 Å, and the estimator itself
    is tested on exact equilibrium samples in test_noise_labels."""
    from test_train import small_config

    from cgthermo.train import Outputs, train_model

    protein = synthetic.make_protein("syn", [4, 1, 2, 1, 7, 1, 2, 4], replicas=4,
                                     frames_per_replica=200, seed=1, noise=0.5)  # fmt: skip
    paths = synthetic.write_pair(tmp_path / "data", [protein])
    labels = tmp_path / "noise_labels.h5"
    chosen = noisedata.NoiseSettings((0.01,), copies=1, weighting="force")
    noisedata.write_noised_delta(labels, [cg_data(protein)], chosen, "bond-prior", {"syn": 3},
                                 prior_for=lambda data: bond_prior)  # fmt: skip
    config = small_config(["syn"], num_epochs=6, split="replica", test_size=0.25,
                          noise={"sigmas": [0.01], "weighting": "force"})  # fmt: skip
    outputs = Outputs.in_folder(tmp_path / "model")
    report = train_model(config, "specific", labels, paths["mapped"], outputs, "syn",
                         delta_path_clean=paths["delta"])  # fmt: skip
    roles = splits.replica_roles(protein["replica"], 0.05, 0.25, seeds.replica_split(11, "syn"))
    assert report["split"]["replicas"]["syn"] == roles
    # the test errors are against the clean delta forces of the test replica's frames
    test_frames = np.flatnonzero(np.isin(protein["replica"], roles["test"]))
    delta = protein["delta"][test_frames].astype(np.float64)
    assert report["prior_only"]["rmse"] == pytest.approx(np.sqrt((delta**2).mean()), rel=1e-6)
    assert report["full_model"]["rmse"] < 0.7 * report["prior_only"]["rmse"]


def test_memory_does_not_grow_with_the_frames(tmp_path):
    """The optimal-weight pass and the writing pass hold one block at a time: 60 000 frames
    (whole arrays of one level in float64: ~14 MB each, dozens of them in the estimator)
    stay under a 12 MB Python-allocation peak, as 6 000 frames do."""
    import tracemalloc

    from cgthermo.cgmap.dataset import open_dataset, write_dataset

    peaks = {}
    for frames in (6_000, 60_000):
        rng = np.random.default_rng(2)
        chain = np.cumsum(rng.normal(size=(frames, 10, 3)), axis=1).astype(np.float32)
        data = CGData("syn", ["ALA"] * 10, chain, rng.normal(size=chain.shape).astype(np.float32),
                      np.zeros(frames, np.int64), np.arange(frames) * 100.0, TEMPERATURE, "x")
        source = tmp_path / f"dataset_{frames}.h5"
        write_dataset(source, [data])
        del data, chain
        chosen = noisedata.NoiseSettings((0.1,), copies=1)
        with open_dataset(source) as groups:
            tracemalloc.start()
            noisedata.write_noised_delta(tmp_path / f"labels_{frames}.h5", groups, chosen, "p",
                                         {"syn": 1}, prior_for=lambda data: bond_prior)  # fmt: skip
            peaks[frames] = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
    assert peaks[60_000] < 12.0
    assert peaks[60_000] < 1.5 * peaks[6_000]


def test_the_noise_labels_job_takes_its_settings_and_seed_from_its_params(tmp_path):
    """The rule's params (train.noise and the run's seed) are all the job reads: its file
    equals write_noised_delta's with the protein's derived seed and a real prior YAML."""
    from types import SimpleNamespace

    from helpers.cgsim_toy import write_prior

    from cgthermo.cgmap.dataset import open_datasets
    from cgthermo.train.stage import noise_labels

    protein = synthetic.make_protein("syn", [4, 1, 2, 1, 7, 1, 2, 4], replicas=2,
                                     frames_per_replica=40, seed=2, noise=0.5)  # fmt: skip
    from cgthermo.cgmap.dataset import write_dataset

    data = cg_data(protein)
    dataset = tmp_path / "dataset.h5"
    write_dataset(dataset, [data])
    prior = write_prior(tmp_path / "prior.yaml", data.resnames)
    params = {"noise": {"sigmas": [0.05], "copies": 1, "weighting": "optimal",
                        "scope": "global"}, "seed": 11}  # fmt: skip
    job = SimpleNamespace(input=SimpleNamespace(datasets=[str(dataset)], prior=str(prior)),
                          output=SimpleNamespace(labels=str(tmp_path / "job.h5")),
                          params=SimpleNamespace(settings=params))  # fmt: skip
    noise_labels(job)
    with open_datasets([str(dataset)]) as groups:
        noisedata.write_noised_delta(tmp_path / "direct.h5", groups,
                                     noisedata.NoiseSettings((0.05,)), prior,
                                     {"syn": seeds.noise_labels(11, "syn")})  # fmt: skip
    with h5py.File(tmp_path / "job.h5") as a, h5py.File(tmp_path / "direct.h5") as b:
        for key in ("pos", "forces"):
            np.testing.assert_array_equal(a[f"syn/{key}"][:], b[f"syn/{key}"][:])
