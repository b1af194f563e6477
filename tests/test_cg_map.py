"""Cα force maps on real OpenMM forces, and the cg_map dataset as torchmd-net reads it."""

import json
import logging
from types import SimpleNamespace

import h5py
import numpy as np
import openmm
import pytest
from helpers.tinyrun import run_tiny
from openmm import unit

import cgthermo.config as cgconfig
from cgthermo.cgmap.mapping import (
    AtomTable,
    force_map_weights,
    force_second_moments,
    map_aa_protein,
    map_to_beads,
    read_atom_table,
    system_constraint_pairs,
)
from cgthermo.cgmap.stage import run_cg_map
from cgthermo.cgtopology import CGTopology
from cgthermo.errors import CgthermoError
from cgthermo.residues import BEAD_TYPE

SEQUENCE = "AGYA"  # glycine: two hydrogens on its Cα


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_tiny(tmp_path_factory.mktemp("aa"), sequence=SEQUENCE, frames=12, temperature=340.0)


@pytest.fixture(scope="module")
def atoms(run):
    with h5py.File(run.md_file, "r") as h5:
        table = read_atom_table(h5)
        indices = np.asarray(h5["atom_indices"])
        positions = np.asarray(h5["positions"][-1], dtype=np.float64)
    return table, system_constraint_pairs(run.system_xml, indices), positions


def reference_context(run, positions_nm):
    """Double-precision energies and forces of the run's system at given positions."""
    context = openmm.Context(
        run.system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    context.setPositions(positions_nm)
    return context


def energy(context, positions_nm) -> float:
    context.setPositions(positions_nm)
    state = context.getState(getEnergy=True)
    return state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)


def forces_at(context, positions_nm) -> np.ndarray:
    context.setPositions(positions_nm)
    state = context.getState(getForces=True)
    return state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer)


def test_constraint_aware_map_is_the_force_on_the_rigid_ca_unit(run, atoms):
    """Translating a Cα with its constrained hydrogens (a move the constraints allow) changes
    the energy by exactly −(constraint-aware force)·displacement; the sliced force does not."""
    table, pairs, x = atoms
    context = reference_context(run, x)
    f = forces_at(context, x)[None]
    aware = map_to_beads(f, force_map_weights("constraint-aware", table, pairs))[0]
    sliced = map_to_beads(f, force_map_weights("slice", table, pairs))[0]
    weights = force_map_weights("constraint-aware", table, pairs)
    step = 1e-5  # nm
    for bead in range(len(table.residue_names)):
        unit_atoms = np.flatnonzero(weights[bead])
        gradient = np.empty(3)
        for axis in range(3):
            plus, minus = x.copy(), x.copy()
            plus[unit_atoms, axis] += step
            minus[unit_atoms, axis] -= step
            gradient[axis] = (energy(context, plus) - energy(context, minus)) / (2 * step)
        np.testing.assert_allclose(aware[bead], -gradient, rtol=1e-5, atol=1e-3)
        # the hydrogens' share is far above the finite-difference error: slicing misses it
        assert np.linalg.norm(sliced[bead] + gradient) > 1.0


def test_constraint_aware_minus_slice_is_the_ca_hydrogens_force(run, atoms):
    table, pairs, x = atoms
    f = forces_at(reference_context(run, x), x)[None]
    aware = force_map_weights("constraint-aware", table, pairs)
    sliced = force_map_weights("slice", table, pairs)
    difference = map_to_beads(f, aware) - map_to_beads(f, sliced)
    for bead, resname in enumerate(table.residue_names):
        hydrogens = [
            i
            for i, (name, res) in enumerate(zip(table.names, table.residue_index, strict=True))
            if res == bead and name in ("HA", "HA2", "HA3")
        ]
        assert len(hydrogens) == (2 if resname == "GLY" else 1)
        assert np.flatnonzero(aware[bead] - sliced[bead]).tolist() == hydrogens
        np.testing.assert_allclose(
            difference[0, bead], f[0, hydrogens].sum(axis=0), rtol=1e-12, atol=1e-10
        )


