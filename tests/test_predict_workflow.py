"""Predictions and the leave-one-out model end to end: config/test.yaml's trained run, then
a point mutant with the multi model, a start from a PDB with the protein's own network and
multi_loo for both proteins, through Snakemake."""

import json
import shutil

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import structures

from cgthermo.cgtopology import CGTopology

MUTANT = "AYDPETGTWY"  # cln (YYDPETGTWY) with Y1A


@pytest.fixture(scope="module")
def predicted(test_config_run, tmp_path_factory, repo_root):
    """The shared test run copied (timestamps kept, so nothing upstream reruns) and extended."""
    import sys

    sys.path.insert(0, str(repo_root / "tests"))
    from slurm.snakemake_plan import run_snakemake

    work = tmp_path_factory.mktemp("predict_run")
    shutil.copytree(test_config_run / "results", work / "results")
    pdb = structures.chignolin(work)
    extra = {
        "models": ["prior_only", "specific", "multi", "multi_loo"],
        "predict": [
            {"name": "cln_y1a", "sequence": MUTANT, "parent": "cln"},
            {"name": "cln_self", "sequence": "YYDPETGTWY", "parent": "cln"},
            {"name": "cln_pdb", "pdb": str(pdb), "parent": "cln", "model": "specific",
             "starts": "pdb"},
            # no parent: states of its own, placed against the native structure
            {"name": "cln_free", "sequence": "YYDPETGTWY", "model": "multi", "native": str(pdb)},
        ],
    }  # fmt: skip
    (work / "extra.yaml").write_text(yaml.safe_dump(extra))
    run_snakemake(["--workflow-profile", repo_root / "profiles/default", "--cores", 2,
                   "--rerun-triggers", "mtime", "--configfile", repo_root / "config/test.yaml",
                   work / "extra.yaml"], cwd=work)  # fmt: skip
    return work / "results"


def test_the_mutant_starts_where_its_parent_does_with_its_own_bead_types(predicted, repo_root):
    from cgthermo.cgsim.settings import SimSettings
    from cgthermo.cgsim.starts import load_start_data, start_frames
    from cgthermo.config import load

    config = load(repo_root / "config/test.yaml")
    settings = SimSettings.from_config(config, "cln", "multi")
    parent = load_start_data(predicted / "cln/cg/dataset.h5", "cln")
    expected = parent.pos[start_frames(parent, settings.replicas, settings.start_seed,
                                       settings.starts)]  # fmt: skip
    with h5py.File(predicted / "predictions/cln_y1a/cg/starts.h5") as h5:
        starts, types = h5["cln_y1a"]["pos"][:], h5["cln_y1a"]["types"][:]
    np.testing.assert_allclose(starts, expected, atol=1e-4)
    wild = CGTopology.from_pdb(predicted / "cln/cg/topology.pdb").embeddings
    assert np.flatnonzero(types != wild).tolist() == [0]
    # the multi prior (fitted on cln and pep) has no (ALA, TYR) bond: the parent's bond at that
    # position, (TYR, TYR), stands in for it
    record = json.loads((predicted / "predictions/cln_y1a/prepare.json").read_text())
    assert "bonds (ALA, TYR): the parent's (TYR, TYR) at position 1" in record["prior_filled"]


def test_a_pdb_start_is_the_pdbs_calpha_atoms_in_angstrom(predicted):
    from cgthermo.aa.pdbinput import ca_positions_angstrom

    pdb = predicted.parent / "cln.pdb"
    with h5py.File(predicted / "predictions/cln_pdb/cg/starts.h5") as h5:
        starts = h5["cln_pdb"]["pos"][:]
    assert starts.shape == (1, 10, 3)
    np.testing.assert_allclose(starts[0], ca_positions_angstrom(pdb), atol=1e-4)


def test_each_prediction_has_trajectory_metrics_with_intervals_and_parent_readouts(predicted):
    table = pd.read_csv(predicted / "predictions.csv").set_index("prediction")
    assert set(table.index) == {"cln_y1a", "cln_pdb", "cln_self", "cln_free"}
    for name in ("cln_y1a", "cln_pdb", "cln_self"):
        metrics = json.loads((predicted / f"predictions/{name}/analysis/metrics.json").read_text())
        assert metrics["n_frames_cg_total"] == 4 * 40  # 4 replicas × 400 steps / 10
        # radius of gyration of a 10-bead Cα chain: between a ball and a straight rod, in Å
        assert 4.0 < metrics["rg_mean"] < 12.0
        assert metrics["rg_mean_ci_low"] <= metrics["rg_mean"] <= metrics["rg_mean_ci_high"]
        # in the parent's TICA space against the parent's all-atom data
        assert metrics["parent"] == "cln" and "parent_js_divergence" in metrics
        assert "ddG_fold_kcal" in metrics and metrics["ddG_fold_verdict"] in (
            "stabilised", "destabilised", "not resolved")  # fmt: skip
        assert (predicted / f"predictions/{name}/analysis/figure.png").stat().st_size > 1000
    assert "<h2>Predictions</h2>" in (predicted / "report.html").read_text()


