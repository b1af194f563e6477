"""prepare: extended chains from sequences, repaired PDB files, parameterization and bad inputs."""

import io

import numpy as np
import openmm
import pytest
from openmm import app, unit

from cgthermo import config as cgconfig
from cgthermo.aa.build import extended_peptide_pdb
from cgthermo.aa.platform import AUTO_ORDER, available_platforms, select_platform
from cgthermo.aa.system import prepare_protein
from cgthermo.errors import CgthermoError
from cgthermo.residues import parse_sequence

PEPTIDE = "KAAWAE"


def settings(**overrides) -> dict:
    cfg = cgconfig.validate({"proteins": [{"name": "p", "sequence": PEPTIDE}], "aa": overrides})
    return cgconfig.aa_settings(cfg, "p")


def ca_spacing_angstrom(topology, positions_nm) -> np.ndarray:
    ca = [a.index for a in topology.atoms() if a.name == "CA"]
    xyz = np.asarray(positions_nm)[ca] * 10.0
    return np.linalg.norm(np.diff(xyz, axis=0), axis=1)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    out = tmp_path_factory.mktemp("prep")
    prepare_protein({"name": "p", "sequence": PEPTIDE}, settings(threads=1),
                    out / "structure.pdb", out / "system.xml", seed=5)  # fmt: skip
    return out


def test_builder_gives_sequence_and_trans_ca_spacing():
    pdb = app.PDBFile(io.StringIO(extended_peptide_pdb("YYDPETGTWY")))
    names = [r.name for r in pdb.topology.residues()]
    assert names == parse_sequence("YYDPETGTWY")
    spacing = ca_spacing_angstrom(pdb.topology, pdb.getPositions(asNumpy=True)._value)
    # trans peptide bonds put consecutive Cα 3.8 Å apart
    assert np.allclose(spacing, 3.8, atol=0.1)


def test_prepared_structure_is_protonated_minimized_and_matches_system(prepared):
    pdb = app.PDBFile(str(prepared / "structure.pdb"))
    system = openmm.XmlSerializer.deserialize((prepared / "system.xml").read_text())
    assert [r.name for r in pdb.topology.residues()] == parse_sequence(PEPTIDE)
    assert system.getNumParticles() == pdb.topology.getNumAtoms()
    atom_names = {a.name for a in pdb.topology.atoms()}
    assert {"H2", "H3", "OXT"} <= atom_names  # charged termini added by PDBFixer
    assert np.allclose(ca_spacing_angstrom(pdb.topology, pdb.getPositions(asNumpy=True)._value),
                       3.8, atol=0.15)  # fmt: skip
    hydrogen_masses = {
        round(system.getParticleMass(a.index).value_in_unit(unit.amu), 3)
        for a in pdb.topology.atoms() if a.element.symbol == "H"
    }  # fmt: skip
    assert hydrogen_masses == {3.0}  # HMR
    n_h_bonds = sum(
        1 for a, b in pdb.topology.bonds() if "H" in (a.element.symbol, b.element.symbol)
    )
    assert system.getNumConstraints() == n_h_bonds  # HBonds constraints


def test_prepared_structure_is_an_energy_minimum(prepared):
    pdb = app.PDBFile(str(prepared / "structure.pdb"))
    system = openmm.XmlSerializer.deserialize((prepared / "system.xml").read_text())
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("Reference"))  # fmt: skip
    context.setPositions(pdb.positions)
    before = context.getState(getEnergy=True).getPotentialEnergy()._value
    openmm.LocalEnergyMinimizer.minimize(context, 10.0, 200)
    after = context.getState(getEnergy=True).getPotentialEnergy()._value
    # only PDB rounding (1e-4 nm) separates the written structure from a minimum
    assert before - after < 0.02 * abs(before)


def test_same_seed_gives_the_same_structure(prepared, tmp_path):
    prepare_protein({"name": "p", "sequence": PEPTIDE}, settings(threads=1),
                    tmp_path / "structure.pdb", tmp_path / "system.xml", seed=5)  # fmt: skip
    again = app.PDBFile(str(tmp_path / "structure.pdb")).getPositions(asNumpy=True)._value
    first = app.PDBFile(str(prepared / "structure.pdb")).getPositions(asNumpy=True)._value
    assert np.array_equal(again, first)


