"""States' structures and secondary structure: medoids, the nearest all-atom state, superposition
and DSSP profiles with their intervals."""

import numpy as np
import pytest

from cgthermo.structures import dssp, states


def ca_topology(n: int, sequence: str | None = None):
    import mdtraj as md

    from cgthermo.residues import ONE_TO_THREE

    top = md.Topology()
    chain = top.add_chain()
    for k in range(n):
        name = ONE_TO_THREE[sequence[k]] if sequence else "ALA"
        top.add_atom("CA", md.element.carbon, top.add_residue(name, chain))
    return top


def helix_ca(n: int) -> np.ndarray:
    """An ideal α-helix's Cα trace (Å): radius 2.3 Å, 1.5 Å rise and 100° a residue."""
    angle = np.radians(100.0) * np.arange(n)
    return np.stack([2.3 * np.cos(angle), 2.3 * np.sin(angle), 1.5 * np.arange(n)], axis=1)


def strand_ca(n: int) -> np.ndarray:
    """An extended chain: 3.8 Å Cα–Cα bonds zig-zagging along x."""
    return np.stack([3.3 * np.arange(n), 0.95 * (-1.0) ** np.arange(n), np.zeros(n)], axis=1)


def test_dssp_on_a_rebuilt_backbone_finds_the_helix_and_no_helix_in_a_strand():
    codes = dssp.frame_codes(np.stack([helix_ca(14), strand_ca(14)]), "A" * 14)
    helix = dssp.class_indicator(codes)[..., dssp.CLASS_NAMES.index("helix")]
    assert helix[0, 3:11].mean() > 0.7, codes[0]
    assert helix[1].sum() == 0, codes[1]


def test_profiles_weight_the_replicas_by_their_multiplicity():
    # replica 0: every frame helical at residue 0; replica 1: none, with twice the weight
    indicator = np.zeros((3, 1, len(dssp.CLASS_NAMES)))
    indicator[0, 0, 0] = 1.0
    sums = dssp.unit_sums(indicator, [0, 1, 1], np.ones(3), 2)
    assert dssp.profiles(sums, np.ones(2))[0, 0] == pytest.approx(1 / 3)
    assert dssp.profiles(sums, np.array([2, 0]))[0, 0] == pytest.approx(1.0)
    assert np.isnan(dssp.profiles(sums, np.array([[0, 0]]))[0, 0, 0])


def test_the_profile_difference_is_zero_for_one_ensemble_and_one_for_disjoint_classes():
    rng = np.random.default_rng(0)
    codes = rng.choice(["H", "E", "T", " "], size=(40, 6))
    unit = np.repeat(np.arange(8), 5)
    same = dssp.unit_sums(dssp.class_indicator(codes), unit, np.ones(40), 8)
    m = np.stack([np.bincount(rng.integers(0, 8, 8), minlength=8) for _ in range(100)])
    out = dssp.compare(same, same, m, m, lambda s: (*np.nanpercentile(s, [2.5, 97.5]), 1.0))
    assert out["dssp_difference"] == pytest.approx(0.0)
    assert out["dssp_difference_ci_high"] == pytest.approx(0.0)
    helix = dssp.unit_sums(dssp.class_indicator(np.full((40, 6), "H")), unit, np.ones(40), 8)
    strand = dssp.unit_sums(dssp.class_indicator(np.full((40, 6), "E")), unit, np.ones(40), 8)
    out = dssp.compare(helix, strand, m, m, lambda s: (*np.nanpercentile(s, [2.5, 97.5]), 1.0))
    assert out["dssp_difference"] == pytest.approx(1.0)
    assert out["fraction_aa"][:, 0] == pytest.approx(1.0)
    assert out["fraction_cg"][:, 1] == pytest.approx(1.0)


def test_sampled_frames_come_from_every_replica_and_spread_within_it():
    unit = np.repeat([0, 1, 2], [100, 10, 1])
    chosen = dssp.sample_frames(unit, 12)
    assert set(unit[chosen]) == {0, 1, 2}
    first = chosen[unit[chosen] == 0]
    assert first.min() == 0 and first.max() == 99
    assert len(dssp.sample_frames(unit, 0)) == 0


def test_each_states_medoid_is_its_central_member_and_matches_the_right_reference_state():
    top = ca_topology(12)
    rng = np.random.default_rng(1)
    shapes = [helix_ca(12), strand_ca(12)]
    frames = np.concatenate([shapes[k] + rng.normal(0, 0.3 if j else 0.01, (12, 3))
                             for k in (0, 1) for j in range(30)]).reshape(60, 12, 3)  # fmt: skip
    label = np.repeat([0, 1], 30)
    label[-1] = -1  # a frame outside every state belongs to none
    found = states.state_medoids(frames, label, top)
    assert [f["state"] for f in found] == [0, 1]
    assert [f["frame"] for f in found] == [0, 30]  # the least perturbed member of each
    assert found[1]["members"] == 29
    # the model's state 0 looks like the reference's state 1 and vice versa
    reference = [{"state": 0, "xyz": shapes[1]}, {"state": 1, "xyz": shapes[0]}]
    rows = states.nearest_states(found, reference, top)
    assert [r["nearest_reference_state"] for r in rows] == [1, 0]
    assert all(r["rmsd_nearest_A"] < 0.2 for r in rows)
    assert rows[0]["rmsd_same_state_A"] > 2.0
    absent = states.nearest_states(found, reference[:1], top)
    assert np.isnan(absent[1]["rmsd_same_state_A"])


def test_a_rotated_and_shifted_copy_superposes_onto_its_original():
    top = ca_topology(10)
    xyz = helix_ca(10)
    turn = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    moved = states.superposed(xyz @ turn.T + 7.0, xyz, top)
    assert np.abs(moved - xyz).max() < 1e-3