def test_the_parents_own_sequence_reproduces_the_parents_run(predicted):
    """The identity control: chignolin predicted as its own mutant, by the multi model from
    its own starts with its own noise, is the parent's multi run frame for frame, so its ΔΔG
    is 0 with an interval that contains 0 and no verdict."""
    import mdtraj

    top = str(predicted / "cln/cg/topology.pdb")
    own = mdtraj.load(str(predicted / "predictions/cln_self/cgsim/traj.xtc"), top=top)
    parent = mdtraj.load(str(predicted / "cln/cgsim/multi/traj.xtc"), top=top)
    np.testing.assert_array_equal(own.xyz, parent.xyz)
    metrics = json.loads((predicted / "predictions/cln_self/analysis/metrics.json").read_text())
    assert metrics["ddG_fold_verdict"] == "not resolved"
    if metrics["ddG_fold_kcal"] is not None:  # undefined where the runs never fold
        assert metrics["ddG_fold_kcal"] == 0.0
    if metrics["ddG_fold_kcal_ci_low"] is not None:  # undefined in too many resamples at 4 replicas
        assert metrics["ddG_fold_kcal_ci_low"] == metrics["ddG_fold_kcal_ci_high"] == 0.0


def test_the_leave_one_out_model_never_saw_its_protein(predicted):
    for protein, other in (("cln", "pep"), ("pep", "cln")):
        test = json.loads((predicted / f"multi_loo/{protein}/model/test.json").read_text())
        assert list(test["per_protein"]) == [other]
        with h5py.File(predicted / f"multi_loo/{protein}/cg/delta.h5") as h5:
            assert [g for g in h5 if g != "_metadata"] == [other]
        metrics = json.loads((predicted / f"{protein}/analysis/multi_loo/metrics.json").read_text())
        assert metrics["model"] == "multi_loo"
        assert "fes_mae_weighted_kcal_ci_low" in metrics
    # pep (KAAWAE) has no tyrosine: the prior cln is simulated with fills its type in
    extended = (predicted / "multi_loo/cln/prior/extended.yaml").read_text()
    assert "bead type TYR" in extended
    summary = pd.read_csv(predicted / "summary.csv")
    assert set(summary.model) == {"prior_only", "specific", "multi", "multi_loo"}


def test_every_prediction_has_its_states_structures_and_secondary_structure(predicted):
    import mdtraj

    for name in ("cln_y1a", "cln_free"):
        folder = predicted / f"predictions/{name}/analysis"
        record = json.loads((folder / "structures.json").read_text())
        assert (folder / "dssp.png").stat().st_size > 1000
        written = [s for s in record["states"] if s["pdb_model"]]
        if written:
            assert mdtraj.load(str(folder / "states.pdb")).n_frames == len(written)
        fractions = np.array(record["dssp"]["fraction_cg"], dtype=float)
        assert fractions.shape == (10, 4)
        assert np.all(fractions.sum(axis=1) <= 1.0 + 1e-9)  # a residue is in one class at most
    assert json.loads((predicted / "predictions/cln_y1a/analysis/structures.json").read_text())[
        "parent"] == "cln"
    free = json.loads((predicted / "predictions/cln_free/analysis/structures.json").read_text())
    assert free["parent"] is None and free["native"]
    populations = [s["population"] for s in free["states"]]
    assert sum(populations) == pytest.approx(1.0)  # every frame in one state
    for state in free["states"]:
        if state["population_ci_low"] is not None:
            assert state["population_ci_low"] <= state["population"] <= state["population_ci_high"]
        if state["pdb_model"]:
            # a 10-bead chain's medoid is a few Å from a folded hairpin, never beyond a rod's reach
            assert 0.0 < state["rmsd_native_A"] < 15.0
    assert "Predicted states in 3-D" in (predicted / "report.html").read_text()