COMPLETED_POSITIONS = """
import sys
import numpy as np
from cgthermo.aa.build import complete_protein, fixer_from_sequence
_, positions = complete_protein(fixer_from_sequence(sys.argv[1]), seed=11)
sys.stdout.write(repr(np.asarray(positions._value).round(6).tolist()))
"""


def test_same_seed_gives_the_same_structure_in_every_process():
    # on the default CPU platform with 2 threads, PDBFixer's minimizations gave this
    # 28-residue chain 4 different structures in 6 processes
    import os
    import subprocess
    import sys

    def completed() -> str:
        env = {**os.environ, "OPENMM_CPU_THREADS": "2"}
        run = subprocess.run([sys.executable, "-c", COMPLETED_POSITIONS, "GSHMKAAWAELLKKAAEEYYDPETGTWY"],
                             env=env, capture_output=True, text=True, check=True)  # fmt: skip
        assert run.stdout.startswith("[[")
        return run.stdout

    assert len({completed() for _ in range(4)}) == 1


def test_pdb_with_missing_atoms_is_completed(prepared, tmp_path):
    full = app.PDBFile(str(prepared / "structure.pdb"))
    # drop every hydrogen and the indole ring of TRP: PDBFixer must rebuild them
    lines = [
        line for line in (prepared / "structure.pdb").read_text().splitlines()
        if not (line.startswith("ATOM") and (line[76:78].strip() == "H"
                or (line[17:20] == "TRP" and line[12:16].strip() not in ("N", "CA", "C", "O", "CB"))))
    ]  # fmt: skip
    damaged = tmp_path / "damaged.pdb"
    damaged.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    prepare_protein({"name": "p", "pdb": str(damaged)}, settings(threads=1),
                    out / "structure.pdb", out / "system.xml")  # fmt: skip
    rebuilt = app.PDBFile(str(out / "structure.pdb"))
    assert rebuilt.topology.getNumAtoms() == full.topology.getNumAtoms()
    assert sorted(a.name for a in rebuilt.topology.atoms()) == sorted(
        a.name for a in full.topology.atoms()
    )


def _nle_pdb(prepared, tmp_path):
    text = (prepared / "structure.pdb").read_text().replace("ALA A   2", "NLE A   2")
    path = tmp_path / "nle.pdb"
    path.write_text(text)
    return path


def _truncated_pdb(prepared, tmp_path):
    text = (prepared / "structure.pdb").read_text()
    path = tmp_path / "cut.pdb"
    path.write_text(text[: text.index("ATOM     40") + 40])  # mid-way through a coordinate record
    return path


def _garbage_pdb(prepared, tmp_path):
    path = tmp_path / "garbage.pdb"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    return path


def _text_pdb(prepared, tmp_path):
    path = tmp_path / "notes.pdb"
    path.write_text("this is not a structure\njust some notes\n")
    return path


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"sequence": "KAXWAE"}, "not amino acids: 'X' at position 3"),
        ({"sequence": "KA(NLE)AE"}, "NLE is not parameterized.*substitute it.*LEU"),
        (_nle_pdb, "nle.pdb: residue NLE A 2 is not parameterized.*LEU"),
        (_truncated_pdb, "cut.pdb is truncated: line"),
        (_garbage_pdb, "garbage.pdb cannot be read"),
        (_text_pdb, "notes.pdb has no ATOM records"),
        ({"pdb": "no/such/file.pdb"}, "file.pdb does not exist"),
    ],
)
def test_bad_protein_input_gives_one_line_and_no_artifact(prepared, tmp_path, entry, message):
    if callable(entry):
        entry = {"pdb": str(entry(prepared, tmp_path))}
    out = tmp_path / "out"
    with pytest.raises(CgthermoError, match=message) as err:
        prepare_protein({"name": "p", **entry}, settings(threads=1),
                        out / "structure.pdb", out / "system.xml")  # fmt: skip
    assert "\n" not in str(err.value) and "Fix:" in str(err.value)
    assert not out.exists() or list(out.iterdir()) == []


