"""analysis.refit_tica: every resample fits TICA and the grids again. The point value and
every observable outside TICA are those of the fixed-coordinate analysis; a resample that
draws every replica once lands back in the stored coordinates."""

import numpy as np
import pytest
from helpers import analysis_synthetic as synthetic

from cgthermo.analysis import bootstrap, compare, emulation, inputs, reference, refit, structure

SETTINGS = {**synthetic.SETTINGS, "reweight": "histogram"}
TICA_FREE = ("folded_fraction_cg", "folded_fraction_abs_error", "rmsd_mean_cg", "rg_mean_cg")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("refit")
    cg = root / "cg"
    cg.mkdir()
    top = synthetic.write_topology(cg / "topology.pdb", "YYDPETGTWY")
    synthetic.write_dataset(cg / "dataset.h5", "cln", "YYDPETGTWY", 4, 300, seed=3)
    synthetic.write_cg_run(root / "sim", top, replicas=6, frames=200, seed=4, shift=0.2)
    arrays = reference.build_reference(cg / "dataset.h5", cg / "topology.pdb", "cln", SETTINGS,
                                       340.0, cg / "topology.pdb", seed=5)  # fmt: skip
    reference.write_reference(arrays, root / "reference.npz", root / "its.png")
    return root


def analyse(run, refit_tica: bool):
    sim = run / "sim"
    return compare.analyse_model(run / "reference.npz", sim / "traj.xtc", sim / "frames.csv",
                                 run / "cg" / "topology.pdb", "specific",
                                 {**SETTINGS, "refit_tica": refit_tica}, 7,
                                 dataset=run / "cg" / "dataset.h5")  # fmt: skip


def test_refitting_moves_the_tica_metrics_only(run):
    fixed, _, (names, fixed_rows) = analyse(run, False)
    refitted, _, (_, refit_rows) = analyse(run, True)
    column = {name: k for k, name in enumerate(names)}
    for name in bootstrap.METRICS:
        assert fixed[name] == pytest.approx(refitted[name], nan_ok=True), name
    for name in TICA_FREE:
        np.testing.assert_allclose(fixed_rows[:, column[name]], refit_rows[:, column[name]])
    fes = column["fes_mae_weighted_kcal"]
    assert not np.allclose(fixed_rows[:, fes], refit_rows[:, fes], equal_nan=True)


def test_a_resample_of_every_replica_once_returns_to_the_stored_coordinates(run):
    ref = reference.load_reference_npz(run / "reference.npz")
    topology = inputs.load_topology(run / "cg" / "topology.pdb")
    ensemble, counts, _ = inputs.load_cg_run(run / "sim" / "traj.xtc", run / "sim" / "frames.csv",
                                             topology, SETTINGS["cg_burnin_fraction"], None)  # fmt: skip
    md_grid = emulation.grid_for_reference(ref["tics"], ref["weights"])
    cg = structure.frame_observables(ensemble.pieces, ref["reference_structure"],
                                     ref["contact_pairs"], float(ref["native_cutoff"]), topology)  # fmt: skip
    cg_units = compare.model_units(ref, compare.project_cg(ref, ensemble, topology), cg, ensemble,
                                   counts["n_replicas_cg"], topology, md_grid)  # fmt: skip
    space = refit.refit_space(ref, run / "cg" / "dataset.h5", ensemble, cg_units, cg, topology,
                              SETTINGS)  # fmt: skip
    ones = np.ones(space.n_aa)
    tica = space.tica_for(ones)
    np.testing.assert_allclose(np.abs(tica.eigenvectors[:, :2]),
                               np.abs(ref["tica_eigenvectors"][:, :2]), atol=1e-5)
    aa_units, refit_cg, _ = space.units_for(ones)
    fixed_aa = compare.reference_units(ref, md_grid)
    np.testing.assert_allclose(aa_units.hist2d.sum(axis=(1, 2)), fixed_aa.hist2d.sum(axis=(1, 2)))
    np.testing.assert_allclose(refit_cg.sums, cg_units.sums)