def test_mapped_force_sum_equals_the_atoms_it_maps(run, atoms):
    """A map that gives every atom to its residue's bead sums to the net all-atom force, which is
    zero for a translation-invariant potential; a Cα map sums exactly over its own atoms."""
    table, pairs, x = atoms
    f = forces_at(reference_context(run, x), x)[None]
    whole = np.zeros((len(table.residue_names), table.n_atoms))
    whole[table.residue_index, np.arange(table.n_atoms)] = 1.0
    net = map_to_beads(f, whole)[0].sum(axis=0)
    assert np.linalg.norm(net) < 1e-6 * np.abs(f).sum()
    np.testing.assert_allclose(net, f[0].sum(axis=0), atol=1e-9)
    aware = force_map_weights("constraint-aware", table, pairs)
    mapped_atoms = np.flatnonzero(aware.sum(axis=0))
    np.testing.assert_allclose(
        map_to_beads(f, aware)[0].sum(axis=0), f[0, mapped_atoms].sum(axis=0), rtol=1e-12
    )


def test_optimized_map_fixes_each_bead_to_its_ca_and_moves_rigid_clusters_together(run, atoms):
    table, pairs, _ = atoms
    with h5py.File(run.md_file, "r") as h5:
        forces = np.asarray(h5["forces"], dtype=np.float64)
    weights = force_map_weights("optimized", table, pairs, force_second_moments(forces))
    ca = table.ca_columns()
    np.testing.assert_array_equal(weights[:, ca], np.eye(len(ca)))
    for a, b in pairs:  # equal weights on constrained atoms: constraint forces cancel
        np.testing.assert_allclose(weights[:, a], weights[:, b], atol=1e-12)
    other = np.setdiff1d(np.arange(table.n_atoms), np.concatenate([ca, pairs.ravel()]))
    assert np.abs(weights[:, other]).max() > 0.1  # it does aggregate beyond the Cα units


def two_residue_table() -> tuple:
    """N, CA, HA, CB per residue; the CA–HA bonds constrained."""
    table = AtomTable(
        names=["N", "CA", "HA", "CB"] * 2,
        elements=["N", "C", "H", "C"] * 2,
        residue_index=np.array([0, 0, 0, 0, 1, 1, 1, 1]),
        residue_names=["ALA", "ALA"],
    )
    return table, np.array([[1, 2], [5, 6]])


def test_optimized_map_cancels_internal_forces_and_keeps_the_mean_force():
    """Newton's third-law pair forces CA–CB (σ = 10) are pure noise at fixed Cα positions:
    the optimized map must cancel them, leaving the mean force and the unit-variance noise
    of CA, HA and CB (≈ 3), where the constraint-aware map keeps the pair noise (≈ 102)."""
    rng = np.random.default_rng(7)
    table, pairs = two_residue_table()
    frames = 20000
    mean_force = np.array([[1.5, -2.0, 0.5], [-0.5, 0.0, 3.0]])
    forces = rng.normal(0.0, 1.0, (frames, 8, 3))  # independent noise, variance 1
    forces[:, [0, 4]] *= 3.0  # the N atoms: independent noise, variance 9, excluded at the optimum
    for ca, cb, bead in ((1, 3, 0), (5, 7, 1)):
        pair = rng.normal(0.0, 10.0, (frames, 3))
        forces[:, ca] += mean_force[bead] + pair
        forces[:, cb] -= pair
    optimized = map_to_beads(
        forces, force_map_weights("optimized", table, pairs, force_second_moments(forces))
    )
    aware = map_to_beads(forces, force_map_weights("constraint-aware", table, pairs))
    assert 2.85 < optimized.var(axis=0).mean() < 3.1
    assert 95.0 < aware.var(axis=0).mean() < 110.0
    np.testing.assert_allclose(optimized.mean(axis=0), mean_force, atol=0.05)
    np.testing.assert_allclose(aware.mean(axis=0), mean_force, atol=0.25)


