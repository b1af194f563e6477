"""Predictions: entries checked at load, the prior extended to unseen sequences, starts."""

import json

import numpy as np
import pytest
import yaml

from cgthermo.cgtopology import CGTopology
from cgthermo.config import validate
from cgthermo.errors import CgthermoError
from cgthermo.forcefield import extend
from cgthermo.forcefield.evaluate import PriorEvaluator
from cgthermo.forcefield.torchmd import load_parameters
from cgthermo.predict import entries, structure

WILD = ["TYR", "TYR", "ASP", "PRO", "GLU", "THR", "GLY", "THR", "TRP", "TYR"]


def fitted_like_prior(resnames) -> dict:
    """A prior as the prior stage writes it, covering exactly the chain `resnames`: its own
    bond per bonded pair, repulsion per type, a shared angle and a generic dihedral."""
    types = sorted(set(resnames))
    bonds = {}
    for k, (a, b) in enumerate(zip(resnames, resnames[1:], strict=False)):
        bonds.setdefault(extend.pair_key(a, b), {"k0": 90.0 + 3 * k, "req": 3.80 + 0.01 * k})
    return {
        "atomtypes": types,
        "bonds": bonds,
        "angles": {"(X, X, X)": {"k0": 2.0, "theta0": 104.0}},
        "dihedrals": {"(X, X, X, X)": {"terms": [{"phi_k": 0.4, "phase": -20.0, "per": 1},
                                                  {"phi_k": 0.8, "phase": 50.0, "per": 2}]}},
        "electrostatics": {t: {"charge": 0.0} for t in types},
        "lj": {t: {"epsilon": 1000.0 + 100 * i, "sigma": 1.0} for i, t in enumerate(types)},
        "masses": {t: 12.0 for t in types},
    }  # fmt: skip


def bond_parameters(sections, resnames, tmp_path, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(sections))
    bonds = load_parameters(path, CGTopology(list(resnames))).bond_params
    per_bond = bonds["params"].numpy()[bonds["map"][:, 1].numpy()]
    return per_bond[np.argsort(bonds["map"][:, 0].numpy())], path


def test_a_point_mutant_changes_its_own_embedding_and_bonds_only(tmp_path):
    """Y1A → A at bead 1: embeddings differ there only; the two bonds of bead 1 fall back to
    the pooled (X, X) bond (mean k0 and req), every other bond keeps the wild type's own."""
    mutant = list(WILD)
    mutant[1] = "ALA"
    sections = fitted_like_prior(WILD)
    extended, filled = extend.extend_prior(sections, mutant)
    wt_bonds, _ = bond_parameters(sections, WILD, tmp_path, "wt")
    mut_bonds, _ = bond_parameters(extended, mutant, tmp_path, "mut")
    changed = np.flatnonzero(np.any(wt_bonds != mut_bonds, axis=1))
    assert changed.tolist() == [0, 1]  # bonds (0, 1) and (1, 2)
    pooled = [np.mean([v["k0"] for v in sections["bonds"].values()]),
              np.mean([v["req"] for v in sections["bonds"].values()])]  # fmt: skip
    np.testing.assert_allclose(mut_bonds[changed], [pooled, pooled])
    embeddings = CGTopology(mutant).embeddings != CGTopology(WILD).embeddings
    assert np.flatnonzero(embeddings).tolist() == [1]
    # the new type's repulsion is the median of the prior's types, and the fill is reported
    eps = [v["epsilon"] for v in sections["lj"].values()]
    assert extended["lj"]["ALA"]["epsilon"] == pytest.approx(np.median(eps))
    assert any("bead type ALA" in line for line in filled)
    assert any("(TYR, ALA)" in line and "(ALA, ASP)" in line for line in filled)


def test_the_wild_type_needs_nothing_filled():
    sections = fitted_like_prior(WILD)
    extended, filled = extend.extend_prior(sections, WILD)
    assert filled == [] and extended["bonds"] == sections["bonds"]


