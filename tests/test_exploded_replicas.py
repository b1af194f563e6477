"""A CG replica that exploded enters no statistic of the analysis, wherever it stopped.

cg_sim keeps an exploded replica's frames before the explosion and flags them; the analysis
leaves such a replica out whole but keeps it as a bootstrap unit, so the metrics, their
intervals, the convergence numbers, the held-out metrics, the speed-up and predictions all
see the same replicas. The runs below stop one replica early, in the middle, after one
frame or before its first frame, as the last and as an inner replica: every number must be
the one of the run in which that replica's frames are anything else.
"""

import json

import numpy as np
import pytest
from helpers import analysis_synthetic as synthetic

from cgthermo.analysis import compare, inputs, reference
from cgthermo.predict.analysis import analyse_prediction

SEQUENCE = "YYDPETGTWY"
SETTINGS = synthetic.SETTINGS
REPLICAS, FRAMES = 5, 120
HELD_OUT = {"val_size": 0.25, "test_size": 0.25, "seed": 3}
# a CG record as cg_sim writes it, with a speed, so the throughput and speed-up are defined
RUN = {"sampler": "langevin", "replicas": REPLICAS, "trajectory_replicas": REPLICAS,
       "ns_per_day_per_core": 50.0}  # fmt: skip


@pytest.fixture(scope="module")
def reference_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("exploded")
    top = synthetic.write_topology(root / "topology.pdb", SEQUENCE)
    synthetic.write_dataset(root / "dataset.h5", "cln", SEQUENCE, 4, 300, seed=11)
    import h5py

    with h5py.File(root / "dataset.h5", "a") as fh:  # as aa_md records its speed
        fh["cln"].attrs["aa_ns_per_day_per_core"] = 2.0
    arrays = reference.build_reference(root / "dataset.h5", root / "topology.pdb", "cln",
                                       SETTINGS, 340.0, root / "topology.pdb", seed=5)
    reference.write_reference(arrays, root / "reference.npz", root / "its.png")
    return root, top


def cg_run(folder, top, exploded=None):
    # frames as far apart as the all-atom ones: the CG relaxation then spans several MSM lags
    synthetic.write_cg_run(folder, top, REPLICAS, FRAMES, seed=21, shift=0.1,
                           exploded=exploded, frame_fs=100.0)  # fmt: skip
    (folder / "run.json").write_text(json.dumps(RUN))
    return folder


def scramble_replica(folder, top, replica: int) -> None:
    """Give one replica's frames other positions: a collapsed, shaken chain in another order."""
    import mdtraj as md
    import pandas as pd

    traj = md.load(str(folder / "traj.xtc"), top=top)
    mine = (pd.read_csv(folder / "frames.csv").replica == replica).to_numpy()
    rng = np.random.default_rng(5)
    xyz = traj.xyz[mine][::-1] * 0.7
    traj.xyz[mine] = xyz + 0.05 * rng.standard_normal(xyz.shape)
    traj.save_xtc(str(folder / "traj.xtc"))


def analyse(root, folder):
    result, _, (names, rows) = compare.analyse_model(
        root / "reference.npz", folder / "traj.xtc", folder / "frames.csv",
        root / "topology.pdb", "specific", SETTINGS, 7, run_json=folder / "run.json",
        dataset=root / "dataset.h5", held_out_split=HELD_OUT)  # fmt: skip
    return result, names, rows


STATISTICS = ("fes_mae_weighted_kcal", "js_divergence", "folded_fraction_cg",
              "md_emulation_mae_kcal", "js_divergence_cg_drift", "js_divergence_cg_split",
              "fes_mae_cg_split_kcal", "held_out_fes_mae_weighted_kcal",
              "slowest_timescale_cg_ps", "dynamical_acceleration", "effective_acceleration")


def numbers(result: dict) -> dict:
    """Every number of a metrics dict except the frame counts, which differ by design."""
    return {k: v for k, v in result.items()
            if isinstance(v, (int, float)) and not k.startswith("n_frames_cg")}  # fmt: skip