def test_heavy_atom_constraints_are_refused(atoms):
    table, pairs, _ = atoms
    ca, carbonyl = table.ca_columns()[0], table.names.index("C")  # both in residue 1
    with pytest.raises(CgthermoError, match="heavy"):
        force_map_weights("constraint-aware", table, np.vstack([pairs, [[ca, carbonyl]]]))


def broken_copy(source, target, frame: int) -> None:
    """Replica 1: the same frames with the last residue pulled 2 nm away in one frame."""
    with h5py.File(source, "r") as src, h5py.File(target, "w") as dst:
        for key in src:
            src.copy(key, dst)
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        dst.attrs["replica"] = 1
        last = np.asarray(dst["residue_index"]) == len(dst["residue_names"]) - 1
        positions = np.asarray(dst["positions"])
        positions[frame, last] += 2.0
        dst["positions"][...] = positions


@pytest.fixture(scope="module")
def mapped(run, tmp_path_factory):
    out = tmp_path_factory.mktemp("cg")
    second = out / "1.h5"
    broken_copy(run.md_file, second, frame=3)
    config = cgconfig.validate(
        {"proteins": [{"name": "tiny", "sequence": SEQUENCE, "temperature": 340}]}
    )
    run_cg_map(
        config,
        "tiny",
        [run.md_file, second],
        run.system_xml,
        out / "dataset.h5",
        out / "topology.pdb",
    )
    return out


def test_dataset_is_read_by_torchmdnet_in_angstrom_and_kcal(run, atoms, mapped):
    from torchmdnet.datasets import HDF5

    table, pairs, _ = atoms
    with h5py.File(run.md_file, "r") as h5:
        x_nm, f_kj, t_ps = (
            np.asarray(h5[k], dtype=np.float64) for k in ("positions", "forces", "time")
        )
    ca = table.ca_columns()
    with h5py.File(mapped / "dataset.h5", "r") as h5:
        weights = np.asarray(h5["tiny/force_map_weights"])
    np.testing.assert_array_equal(weights[:, ca], np.eye(len(ca)))
    expected_pos = x_nm[:, ca] * 10.0
    expected_forces = map_to_beads(f_kj, weights) / 41.84
    frames = len(x_nm)
    dataset = HDF5(str(mapped / "dataset.h5"))
    assert len(dataset) == 2 * frames - 1  # one broken frame dropped in replica 1
    first = dataset[0]
    assert first.z.tolist() == [BEAD_TYPE[r] for r in ("ALA", "GLY", "TYR", "ALA")]
    np.testing.assert_allclose(first.pos.numpy(), expected_pos[0], rtol=1e-6)
    np.testing.assert_allclose(first.neg_dy.numpy(), expected_forces[0], rtol=1e-5, atol=1e-4)
    with h5py.File(mapped / "dataset.h5", "r") as h5:
        group = h5["tiny"]
        assert group.attrs["dropped_frames"] == 1
        assert group.attrs["force_map"] == "optimized"  # the default
        assert group.attrs["temperature_K"] == 340.0
        assert json.loads(group.attrs["residue_names"]) == ["ALA", "GLY", "TYR", "ALA"]
        assert group["replica"][:].tolist() == [0] * frames + [1] * (frames - 1)
        np.testing.assert_allclose(group["time"][:frames], t_ps * 1000.0)
        np.testing.assert_allclose(group["time"][frames:], np.delete(t_ps, 3) * 1000.0)
        np.testing.assert_allclose(
            group["pos"][frames:], np.delete(expected_pos, 3, axis=0), rtol=1e-6
        )
    topology = CGTopology.from_pdb(mapped / "topology.pdb")
    assert topology.resnames == ["ALA", "GLY", "TYR", "ALA"]


def test_every_frame_broken_is_one_line_error_and_no_dataset(run, tmp_path):
    """A 1 Å bond limit makes every frame broken: the load check refuses such a limit, so it
    is set past the check, as data whose chains are all broken reach the job."""
    config = cgconfig.validate({"proteins": [{"name": "tiny", "sequence": SEQUENCE}]})
    config["cg_map"]["max_bond"] = 1.0
    with pytest.raises(CgthermoError, match="all 12 frames") as err:
        run_cg_map(
            config, "tiny", [run.md_file], run.system_xml, tmp_path / "d.h5", tmp_path / "t.pdb"
        )
    assert "\n" not in str(err.value)
    assert not any(tmp_path.iterdir())


