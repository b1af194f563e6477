"""Adaptive restarts in the all-atom MD: every trajectory keeps the full states it can be
restarted from, a restart starts from exactly that state (solvent and box included), and a
restarted trajectory resumes after a kill to the frames of an uninterrupted one."""

import json

import h5py
import numpy as np
import pytest
from openmm import app, unit

from cgthermo import config as cgconfig
from cgthermo.aa.h5 import working_paths
from cgthermo.aa.md import run_replica
from cgthermo.aa.restart import read_origin, write_restart
from cgthermo.aa.stage import md_settings, origin_of
from cgthermo.aa.system import prepare_protein
from cgthermo.aa.unfold import unfold_replica
from cgthermo.errors import CgthermoError

PEPTIDE = "KAAWAE"
TEMPERATURE = 340.0
# 20 frames of 0.1 ps per trajectory, a full state every 2 frames, checkpoints every 5
SHORT = dict(save_every_ps=0.1, checkpoint_every_ps=0.5, report_every_ps=1.0, equilibration_ps=0.2,
             unfold_ps=0.4, threads=1, sampling="adaptive")  # fmt: skip
ADAPTIVE = dict(epochs=2, trajectories=1, length_ns=0.002, restart_every_ps=0.2, tica_lag=2)


def settings(**overrides) -> dict:
    cfg = cgconfig.validate({"proteins": [{"name": "p", "sequence": PEPTIDE}],
                             "aa": {**SHORT, "adaptive": ADAPTIVE, **overrides}})  # fmt: skip
    return cgconfig.aa_settings(cfg, "p")


def prepared(out, **overrides):
    prepare_protein({"name": "p", "sequence": PEPTIDE}, settings(**overrides),
                    out / "structure.pdb", out / "system.xml")  # fmt: skip
    unfold_replica(out / "structure.pdb", out / "system.xml", out / "start.pdb",
                   settings(**overrides), replica=0, seed=11)  # fmt: skip
    return out


def epoch0(out, **overrides):
    aa = settings(**overrides)
    run_replica(out / "system.xml", out / "start.pdb", out / "0.h5", out / "0.xtc", aa,
                TEMPERATURE, replica=0, seed=5, origin=origin_of(aa, 0, None))  # fmt: skip
    return out / "0.h5"


@pytest.fixture(scope="module")
def implicit(tmp_path_factory):
    out = prepared(tmp_path_factory.mktemp("implicit"))
    epoch0(out)
    write_restart(out / "0.h5", 7, out / "structure.pdb", out / "r1.pdb", out / "r1.json",
                  {"epoch": 1, "parent_replica": 0, "parent_frame": 7, "parent_time_ps": 0.8,
                   "cluster": 3})  # fmt: skip
    return out


def read(path) -> dict:
    with h5py.File(path, "r") as fh:
        return {**{name: fh[name][()] for name in fh}, "attrs": dict(fh.attrs)}


def start_positions(pdb) -> np.ndarray:
    return app.PDBFile(str(pdb)).getPositions(asNumpy=True).value_in_unit(unit.nanometer)


def test_full_states_are_kept_every_restart_stride(implicit):
    data = read(implicit / "0.h5")
    assert data["restart_frame"].tolist() == list(range(1, 20, 2))
    assert data["restart_box"].shape == (10, 3, 3)
    # implicit solvent: the saved atoms are the whole system, so no second copy of them
    assert "restart_positions" not in data
    assert data["attrs"]["epoch"] == 0 and data["attrs"]["parent_replica"] == -1


def test_a_restart_starts_from_its_parent_frame(implicit):
    saved = read(implicit / "0.h5")["positions"][7]
    # a PDB keeps 1e-4 nm: the start is the parent's frame to that rounding
    assert np.abs(start_positions(implicit / "r1.pdb") - saved).max() <= 5.1e-5
    assert read_origin(implicit / "r1.json") == {"epoch": 1, "parent_replica": 0,
                                                 "parent_frame": 7, "parent_time_ps": 0.8}  # fmt: skip
    assert json.loads((implicit / "r1.json").read_text())["cluster"] == 3


def test_a_frame_without_a_full_state_cannot_be_a_restart(implicit, tmp_path):
    with pytest.raises(CgthermoError, match="frame 6"):
        write_restart(implicit / "0.h5", 6, implicit / "structure.pdb", tmp_path / "x.pdb",
                      tmp_path / "x.json", {})  # fmt: skip
    assert not (tmp_path / "x.pdb").exists()


def restarted(folder, out_dir, on_frame=None):
    aa = md_settings(settings(), 1)
    out = out_dir / "1.h5"
    run_replica(folder / "system.xml", folder / "r1.pdb", out, out_dir / "1.xtc", aa, TEMPERATURE,
                replica=1, seed=6, on_frame=on_frame,
                origin=origin_of(aa, 1, folder / "r1.json"))  # fmt: skip
    return out


def test_a_killed_restart_resumes_to_the_uninterrupted_frames(implicit, tmp_path):
    reference = read(restarted(implicit, tmp_path / "whole"))
    assert reference["attrs"]["equilibration_ps"] == 0.0  # a restart runs no equilibration
    assert reference["attrs"]["epoch"] == 1 and reference["attrs"]["parent_frame"] == 7

    class Killed(Exception):
        pass

    def kill(frame):
        if frame == 12:  # after the checkpoint of frame 10
            raise Killed

    out_dir = tmp_path / "killed"
    with pytest.raises(Killed):
        restarted(implicit, out_dir, kill)
    _, partial = working_paths(out_dir / "1.h5")
    assert read(partial)["restart_frame"].tolist() == [1, 3, 5, 7, 9]
    resumed = read(restarted(implicit, out_dir))
    for name in ("time", "positions", "forces", "restart_frame", "restart_box"):
        np.testing.assert_array_equal(resumed[name], reference[name], err_msg=name)


def test_explicit_solvent_keeps_every_atom_and_the_box(tmp_path):
    explicit = dict(solvent="explicit", padding_nm=0.6, friction_per_ps=1.0)
    out = prepared(tmp_path, **explicit)
    data = read(epoch0(out, **explicit))
    n_atoms = app.PDBFile(str(out / "structure.pdb")).topology.getNumAtoms()
    assert data["restart_positions"].shape == (10, n_atoms, 3)
    assert n_atoms > 3 * data["positions"].shape[1]  # water beside the protein
    protein = data["atom_indices"]
    np.testing.assert_array_equal(data["restart_positions"][:, protein], data["positions"][1::2])
    write_restart(out / "0.h5", 9, out / "structure.pdb", out / "r.pdb", out / "r.json", {})
    pdb = app.PDBFile(str(out / "r.pdb"))
    box = np.array(pdb.topology.getPeriodicBoxVectors().value_in_unit(unit.nanometer))
    np.testing.assert_allclose(box, data["restart_box"][4], atol=1e-3)
    assert np.abs(start_positions(out / "r.pdb") - data["restart_positions"][4]).max() <= 5.1e-5
