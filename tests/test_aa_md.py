"""unfold and aa_md: forces belong to saved positions, units, resume after a kill, NaN blow-ups,
the recorded production speed."""

import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import h5py
import mdtraj
import numpy as np
import openmm
import pytest
from openmm import app, unit

from cgthermo import config as cgconfig
from cgthermo.aa.dynamics import SimulationBlewUp
from cgthermo.aa.h5 import working_paths
from cgthermo.aa.md import run_replica
from cgthermo.aa.system import prepare_protein
from cgthermo.aa.unfold import unfold_replica
from cgthermo.errors import CgthermoError

PEPTIDE = "KAAWAE"
TEMPERATURE = 340.0
# 2 ps of production in 20 frames, checkpoints every 5 frames
SHORT = dict(length_ns=0.002, save_every_ps=0.1, checkpoint_every_ps=0.5, report_every_ps=1.0,
             equilibration_ps=0.2, unfold_ps=0.4, threads=1)  # fmt: skip


def settings(**overrides) -> dict:
    cfg = cgconfig.validate(
        {"proteins": [{"name": "p", "sequence": PEPTIDE}], "aa": {**SHORT, **overrides}}
    )
    return cgconfig.aa_settings(cfg, "p")


@pytest.fixture(scope="module")
def start(tmp_path_factory):
    """A prepared peptide and one unfolded start: (system.xml, start.pdb, structure.pdb)."""
    out = tmp_path_factory.mktemp("aa")
    prepare_protein({"name": "p", "sequence": PEPTIDE}, settings(),
                    out / "structure.pdb", out / "system.xml")  # fmt: skip
    unfold_replica(out / "structure.pdb", out / "system.xml", out / "starts" / "0.pdb",
                   settings(), replica=0, seed=11)  # fmt: skip
    return out / "system.xml", out / "starts" / "0.pdb", out / "structure.pdb"


def run(start, out_dir, on_frame=None, **overrides):
    system, start_pdb, _ = start
    out = out_dir / "0.h5"
    run_replica(system, start_pdb, out, out_dir / "0.xtc", settings(**overrides), TEMPERATURE,
                replica=0, seed=5, on_frame=on_frame)  # fmt: skip
    return out


@pytest.fixture(scope="module")
def uninterrupted(start, tmp_path_factory):
    return run(start, tmp_path_factory.mktemp("md"))


def read(path) -> dict:
    with h5py.File(path, "r") as fh:
        data = {name: fh[name][()] for name in fh}
        data["units"] = {name: fh[name].attrs.get("units") for name in fh}
        data["attrs"] = dict(fh.attrs)
    return data


def test_unfold_starts_differ_by_seed(start, tmp_path):
    system, start_pdb, structure = start
    unfold_replica(structure, system, tmp_path / "1.pdb", settings(), replica=1, seed=12)
    a = mdtraj.load(str(start_pdb))
    b = mdtraj.load(str(tmp_path / "1.pdb"))
    ref = mdtraj.load(str(structure))
    assert a.n_atoms == b.n_atoms == ref.n_atoms
    # both moved away from the minimized structure, and along different paths
    assert mdtraj.rmsd(a, ref)[0] > 0.02 and mdtraj.rmsd(b, ref)[0] > 0.02
    assert np.abs(a.xyz - b.xyz).max() > 0.05


def test_saved_forces_are_openmm_forces_of_saved_positions(start, uninterrupted):
    data = read(uninterrupted)
    system = openmm.XmlSerializer.deserialize(start[0].read_text())
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("Reference"))  # fmt: skip
    assert np.array_equal(data["atom_indices"], np.arange(system.getNumParticles()))
    for frame in (0, 9, len(data["time"]) - 1):
        context.setPositions(data["positions"][frame].astype(np.float64))
        state = context.getState(getForces=True)
        expected = state.getForces(asNumpy=True).value_in_unit(
            unit.kilojoule_per_mole / unit.nanometer
        )
        error = np.linalg.norm(data["forces"][frame] - expected) / np.linalg.norm(expected)
        assert error < 1e-4, (frame, error)