def test_nan_force_in_a_replica_is_named_and_no_dataset_is_written(run, tmp_path):
    second = tmp_path / "1.h5"
    broken_copy(run.md_file, second, frame=0)
    with h5py.File(second, "r+") as h5:
        h5["forces"][5, 0, 1] = np.nan
    config = cgconfig.validate({"proteins": [{"name": "tiny", "sequence": SEQUENCE}]})
    with pytest.raises(CgthermoError, match=r"1\.h5 has NaN/inf positions or forces at frame 5"):
        run_cg_map(
            config, "tiny", [run.md_file, second], run.system_xml,
            tmp_path / "dataset.h5", tmp_path / "topology.pdb",
        )  # fmt: skip
    assert not (tmp_path / "dataset.h5").exists()


def test_streamed_frames_equal_the_whole_mapping_for_any_slice(run, tmp_path):
    """cg_map maps the frames a block at a time when the dataset is written: any slice of
    them, across the boundary of two replicas and past a dropped frame, equals mapping every
    all-atom frame at once and dropping the broken ones."""
    from cgthermo.cgmap.mapping import map_aa_protein, map_frames

    second = tmp_path / "1.h5"
    broken_copy(run.md_file, second, frame=3)
    data = map_aa_protein("tiny", [run.md_file, second], run.system_xml, "optimized", 10.0)
    positions, forces = [], []
    for path in (run.md_file, second):
        with h5py.File(path, "r") as h5:
            pos, mapped = map_frames(h5["positions"][()], h5["forces"][()],
                                     _coord_weights(data), {"f": data.force_weights})  # fmt: skip
        keep = ~(np.linalg.norm(np.diff(pos.astype(np.float32), axis=1), axis=2) > 10.0).any(axis=1)
        positions.append(pos[keep].astype(np.float32))
        forces.append(mapped["f"][keep])
    positions, forces = np.concatenate(positions), np.concatenate(forces)
    n = len(positions)
    assert data.dropped_frames == 1 and len(data.pos) == n == len(data.replica)
    for start, stop in ((0, n), (0, 1), (n // 2 - 2, n // 2 + 3), (3, 4), (n - 1, n), (5, 5)):
        np.testing.assert_array_equal(data.pos[start:stop], positions[start:stop])
        np.testing.assert_allclose(data.forces[start:stop], forces[start:stop], rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(data.pos[n - 1], positions[n - 1])


def _coord_weights(data):
    return data.pos.coord_weights


def speed_copy(source, target, replica: int, **speed) -> None:
    """A copy of the tiny run as replica `replica`, with the speed attributes aa_md records."""
    broken_copy(source, target, frame=0)
    with h5py.File(target, "r+") as h5:
        h5.attrs["replica"] = replica
        positions = np.asarray(h5["positions"])
        positions[0] = positions[1]  # undo the broken frame
        h5["positions"][...] = positions
        for key, value in speed.items():
            h5.attrs[key] = value


def test_all_atom_speed_per_core_reaches_the_dataset(run, tmp_path, caplog):
    """Mean over the replicas of ns_per_day ÷ cores: threads on the CPU, one per GPU."""
    cpu2, cpu1 = tmp_path / "0.h5", tmp_path / "1.h5"
    speed_copy(run.md_file, cpu2, 0, ns_per_day=400.0, threads=2, platform="CPU")
    speed_copy(run.md_file, cpu1, 1, ns_per_day=300.0, threads=1, platform="CPU")
    config = cgconfig.validate({"proteins": [{"name": "tiny", "sequence": SEQUENCE}]})
    with caplog.at_level(logging.INFO, logger="cgthermo"):
        run_cg_map(config, "tiny", [cpu2, cpu1], run.system_xml,
                   tmp_path / "dataset.h5", tmp_path / "topology.pdb")  # fmt: skip
    with h5py.File(tmp_path / "dataset.h5", "r") as h5:
        attrs = dict(h5["tiny"].attrs)
    assert attrs["aa_ns_per_day_per_core"] == pytest.approx((400.0 / 2 + 300.0 / 1) / 2)
    assert attrs["aa_ns_per_day_per_core_replicas"] == pytest.approx([200.0, 300.0])
    assert attrs["aa_platform"] == "CPU"
    assert "250.0 ns/day per core" in caplog.text

    gpu = tmp_path / "2.h5"
    speed_copy(run.md_file, gpu, 2, ns_per_day=900.0, threads=1, platform="CUDA")
    data = map_aa_protein("tiny", [cpu2, gpu], run.system_xml, "slice", 10.0)
    assert data.extra_attrs["aa_ns_per_day_per_core"] == pytest.approx((200.0 + 900.0) / 2)
    assert data.extra_attrs["aa_platform"] == "CPU,CUDA"


def test_all_atom_speed_is_left_out_when_a_replica_lacks_it(run, tmp_path, caplog):
    """Older all-atom files (and imported data) carry no speed: no attribute, one INFO line."""
    recorded = tmp_path / "0.h5"
    speed_copy(run.md_file, recorded, 0, ns_per_day=400.0, threads=2, platform="CPU")
    config = cgconfig.validate({"proteins": [{"name": "tiny", "sequence": SEQUENCE}]})
    with caplog.at_level(logging.INFO, logger="cgthermo"):
        run_cg_map(config, "tiny", [recorded, run.md_file], run.system_xml,
                   tmp_path / "dataset.h5", tmp_path / "topology.pdb")  # fmt: skip
    with h5py.File(tmp_path / "dataset.h5", "r") as h5:
        attrs = dict(h5["tiny"].attrs)
    assert "aa_ns_per_day_per_core" not in attrs and "aa_platform" not in attrs
    lines = [r for r in caplog.records if "aa_ns_per_day_per_core" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    assert "1 of 2 all-atom replicas" in lines[0].getMessage()
    assert str(run.md_file) in lines[0].getMessage()


def test_imported_data_have_no_all_atom_speed(tmp_path, caplog):
    from helpers.chains import harmonic_chain_sample

    types = [4, 4, 5, 8, 6]  # YYDPE in the paper numbering
    coords, forces = harmonic_chain_sample(30, len(types), 350, np.random.default_rng(11))
    spec = {}
    for key, value in (("coords", coords), ("forces", forces), ("embeddings", np.asarray(types))):
        spec[key] = str(tmp_path / f"{key}.npy")
        np.save(spec[key], np.asarray(value, dtype=np.float32 if key != "embeddings" else None))
    config = cgconfig.validate({"proteins": [{"name": "imp", "import": spec, "temperature": 350}]})
    with caplog.at_level(logging.INFO, logger="cgthermo"):
        run_cg_map(config, "imp", [], None, tmp_path / "dataset.h5", tmp_path / "topology.pdb")
    with h5py.File(tmp_path / "dataset.h5", "r") as h5:
        assert "aa_ns_per_day_per_core" not in h5["imp"].attrs
    lines = [r for r in caplog.records if "aa_ns_per_day_per_core" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    assert "imported" in lines[0].getMessage()


def test_an_imported_proteins_temperature_and_import_block_are_cg_map_params():
    """The temperature and import block reach cg_map as its `source` param, so changing
    either reruns cg_map (and the prior, training and runs that read its dataset)."""
    from cgthermo import config as cgconfig
    from cgthermo.cgmap.rules import CgMapRules

    def source(temperature, timestep):
        spec = {"coords": "c.npy", "forces": "f.npy", "embeddings": "e.npy", "timestep_ps": timestep}
        config = cgconfig.fill_defaults({"proteins": [{"name": "imp", "import": spec,
                                                       "temperature": temperature}]})
        return CgMapRules(config).source(SimpleNamespace(protein="imp"))

    base = source(350, 0.1)
    assert base["temperature"] == 350.0 and base["import"]["timestep_ps"] == 0.1
    assert source(360, 0.1) != base and source(350, 0.2) != base
    assert source(350, 0.1) == base
