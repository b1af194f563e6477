"""All-atom models of Cα frames (cgthermo.structures.backmap): PULCHRA's build, completed by
PDBFixer and relaxed under Cα restraints in the project's force field."""

import numpy as np
import pytest
from helpers import structures

from cgthermo.structures import backmap


@pytest.fixture(scope="module")
def forcefield():
    from openmm import app

    from cgthermo import config as cgconfig
    from cgthermo.aa.forcefields import forcefield_files

    config = cgconfig.validate({"proteins": [{"name": "cln", "sequence": structures.SEQUENCE}]})
    return app.ForceField(*forcefield_files(cgconfig.aa_settings(config, "cln")))


@pytest.fixture(scope="module")
def chignolin(tmp_path_factory):
    """An all-atom chignolin and its Cα trace (Å)."""
    import mdtraj as md

    traj = md.load(str(structures.chignolin(tmp_path_factory.mktemp("cln"))))
    return traj, traj.xyz[0][traj.top.select("name CA")] * 10.0


def test_a_backmapped_frame_is_a_whole_protein_on_its_ca_trace(chignolin, forcefield, tmp_path):
    """Every residue gets its heavy atoms, the Cα stay within the tolerance of the frame,
    every bond has a covalent length, the force field takes the model, and the inner
    residues' backbone lies within 0.5 Å of the structure the trace came from."""
    import mdtraj as md
    from openmm import app

    original, ca = chignolin
    model = backmap.backmap(ca, structures.SEQUENCE, forcefield, tmp_path)
    assert model.passed, model.problem
    assert model.ca_shift_A <= backmap.TOLERANCE_A
    assert backmap.BOND_RANGE_A[0] <= model.bond_range_A[0] <= model.bond_range_A[1] <= backmap.BOND_RANGE_A[1]
    built = md.Trajectory(model.positions[None], md.Topology.from_openmm(model.topology))
    for ours, theirs in zip(built.top.residues, original.top.residues, strict=True):
        heavy = {a.name for a in theirs.atoms if a.element.symbol != "H"} - {"OXT"}
        assert heavy <= {a.name for a in ours.atoms}, (ours, heavy)
    forcefield.createSystem(model.topology, nonbondedMethod=app.NoCutoff)
    # inner residues: a terminal N or C has no neighbouring Cα to place it by
    def backbone(traj):
        return [traj.top.select(f"resid {r} and name {n}")[0]
                for r in range(1, traj.n_residues - 1) for n in ("N", "CA", "C")]  # fmt: skip

    a, b = built.xyz[0][backbone(built)], original.xyz[0][backbone(original)]
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    u, _, vt = np.linalg.svd(a.T @ b)
    if np.linalg.det(u @ vt) < 0:
        u[:, -1] *= -1
    assert np.sqrt(((a @ u @ vt - b) ** 2).sum(axis=1).mean()) * 10.0 < 0.5


def test_a_trace_no_protein_can_take_is_reported_not_kept(chignolin, forcefield, tmp_path):
    """Two Cα 1 Å apart: the restraints hold them there, so the relaxed model keeps a
    stretched or crushed bond, and it is reported failed with the reason."""
    _, ca = chignolin
    crushed = ca.copy()
    crushed[5] = crushed[4] + np.array([1.0, 0.0, 0.0])
    model = backmap.backmap(crushed, structures.SEQUENCE, forcefield, tmp_path)
    assert not model.passed
    assert "bond lengths" in model.problem or "Cα moved" in model.problem


def test_models_are_written_as_one_multi_model_pdb(chignolin, forcefield, tmp_path):
    import mdtraj as md

    _, ca = chignolin
    models = [backmap.backmap(ca, structures.SEQUENCE, forcefield, tmp_path) for _ in range(2)]
    backmap.write_models(models, tmp_path / "models.pdb")
    read = md.load(str(tmp_path / "models.pdb"))
    assert read.n_frames == 2 and read.n_atoms == models[0].positions.shape[0]
    backmap.write_models([], tmp_path / "none.pdb")
    assert "no frame could be backmapped" in (tmp_path / "none.pdb").read_text()


def test_the_chosen_frames_start_with_the_most_folded_and_never_repeat():
    rmsd = np.array([3.0, 2.5, 0.7, 4.0, 1.2, 5.0, 2.2, 3.3])
    frames = backmap.chosen_frames(rmsd, 4)
    assert frames[0] == 2 and len(frames) == len(set(frames)) == 4
    assert backmap.chosen_frames(np.array([]), 4) == []  # every replica exploded: nothing to build
    assert backmap.chosen_frames(rmsd[:2], 4) == [1, 0]
