"""Scoring against a converged reference artifact (analysis.converged).

The artifact is a run's reference.npz thinned and stored compressed. Made from the run's own
reference at stride 1 it must score a model exactly as the run's own metrics do; thinned, it
must agree within the intervals; one made for another protein, temperature or chain length
is refused before anything runs.
"""

import json

import numpy as np
import pandas as pd
import pytest
from helpers import analysis_synthetic as synthetic

from cgthermo.analysis import compare, converged, reference, report, summary
from cgthermo.errors import CgthermoError

SEQUENCE = "YYDPETGTWY"
SETTINGS = {**synthetic.SETTINGS, "bootstrap_resamples": 200}
RUN = {"sampler": "langevin", "replicas": 4, "trajectory_replicas": 4}
TEMPERATURE = 340.0


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("converged")
    top = synthetic.write_topology(root / "topology.pdb", SEQUENCE)
    synthetic.write_dataset(root / "dataset.h5", "cln", SEQUENCE, 6, 300, seed=11)
    arrays = reference.build_reference(root / "dataset.h5", root / "topology.pdb", "cln",
                                       SETTINGS, TEMPERATURE,
                                       seed=5)  # fmt: skip
    reference.write_reference(arrays, root / "reference.npz", root / "its.png")
    for model, shift in (("prior_only", 0.4), ("specific", 0.1)):
        folder = root / model
        synthetic.write_cg_run(folder, top, 4, 150, seed=21, shift=shift)
        (folder / "run.json").write_text(json.dumps(RUN))
    return root, arrays


def artifact(root, arrays, stride: int, name: str):
    path = root / name
    converged.write_artifact(converged.thin(arrays, stride, SEQUENCE, "test"), path)
    return path


def analyse(root, model: str, converged_npz):
    folder = root / model
    return compare.analyse_model(root / "reference.npz", folder / "traj.xtc",
                                 folder / "frames.csv", root / "topology.pdb", model, SETTINGS,
                                 7, run_json=folder / "run.json",
                                 converged_npz=converged_npz)  # fmt: skip


def test_the_run_own_reference_as_artifact_scores_as_the_run_own_metrics(files):
    root, arrays = files
    result, _, (names, rows) = analyse(root, "specific", artifact(root, arrays, 1, "same.npz"))
    compared = converged.compared_metrics()
    defined = [m for m in compared if result.get(m) is not None]
    assert {"fes_mae_weighted_kcal", "js_divergence", "folded_fraction_aa"} <= set(defined)
    for metric in defined:
        assert result[f"converged_{metric}"] == pytest.approx(result[metric], rel=1e-9), metric
    # its own draw of the all-atom replicas: the intervals are other resamples of one truth
    column = names.index("converged_fes_mae_weighted_kcal")
    assert np.isfinite(rows[:, column]).all()
    assert result["converged_n_replicas_aa"] == 6