def test_the_extended_prior_gives_the_mutants_energy_term_by_term(tmp_path):
    """The prior energy of the mutant with the extended YAML equals the sum of the terms
    computed by hand from the filled parameters (bonds, angles, dihedrals, repulsion)."""
    mutant = list(WILD)
    mutant[4] = "LYS"
    extended, _ = extend.extend_prior(fitted_like_prior(WILD), mutant)
    path = tmp_path / "mut.yaml"
    path.write_text(yaml.safe_dump(extended))
    rng = np.random.default_rng(2)
    pos = structure.random_coils(3, len(mutant), 3.85, 104.0, rng)
    energy, _ = PriorEvaluator(path, CGTopology(mutant))(pos)
    # torchmd keeps parameter tables in float32: agreement to 1e-6
    np.testing.assert_allclose(energy, [by_hand(extended, mutant, p) for p in pos], rtol=1e-6)


def by_hand(sections, resnames, x) -> float:
    def bond(a, b):
        entry = sections["bonds"].get(extend.pair_key(a, b)) or sections["bonds"].get(
            extend.pair_key(b, a)) or sections["bonds"]["(X, X)"]  # fmt: skip
        return entry["k0"], entry["req"]

    total = 0.0
    n = len(resnames)
    for i in range(n - 1):
        k0, req = bond(resnames[i], resnames[i + 1])
        total += k0 * (np.linalg.norm(x[i + 1] - x[i]) - req) ** 2
    angle = sections["angles"]["(X, X, X)"]
    for i in range(n - 2):
        u, v = x[i] - x[i + 1], x[i + 2] - x[i + 1]
        theta = np.arccos(u @ v / np.linalg.norm(u) / np.linalg.norm(v))
        total += angle["k0"] * (theta - np.radians(angle["theta0"])) ** 2
    for i in range(n - 3):
        phi = dihedral(*x[i : i + 4])
        for term in sections["dihedrals"]["(X, X, X, X)"]["terms"]:
            total += term["phi_k"] * (1 + np.cos(term["per"] * phi - np.radians(term["phase"])))
    eps = {t: v["epsilon"] for t, v in sections["lj"].items()}
    for i in range(n):
        for j in range(i + 2, n):  # repulsion on every pair but bonded neighbours
            r = np.linalg.norm(x[j] - x[i])
            total += 4 * np.sqrt(eps[resnames[i]] * eps[resnames[j]]) / r**6
    return total


def dihedral(a, b, c, d) -> float:
    b0, b1, b2 = a - b, c - b, d - c
    b1 = b1 / np.linalg.norm(b1)
    v, w = b0 - (b0 @ b1) * b1, b2 - (b2 @ b1) * b1
    return float(np.arctan2(np.cross(b1, v) @ w, v @ w))


def test_pooled_dihedral_is_the_mean_of_the_terms_up_to_a_constant():
    entries_ = [{"terms": [{"phi_k": 0.3, "phase": -16.0, "per": 1},
                           {"phi_k": 0.8, "phase": -52.0, "per": 2}]},
                {"terms": [{"phi_k": 1.1, "phase": 170.0, "per": 1}]},
                {"terms": [{"phi_k": 0.2, "phase": 90.0, "per": 2}]}]  # fmt: skip
    pooled = extend.pooled_dihedral(entries_)
    phi = np.linspace(-np.pi, np.pi, 73)

    def energy(terms):
        return sum(t["phi_k"] * (1 + np.cos(t["per"] * phi - np.radians(t["phase"]))) for t in terms)

    mean = np.mean([energy(e["terms"]) for e in entries_], axis=0)
    difference = energy(pooled) - mean
    np.testing.assert_allclose(difference - difference.mean(), 0, atol=1e-12)


def test_a_prior_without_bonds_cannot_be_extended():
    sections = fitted_like_prior(WILD)
    sections["bonds"] = {}
    with pytest.raises(CgthermoError, match="has no bonds"):
        extend.extend_prior(sections, WILD)


