"""The analysis stage end to end on small synthetic inputs laid out as the workflow writes them,
and its one-line errors for bad CG trajectories."""

import json

import numpy as np
import pandas as pd
import pytest
from helpers import analysis_synthetic as synthetic

from cgthermo.analysis import compare, reference, structure, summary
from cgthermo.analysis import report as html_report
from cgthermo.analysis.rules import AnalysisRules
from cgthermo.errors import CgthermoError

PROTEINS = {"cln": "YYDPETGTWY", "pep": "KAAWAEYW"}
# shift of the CG mixing coordinate: prior_only far off, specific exact, multi a little off
MODELS = {"prior_only": 0.5, "specific": 0.0, "multi": 0.15}
SETTINGS = synthetic.SETTINGS


def outputs(results, protein, model):
    base = results / protein / "analysis" / model
    return {
        "metrics": base / "metrics.json",
        "resamples": base / "resamples.npz",
        "fes": base / "fes.png",
        "tica_1d": base / "tica_1d.png",
        "rmsd": base / "rmsd.png",
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A results folder with cg/ and cgsim/ inputs for two proteins × three models, analysed."""
    root = tmp_path_factory.mktemp("results")
    for k, (protein, sequence) in enumerate(PROTEINS.items()):
        cg = root / protein / "cg"
        cg.mkdir(parents=True)
        top = synthetic.write_topology(cg / "topology.pdb", sequence)
        synthetic.write_dataset(cg / "dataset.h5", protein, sequence, 2, 400, seed=10 + k)
        for m, (model, shift) in enumerate(MODELS.items()):
            synthetic.write_cg_run(
                root / protein / "cgsim" / model, top, replicas=4, frames=200,
                seed=100 * k + m, shift=shift, exploded={3: 100},
            )  # fmt: skip
        # cln has a native structure (the compact conformation), pep uses the MSM medoid
        native = cg / "topology.pdb" if protein == "cln" else None
        arrays = reference.build_reference(
            cg / "dataset.h5", cg / "topology.pdb", protein, SETTINGS, 340.0, native, seed=5
        )
        analysis = root / protein / "analysis"
        reference.write_reference(arrays, analysis / "reference.npz", analysis / "msm_its.png")
        for model in MODELS:
            sim = root / protein / "cgsim" / model
            compare.run_analysis(
                analysis / "reference.npz", sim / "traj.xtc", sim / "frames.csv",
                cg / "topology.pdb", model, SETTINGS, 7, outputs(root, protein, model),
            )  # fmt: skip
            mean_force_figure(arrays, cg / "dataset.h5", protein, root / protein / "analysis" / model)
            secondary_structure_figure(cg / "dataset.h5", protein, sequence,
                                       root / protein / "analysis" / model)  # fmt: skip
    return root


def secondary_structure_figure(dataset, protein, sequence, folder):
    """dssp.png of two all-atom frames against themselves (the figure, not a comparison)."""
    import h5py

    from cgthermo.structures import dssp, gallery

    with h5py.File(dataset) as fh:
        pos = fh[protein]["pos"][:2]
    sums = dssp.unit_sums(dssp.class_indicator(dssp.frame_codes(pos, sequence)), [0, 1],
                         np.ones(2), 2)  # fmt: skip
    m = np.ones((4, 2))
    comparison = dssp.compare(sums, sums, m, m, lambda s: (*np.nanpercentile(s, [2.5, 97.5]), 1.0))
    gallery.plot_profiles(comparison, sequence, folder / "dssp.png")


def mean_force_figure(arrays, dataset, protein, folder):
    """The meanforce outputs of the mapped forces alone (no prior or network here)."""
    import h5py

    from cgthermo.analysis import diagnose, meanforce

    with h5py.File(dataset) as fh:
        pos, forces, replica = (fh[protein][k][:] for k in ("pos", "forces", "replica"))
    unit, splits = diagnose.replica_splits(replica, None)
    frames = meanforce.Frames(pos.astype(float), {"mapped": forces}, unit, 2, 340.0)
    variables = meanforce.protein_variables(arrays["reference_structure"], arrays["tica_mean"],
                                            arrays["tica_eigenvectors"], arrays["pairs"])  # fmt: skip
    table, pmf, summary = meanforce.diagnose(variables, frames, splits, None,
                                             {"bins": 10, "min_frames": 5, "resamples": 20}, 0)  # fmt: skip
    diagnose.write(table, pmf, summary, {name: folder / f"meanforce.{ext}" for name, ext in
                                         (("figure", "png"), ("forces", "csv"),
                                          ("pmf", "pmf.csv"), ("summary", "json"))}, protein)  # fmt: skip


def metric_files(results):
    return [outputs(results, p, m)["metrics"] for p in PROTEINS for m in MODELS]


def resample_files(results):
    return [outputs(results, p, m)["resamples"] for p in PROTEINS for m in MODELS]


def test_every_model_gets_metrics_and_figures(results):
    floors = {}
    for protein in PROTEINS:
        assert (results / protein / "analysis" / "msm_its.png").stat().st_size > 0
        for model in MODELS:
            files = outputs(results, protein, model)
            assert all(path.stat().st_size > 0 for path in files.values())
            data = json.loads(files["metrics"].read_text())
            assert data["protein"] == protein and data["model"] == model
            # 4 replicas × 200 frames, but replica 3 exploded after 100 and is left out whole;
            # 20 frames of burn-in in each of the other three
            assert data["n_frames_cg_total"] == 700 and data["n_frames_cg_exploded"] == 100
            assert data["n_frames_cg_burnin"] == 60
            assert data["n_frames_cg_used"] == 700 - 60 - 100
            assert data["n_replicas_cg"] == 4 and data["exploded_replicas_cg"] == "3"
            assert 0.0 <= data["js_divergence"] <= 1.0
            assert 0.0 < data["coverage"] <= 1.0
            # every shared bin is an all-atom-populated bin: at most the whole reference
            assert data["coverage"] == 1.0 or data["aa_mass_shared"] < 1.0
            assert 0.0 < data["aa_mass_shared"] <= 1.0 + 1e-12
            assert data["distance_mae_A"] > 0.0 and 3.0 < data["rg_mean_cg"] < 15.0
            # the all-atom noise floor is the same number for every model of a protein
            assert 0.0 < data["js_divergence_aa_split"] < 1.0
            assert data["fes_mae_aa_split_kcal"] > data["fes_mae_weighted_aa_split_kcal"] > 0.0
            floor = (data["fes_mae_aa_split_kcal"], data["js_divergence_aa_split"])
            assert floors.setdefault(protein, floor) == floor
            # each model's own sampling noise (even vs odd CG replicas)
            assert 0.0 < data["js_divergence_cg_split"] < 1.0
            assert data["fes_mae_cg_split_kcal"] > 0.0


def test_metrics_rank_models_by_their_distance_from_the_reference(results):
    for protein in PROTEINS:
        mae = {m: json.loads(outputs(results, protein, m)["metrics"].read_text()) for m in MODELS}
        assert mae["specific"]["js_divergence"] < mae["prior_only"]["js_divergence"]
        assert mae["specific"]["fes_mae_kcal"] < mae["prior_only"]["fes_mae_kcal"]
        assert (mae["specific"]["fes_mae_weighted_kcal"]
                < mae["prior_only"]["fes_mae_weighted_kcal"])  # fmt: skip


def test_radius_of_gyration_of_a_ring_is_its_radius():
    angles = np.linspace(0.0, 2.0 * np.pi, 10, endpoint=False)
    ring = np.stack([4.0 * np.cos(angles), 4.0 * np.sin(angles), np.zeros(10)], axis=1)
    frames = np.stack([ring, 2.0 * ring + 7.0])  # scaled and translated
    np.testing.assert_allclose(structure.radius_of_gyration(frames), [4.0, 8.0], rtol=1e-12)


def test_unit_pair_sums_follow_the_frame_weights():
    from cgthermo.analysis import inputs, reference

    top = synthetic.ca_topology("AAA")
    line = np.array([[0.0, 0, 0], [3.8, 0, 0], [7.6, 0, 0]], dtype=np.float32)
    ensemble = inputs.Ensemble([line[None], (2.0 * line)[None]], "two frames", replicas=[0, 1])
    weights = [np.array([0.75]), np.array([0.25])]
    observed = reference.observables_and_unit_sums(ensemble, weights, np.array([[0, 2]]), line,
                                                   np.empty((0, 2), int), 8.0, top)  # fmt: skip
    np.testing.assert_allclose(observed["unit_pair_sums"], [[0.75 * 7.6], [0.25 * 15.2]],
                               rtol=1e-5)  # fmt: skip
    np.testing.assert_allclose(observed["rg"], [np.sqrt(2 * 3.8**2 / 3), 2 * np.sqrt(2 * 3.8**2 / 3)],
                               rtol=1e-5)  # fmt: skip
    assert list(observed["frame_unit"]) == [0, 1]


def test_native_structure_gives_contacts_and_folding_free_energy(results):
    cln = json.loads(outputs(results, "cln", "specific")["metrics"].read_text())
    assert cln["reference_structure"].startswith("native")
    assert 0.0 < cln["q_mean_aa"] <= 1.0
    assert 0.0 < cln["folded_fraction_aa"] < 1.0
    kT = 0.0019872041 * 340.0
    p = cln["folded_fraction_aa"]
    assert cln["dG_fold_aa_kcal"] == pytest.approx(-kT * np.log(p / (1 - p)))
    pep = json.loads(outputs(results, "pep", "specific")["metrics"].read_text())
    assert pep["reference_structure"].startswith("medoid")


def test_summary_and_report_cover_every_protein_and_model(results):
    table = summary.write_summary(metric_files(results), results / "summary.csv",
                                  resample_files(results))
    on_disk = pd.read_csv(results / "summary.csv")
    assert len(on_disk) == len(PROTEINS) * len(MODELS) == len(table)
    assert list(on_disk.model[:3]) == ["prior_only", "specific", "multi"]
    keys = json.loads(outputs(results, "cln", "multi")["metrics"].read_text()).keys()
    assert set(keys) <= set(on_disk.columns)
    baseline = on_disk[on_disk.model == "prior_only"]
    assert baseline["js_divergence_vs_prior_only"].isna().all()
    specific = on_disk[on_disk.model == "specific"]
    # the exact model against the one shifted far off: a difference the intervals resolve
    assert (specific["js_divergence_vs_prior_only_ci_high"] < 0).all()
    assert (specific["js_divergence_verdict"] == "better").all()
    for metric in ("fes_mae_weighted_kcal", "md_emulation_mae_kcal", "js_divergence"):
        assert (on_disk[f"{metric}_ci_low"] < on_disk[f"{metric}_ci_high"]).all()
    # the far-off model's interval lies above the exact model's on the JS divergence
    assert (specific["js_divergence_ci_high"].to_numpy()
            < baseline["js_divergence_ci_low"].to_numpy()).all()

    rules = AnalysisRules(
        {
            "results": str(results),
            "proteins": [{"name": p} for p in PROTEINS],
            "models": list(MODELS),
        }
    )
    assert [str(p) for p in metric_files(results)] == rules.metrics_files()
    html_report.write_report(
        results / "summary.csv", rules.figure_files(), list(PROTEINS), list(MODELS),
        results / "report.html",
    )  # fmt: skip
    page = (results / "report.html").read_text()
    # one implied-timescale plot per protein and five figures per model, all embedded
    assert page.count('src="data:image/png;base64,') == len(PROTEINS) * (1 + 5 * len(MODELS))
    assert "<table" in page and "fes_mae_kcal" in page and 'src="http' not in page
    verdicts = page[page.index("<h2>Verdicts against"):page.index("<h2>Summary</h2>")]
    assert verdicts.count("<b>specific</b>, Jensen–Shannon divergence") == len(PROTEINS)
    assert "closer to all-atom than the prior alone" in verdicts


def test_cg_trajectory_with_wrong_bead_count_is_refused(results, tmp_path):
    other = synthetic.ca_topology("KAAWAE")
    synthetic.write_cg_run(tmp_path, other, replicas=2, frames=20, seed=1)
    out = outputs(tmp_path, "cln", "specific")
    with pytest.raises(CgthermoError) as err:
        compare.run_analysis(
            results / "cln" / "analysis" / "reference.npz", tmp_path / "traj.xtc",
            tmp_path / "frames.csv", results / "cln" / "cg" / "topology.pdb", "specific", SETTINGS, 7, out,
        )  # fmt: skip
    message = str(err.value)
    assert "traj.xtc" in message and "6 beads" in message and "\n" not in message
    assert not any(path.exists() for path in out.values())


def test_empty_cg_trajectory_is_refused(results, tmp_path):
    (tmp_path / "traj.xtc").write_bytes(b"")
    (tmp_path / "frames.csv").write_text("replica,frame,step,time_fs,exploded\n")
    out = outputs(tmp_path, "cln", "specific")
    with pytest.raises(CgthermoError, match=r"traj\.xtc is empty") as err:
        compare.run_analysis(
            results / "cln" / "analysis" / "reference.npz", tmp_path / "traj.xtc",
            tmp_path / "frames.csv", results / "cln" / "cg" / "topology.pdb", "specific", SETTINGS, 7, out,
        )  # fmt: skip
    assert "\n" not in str(err.value)
    assert not any(path.exists() for path in out.values())


def test_frames_table_must_match_the_trajectory(results, tmp_path):
    top = synthetic.write_topology(tmp_path / "top.pdb", PROTEINS["cln"])
    synthetic.write_cg_run(tmp_path, top, replicas=2, frames=20, seed=1)
    table = pd.read_csv(tmp_path / "frames.csv")
    table.iloc[:-1].to_csv(tmp_path / "frames.csv", index=False)
    with pytest.raises(CgthermoError, match="39 rows but the trajectory has 40 frames"):
        compare.analyse_model(
            results / "cln" / "analysis" / "reference.npz", tmp_path / "traj.xtc",
            tmp_path / "frames.csv", results / "cln" / "cg" / "topology.pdb", "specific", SETTINGS, 7,
        )  # fmt: skip


def test_all_exploded_trajectory_is_refused(results, tmp_path):
    top = synthetic.write_topology(tmp_path / "top.pdb", PROTEINS["cln"])
    synthetic.write_cg_run(tmp_path, top, replicas=1, frames=20, seed=1)
    table = pd.read_csv(tmp_path / "frames.csv")
    table["exploded"] = True
    table.to_csv(tmp_path / "frames.csv", index=False)
    with pytest.raises(CgthermoError, match="no frames left"):
        compare.analyse_model(
            results / "cln" / "analysis" / "reference.npz", tmp_path / "traj.xtc",
            tmp_path / "frames.csv", results / "cln" / "cg" / "topology.pdb", "specific", SETTINGS, 7,
        )  # fmt: skip


def test_report_names_a_missing_figure(results, tmp_path):
    rules = AnalysisRules(
        {
            "results": str(results),
            "proteins": [{"name": p} for p in PROTEINS],
            "models": list(MODELS),
        }
    )
    figures = [f for f in rules.figure_files() if not f.endswith("pep/analysis/multi/rmsd.png")]
    summary.write_summary(metric_files(results), tmp_path / "summary.csv")
    with pytest.raises(CgthermoError, match="lacks figure rmsd.png of pep/multi"):
        html_report.write_report(
            tmp_path / "summary.csv", figures, list(PROTEINS), list(MODELS), tmp_path / "r.html"
        )
    assert not (tmp_path / "r.html").exists()


def test_missing_metrics_file_is_named(tmp_path):
    with pytest.raises(CgthermoError, match="missing input file .*metrics.json"):
        summary.write_summary([tmp_path / "metrics.json"], tmp_path / "summary.csv")
    assert not (tmp_path / "summary.csv").exists()
