"""Adaptive sampling through the workflow: config/test.yaml samples pep in 2 epochs of 2
trajectories. Epoch 1 restarts from frames of epoch 0 chosen by their clusters' counts, the
data carry each trajectory's epoch and parent, training keeps trajectories whole, and an
epoch rerun alone (on one core) gives the same artifacts."""

import json
import shutil

import h5py
import numpy as np
import pytest
from openmm import app, unit

EPOCH0, EPOCH1 = (0, 1), (2, 3)


@pytest.fixture(scope="module")
def pep(test_config_run):
    return test_config_run / "results" / "pep"


@pytest.fixture(scope="module")
def choice(pep):
    return json.loads((pep / "aa/adaptive/epoch1.json").read_text())


def test_epoch_one_restarts_from_epoch_zero_frames_by_inverse_cluster_counts(pep, choice):
    counts = np.array(choice["cluster_frames"])
    assert counts.sum() == choice["frames_so_far"] == 400  # 2 trajectories × 200 frames
    weights = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0)  # every frame restartable
    for record in choice["restarts"]:
        assert record["replica"] in EPOCH1 and record["parent_replica"] in EPOCH0
        assert record["cluster_frames"] == counts[record["cluster"]]
        assert record["cluster_probability"] == pytest.approx(weights[record["cluster"]] / weights.sum())
        with h5py.File(pep / f"aa/md/{record['parent_replica']}.h5", "r") as fh:
            parent = fh["positions"][record["parent_frame"]]
            assert fh["time"][record["parent_frame"]] == pytest.approx(record["parent_time_ps"])
        start = app.PDBFile(str(pep / f"aa/restarts/{record['replica']}.pdb"))
        assert np.abs(start.getPositions(asNumpy=True).value_in_unit(unit.nanometer) - parent).max() < 6e-5


def test_frames_carry_their_trajectory_epoch_and_parent(pep, choice):
    with h5py.File(pep / "cg/dataset.h5", "r") as fh:
        group = fh["pep"]
        attrs = {k: np.asarray(group.attrs[k]) for k in ("trajectory_replica", "trajectory_epoch",
                                                         "trajectory_parent")}  # fmt: skip
        replicas = np.unique(group["replica"][:])
    assert replicas.tolist() == attrs["trajectory_replica"].tolist() == [0, 1, 2, 3]
    assert attrs["trajectory_epoch"].tolist() == [0, 0, 1, 1]
    parents = {r["replica"]: r["parent_replica"] for r in choice["restarts"]}
    assert attrs["trajectory_parent"].tolist() == [-1, -1, parents[2], parents[3]]
    with h5py.File(pep / "aa/md/2.h5", "r") as fh:
        assert fh.attrs["equilibration_ps"] == 0.0 and fh["time"].shape == (200,)


def test_training_keeps_every_trajectory_whole(pep):
    test = json.loads((pep / "model/specific/test.json").read_text())
    sets = test["split"]["replicas"]["pep"]
    seen = [r for name in ("train", "val", "test") for r in sets[name]]
    assert sorted(seen) == [0, 1, 2, 3]  # each trajectory in exactly one set


def test_the_reference_reweights_with_an_msm_over_every_trajectory(pep):
    ref = np.load(pep / "analysis/reference.npz")
    assert str(ref["reweight"]) == "msm"
    assert ref["piece_lengths"].sum() == 800 and len(ref["unit_pair_sums"]) == 4


def test_an_epoch_rerun_alone_on_one_core_gives_the_same_artifacts(test_config_run, tmp_path):
    """The test run used --cores 2; rerun epoch 1's choice, restarts and trajectories with
    --cores 1 in a copy: every file of the epoch is the same, frame for frame."""
    from slurm.snakemake_plan import REPO, run_snakemake

    shutil.copytree(test_config_run / "results", tmp_path / "results")  # keeps the times
    targets = [f"results/pep/aa/md/{r}.h5" for r in EPOCH1]
    run_snakemake(["--workflow-profile", REPO / "profiles/default", "--cores", 1,
                   "--configfile", REPO / "config/test.yaml", "--forcerun", "adaptive_choice",
                   "--", *targets], cwd=tmp_path)  # fmt: skip
    before, after = test_config_run / "results/pep/aa", tmp_path / "results/pep/aa"
    rerun = ["adaptive/epoch1.json", *(f"restarts/{r}.{s}" for r in EPOCH1 for s in ("pdb", "json"))]
    for name in rerun:
        assert (after / name).stat().st_mtime > (before / name).stat().st_mtime, name
        assert (after / name).read_bytes() == (before / name).read_bytes(), name
    for replica in EPOCH1:
        with h5py.File(before / f"md/{replica}.h5") as old, h5py.File(after / f"md/{replica}.h5") as new:
            for name in ("positions", "forces", "time", "restart_frame", "restart_box"):
                np.testing.assert_array_equal(new[name][()], old[name][()], err_msg=name)


def test_more_epochs_run_only_the_new_epochs(test_config_run, repo_root, tmp_path):
    """pep with a third epoch: the plan holds epoch 2's choice, restarts and trajectories, and
    what reads all trajectories; nothing of epochs 0 and 1 runs again."""
    import yaml
    from slurm.snakemake_plan import dry_run

    config = yaml.safe_load((repo_root / "config/test.yaml").read_text())
    pep = next(p for p in config["proteins"] if p["name"] == "pep")
    pep["aa"]["adaptive"]["epochs"] = 3
    path = tmp_path / "three_epochs.yaml"
    path.write_text(yaml.safe_dump(config))
    jobs = dry_run(path, "results", cwd=test_config_run)
    planned = {(job.rule, job.protein, job.wildcards.get("replica", job.wildcards.get("epoch")))
               for job in jobs if job.rule in ("aa_md", "adaptive_choice", "adaptive_restart", "unfold")}  # fmt: skip
    assert planned == {("adaptive_choice", "pep", "2"), ("adaptive_restart", "pep", "4"),
                       ("adaptive_restart", "pep", "5"), ("aa_md", "pep", "4"),
                       ("aa_md", "pep", "5")}  # fmt: skip
    assert "cg_map" in {job.rule for job in jobs if job.protein == "pep"}