def test_paper_prior_types_are_extended_in_their_own_naming():
    """A prior typed CA + one-letter code (the paper's) gets CAK for a new lysine."""
    sections = fitted_like_prior(WILD)
    code = {"TYR": "CAY", "ASP": "CAD", "PRO": "CAP", "GLU": "CAE", "THR": "CAT", "GLY": "CAG",
            "TRP": "CAW"}  # fmt: skip

    def rename(key):
        for three, ca in code.items():
            key = key.replace(three, ca)
        return key

    paper = {section: ({rename(k): v for k, v in value.items()} if isinstance(value, dict)
                       else [rename(t) for t in value]) for section, value in sections.items()}
    mutant = list(WILD)
    mutant[4] = "LYS"
    extended, filled = extend.extend_prior(paper, mutant)
    assert "CAK" in extended["lj"] and "CAK" in extended["atomtypes"]
    assert any("(CAE" not in line and "CAK" in line for line in filled)


def test_random_coils_have_the_priors_bonds_and_angles_and_avoid_themselves():
    coils = structure.random_coils(5, 12, 3.82, 104.0, np.random.default_rng(1))
    bonds = np.linalg.norm(np.diff(coils, axis=1), axis=-1)
    np.testing.assert_allclose(bonds, 3.82, rtol=1e-10)
    u, v = coils[:, :-2] - coils[:, 1:-1], coils[:, 2:] - coils[:, 1:-1]
    cos = (u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
    np.testing.assert_allclose(np.degrees(np.arccos(cos)), 104.0, atol=1e-8)
    dist = np.linalg.norm(coils[:, :, None] - coils[:, None], axis=-1)
    i, j = np.triu_indices(12, 2)
    assert dist[:, i, j].min() > structure.MIN_NONBONDED


def test_trajectory_starts_are_read_in_angstrom_exactly(tmp_path):
    """An xtc (nm, as the paper's k-centers files) comes back in Å, frame for frame."""
    import mdtraj

    topology = CGTopology(WILD).to_mdtraj()
    frames_angstrom = structure.random_coils(4, len(WILD), 3.8, 100.0, np.random.default_rng(4))
    traj = mdtraj.Trajectory(frames_angstrom / 10.0, topology)
    traj.save_xtc(str(tmp_path / "starts.xtc"))
    traj[0].save_pdb(str(tmp_path / "top.pdb"))
    names, read = structure.trajectory_ca(tmp_path / "starts.xtc", tmp_path / "top.pdb")
    assert names == WILD
    np.testing.assert_allclose(read, frames_angstrom, atol=0.006)  # xtc keeps 1e-3 nm


def test_given_starts_are_used_one_per_replica():
    from cgthermo.cgsim.starts import given_frames

    assert given_frames(32, 32).tolist() == list(range(32))
    assert given_frames(1, 4).tolist() == [0, 0, 0, 0]
    assert given_frames(3, 7).tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert given_frames(9, 3).tolist() == [0, 4, 8]


def config_with(*predict, models=("prior_only", "specific", "multi")):
    """cln and pep: between them the multi network trains on Y D P E T G W K A."""
    return validate({"proteins": [{"name": "cln", "sequence": "YYDPETGTWY", "temperature": 340},
                                  {"name": "pep", "sequence": "KAAWAE", "temperature": 340}],
                     "models": list(models), "predict": list(predict)})  # fmt: skip


def test_entries_resolve_their_defaults():
    config = config_with({"name": "y1a", "sequence": "AYDPETGTWY", "parent": "cln"},
                         {"name": "coil", "sequence": "KAAWAE"})  # fmt: skip
    y1a, coil = (entries.resolve(config, n) for n in ("y1a", "coil"))
    assert (y1a.model, y1a.starts, y1a.temperature, y1a.compares_to_parent) == \
        ("multi", "parent", 340.0, True)  # fmt: skip
    assert (coil.starts, coil.temperature, coil.compares_to_parent) == ("extended", 300.0, False)
    assert entries.problems(config) == []


@pytest.mark.parametrize("entry, message", [
    ({"name": "cln", "sequence": "KAAWAE"}, "already used by a protein"),
    ({"name": "x", "sequence": "KAAWAE", "parent": "nope"}, "not a protein of this config"),
    ({"name": "x", "sequence": "KAAWAE", "parent": "cln", "model": "specific"},
     "the parent 'cln' has 10 residues, the entry 6"),
    ({"name": "x", "sequence": "KAAWAE", "starts": "parent", "parent": "cln"},
     "starts' is parent but the entry has no parent of its length"),
    ({"name": "x", "sequence": "KAAWAE", "model": "checkpoint"}, "checkpoint and prior is not given"),
    ({"name": "x", "sequence": "KAAWAE", "starts": "pdb"}, "the entry has no pdb"),
])  # fmt: skip
def test_a_bad_entry_is_one_line_at_load(entry, message):
    problems = entries.problems(config_with(entry))
    assert len(problems) == 1 and message in str(problems[0])


@pytest.mark.parametrize("entry, untrained", [
    ({"name": "x", "sequence": "YYDPETGTWL"}, "LEU"),  # multi: no protein has leucine
    ({"name": "x", "sequence": "YYDPKTGTWY", "parent": "cln", "model": "specific"}, "LYS"),
])  # fmt: skip
def test_a_residue_type_the_network_never_saw_is_refused_at_load(entry, untrained):
    """multi trains on every protein of the config, specific on its parent alone: a type
    neither saw would run on the network's random initial embedding."""
    (problem,) = entries.problems(config_with(entry))
    assert f"residue(s) {untrained} never occur in the data the {entry.get('model', 'multi')} " \
           "network trained on" in str(problem)
    assert "\n" not in str(problem)
    allowed = config_with({**entry, "allow_untrained_types": True})
    assert entries.problems(allowed) == []
    assert entries.untrained_residues(allowed, entries.resolve(allowed, "x")) == [untrained]


def test_an_untrained_type_gets_no_ddg_verdict(tmp_path):
    """Opted in, the ΔΔG and its interval are reported but never called a verdict."""
    import pandas as pd

    from cgthermo.predict.analysis import ddg

    parent_metrics = tmp_path / "metrics.json"
    parent_metrics.write_text(json.dumps({"dG_fold_cg_kcal": 0.0}))
    rows = np.full((40, 1), 2.0) + np.linspace(-0.1, 0.1, 40)[:, None]  # clearly destabilised
    np.savez(tmp_path / "resamples.npz", metrics=np.array(["dG_fold_cg_kcal"]),
             rows=np.zeros((40, 1)))
    table = (["dG_fold_cg_kcal"], rows)
    parent = {"metrics": parent_metrics, "resamples": tmp_path / "resamples.npz"}
    assert ddg({"dG_fold_cg_kcal": 2.0}, table, parent)["ddG_fold_verdict"] == "destabilised"
    out = ddg({"dG_fold_cg_kcal": 2.0}, table, {**parent, "untrained": ["LEU"]})
    assert out["ddG_fold_verdict"] == "not judged: untrained residue types LEU"
    assert out["ddG_fold_kcal"] == pytest.approx(2.0)
    assert pd.notna(out["ddG_fold_kcal_ci_low"])


def test_multi_without_the_multi_model_is_refused():
    config = config_with({"name": "x", "sequence": "KAAWAE"}, models=("prior_only", "specific"))
    (problem,) = entries.problems(config)
    assert "needs this config's multi-protein prior" in str(problem)


def test_random_coils_relax_downhill_under_the_prior(tmp_path):
    from cgthermo.predict.prepare import relax_under_prior

    path = tmp_path / "prior.yaml"
    path.write_text(yaml.safe_dump(fitted_like_prior(WILD)))
    coils = structure.random_coils(4, len(WILD), 3.6, 130.0, np.random.default_rng(3))
    evaluate = PriorEvaluator(path, CGTopology(WILD))
    relaxed = relax_under_prior(coils, path, WILD)
    before, after = evaluate(coils)[0], evaluate(relaxed)[0]
    assert np.all(after < before)
    # the bonds move from the coil's 3.6 Å toward the prior's req (3.80–3.88 Å)
    bonds = np.linalg.norm(np.diff(relaxed, axis=1), axis=-1)
    assert np.all(np.abs(bonds - 3.84) < np.abs(3.6 - 3.84))


def test_contact_map_in_blocks_is_the_whole_count(monkeypatch):
    from cgthermo.predict import analysis

    pos = structure.random_coils(50, 8, 3.8, 100.0, np.random.default_rng(5))
    dist = np.linalg.norm(pos[:, :, None] - pos[:, None], axis=-1)
    monkeypatch.setattr(analysis, "CONTACT_BLOCK_VALUES", 7 * 28)  # blocks of 7 frames
    np.testing.assert_allclose(analysis.contact_map(pos, 8.0), (dist < 8.0).mean(axis=0))


def test_under_exchange_each_trajectory_replica_gets_its_ladders_start(tmp_path):
    """32 slots in ladders of 4 from 32 given frames: trajectory replica k is slot 4k."""
    from cgthermo.predict.analysis import start_of_each_replica
    from cgthermo.predict.entries import Prediction
    from cgthermo.predict.prepare import write_starts

    frames = np.arange(32 * 10 * 3, dtype=float).reshape(32, 10, 3)
    prediction = Prediction("p", tuple(WILD), 300.0, "multi", "trajectory")
    write_starts(tmp_path / "starts.h5", prediction, frames)
    starts = start_of_each_replica(tmp_path / "starts.h5", "p", 8, slots=4)
    np.testing.assert_array_equal(starts, frames[::4])


def test_a_types_own_repulsion_is_kept_without_an_atomtypes_list():
    sections = fitted_like_prior(WILD)
    del sections["atomtypes"]
    extended, filled = extend.extend_prior(sections, WILD)
    assert extended["lj"] == sections["lj"] and filled == []


def test_an_imported_parent_has_the_length_of_its_data(tmp_path):
    types = tmp_path / "embeddings.npy"
    np.save(types, np.arange(1, 11))
    config = validate({"proteins": [{"name": "cln", "temperature": 340, "import": {
        "coords": "c.npy", "forces": "f.npy", "embeddings": str(types)}}],
        "predict": [{"name": "m", "sequence": "AYDPETGTWY", "parent": "cln"}]})  # fmt: skip
    assert entries.resolve(config, "m").compares_to_parent


def test_a_start_structure_of_another_sequence_is_named_in_one_line(tmp_path):
    from helpers import structures

    from cgthermo.predict.entries import Prediction
    from cgthermo.predict.prepare import given_starts

    pdb = structures.chignolin(tmp_path)  # YYDPETGTWY
    mutant = Prediction("m", ("ALA", *WILD[1:-1], "NLE"), 300.0, "multi", "pdb", pdb=str(pdb))
    with pytest.raises(CgthermoError, match=r"10 Cα of residues YYDPETGTWY, the entry 10 of "
                                            r"AYDPETGTW\(NLE\)"):  # fmt: skip
        given_starts(mutant, 4, {}, 0)


def per_quadruple_prior(tmp_path, resnames):
    """A prior of `resnames` with one dihedral term per quadruple, turning alternately one way
    and the other (+119° and −70° minima, 3 kcal/mol), beside a generic term that averages
    them, as the demo's per-quadruple prior has."""
    import yaml
    from helpers.cgsim_toy import write_prior

    path = write_prior(tmp_path / "parent.yaml", resnames)
    sections = yaml.safe_load(path.read_text())
    quads = [tuple(resnames[i : i + 4]) for i in range(len(resnames) - 3)]
    own = {}
    for i, quad in enumerate(quads):
        phase = 180.0 - 119.0 if i % 2 == 0 else 180.0 + 70.0
        own[f"({', '.join(quad)})"] = {"terms": [{"per": 1, "phi_k": 1.5, "phase": phase}]}
    sections["dihedrals"] = {"(X, X, X, X)": {"terms": extend.pooled_dihedral(list(own.values()))},
                             **own}
    path.write_text(yaml.safe_dump(sections, sort_keys=False))
    return path, sections


def test_a_point_mutant_keeps_its_parents_dihedrals_by_position(tmp_path):
    """D3T in chignolin: the three quadruples through residue 3 find no term of their own.
    Extended by position they take the parent's term at each position, so the mutant's
    dihedral energy equals the parent's on any chain and tells a turn from its mirror image;
    without the parent they would run under the generic term, which cannot."""
    from helpers.cgsim_toy import CHIGNOLIN
    from helpers.chains import random_chain

    from cgthermo.forcefield.evaluate import prior_forces
    from cgthermo.forcefield.yamlio import write_prior_sections

    mutant = list(CHIGNOLIN)
    mutant[2] = "THR"
    parent_yaml, sections = per_quadruple_prior(tmp_path, CHIGNOLIN)
    by_position, filled = extend.extend_prior(sections, mutant, parent_yaml, parent=CHIGNOLIN)
    for i in range(3):
        ours, theirs = ", ".join(mutant[i : i + 4]), ", ".join(CHIGNOLIN[i : i + 4])
        assert by_position["dihedrals"][f"({ours})"] == sections["dihedrals"][f"({theirs})"]
        assert any(f"at position {i + 1}" in line for line in filled)
    generic, lines = extend.extend_prior(sections, mutant, parent_yaml)
    (note,) = [line for line in lines if "no term of their own" in line]
    assert all(f"({', '.join(mutant[i : i + 4])})" in note for i in range(3))
    paths = {}
    for name, extended in (("by_position", by_position), ("generic", generic)):
        paths[name] = tmp_path / f"{name}.yaml"
        write_prior_sections(paths[name], extended)
    chains = np.stack([random_chain(10, np.random.default_rng(s)) for s in range(8)])
    mirrored = chains * np.array([-1.0, 1.0, 1.0])

    def dihedral_energy(yaml_path, resnames, pos):
        return prior_forces(yaml_path, CGTopology(resnames), pos, terms=["dihedrals"])[0]

    parent = dihedral_energy(parent_yaml, CHIGNOLIN, chains)
    np.testing.assert_allclose(dihedral_energy(paths["by_position"], mutant, chains), parent,
                               rtol=1e-10)
    np.testing.assert_allclose(dihedral_energy(paths["by_position"], mutant, mirrored),
                               dihedral_energy(parent_yaml, CHIGNOLIN, mirrored), rtol=1e-10)
    assert np.abs(parent - dihedral_energy(parent_yaml, CHIGNOLIN, mirrored)).max() > 1.0
    assert np.abs(dihedral_energy(paths["generic"], mutant, chains) - parent).max() > 1.0


def test_a_psf_in_the_papers_layout_gives_the_trajectorys_calpha_atoms(tmp_path):
    """The paper's Cα psf files number atoms by all-atom serials, which mdtraj's own psf
    reader refuses; the trajectory start reads them, in Å and in chain order."""
    import mdtraj
    from helpers import structures

    from cgthermo.predict.structure import trajectory_ca

    pdb = mdtraj.load(str(structures.chignolin(tmp_path)))
    ca = pdb.atom_slice(pdb.topology.select("name CA"))
    ca.xyz = np.concatenate([ca.xyz, ca.xyz + 0.1])  # two frames, nm
    ca.time = np.arange(2.0)
    ca.save_xtc(str(tmp_path / "starts.xtc"))
    psf = structures.ca_psf(tmp_path)
    with pytest.raises(Exception, match="Nonsequential"):  # mdtraj's PSFError
        mdtraj.load_topology(str(psf))
    names, positions = trajectory_ca(tmp_path / "starts.xtc", psf)
    assert names == structures.NAMES
    np.testing.assert_allclose(positions, ca.xyz * 10.0, atol=0.006)  # xtc keeps 1e-3 nm


def test_predicted_ddg_is_scored_against_a_table_in_the_benchmarks_layout(tmp_path, capsys,
                                                                         monkeypatch):
    """Mutants matched by sequence; the wild type, an unmatched prediction and an undefined
    ΔΔG are left out; MAE, correlations and sign agreement are those of the matched pairs,
    each inside its interval."""
    import pandas as pd

    from cgthermo.predict import experiment

    wt = "GSKLPPGWEKRMSRSSGRVYYFNHITNASQWERPSG"
    mutants = {"P6H": (wt[:5] + "H" + wt[6:], 0.42), "Q30N": (wt[:29] + "N" + wt[30:], 1.69),
               "S2N": (wt[:1] + "N" + wt[2:], 0.12), "W8F": (wt[:7] + "F" + wt[8:], -0.3)}
    rows = [{"name": "WT", "name_wt": "WT", "mutant": False, "dg_exp": -2.3, "ddg_exp": 0.0,
             "dg_ci95_low": -2.2, "dg_ci95_high": -2.4, "num_samples": 400, "sequence": wt}]
    rows += [{"name": f"WT__{m}", "name_wt": "WT", "mutant": True, "dg_exp": -2.3 + d,
              "ddg_exp": d, "dg_ci95_low": 0, "dg_ci95_high": 0, "num_samples": 200,
              "sequence": s} for m, (s, d) in mutants.items()]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "system_info.csv", index=False)
    predicted = {"P6H": 0.9, "Q30N": 1.2, "S2N": -0.2, "W8F": None}
    predictions = pd.DataFrame(
        [{"prediction": m, "sequence": mutants[m][0], "ddG_fold_kcal": v} for m, v in predicted.items()]
        + [{"prediction": "wt", "sequence": wt, "ddG_fold_kcal": 0.0},
           {"prediction": "other", "sequence": "YYDPETGTWY", "ddG_fold_kcal": 1.0}])  # fmt: skip
    predictions.to_csv(tmp_path / "predictions.csv", index=False)
    pairs = experiment.matched(predictions, *experiment.read_table(tmp_path / "system_info.csv"))
    assert sorted(pairs["prediction"]) == ["P6H", "Q30N", "S2N"]
    result = experiment.score_with_intervals(pairs, resamples=300)
    assert result["n_mutants"] == 3
    assert result["ddg_mae_kcal"] == pytest.approx((0.48 + 0.49 + 0.32) / 3)
    assert result["pearson"] == pytest.approx(np.corrcoef([0.9, 1.2, -0.2], [0.42, 1.69, 0.12])[0, 1])
    assert result["spearman"] == pytest.approx(1.0) and result["sign_agreement"] == pytest.approx(2 / 3)
    for name in ("ddg_mae_kcal", "sign_agreement"):
        assert result[f"{name}_ci_low"] <= result[name] <= result[f"{name}_ci_high"]
    import runpy
    import sys
    from pathlib import Path

    monkeypatch.setattr(sys, "argv", ["score_ddg.py", str(tmp_path / "predictions.csv"),
                                      str(tmp_path / "system_info.csv"), "--resamples", "50"])
    runpy.run_path(str(Path(__file__).parents[1] / "scripts" / "score_ddg.py"),
                   run_name="__main__")
    assert "ddg_mae_kcal: 0.430" in capsys.readouterr().out
    with pytest.raises(CgthermoError, match="lacks column"):
        pd.DataFrame({"name": ["x"]}).to_csv(tmp_path / "bad.csv", index=False)
        experiment.read_table(tmp_path / "bad.csv")


