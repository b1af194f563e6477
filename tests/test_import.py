"""Importing existing data: the paper's .npy layout and all-atom trajectories with forces."""

import h5py
import numpy as np
import pytest
from helpers.chains import harmonic_chain_sample

import cgthermo.config as cgconfig
from cgthermo.cgmap.dataset import read_dataset
from cgthermo.cgmap.importer import residue_names_from_types
from cgthermo.cgmap.stage import run_cg_map
from cgthermo.errors import CgthermoError

TYPES = [4, 4, 5, 8, 6]  # YYDPE in the paper numbering
FRAMES = 100


def write_npy(folder, coords, forces, types=TYPES) -> dict:
    spec = {}
    for key, value in (("coords", coords), ("forces", forces), ("embeddings", np.asarray(types))):
        spec[key] = str(folder / f"{key}.npy")
        np.save(spec[key], value)
    return spec


def cg_map_import(tmp_path, spec, **protein):
    config = cgconfig.validate(
        {"proteins": [{"name": "imp", "import": spec, "temperature": 350, **protein}]}
    )
    out = tmp_path / "out"
    run_cg_map(config, "imp", [], None, out / "dataset.h5", out / "topology.pdb")
    return out


@pytest.fixture
def arrays():
    coords, forces = harmonic_chain_sample(FRAMES, len(TYPES), 350, np.random.default_rng(11))
    return coords.astype(np.float32), forces.astype(np.float32)


def test_npy_import_round_trips_shapes_units_and_types(tmp_path, arrays):
    coords, forces = arrays
    spec = dict(write_npy(tmp_path, coords, forces), timestep_ps=0.2)
    out = cg_map_import(tmp_path, spec)
    (data,) = read_dataset(out / "dataset.h5")
    assert data.resnames == ["TYR", "TYR", "ASP", "PRO", "GLU"]
    np.testing.assert_array_equal(data.pos, coords)  # Å stay Å
    np.testing.assert_array_equal(data.forces, forces)  # kcal/mol/Å stay kcal/mol/Å
    np.testing.assert_allclose(data.time, np.arange(FRAMES) * 200.0)
    assert data.temperature == 350.0 and data.force_map == "imported"
    with h5py.File(out / "dataset.h5", "r") as h5:
        assert h5["imp/types"][:].tolist() == TYPES


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c, f, t: (c[:, :, :2], f, t), "import.coords has shape"),
        (lambda c, f, t: (c, f[:-1], t), "import.forces has shape"),
        (lambda c, f, t: (c, f, t[:-1]), "import.embeddings has shape"),
        (lambda c, f, t: (c, np.where(np.arange(FRAMES)[:, None, None] == 7, np.nan, f), t), "NaN"),
        (lambda c, f, t: (c / 10.0, f, t), "coordinates in nm"),
        (lambda c, f, t: (c, f * 41.84, t), "kJ/mol/nm"),
        (lambda c, f, t: (c, -f, t), "the wrong sign"),
        (lambda c, f, t: (c, f, [4, 4, 18, 8, 6]), "bead type 18"),
    ],
)
def test_bad_import_is_one_line_error_and_leaves_no_dataset(tmp_path, arrays, change, message):
    coords, forces, types = change(*arrays, TYPES)
    with pytest.raises(CgthermoError, match=message) as err:
        cg_map_import(tmp_path, write_npy(tmp_path, coords, forces, types))
    assert "\n" not in str(err.value) and "Fix:" in str(err.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_incomplete_import_block_is_refused(tmp_path, arrays):
    spec = write_npy(tmp_path, *arrays)
    del spec["embeddings"]
    with pytest.raises(CgthermoError, match="give either coords, forces and embeddings"):
        cg_map_import(tmp_path, spec)


def test_residue_names_invert_the_paper_numbering():
    assert residue_names_from_types([11, 5, 17, 21, 20]) == ["HIS", "ASP", "NLE", "LEU", "LYS"]


def test_trajectory_import_maps_like_our_own_runs(tmp_path):
    """An all-atom trajectory + topology + kJ/mol/nm forces gives the dataset our aa/md files give:
    the hydrogens bonded to each Cα in the topology are those HBonds constrained."""
    import mdtraj
    from helpers.tinyrun import run_tiny
    from openmm import app

    from cgthermo.cgmap.mapping import map_aa_protein

    run = run_tiny(tmp_path / "aa", sequence="GYAK", frames=10)
    with h5py.File(run.md_file, "r") as h5:
        positions, forces = np.asarray(h5["positions"]), np.asarray(h5["forces"])
    with open(tmp_path / "top.pdb", "w") as fh:
        app.PDBFile.writeFile(run.topology, positions[0] * 10.0, fh)
    mdtraj.Trajectory(positions, mdtraj.load_topology(str(tmp_path / "top.pdb"))).save_dcd(
        str(tmp_path / "traj.dcd")
    )
    np.save(tmp_path / "forces.npy", forces)
    spec = {
        "trajectory": str(tmp_path / "traj.dcd"),
        "topology": str(tmp_path / "top.pdb"),
        "forces": str(tmp_path / "forces.npy"),
        "timestep_ps": 0.05,
    }
    (imported,) = read_dataset(cg_map_import(tmp_path, spec) / "dataset.h5")
    ours = map_aa_protein("ours", [run.md_file], run.system_xml, "optimized", 10.0)
    assert imported.resnames == ours.resnames == ["GLY", "TYR", "ALA", "LYS"]
    np.testing.assert_allclose(imported.pos, ours.pos, atol=1e-4)
    np.testing.assert_allclose(imported.forces, ours.forces, rtol=1e-6, atol=1e-5)
    assert imported.force_map == "optimized"


def test_pyproject_declares_the_pins_of_requirements_txt(repo_root):
    """`pip install .` gets the same pinned runtime dependencies as scripts/setup.sh."""
    import tomllib

    pins = [line.strip() for line in (repo_root / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    declared = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    assert declared["dependencies"] == pins
    assert all("==" in pin for pin in pins)