def test_unknown_or_unusable_platform_is_refused(tmp_path):
    with pytest.raises(CgthermoError, match="platform 'Metal' is unknown") as err:
        select_platform("Metal")
    assert "\n" not in str(err.value)
    if "CUDA" not in available_platforms():
        out = tmp_path / "out"
        with pytest.raises(CgthermoError, match="platform 'CUDA' is not usable"):
            prepare_protein({"name": "p", "sequence": PEPTIDE}, settings(platform="CUDA"),
                            out / "structure.pdb", out / "system.xml")  # fmt: skip
        assert not out.exists()


def test_auto_platform_takes_the_first_usable_in_order():
    platform, _ = select_platform("auto", threads=1)
    usable = [name for name in AUTO_ORDER if name in available_platforms()]
    # the first one listed that can create a context; CPU is always built into OpenMM
    assert platform.getName() in usable
    assert AUTO_ORDER.index(platform.getName()) <= AUTO_ORDER.index("CPU")



def test_explicit_solvent_is_a_neutral_pme_water_box():
    from cgthermo.aa.build import complete_protein, fixer_from_sequence
    from cgthermo.aa.dynamics import protein_atom_table
    from cgthermo.aa.system import create_system

    peptide, padding = "KAK", 0.5  # net charge +2 at pH 7
    protein, positions = complete_protein(fixer_from_sequence(peptide), seed=1)
    s = settings(solvent="explicit", padding_nm=padding)
    topology, _, system = create_system(protein, positions, s)
    nonbonded = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    charge = sum(
        nonbonded.getParticleParameters(i)[0].value_in_unit(unit.elementary_charge)
        for i in range(system.getNumParticles())
    )
    assert abs(charge) < 1e-4
    assert [r.name for r in topology.residues()].count("CL") == 2  # the neutralizing ions
    assert nonbonded.getNonbondedMethod() == openmm.NonbondedForce.PME
    box = np.diag(np.array(topology.getPeriodicBoxVectors().value_in_unit(unit.nanometer)))
    extent = np.ptp(np.asarray(positions.value_in_unit(unit.nanometer)), axis=0).max()
    # OpenMM sizes the box as bounding-sphere diameter + padding: periodic images stay apart
    assert box.min() >= extent + padding - 1e-6
    table = protein_atom_table(topology)
    assert len(table["atom_indices"]) == protein.getNumAtoms()  # water and ions are not saved
    assert table["residue_names"] == parse_sequence(peptide)


def _energy_and_forces(system, positions):
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("Reference"))  # fmt: skip
    context.setPositions(positions)
    state = context.getState(getEnergy=True, getForces=True)
    energy = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    forces = state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer)
    return energy, np.asarray(forces)


def test_native_obc2_equals_the_force_field_custom_gb_force():
    from cgthermo.aa.build import complete_protein, fixer_from_sequence
    from cgthermo.aa.system import create_system, forcefield_files

    protein, positions = complete_protein(fixer_from_sequence("YYDPETGTWY"), seed=3)
    s = settings(solvent="implicit", implicit_model="obc2")
    topology, positions, system = create_system(protein, positions, s)
    kinds = {type(f).__name__ for f in system.getForces()}
    assert "GBSAOBCForce" in kinds and "CustomGBForce" not in kinds
    custom = app.ForceField(*forcefield_files(s)).createSystem(
        topology, nonbondedMethod=app.NoCutoff, constraints=app.HBonds
    )
    # a rough, unminimized chain: close contacts test the Born radii, not only the minimum
    energy, forces = _energy_and_forces(system, positions)
    energy_custom, forces_custom = _energy_and_forces(custom, positions)
    assert abs(energy - energy_custom) < 1e-6 * abs(energy_custom)
    assert np.abs(forces - forces_custom).max() < 1e-6 * np.abs(forces_custom).max()