def test_units_and_time_axis_are_what_the_file_claims(start, uninterrupted):
    data = read(uninterrupted)
    assert data["units"]["positions"] == "nm"
    assert data["units"]["forces"] == "kJ/mol/nm"
    assert data["units"]["time"] == "ps"
    names = [n.decode() for n in data["atom_names"]]
    n_index, ca_index = names.index("N"), names.index("CA")
    # the N–CA bond is 0.147 nm: positions are in nm, not Å
    bond = np.linalg.norm(data["positions"][:, ca_index] - data["positions"][:, n_index], axis=1)
    assert np.allclose(bond, 0.147, atol=0.01)
    # 20 frames, one every 0.1 ps from the end of equilibration
    assert np.allclose(data["time"], 0.1 * np.arange(1, 21), rtol=0, atol=1e-12)
    attrs = data["attrs"]
    assert attrs["temperature_K"] == TEMPERATURE and attrs["save_every_ps"] == 0.1
    assert attrs["timestep_fs"] == 4.0 and attrs["replica"] == 0 and attrs["seed"] == 5
    residues = [r.decode() for r in data["residue_names"]]
    assert residues == ["LYS", "ALA", "ALA", "TRP", "ALA", "GLU"]
    assert data["residue_index"].min() == 0 and data["residue_index"].max() == 5
    xtc = mdtraj.load(str(uninterrupted.with_suffix(".xtc")), top=str(start[2]))
    assert np.allclose(xtc.xyz, data["positions"], atol=1e-3)  # xtc keeps 1e-3 nm
    # equipartition with HMR and constraints: mean kinetic temperature is not checked here,
    # but forces must be physically sized (thermal forces of hundreds of kJ/mol/nm)
    assert 100 < np.sqrt((data["forces"] ** 2).sum(-1)).mean() < 5000


def test_interrupted_run_resumes_to_the_uninterrupted_frames(start, uninterrupted, tmp_path):
    out_dir = tmp_path / "md"
    chk, partial = working_paths(out_dir / "0.h5")

    class Killed(Exception):
        pass

    def crash_later(frame):
        if frame == 5:  # the first checkpoint after production started
            shutil.copy(chk, tmp_path / "first.chk")
        if frame == 12:  # after the second checkpoint (frame 10), before the third
            raise Killed

    with pytest.raises(Killed):
        run(start, out_dir, on_frame=crash_later)
    assert not (out_dir / "0.h5").exists() and chk.exists()
    assert read(partial)["time"].shape == (10,)
    # as if killed between appending frames and replacing the checkpoint:
    # the file has frames 6–10 that the checkpoint does not cover
    shutil.copy(tmp_path / "first.chk", chk)
    run(start, out_dir)
    resumed, reference = read(out_dir / "0.h5"), read(uninterrupted)
    assert np.array_equal(resumed["time"], reference["time"])
    assert resumed["positions"].shape == reference["positions"].shape
    # the checkpoint restores positions, velocities and the random state exactly
    assert np.allclose(resumed["positions"], reference["positions"], atol=1e-5)
    assert not chk.exists() and not partial.exists()
    # the speed counts both attempts: frames 1–10 (checkpointed before the kill) and 6–20
    # (after resuming at frame 5); frames 11–12 never reached a checkpoint
    attrs = resumed["attrs"]
    assert attrs["integration_ps"] == pytest.approx(2.5, abs=1e-9)
    assert attrs["ns_per_day"] == pytest.approx(
        attrs["integration_ps"] / 1000.0 / (attrs["integration_s"] / 86400.0), rel=1e-12
    )


def test_killed_process_resumes_without_gaps_or_duplicates(start, tmp_path, caplog):
    """A real SIGKILL of a running aa_md, then a rerun."""
    system, start_pdb, _ = start
    out_dir = tmp_path / "md"
    chk, partial = working_paths(out_dir / "0.h5")
    long = dict(length_ns=0.015, checkpoint_every_ps=0.5)
    code = (
        "import sys; from cgthermo.aa.md import run_replica; from test_aa_md import settings;"
        f"run_replica(r'{system}', r'{start_pdb}', r'{out_dir / '0.h5'}', r'{out_dir / '0.xtc'}',"
        f" settings(**{long!r}), {TEMPERATURE}, replica=0, seed=5)"
    )
    env = {**os.environ, "PYTHONPATH": os.path.dirname(__file__)}
    job = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        # the checkpoint is replaced atomically (a new file each time): seeing three
        # versions means frames 0, 5 and 10 were checkpointed (5 frames per checkpoint)
        versions, deadline = set(), time.time() + 120
        while len(versions) < 3 and time.time() < deadline:
            assert job.poll() is None, "the job ended before it could be killed"
            versions.add(_version(chk))
            versions.discard(None)
            time.sleep(0.02)
        os.kill(job.pid, signal.SIGKILL)
    finally:
        job.wait()
    assert not (out_dir / "0.h5").exists() and chk.exists() and partial.exists()
    with caplog.at_level(logging.INFO, logger="cgthermo"):
        run(start, out_dir, **long)
    resumed_at = int(re.search(r"resuming at frame (\d+) of 150", caplog.text).group(1))
    assert 10 <= resumed_at < 150
    data = read(out_dir / "0.h5")
    assert np.allclose(data["time"], 0.1 * np.arange(1, 151), rtol=0, atol=1e-12)
    steps = np.diff(data["positions"], axis=0)
    assert (np.abs(steps).max(axis=(1, 2)) > 0).all()  # no frame repeated
    # every production frame was integrated at least once, some of them twice
    assert data["attrs"]["integration_ps"] >= 15.0 - 1e-9
    assert math.isfinite(data["attrs"]["ns_per_day"]) and data["attrs"]["ns_per_day"] > 0


