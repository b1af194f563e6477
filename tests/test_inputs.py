"""Every row of docs/inputs.md: a bad input stops `snakemake --dry-run` with one line naming
the key and the fix, and leaves nothing behind; an accepted input plans its jobs, and the
structures it stands for are prepared as documented."""

import re
import subprocess
import sys

import numpy as np
import pytest
import yaml
from helpers import structures
from helpers.chains import harmonic_chain_sample
from slurm.snakemake_plan import REPO, SNAKEFILE, snakemake_env

from cgthermo import preflight
from cgthermo.aa import pdbinput
from cgthermo.errors import CgthermoError

CLN = {"name": "cln", "sequence": "YYDPETGTWY", "temperature": 340}


def dry_run(folder, config: dict, *extra) -> subprocess.CompletedProcess:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "-d", str(folder),
               "--configfile", str(path), "--cores", "1", "-n", *extra]  # fmt: skip
    return subprocess.run(command, cwd=REPO, env=snakemake_env(), capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def protein(**entry) -> dict:
    return {"proteins": [{"name": "p", "temperature": 340, **entry}]}


def imported(folder, change=lambda c, f, t: (c, f, t)) -> dict:
    coords, forces = harmonic_chain_sample(200, 6, 340, np.random.default_rng(3))
    coords, forces, types = change(coords, forces, np.array([4, 4, 5, 8, 6, 13]))
    spec = {}
    for key, value in (("coords", coords), ("forces", forces), ("embeddings", types)):
        spec[key] = str(folder / f"{key}.npy")
        np.save(spec[key], value)
    return protein(**{"import": spec})


# (config maker, the line the user sees): the rows of docs/inputs.md caught at load
REFUSED = {
    "unknown key": (lambda d: {**protein(sequence="YYDPETGTWY"), "bogus": 1},
                    r"config key '\(top level\)' is invalid: Additional properties"),
    "per-protein override of wrong type": (
        lambda d: protein(sequence="YYDPETGTWY", aa={"replicas": "two"}),
        r"config key 'proteins\.p\.aa\.replicas' is invalid: 'two' is not of type 'integer'"),
    "per-protein solvent unknown": (
        lambda d: protein(sequence="YYDPETGTWY", aa={"solvent": "vacuum"}),
        r"config key 'proteins\.p\.aa\.solvent' is invalid: 'vacuum' is not one of"),
    "per-protein zero replicas": (
        lambda d: protein(sequence="YYDPETGTWY", aa={"replicas": 0}),
        r"config key 'proteins\.p\.aa\.replicas' is invalid: 0 is less than the minimum of 1"),
    "NaN temperature": (lambda d: protein(sequence="YYDPETGTWY", temperature=float("nan")),
                        r"config key 'proteins\.p\.temperature' is nan\. Fix: give a finite number"),
    "infinite setting": (lambda d: {**protein(sequence="YYDPETGTWY"), "aa": {"length_ns": float("inf")}},
                         r"config key 'aa\.length_ns' is inf"),
    "empty results": (lambda d: {**protein(sequence="YYDPETGTWY"), "results": ""},
                      r"config key 'results' is empty\. Fix: name the folder"),
    "exchange ladder not tiling the batches": (
        lambda d: {**protein(sequence="YYDPETGTWY"),
                   "cgsim": {"sampler": "exchange", "replicas": 12, "batch_replicas": 6,
                             "exchange": {"temperatures": 4}}},
        r"cgsim\.exchange\.temperatures = 4 does not divide both cgsim\.replicas = 12 and "
        r"cgsim\.batch_replicas = 6\. Fix: make both multiples"),
    "no models": (lambda d: {**protein(sequence="YYDPETGTWY"), "models": []},
                  r"config key 'models' lists no model\. Fix: list at least one of"),
    "two sources": (lambda d: protein(sequence="YYDPETGTWY", pdb="x.pdb"),
                    r"config key 'proteins\.p' gives sequence and pdb\. Fix: give exactly one"),
    "duplicate names": (lambda d: {"proteins": [CLN, CLN]}, r"config key 'proteins' names cln twice"),
    "letters not amino acids": (
        lambda d: protein(sequence="GYBZJAAA"),
        r"'proteins\.p\.sequence': sequence 'GYBZJAAA' has 3 letter\(s\) that are not amino acids: "
        r"'B' at position 3, 'Z' at position 4, 'J' at position 5\. Fix: use the 20 one-letter codes"),
    "unclosed bracket": (lambda d: protein(sequence="AAAA(NLE"), r"has an unclosed '\(' at position 5\. Fix: close it"),
    "empty brackets": (lambda d: protein(sequence="AAA()AA"), r"has empty brackets at position 4"),
    "stray bracket": (lambda d: protein(sequence="AAA)AA"), r"has a '\)' without '\(' at position 4"),
    "unknown bracketed residue": (lambda d: protein(sequence="AA(XYZ)AA"), r"unknown residue XYZ\. Fix:"),
    "non-parameterized residue": (lambda d: protein(sequence="AA(NLE)AA"),
                                  r"residue NLE is not parameterized.*Fix: substitute it in the sequence with LEU"),
    "variant not buildable": (lambda d: protein(sequence="AA(HID)AA"),
                              r"residue HID .* cannot be built from a sequence\. Fix: write it as H"),
    "empty sequence": (lambda d: protein(sequence=""), r"'proteins\.p\.sequence': the sequence is empty"),
    "too short": (lambda d: protein(sequence="AA"),
                  r"sequence 'AA' has 2 residue\(s\); the prior and the analysis need at least 5\. Fix: give at least 5"),
    "pdb missing": (lambda d: protein(pdb=str(d / "no.pdb")), r"'proteins\.p\.pdb': structure file .*no\.pdb does not exist"),
    "pdb is a directory": (lambda d: protein(pdb=str(d)), r"'proteins\.p\.pdb': .* is a directory, not a structure file"),
    "pdb without atoms": (lambda d: protein(pdb=str(_text(d, "notes.pdb", "just notes\n"))),
                          r"notes\.pdb has no ATOM records"),
    "pdb unreadable": (lambda d: protein(pdb=str(_garbage(d))), r"garbage\.pdb (cannot be read|has no ATOM records)"),
    "pdb record cut short": (lambda d: protein(pdb=str(_cut_mid_record(d))),
                             r"mid\.pdb is truncated: line \d+ is an atom record without complete"),
    "pdb cut at a line": (lambda d: protein(pdb=str(structures.cut_at_line(d))),
                          r"cut\.pdb is truncated: no TER or END record .*SEQRES lists 10 residues, its atoms reach 5"),
    "two chains": (lambda d: protein(pdb=str(structures.two_chains(d))),
                   r"complex\.pdb has 2 protein chains \(A: 10 residues, B: 10 residues\).*Fix: keep one chain"),
    "ligand refused": (lambda d: protein(pdb=str(structures.with_ligand(d)), aa={"hetero": "refuse"}),
                       r"ligand\.pdb holds ligands, waters or ions \(BNZ L 101, HOH W 201, HOH W 202\)"),
    "modified residue": (lambda d: protein(pdb=str(structures.modified_residue(d))),
                         r"mse\.pdb has modified amino acids in the chain \(MSE A 2\)\. Fix: replace each"),
    "chain break without SEQRES": (lambda d: protein(pdb=str(structures.broken(d, False))),
                                   r"gap\.pdb has a break in chain A between PRO A 4 and GLY A 7 .*no SEQRES"),
    "non-parameterized residue in pdb": (lambda d: protein(pdb=str(_nle(d))),
                                         r"nle\.pdb: residue NLE A 5 is not parameterized.*LEU"),
    "native missing": (lambda d: protein(sequence="YYDPETGTWY", native=str(d / "none.pdb")),
                       r"'proteins\.p\.native': structure file .*none\.pdb does not exist"),
    "import file missing": (lambda d: protein(**{"import": {"coords": "c.npy", "forces": "f.npy", "embeddings": "e.npy"}}),
                            r"import\.coords file c\.npy does not exist"),
    "import shapes differ": (lambda d: imported(d, lambda c, f, t: (c, f[:-1], t)), r"import\.forces has shape \(199, 6, 3\)"),
    "import integer coordinates": (lambda d: imported(d, lambda c, f, t: (c.astype(int), f, t)),
                                   r"import\.coords holds int64 values"),
    "import unknown bead type": (lambda d: imported(d, lambda c, f, t: (c, f, np.array([4, 4, 18, 8, 6, 13]))),
                                 r"bead type 18 is not in the paper numbering"),
    "import coordinates in nm": (lambda d: imported(d, lambda c, f, t: (c / 10, f, t)), r"coordinates in nm\?"),
    "import forces in kJ/mol/nm": (lambda d: imported(d, lambda c, f, t: (c, f * 41.84, t)),
                                   r"forces in kJ/mol/nm\?\)\. Fix: give forces in kcal/mol/Å"),
    "import forces of the wrong sign": (lambda d: imported(d, lambda c, f, t: (c, -f, t)), r"forces of the wrong sign\?"),
    "import NaN in the sample": (lambda d: imported(d, lambda c, f, t: (c, np.where(np.arange(200)[:, None, None] == 50, np.nan, f), t)),
                                 r"import\.forces has NaN/inf values \(first at frame 50\)"),
}  # fmt: skip

ACCEPTED = {
    "chignolin sequence": lambda d: protein(sequence="YYDPETGTWY"),
    "pdb of a fast folder": lambda d: protein(pdb=str(structures.chignolin(d))),
    "ligand and waters dropped": lambda d: protein(pdb=str(structures.with_ligand(d))),
    "ACE/NME caps": lambda d: protein(pdb=str(structures.capped(d))),
    "mmCIF": lambda d: protein(pdb=str(structures.mmcif(d))),
    "chain break with SEQRES": lambda d: protein(pdb=str(structures.broken(d, True))),
    "alternate location and insertion code": lambda d: protein(pdb=str(structures.altloc_and_insertion(d))),
    "import in kcal/mol/Å": imported,
}


def _text(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def _garbage(folder):
    path = folder / "garbage.pdb"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    return path


def _cut_mid_record(folder):
    text = structures.chignolin(folder).read_text()
    return _text(folder, "mid.pdb", text[: text.index("ATOM     40") + 40])


def _nle(folder):
    text = structures.chignolin(folder).read_text().replace("GLU A   5", "NLE A   5")
    return _text(folder, "nle.pdb", text)


@pytest.mark.parametrize("row", REFUSED)
def test_bad_input_stops_the_dry_run_in_one_line(tmp_path, row):
    make, line = REFUSED[row]
    proc = dry_run(tmp_path, make(tmp_path))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    matching = [text for text in output.splitlines() if re.search(line, text)]
    assert len(matching) == 1, output[-3000:]
    assert "Fix: " in matching[0]
    assert "Traceback" not in output
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("row", ACCEPTED)
def test_accepted_input_plans_its_jobs(tmp_path, row):
    proc = dry_run(tmp_path, ACCEPTED[row](tmp_path))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert "rule cg_map" in proc.stdout


def test_every_problem_is_listed_at_once(tmp_path):
    config = {"results": "", "proteins": [
        {"name": "a", "sequence": "GYBZJ"}, {"name": "b", "sequence": "AA", "temperature": float("nan")},
        {"name": "c", "pdb": str(structures.two_chains(tmp_path))}]}  # fmt: skip
    proc = dry_run(tmp_path, config)
    output = proc.stdout + proc.stderr
    for line in ("'results' is empty", "'proteins.a.sequence'", "'proteins.b.temperature' is nan",
                 "'proteins.b.sequence'", "'proteins.c.pdb'"):  # fmt: skip
        assert sum(line in text for text in output.splitlines()) == 1, output


def test_preflight_names_the_line_of_a_yaml_error(tmp_path, capsys):
    path = _text(tmp_path, "bad.yaml", "proteins:\n  - name: x\n    sequence: [AAAA\n")
    assert preflight.main([str(path)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert re.search(r"bad\.yaml line 4, column 1: .*Fix: correct the YAML there", line)
    assert preflight.main([str(REPO / "config" / "paper.yaml")]) == 0


def test_override_files_merge_like_snakemake(tmp_path):
    override = _text(tmp_path, "more.yaml", "aa: {replicas: 3}\n")
    merged = preflight.load_config_files([REPO / "config" / "config.yaml", override])
    assert merged["aa"]["replicas"] == 3 and merged["aa"]["length_ns"] == 1.05


def test_first_alternate_location_is_kept_and_insertion_codes_are_residues(tmp_path):
    path = structures.altloc_and_insertion(tmp_path)
    lines = path.read_text().splitlines()
    location_a = next(line for line in lines if line[16] == "A" and line[12:16].strip() == "CA")
    contents = pdbinput.inspect(path)
    assert [pdbinput.label(r) for r in contents.chains["A"]][-2:] == ["TRP A 9", "TYR A 9A"]
    ca = pdbinput.ca_positions_angstrom(path)
    expected = [float(location_a[30:38]), float(location_a[38:46]), float(location_a[46:54])]
    np.testing.assert_allclose(ca[2], expected, atol=1e-3)


@pytest.mark.parametrize(
    "writer, residues, dropped",
    [
        (structures.capped, ["ACE", *structures.NAMES, "NME"], None),
        (structures.with_ligand, structures.NAMES, "dropped 3 hetero residue(s): BNZ L 101, HOH W 201, HOH W 202"),
        (lambda d: structures.broken(d, True), structures.NAMES, None),
        (structures.mmcif, structures.NAMES, None),
    ],
)  # fmt: skip
def test_accepted_structures_are_prepared_as_documented(tmp_path, caplog, writer, residues, dropped):
    """Caps stay in the all-atom system, hetero residues go (listed in the log), a gap is
    filled from SEQRES, mmCIF is read: one bead per amino acid either way."""
    from openmm import app
    from test_aa_build import settings

    from cgthermo.aa.dynamics import protein_atom_table
    from cgthermo.aa.system import prepare_protein

    out = tmp_path / "out"
    with caplog.at_level("WARNING"):
        prepare_protein({"name": "p", "pdb": str(writer(tmp_path))}, settings(threads=1),
                        out / "structure.pdb", out / "system.xml")  # fmt: skip
    topology = app.PDBFile(str(out / "structure.pdb")).topology
    assert [r.name for r in topology.residues()] == residues
    assert protein_atom_table(topology)["residue_names"] == structures.NAMES  # the beads
    assert (dropped in caplog.text) if dropped else "dropped" not in caplog.text


def test_check_config_is_what_the_workflow_runs(tmp_path):
    with pytest.raises(CgthermoError, match="2 protein chains"):
        preflight.check_config(protein(pdb=str(structures.two_chains(tmp_path))))