@pytest.mark.parametrize("replica", [REPLICAS - 1, 1], ids=["last", "inner"])
def test_an_exploded_replica_enters_no_statistic_wherever_it_stopped(reference_files, tmp_path,
                                                                     replica):
    root, top = reference_files
    runs = {kept: analyse(root, cg_run(tmp_path / f"kept{kept}", top, {replica: kept}))
            for kept in (0, 1, 12, FRAMES // 2, FRAMES - 1)}  # fmt: skip
    # the replica's frames are other draws here: were any of them used, numbers would move
    other = cg_run(tmp_path / "other", top, {replica: FRAMES // 2})
    scramble_replica(other, top, replica)
    runs["other"] = analyse(root, other)
    baseline, names, rows = runs[FRAMES // 2]
    assert baseline["n_replicas_cg"] == REPLICAS and baseline["exploded_replicas_cg"] == str(replica)
    defined = {name: baseline[name] for name in STATISTICS}
    assert all(value is not None and np.isfinite(value) for value in defined.values()), defined
    for kept, (result, other_names, other_rows) in runs.items():
        assert numbers(result) == numbers(baseline), kept
        assert other_names == names
        np.testing.assert_array_equal(other_rows, rows)
        # every frame is counted once: used, burn-in of a replica used, or exploded
        assert result["n_frames_cg_total"] == (result["n_frames_cg_used"]
                                               + result["n_frames_cg_burnin"]
                                               + result["n_frames_cg_exploded"])
        assert result["n_frames_cg_exploded"] == (FRAMES // 2 if kept == "other" else kept)
        assert result["n_frames_cg_used"] == (REPLICAS - 1) * (FRAMES - FRAMES // 10)
    # intact, the same replica counts, and its frames move the numbers
    intact = cg_run(tmp_path / "intact", top)
    scrambled = cg_run(tmp_path / "scrambled", top)
    scramble_replica(scrambled, top, replica)
    (a, _, _), (b, _, _) = analyse(root, intact), analyse(root, scrambled)
    assert a["n_replicas_cg_exploded"] == 0
    assert a["fes_mae_weighted_kcal"] != b["fes_mae_weighted_kcal"]


def test_a_replica_without_rows_is_known_from_the_run_record(reference_files, tmp_path):
    """The last replica exploded before its first frame: frames.csv never names it, but the
    run has five, and the bootstrap keeps five units (as the other models of the protein)."""
    _, top = reference_files
    folder = cg_run(tmp_path, top, {REPLICAS - 1: 0})
    ensemble, counts = inputs.load_cg(folder / "traj.xtc", folder / "frames.csv", top, 0.1,
                                      REPLICAS)  # fmt: skip
    assert ensemble.n_units == REPLICAS and counts["exploded_replicas_cg"] == str(REPLICAS - 1)
    _, table_only = inputs.load_cg(folder / "traj.xtc", folder / "frames.csv", top, 0.1)
    assert table_only["n_replicas_cg"] == REPLICAS - 1
    with pytest.raises(Exception, match="run.json records 3 trajectory replicas"):
        inputs.load_cg(folder / "traj.xtc", folder / "frames.csv", top, 0.1, 3)


def test_a_prediction_leaves_an_exploded_replica_out_of_its_intervals(reference_files,
                                                                      tmp_path):
    """Predictions resample the same replicas: a replica cut after 1 or 60 frames changes
    nothing, and the interval of the mean Rg holds its point value."""
    import h5py

    root, top = reference_files
    starts = tmp_path / "starts.h5"
    with h5py.File(root / "dataset.h5") as src, h5py.File(starts, "w") as dst:
        src.copy(src["cln"], dst, "p")
    results = []
    for kept in (1, 60):
        folder = cg_run(tmp_path / f"kept{kept}", top, {2: kept})
        result, _ = analyse_prediction("p", folder / "traj.xtc", folder / "frames.csv",
                                       root / "topology.pdb", starts, SETTINGS, 340.0, 4,
                                       native=root / "topology.pdb",
                                       run_json=folder / "run.json")  # fmt: skip
        results.append(result)
    first, second = results
    assert numbers(first) == numbers(second)
    assert first["n_replicas_cg"] == REPLICAS and first["exploded_replicas_cg"] == "2"
    assert first["rg_mean_ci_low"] <= first["rg_mean"] <= first["rg_mean_ci_high"]
