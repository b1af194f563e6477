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
CONVERGED = "data/reference/chignolin.npz"


def dry_run(folder, config: dict, *extra) -> subprocess.CompletedProcess:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "-d", str(folder),
               "--configfile", str(path), "--cores", "1", "-n", *extra]  # fmt: skip
    return subprocess.run(command, cwd=REPO, env=snakemake_env(), capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def protein(**entry) -> dict:
    return {"proteins": [{"name": "p", "temperature": 340, **entry}]}


def imported(folder, change=lambda c, f, t: (c, f, t), frames: int = 200) -> dict:
    coords, forces = harmonic_chain_sample(frames, 6, 340, np.random.default_rng(3))
    coords, forces, types = change(coords, forces, np.array([4, 4, 5, 8, 6, 13]))
    spec = {}
    for key, value in (("coords", coords), ("forces", forces), ("embeddings", types)):
        spec[key] = str(folder / f"{key}.npy")
        np.save(spec[key], value)
    # microstates far fewer than the frames (the default 200 would be refused at 200 frames)
    return {**protein(**{"import": spec}), "analysis": {"n_clusters": frames // 20}}


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
    "expanded interval with too few resamples": (
        lambda d: {**protein(sequence="YYDPETGTWY"), "aa": {"replicas": 8},
                   "analysis": {"interval": "expanded", "bootstrap_resamples": 200}},
        r"config key 'analysis\.bootstrap_resamples' \(200\) leaves fewer than 5 resamples "
        r"beyond each end of the expanded interval over 8 replicas\. Fix: raise it to at "
        r"least 872"),
    "several networks under replica exchange": (
        lambda d: {**protein(sequence="YYDPETGTWY"), "train": {"networks": 2},
                   "cgsim": {"sampler": "exchange"}},
        r"config key 'train\.networks' is 2 with cgsim\.sampler: exchange, whose ladders would "
        r"swap replicas between networks\. Fix: set cgsim\.sampler: langevin"),
    "refitted TICA under MSM weights": (
        lambda d: {**protein(sequence="YYDPETGTWY"),
                   "analysis": {"refit_tica": True, "reweight": "msm"}},
        r"config key 'analysis\.refit_tica' is true with analysis\.reweight: msm: the MSM's "
        r"microstates would have to be refitted with TICA\. Fix: set analysis\.refit_tica: false"),
    "converged reference missing": (
        lambda d: protein(sequence="YYDPETGTWY", converged_reference=str(d / "none.npz")),
        r"'proteins\.p\.converged_reference': .*none\.npz does not exist\. Fix: give the path"),
    "converged reference of another protein": (
        lambda d: protein(sequence="YYDPETGTWY", converged_reference=str(REPO / CONVERGED)),
        r"'proteins\.p\.converged_reference': .*chignolin\.npz is the converged reference of "
        r"'chignolin', not of 'p'"),
    "converged reference at another temperature": (
        lambda d: {"proteins": [{"name": "chignolin", "sequence": "YYDPETGTWY", "temperature": 340,
                                 "converged_reference": str(REPO / CONVERGED)}]},
        r"'proteins\.chignolin\.converged_reference': .*simulated at 400 K, 'chignolin' at 340 K"),
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
                                   r"forces in kJ/mol/nm\? they give ~41\.84\)\. Fix: give forces in kcal/mol/Å"),
    "import forces of the wrong sign": (lambda d: imported(d, lambda c, f, t: (c, -f, t)), r"forces of the wrong sign\?"),
    "import NaN in the sample": (lambda d: imported(d, lambda c, f, t: (c, np.where(np.arange(200)[:, None, None] == 50, np.nan, f), t)),
                                 r"import\.forces has NaN/inf values \(first at frame 50\)"),
    # keys that bound each other, and every numeric key's physical range
    "results at the filesystem root": (lambda d: {**protein(sequence="YYDPETGTWY"), "results": "/"},
                                       r"config key 'results' is '/', the filesystem root"),
    "cutoffs reversed": (lambda d: {**protein(sequence="YYDPETGTWY"), "train": {"cutoff_upper": 2.0}},
                         r"'train\.cutoff_lower' \(3\.0\) is not below 'train\.cutoff_upper' \(2\.0\)"),
    "no training frames": (lambda d: {**protein(sequence="YYDPETGTWY"), "train": {"val_size": 0.5, "test_size": 0.5}},
                           r"'train\.val_size' \(0\.5\) and 'train\.test_size' \(0\.5\) leave no frame"),
    "negative learning rate": (lambda d: {**protein(sequence="YYDPETGTWY"), "train": {"lr": -1e-3}},
                               r"'train\.lr' is invalid: -0\.001 is less than or equal to the minimum of 0"),
    "zero batch": (lambda d: {**protein(sequence="YYDPETGTWY"), "train": {"batch_size": 0}},
                   r"'train\.batch_size' is invalid: 0 is less than the minimum of 1"),
    "zero embedding": (lambda d: {**protein(sequence="YYDPETGTWY"), "train": {"embedding_dimension": 0}},
                       r"'train\.embedding_dimension' is invalid: 0 is less than the minimum of 1"),
    "misspelt activation": (lambda d: {**protein(sequence="YYDPETGTWY"), "train": {"activation": "tahn"}},
                            r"'train\.activation' is invalid: 'tahn' is not one of"),
    "unknown architecture": (lambda d: {**protein(sequence="YYDPETGTWY"), "train": {"model": "schnet"}},
                             r"'train\.model' is invalid: 'schnet' is not one of"),
    "CUDA graph of a graph network": (lambda d: {**protein(sequence="YYDPETGTWY"), "cgsim": {"cuda_graph": True}},
                                      r"'cgsim\.cuda_graph' is true but 'train\.model' is graph-network"),
    "bond range reversed": (lambda d: {**protein(sequence="YYDPETGTWY"), "prior": {"bond_range": [4.2, 3.55]}},
                            r"'prior\.bond_range' is \[4\.2, 3\.55\]: its low end is not below its high end"),
    "no dihedral terms": (lambda d: {**protein(sequence="YYDPETGTWY"), "prior": {"dihedral_terms": []}},
                          r"'prior\.dihedral_terms' is invalid: \[\] should be non-empty"),
    "negative native cutoff": (lambda d: {**protein(sequence="YYDPETGTWY"), "analysis": {"native_cutoff": -8.0}},
                               r"'analysis\.native_cutoff' is invalid: -8\.0 is less than or equal"),
    "negative folded RMSD": (lambda d: {**protein(sequence="YYDPETGTWY"), "analysis": {"folded_rmsd": -2.0}},
                             r"'analysis\.folded_rmsd' is invalid: -2\.0 is less than or equal"),
    "negative solvent padding": (lambda d: {**protein(sequence="YYDPETGTWY"), "aa": {"solvent": "explicit", "padding_nm": -1.0}},
                                 r"'aa\.padding_nm' is invalid: -1\.0 is less than or equal"),
    "CG bond limit below a bond": (lambda d: {**protein(sequence="YYDPETGTWY"), "cgsim": {"max_bond": -1}},
                                   r"'cgsim\.max_bond' is invalid: -1 is less than the minimum of 4"),
    "50 fs all-atom step": (lambda d: {**protein(sequence="YYDPETGTWY"), "aa": {"timestep_fs": 50}},
                            r"'aa\.timestep_fs' is invalid: 50 is greater than the maximum of 5"),
    "4 fs without HMR": (lambda d: {**protein(sequence="YYDPETGTWY"), "aa": {"hmr": False}},
                         r"'aa\.timestep_fs' \(4\.0 fs\) is above 2\.5 fs.*Fix: make it at most 2\.5 fs"),
    "save stride beyond the run": (lambda d: {**protein(sequence="YYDPETGTWY"), "aa": {"length_ns": 0.001, "save_every_ps": 10}},
                                   r"'aa\.save_every_ps' \(10 ps\) is longer than the run"),
    "save stride not whole steps": (lambda d: {**protein(sequence="YYDPETGTWY"), "aa": {"save_every_ps": 0.006}},
                                    r"'aa\.save_every_ps' \(0\.006 ps\) is not a whole number of 4\.0 fs time steps"),
    "per-protein stride beyond the run": (lambda d: protein(sequence="YYDPETGTWY", aa={"length_ns": 0.005}),
                                          r"'proteins\.p\.aa\.save_every_ps' \(10\.0 ps\) is longer than the run"),
    "TICA lag beyond the run": (lambda d: {**protein(sequence="YYDPETGTWY"), "aa": {"length_ns": 0.1}},
                                r"'analysis\.tica_lag' \(20 frames\) is not shorter than protein p's all-atom replicas \(10 frames"),
    "implied-timescale lag beyond the run": (lambda d: {**protein(sequence="YYDPETGTWY"), "analysis": {"its_lags": [5000]}},
                                             r"'analysis\.its_lags' \(5000 frames\) is not shorter than"),
    "more microstates than frames": (lambda d: {**protein(sequence="YYDPETGTWY"), "analysis": {"n_clusters": 4000}},
                                     r"'analysis\.n_clusters' \(4000\) asks for as many microstates as protein p has all-atom frames \(4000\)"),
    "CG stride beyond the run": (lambda d: {**protein(sequence="YYDPETGTWY"), "cgsim": {"steps": 50}},
                                 r"'cgsim\.save_every' \(100\) is longer than the run \('cgsim\.steps': 50\)"),
    "native of another length": (lambda d: protein(sequence="YYDPETGTW", native=str(structures.chignolin(d))),
                                 r"'proteins\.p\.native': .*cln\.pdb has 10 amino-acid residues, the protein 9"),
    "reserved protein name": (lambda d: {"proteins": [{**CLN, "name": "multi"}]},
                              r"'proteins\.multi\.name' is 'multi', a name the multi-protein models use"),
    "TICA lag beyond imported data": (lambda d: {**imported(d), "analysis": {"tica_lag": 500, "n_clusters": 10}},
                                      r"'analysis\.tica_lag' \(500 frames\) is not shorter than protein p's all-atom replicas \(200 frames"),
    # structure geometry
    "pdb in nm": (lambda d: protein(pdb=str(structures.scaled(d, 0.1, "nm.pdb"))),
                  r"nm\.pdb: consecutive Cα atoms of chain A are 0\.38 Å apart .*\(coordinates in nm\?\)"),
    "pdb of zeros": (lambda d: protein(pdb=str(structures.scaled(d, 0.0, "zero.pdb"))),
                     r"zero\.pdb: consecutive Cα atoms of chain A are 0 Å apart"),
    "two chains with one id": (lambda d: protein(pdb=str(structures.two_chains_one_id(d))),
                               r"one-id\.pdb: chain A's residue numbers go back from TYR A 10 to TYR A 1"),
    "chromophore bonded into the chain": (lambda d: protein(pdb=str(structures.linked_chromophore(d))),
                                          r"cro\.pdb has hetero residues that are part of the chain .*: CRO A 5"),
    # imported data
    "import as .npz": (lambda d: _npz_import(d), r"import\.coords file .*coords\.npz is an \.npz archive"),
    "import forces in kcal/mol/nm": (lambda d: imported(d, lambda c, f, t: (c, f * 10.0, t)),
                                     r"forces in kcal/mol/nm\? they give ~10\)"),
    "import forces of other frames": (lambda d: imported(d, _other_frames, 1000),
                                      r"not an equilibrium sample .*Fix: .*import\.nonequilibrium_forces: true"),
    # predictions
    "prediction with sequence and pdb": (lambda d: _predicting({"name": "x", "sequence": "AYDPETGTWY", "pdb": "x.pdb"}),
                                         r"config key 'predict\.x' gives sequence and pdb\. Fix: give exactly one"),
    "prediction of 3 residues": (lambda d: _predicting({"name": "x", "pdb": str(_first_residues(d, 3))}),
                                 r"config key 'predict\.x': 3 residue\(s\); the prior and the analysis need at least 5"),
    "prediction letters not amino acids": (lambda d: _predicting({"name": "x", "sequence": "AYDBZTGTWY"}),
                                           r"config key 'predict\.x': sequence 'AYDBZTGTWY' has 2 letter"),
    "prediction checkpoint not a checkpoint": (lambda d: _predicting(_checkpoint_entry(d, ckpt=b"not a model")),
                                               r"'predict\.x\.checkpoint': .*model\.ckpt is not a torch checkpoint"),
    "prediction prior binary": (lambda d: _predicting(_checkpoint_entry(d, prior=bytes(range(256)))),
                                r"'predict\.x\.prior': .*prior\.yaml is not a YAML file"),
    "prediction prior without bonds": (lambda d: _predicting(_checkpoint_entry(d, prior=b"lj: {}\n")),
                                       r"'predict\.x\.prior': .*prior\.yaml has no bonds section"),
    "prediction trajectory 10x too large": (lambda d: _predicting(_trajectory_entry(d, 10.0, "YYDPETGTWY")),
                                            r"'predict\.x\.trajectory': consecutive Cα atoms of its first frame are 38(\.\d+)? Å apart"),
    "prediction trajectory of another sequence": (lambda d: _predicting(_trajectory_entry(d, 1.0, "WYDPETGTWY")),
                                                  r"'predict\.x\.trajectory': its 10 Cα atoms are YYDPETGTWY, the entry's residues WYDPETGTWY"),
    "prediction of a type the network never saw": (lambda d: _predicting({"name": "x", "sequence": "AYDPETGTWY"}),
                                                   r"'predict\.x': residue\(s\) ALA never occur in the data the multi network trained on \(cln\)"),
    "prediction native of another length": (lambda d: _predicting({"name": "x", "sequence": "YYDPETGTW", "native": str(structures.chignolin(d))}),
                                            r"'predict\.x\.native': .*cln\.pdb has 10 amino-acid residues, the entry 9"),
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
    "import of other frames' forces, knowingly": lambda d: _knowingly(imported(d, _other_frames, 1000)),
    "prediction started from a psf in the paper's layout": lambda d: _predicting(_psf_entry(d)),
    "prediction with a bracketed NLE, knowingly untrained": lambda d: _predicting(
        {"name": "x", "sequence": "YYD(NLE)ETGTWY", "allow_untrained_types": True}),
}


def _other_frames(coords, forces, types):
    """Each frame given the forces of another: no equilibrium sample has them."""
    return coords, np.roll(forces, 1, axis=0), types


def _knowingly(config: dict) -> dict:
    config["proteins"][0]["import"]["nonequilibrium_forces"] = True
    return config


def _predicting(entry: dict) -> dict:
    return {"proteins": [CLN], "predict": [entry]}


def _npz_import(folder) -> dict:
    config = imported(folder)
    spec = config["proteins"][0]["import"]
    path = folder / "coords.npz"
    np.savez(path, coords=np.load(spec["coords"]))
    spec["coords"] = str(path)
    return config


def _first_residues(folder, count: int):
    lines = [line for line in structures.chignolin(folder).read_text().splitlines()
             if line.startswith("ATOM") and structures.residue_number(line) <= count]
    return structures.write(folder, f"first{count}.pdb", lines)


def _checkpoint_entry(folder, ckpt: bytes | None = None,
                      prior: bytes = b"bonds: {(X, X): {k0: 1, req: 3.8}}\n"):
    """A model entry whose checkpoint is `ckpt`'s bytes, or a zip archive as torch.save writes."""
    import zipfile

    if ckpt is None:
        with zipfile.ZipFile(folder / "model.ckpt", "w") as archive:
            archive.writestr("archive/data.pkl", b"")
    else:
        (folder / "model.ckpt").write_bytes(ckpt)
    (folder / "prior.yaml").write_bytes(prior)
    return {"name": "x", "sequence": "AYDPETGTWY", "model": "checkpoint",
            "checkpoint": str(folder / "model.ckpt"), "prior": str(folder / "prior.yaml")}


def _psf_entry(folder) -> dict:
    entry = _trajectory_entry(folder, 1.0, "YYDPETGTWY")
    entry["trajectory"]["topology"] = str(structures.ca_psf(folder))
    return entry


def _trajectory_entry(folder, scale: float, sequence: str) -> dict:
    import mdtraj

    pdb = mdtraj.load(str(structures.chignolin(folder)))
    ca = pdb.atom_slice(pdb.topology.select("name CA"))
    ca.save_pdb(str(folder / "ca.pdb"))
    ca.xyz *= scale
    ca.save_xtc(str(folder / "starts.xtc"))
    return {"name": "x", "sequence": sequence, "starts": "trajectory",
            "trajectory": {"file": str(folder / "starts.xtc"), "topology": str(folder / "ca.pdb")}}


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


def test_a_check_that_breaks_is_reported_not_skipped():
    """A content check failing in a way it did not foresee becomes a problem line naming the
    key, never a silent pass."""
    def broken_check(config):
        raise ValueError("cannot reshape array of size 5 into shape (3)")

    (problem,) = preflight.unforeseen("proteins.p.import", broken_check, {})
    assert str(problem).startswith("config key 'proteins.p.import' could not be checked "
                                   "(ValueError: cannot reshape array")
    assert "\n" not in str(problem) and "Fix: " in str(problem)
    assert preflight.unforeseen("cgsim", lambda: []) == []


def test_shipped_references_serve_any_working_directory(tmp_path, monkeypatch):
    """The demo's relative `native` and `converged_reference` name files shipped in the
    workflow: from another working directory they are taken from there, a file of the same
    name in the working directory wins, and a name found nowhere stays as given for its
    one-line error."""
    demo = preflight.load_config_files([REPO / "config" / "config.yaml"])
    (entry,) = demo["proteins"]
    monkeypatch.chdir(tmp_path)
    (resolved,) = preflight.with_shipped_files(demo, REPO)["proteins"]
    for key in preflight.SHIPPED_FILE_KEYS:
        assert resolved[key] == str(REPO / entry[key])
    own = tmp_path / entry["native"]
    own.parent.mkdir(parents=True)
    own.write_text("")
    assert preflight.with_shipped_files(demo, REPO)["proteins"][0]["native"] == entry["native"]
    missing = {"proteins": [{**entry, "native": "data/reference/none.pdb"}]}
    with pytest.raises(CgthermoError, match=r"native'.*data/reference/none\.pdb"):
        preflight.check_config(missing, REPO)


def test_quality_settings_train_three_networks_over_the_demo(tmp_path):
    """config/quality.yaml laid over the demo config, as Snakemake merges them, plans the
    demo with two more trainings of its network, from a working directory of its own."""
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "-d", str(tmp_path),
               "--configfile", str(REPO / "config" / "config.yaml"), str(REPO / "config" / "quality.yaml"),
               "--cores", "1", "-n"]  # fmt: skip
    proc = subprocess.run(command, cwd=tmp_path, env=snakemake_env(), capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    planned = dict(re.findall(r"^(train|train_draw|cg_sim|analysis)\s+(\d+)$", proc.stdout, re.M))
    assert planned == {"train": "1", "train_draw": "2", "cg_sim": "2", "analysis": "2"}