def test_a_mutant_of_a_shorter_parent_is_matched_by_its_substitution(tmp_path):
    """The paper's 34-residue WW domain inside the table's 36-residue construct (two tag
    residues in front): the prediction P4H of the parent is the table's P6H, Q28N its Q30N;
    a substitution at another residue, one outside the overlap and a parent that is no part
    of the wild type match nothing."""
    import pandas as pd

    from cgthermo.predict import experiment

    ww = "KLPPGWEKRMSRSSGRVYYFNHITNASQWERPSG"
    wt = "GS" + ww

    def mutate(seq, k, r):
        return seq[:k] + r + seq[k + 1:]

    rows = [{"name": "WT", "name_wt": "WT", "mutant": False, "ddg_exp": 0.0, "sequence": wt},
            {"name": "WT__P6H", "name_wt": "WT", "mutant": True, "ddg_exp": 0.42,
             "sequence": mutate(wt, 5, "H")},
            {"name": "WT__Q30N", "name_wt": "WT", "mutant": True, "ddg_exp": 1.69,
             "sequence": mutate(wt, 29, "N")},
            {"name": "WT__S2N", "name_wt": "WT", "mutant": True, "ddg_exp": 0.12,
             "sequence": mutate(wt, 1, "N")}]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "system_info.csv", index=False)
    predictions = pd.DataFrame([
        {"prediction": "ww_p4h", "sequence": mutate(ww, 3, "H"), "parent_sequence": ww,
         "ddG_fold_kcal": 0.8},
        {"prediction": "ww_q28n", "sequence": mutate(ww, 27, "N"), "parent_sequence": ww,
         "ddG_fold_kcal": 1.1},
        {"prediction": "ww_p3h", "sequence": mutate(ww, 2, "H"), "parent_sequence": ww,
         "ddG_fold_kcal": 0.5},
        {"prediction": "cln_e5d", "sequence": "YYDPDTGTWY", "parent_sequence": "YYDPETGTWY",
         "ddG_fold_kcal": 0.3}])  # fmt: skip
    table, wild_types = experiment.read_table(tmp_path / "system_info.csv")
    pairs = experiment.matched(predictions, table, wild_types)
    assert sorted(zip(pairs["prediction"], pairs["name"], strict=True)) == [("ww_p4h", "WT__P6H"),
                                                               ("ww_q28n", "WT__Q30N")]
    assert list(pairs.sort_values("prediction")["ddg_exp"]) == [0.42, 1.69]