def test_production_speed_is_recorded_and_matches_the_wall_clock(start, tmp_path):
    """ns_per_day is production ns over the wall time of the production steps: above the
    rate of the whole call (which adds setup, equilibration and output), and not far off it."""
    out_dir = tmp_path / "md"
    began = time.perf_counter()
    path = run(start, out_dir, length_ns=0.01, checkpoint_every_ps=2.5, platform="CPU")
    wall = time.perf_counter() - began
    attrs = read(path)["attrs"]
    assert attrs["platform"] == "CPU" and attrs["threads"] == 1
    for key in ("ns_per_day", "integration_s", "integration_ps"):
        assert math.isfinite(attrs[key]) and attrs[key] > 0, key
    assert attrs["integration_ps"] == pytest.approx(10.0, abs=1e-9)  # 100 frames of 0.1 ps
    assert attrs["integration_s"] < wall
    whole_call = 0.01 / (wall / 86400.0)
    assert whole_call < attrs["ns_per_day"] < 5.0 * whole_call
    # the same number reaches the CG dataset, per core
    from cgthermo.cgmap.mapping import map_aa_protein

    data = map_aa_protein("p", [path], start[0], "slice", 10.0)
    assert data.extra_attrs["aa_ns_per_day_per_core"] == pytest.approx(attrs["ns_per_day"])
    assert data.extra_attrs["aa_platform"] == "CPU"


def test_resume_on_other_threads_measures_that_attempt_only(start, tmp_path, caplog):
    out_dir = tmp_path / "md"

    class Killed(Exception):
        pass

    def crash(frame):
        if frame == 12:
            raise Killed

    with pytest.raises(Killed):
        run(start, out_dir, on_frame=crash, platform="CPU", threads=1)
    with caplog.at_level(logging.INFO, logger="cgthermo"):
        system, start_pdb, _ = start
        run_replica(system, start_pdb, out_dir / "0.h5", out_dir / "0.xtc",
                    settings(platform="CPU", threads=2), TEMPERATURE, replica=0, seed=5,
                    threads=2)  # fmt: skip
    assert "resuming at frame 10" in caplog.text
    assert "earlier attempts ran on CPU with 1 thread(s), this one on CPU with 2" in caplog.text
    attrs = read(out_dir / "0.h5")["attrs"]
    assert attrs["threads"] == 2 and attrs["platform"] == "CPU"
    assert attrs["integration_ps"] == pytest.approx(1.0, abs=1e-9)  # frames 11–20


def _version(path):
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def test_nan_blow_up_names_replica_and_step_and_leaves_nothing(start, tmp_path):
    """A 50 fs step blows the run up; the load check refuses it, so it is forced past that
    check here, as a simulation that blows up for another reason reaches the job."""
    system, start_pdb, _ = start
    out_dir = tmp_path / "md"
    reckless = {**settings(save_every_ps=0.1, equilibration_ps=0.0), "timestep_fs": 50.0}
    with pytest.raises(SimulationBlewUp, match=r"replica 0.*NaN.*at step \d+\)") as err:
        run_replica(system, start_pdb, out_dir / "0.h5", out_dir / "0.xtc", reckless,
                    TEMPERATURE, replica=0, seed=5)  # fmt: skip
    assert "\n" not in str(err.value)
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_save_stride_must_be_whole_steps(start, tmp_path):
    with pytest.raises(CgthermoError, match="save_every_ps"):
        run(start, tmp_path, save_every_ps=0.01)  # 2.5 steps of 4 fs
    assert list(tmp_path.iterdir()) == []


def test_start_structure_must_match_system(start, tmp_path):
    system, _, _ = start
    other = tmp_path / "other.pdb"
    pdb = app.PDBFile(str(start[1]))
    keep = [a for a in pdb.topology.atoms() if a.residue.index < 5]
    modeller = app.Modeller(pdb.topology, pdb.positions)
    modeller.delete([a for a in pdb.topology.atoms() if a not in keep])
    with open(other, "w") as fh:
        app.PDBFile.writeFile(modeller.topology, modeller.positions, fh)
    with pytest.raises(CgthermoError, match="atoms but .*system.xml"):
        run_replica(system, other, tmp_path / "0.h5", tmp_path / "0.xtc", settings(),
                    TEMPERATURE, replica=0, seed=5)  # fmt: skip
    assert not (tmp_path / "0.h5").exists()
