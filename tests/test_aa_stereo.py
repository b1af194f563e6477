"""The prepared structure's stereochemistry check: L-handed Cα, and no cis peptide bond that
the input did not have except before a proline."""

import numpy as np
import pytest

from cgthermo.aa import build, stereo
from cgthermo.errors import CgthermoError


@pytest.fixture(scope="module")
def chignolin():
    from openmm import unit

    topology, positions = build.complete_protein(build.fixer_from_sequence("YYDPETGTWY"), 1)
    return topology, np.asarray(positions.value_in_unit(unit.nanometer))


def test_a_built_chain_is_all_L_and_trans(chignolin):
    topology, xyz = chignolin
    volumes = stereo.chiral_volumes(topology, xyz)
    assert len(volumes) == 9 and "GLY7" not in volumes  # glycine has no Cβ
    # the tetrahedral volume of an sp3 Cα: |a·(b×c)| with 1.5 Å bonds ≈ 2.5 Å³
    assert all(2.0e-3 < v < 3.0e-3 for v in volumes.values()), volumes
    assert all(abs(abs(w) - 180.0) < 5.0 for w in stereo.omega_degrees(topology, xyz).values())
    stereo.check_stereo("cln", topology, xyz)


def test_a_mirror_image_is_refused_by_name(chignolin):
    topology, xyz = chignolin
    with pytest.raises(CgthermoError, match=r"protein cln: the prepared structure has inverted "
                                            r"stereocentres .* at ASP3, GLU5, .*TYR2") as err:
        stereo.check_stereo("cln", topology, xyz * np.array([-1.0, 1.0, 1.0]))
    assert "\n" not in str(err.value)


def test_the_dihedral_is_mdtrajs():
    import mdtraj

    rng = np.random.default_rng(4)
    points = rng.normal(size=(50, 4, 3))
    top = mdtraj.Topology()
    residue = top.add_residue("X", top.add_chain())
    for _ in range(4):
        top.add_atom("C", mdtraj.element.carbon, residue)
    expected = np.degrees(mdtraj.compute_dihedrals(mdtraj.Trajectory(points, top), [[0, 1, 2, 3]]))
    ours = [stereo.dihedral_degrees(*p) for p in points]
    np.testing.assert_allclose(ours, expected[:, 0], atol=1e-4)


def test_only_new_non_proline_cis_bonds_count():
    omegas = {("A1", "B2", False): 5.0, ("B2", "P3", True): -3.0, ("P3", "C4", False): 179.0}
    assert stereo.cis_bonds(omegas) == {("A1", "B2")}


@pytest.mark.parametrize("name, how", [("GLU5", "mirror"), ("PRO4", "mirror"),
                                       ("THR6", "mirror"), ("THR6", "rotate")])
def test_a_residue_built_with_a_D_centre_is_turned_back_to_L(chignolin, name, how):
    """PDBFixer can place a gap residue as its mirror image (every centre inverted), or its
    refinement can turn a Cα over alone. restore_l_handedness makes the Cα L again, leaves a
    Thr's Cβ centre L, keeps every side-chain bond and moves no other atom."""
    from types import SimpleNamespace

    from openmm import Vec3, unit

    topology, xyz = chignolin
    residue = next(r for r in topology.residues() if stereo.residue_label(r) == name)
    atoms = {a.name: a.index for a in residue.atoms()}
    side = [a.index for a in residue.atoms()
            if a.name not in build.BACKBONE and a.element.symbol != "H"]
    move = build._mirror_side_chain if how == "mirror" else build._rotate_side_chain
    d_form = xyz.copy()
    d_form[side] = move(xyz[side], *(xyz[atoms[k]] for k in ("N", "CA", "C", "CB")))
    assert stereo.chiral_volumes(topology, d_form)[name] < 0
    fixer = SimpleNamespace(topology=topology,
                            positions=unit.Quantity([Vec3(*p) for p in d_form], unit.nanometer))
    assert build.restore_l_handedness(fixer) == [name]
    fixed = np.asarray(fixer.positions.value_in_unit(unit.nanometer))
    assert stereo.chiral_volumes(topology, fixed)[name] > 0
    untouched = np.setdiff1d(np.arange(len(xyz)), side)
    np.testing.assert_array_equal(fixed[untouched], d_form[untouched])
    bonds = [(a.index, b.index) for a, b in topology.bonds() if a.index in side and b.index in side]
    for i, j in bonds:  # a rigid move: every side-chain bond keeps its length
        assert np.linalg.norm(fixed[i] - fixed[j]) == pytest.approx(np.linalg.norm(xyz[i] - xyz[j]))
    if name == "THR6":
        assert stereo.beta_is_l(residue, fixed) and stereo.beta_is_l(residue, xyz)


def test_a_threonine_with_its_own_centre_inverted_gets_it_back(chignolin):
    """PDBFixer's soft refinement can turn a Thr Cβ over alone (allo-threonine): its OG1 and
    CG2 trade places back, the Cα and every other atom untouched."""
    from types import SimpleNamespace

    from openmm import Vec3, unit

    topology, xyz = chignolin
    residue = next(r for r in topology.residues() if stereo.residue_label(r) == "THR6")
    atoms = {a.name: a.index for a in residue.atoms()}
    allo = xyz.copy()
    allo[[atoms["OG1"], atoms["CG2"]]] = xyz[[atoms["CG2"], atoms["OG1"]]]
    assert not stereo.beta_is_l(residue, allo)
    with pytest.raises(CgthermoError, match=r"inverted stereocentres \(the Cα unless a Cβ is named\) at THR6 Cβ"):
        stereo.check_stereo("cln", topology, allo)
    fixer = SimpleNamespace(topology=topology,
                            positions=unit.Quantity([Vec3(*p) for p in allo], unit.nanometer))
    assert build.restore_l_handedness(fixer) == ["THR6 Cβ"]
    np.testing.assert_allclose(np.asarray(fixer.positions.value_in_unit(unit.nanometer)), xyz)