def replica_counts(fractions, frames=400):
    fractions = np.asarray(fractions, dtype=float)
    return np.round(fractions * frames), np.full(len(fractions), float(frames))


def test_runs_that_remember_their_starts_get_a_start_dependent_verdict():
    """16 replicas, half started folded. Forgotten starts: every replica of a run folds
    alike, the mutant less than the parent, so the folded- and unfolded-start ΔΔG agree.
    Remembered starts: the unfolded-start replicas never get to fold in either run, so
    their ΔΔG is 0 while the folded-start ones show the mutation: start-dependent."""
    from cgthermo.predict.analysis import start_gap

    rng = np.random.default_rng(3)
    started = np.arange(16) < 8
    scatter = rng.normal(0, 0.02, 16)
    forgot = start_gap(replica_counts(0.3 + scatter), replica_counts(0.6 + scatter), started,
                       340.0, 400, np.random.default_rng(1))  # fmt: skip
    assert forgot["start_memory_verdict"] == "no memory of the starts resolved"
    assert forgot["ddG_fold_folded_starts_kcal"] > 0 and forgot["ddG_fold_unfolded_starts_kcal"] > 0
    remember = start_gap(replica_counts(np.where(started, 0.3, 0.02) + np.abs(scatter)),
                         replica_counts(np.where(started, 0.8, 0.02) + np.abs(scatter)),
                         started, 340.0, 400, np.random.default_rng(1))  # fmt: skip
    assert remember["start_memory_verdict"] == "start-dependent"
    assert remember["ddG_fold_start_gap_kcal_ci_low"] > 0
    none_folded = start_gap(replica_counts(np.full(16, 0.3)), replica_counts(np.full(16, 0.6)),
                            np.zeros(16, bool), 340.0, 100, np.random.default_rng(1))  # fmt: skip
    assert none_folded["start_memory_verdict"].startswith("undetermined")