def test_a_thinned_artifact_agrees_within_the_intervals(files):
    root, arrays = files
    full, _, _ = analyse(root, "specific", artifact(root, arrays, 1, "full.npz"))
    thinned, _, _ = analyse(root, "specific", artifact(root, arrays, 3, "thin.npz"))
    for metric in ("fes_mae_weighted_kcal", "folded_fraction_aa", "js_divergence"):
        key = f"converged_{metric}"
        assert thinned[f"{key}_ci_low"] <= full[key] <= thinned[f"{key}_ci_high"], metric
        assert thinned[key] != full[key]  # thinning dropped frames the metric saw
    thin = converged.read(root / "thin.npz")
    assert thin["weights"].sum() == pytest.approx(1.0)
    assert len(thin["tics"]) == sum(-(-n // 3) for n in np.bincount(arrays["frame_unit"]))
    # each replica keeps its mean pair distances
    np.testing.assert_allclose(thin["unit_pair_sums"] / thin["unit_pair_sums"].sum(axis=1)[:, None],
                               arrays["unit_pair_sums"] / arrays["unit_pair_sums"].sum(axis=1)[:, None])


def test_paired_verdicts_against_the_converged_reference(files, tmp_path):
    """summary.csv pairs the two models on the converged metrics' resamples as on their own."""
    root, arrays = files
    path = artifact(root, arrays, 2, "paired.npz")
    metric_paths, resample_paths = [], []
    for model in ("prior_only", "specific"):
        result, figures, table = analyse(root, model, path)
        out = tmp_path / "cln" / "analysis" / model
        out.mkdir(parents=True)
        compare.write_resamples(table, out / "resamples.npz")
        (out / "metrics.json").write_text(json.dumps(result))
        metric_paths.append(out / "metrics.json")
        resample_paths.append(out / "resamples.npz")
    table = summary.summarise(metric_paths, resample_paths)
    row = table[table.model == "specific"].iloc[0]
    key = "converged_fes_mae_weighted_kcal_vs_prior_only"
    low, high = row[f"{key}_ci_low"], row[f"{key}_ci_high"]
    assert low <= row[key] <= high
    assert row["converged_fes_mae_weighted_kcal_verdict"] in ("better", "worse", "not resolved")
    resampled = [pd.DataFrame(np.load(p)["rows"], columns=list(np.load(p)["metrics"]))
                 for p in resample_paths]
    diff = (resampled[1]["converged_fes_mae_weighted_kcal"]
            - resampled[0]["converged_fes_mae_weighted_kcal"]).to_numpy()
    assert low == pytest.approx(np.percentile(diff[np.isfinite(diff)], 2.5))
    table.to_csv(tmp_path / "summary.csv", index=False)
    section = report.converged_section(table)
    assert section.index("<b>specific</b>, FES error at the all-atom frames") < section.index(
        "<b>prior_only</b>: folded fraction")


@pytest.mark.parametrize(("protein", "beads", "temperature", "message"), [
    ("trp", 10, TEMPERATURE, "converged reference of 'cln', not of 'trp'"),
    ("cln", 10, 300.0, "simulated at 340 K, 'cln' at 300 K"),
    ("cln", 12, TEMPERATURE, "has 10 beads, 'cln' 12"),
])  # fmt: skip
def test_an_artifact_of_another_system_is_refused(files, protein, beads, temperature, message):
    root, arrays = files
    path = artifact(root, arrays, 2, "refused.npz")
    with pytest.raises(CgthermoError, match=message):
        converged.load_artifact(path, protein, beads, temperature)


def test_a_plain_reference_is_not_an_artifact(files):
    root, _ = files
    with pytest.raises(CgthermoError, match="not a converged reference artifact"):
        converged.load_artifact(root / "reference.npz", "cln", 10, TEMPERATURE)


def test_the_convergence_record_brackets_its_own_numbers(files):
    """Folded fraction and split floor sit inside their replica-bootstrap intervals; the
    macrostate populations add up to the connected set's share of the frames."""
    _, arrays = files
    record = converged.convergence_record(arrays, converged.macrostates(arrays, 2), seed=3,
                                          n_resamples=300)  # fmt: skip
    low, high = record["folded_fraction_ci"]
    assert low <= record["folded_fraction"] <= high
    low, high = record["split_floor_ci"]
    assert low <= record["split_floor_fes_mae_weighted_kcal"] <= high
    populations = [m["population"] for m in record["macrostates"]]
    assert 0.0 < sum(populations) <= 1.0 + 1e-3 and min(populations) > 0


def test_a_run_of_the_reference_frames_has_the_reference_macrostate_populations(tmp_path):
    """A 'model' whose frames are the reference's own (uniform weights): every macrostate
    population matches, against the converged artifact's states and the run's own, the log
    ratios are 0 within the xtc's rounding, and every major macrostate lies within a
    factor e."""
    import h5py
    import mdtraj as md

    settings = {**SETTINGS, "reweight": "histogram"}
    top = synthetic.write_topology(tmp_path / "topology.pdb", SEQUENCE)
    synthetic.write_dataset(tmp_path / "dataset.h5", "cln", SEQUENCE, 6, 300, seed=12)
    arrays = reference.build_reference(tmp_path / "dataset.h5", tmp_path / "topology.pdb", "cln",
                                       settings, TEMPERATURE, seed=5)  # fmt: skip
    reference.write_reference(arrays, tmp_path / "reference.npz", tmp_path / "its.png")
    path = tmp_path / "macro.npz"
    converged.write_artifact(converged.thin(arrays, 1, SEQUENCE, "test",
                                            converged.macrostates(arrays, 2)), path)  # fmt: skip
    with h5py.File(tmp_path / "dataset.h5") as fh:
        pos, replica = fh["cln/pos"][:], fh["cln/replica"][:]
    folder = tmp_path / "same"
    folder.mkdir()
    md.Trajectory(pos / 10.0, top).save_xtc(str(folder / "traj.xtc"))
    frame = np.concatenate([np.arange((replica == r).sum()) for r in np.unique(replica)])
    pd.DataFrame({"replica": replica, "frame": frame, "step": frame * 10,
                  "time_fs": frame * 10.0, "exploded": False}).to_csv(folder / "frames.csv",
                                                                     index=False)  # fmt: skip
    (folder / "run.json").write_text(json.dumps({**RUN, "replicas": 6, "trajectory_replicas": 6}))
    result, _, _ = compare.analyse_model(tmp_path / "reference.npz", folder / "traj.xtc",
                                         folder / "frames.csv", tmp_path / "topology.pdb",
                                         "specific", {**settings, "cg_burnin_fraction": 0.0},
                                         7, run_json=folder / "run.json",
                                         converged_npz=path)  # fmt: skip
    assert result["converged_macrostates"] == 2
    for k in range(2):
        key = f"converged_macrostate{k}"
        assert result[f"{key}_population_cg"] == pytest.approx(result[f"{key}_population_aa"],
                                                               abs=0.01)  # fmt: skip
        assert abs(result[f"{key}_log_ratio"]) < 0.05
    assert result["converged_macrostates_within_e"] == result["converged_macrostates_major"] >= 1
    # the run's own reference has its own macrostates (analysis.n_macrostates, 3 by default)
    assert result["macrostates"] == 3
    for k in range(3):
        assert result[f"macrostate{k}_population_cg"] == pytest.approx(
            result[f"macrostate{k}_population_aa"], abs=0.01)


def test_the_script_writes_an_artifact_a_folded_pdb_usable_as_native_and_a_record(files,
                                                                                  tmp_path):
    """scripts/converged_reference.py on a results folder: the artifact loads for its
    protein, the folded PDB passes the `native` check and holds the reference structure,
    and the record brackets its folded fraction."""
    import runpy
    import shutil
    import sys
    from pathlib import Path

    from cgthermo import preflight
    from cgthermo.analysis.inputs import load_native_ca, load_topology

    root, _ = files
    results = tmp_path / "results" / "cln"
    (results / "analysis").mkdir(parents=True)
    (results / "cg").mkdir()
    shutil.copy(root / "reference.npz", results / "analysis" / "reference.npz")
    shutil.copy(root / "topology.pdb", results / "cg" / "topology.pdb")
    argv = sys.argv
    sys.argv = ["converged_reference.py", str(tmp_path / "results"), "cln", str(tmp_path / "out"),
                "--stride", "2", "--macrostates", "2", "--resamples", "100"]
    try:
        runpy.run_path(str(Path(__file__).parents[1] / "scripts" / "converged_reference.py"),
                       run_name="__main__")
    finally:
        sys.argv = argv
    artifact = converged.load_artifact(tmp_path / "out" / "cln.npz", "cln", 10, TEMPERATURE)
    assert int(artifact["converged_stride"]) == 2 and "frame_macrostate" in artifact
    folded = tmp_path / "out" / "cln_folded.pdb"
    entry = {"name": "cln", "sequence": SEQUENCE, "native": str(folded)}
    assert preflight.native_problems(entry, 3) == []
    np.testing.assert_allclose(load_native_ca(folded, load_topology(root / "topology.pdb")),
                               artifact["reference_structure"], atol=1e-3)
    record = json.loads((tmp_path / "out" / "cln.json").read_text())
    low, high = record["folded_fraction_ci"]
    assert low <= record["folded_fraction"] <= high and "converged_reference.py" in record["made_by"]


def test_an_msm_too_small_for_its_macrostates_gives_none():
    """Two connected microstates cannot be split into three macrostates: every microstate
    is outside any macrostate (−1), with a WARNING, and a model is compared on none."""
    from cgthermo.analysis import kinetics, states

    rng = np.random.default_rng(2)
    dtraj = (np.cumsum(rng.random(2000) < 0.05) % 2).astype(np.int64)
    msm = kinetics.estimate_msm([dtraj], 2)
    of_state = states.crisp_macrostates(msm, 2, 3)
    assert (of_state == -1).all()
    hits, weight = states.unit_populations(of_state[dtraj], np.zeros(2000, int), np.ones(2000), 1, 0)
    assert hits.shape == (1, 0) and weight[0] == 2000


def test_each_network_share_is_scored_against_the_reference_as_against_the_run(files):
    """With two networks each share is scored against the converged reference too: made from
    the run's own reference at stride 1, every share's converged metric is that share's own."""
    root, arrays = files
    folder = root / "specific"
    result, _, (names, _) = compare.analyse_model(
        root / "reference.npz", folder / "traj.xtc", folder / "frames.csv",
        root / "topology.pdb", "specific", SETTINGS, 7, run_json=folder / "run.json",
        converged_npz=artifact(root, arrays, 1, "shares.npz"), networks=2)  # fmt: skip
    for j in (0, 1):
        for metric in ("fes_mae_weighted_kcal", "folded_fraction_abs_error"):
            share = f"network{j}_{metric}"
            assert f"converged_{share}" in names
            assert result[f"converged_{share}"] == pytest.approx(result[share], rel=1e-9)
    assert result["converged_network0_folded_fraction_abs_error"] != pytest.approx(
        result["converged_network1_folded_fraction_abs_error"])
