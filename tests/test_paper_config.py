"""config/paper.yaml: the paper's twelve proteins, valid, at paper scale, with a full DAG."""

import copy
from collections import Counter

import pytest
import yaml
from slurm.snakemake_plan import REPO, dry_run
from snakemake.utils import update_config

import cgthermo.config as cgconfig
from cgthermo.errors import CgthermoError
from cgthermo.residues import parse_sequence

PAPER = REPO / "config" / "paper.yaml"
DEMO = REPO / "config" / "config.yaml"

# The paper's twelve fast-folding proteins: sequence as in the paper, T in K
PAPER_PROTEINS = {
    "chignolin": ("YYDPETGTWY", 340),
    "trpcage": ("DAYAQWLKDGGPSSGRPPPS", 290),
    "bba": ("EQYTAKYKGRTFRNEKELRDFIEKFKGR", 325),
    "villin": ("LSDEDFKAVFGMTRSAFANLPLW(NLE)QQHL(NLE)KEKGLF", 360),
    "ww": ("KLPPGWEKRMSRSSGRVYYFNHITNASQWERPSG", 360),
    "ntl9": ("MKVIFLKDVKGMGKKGEIKNVADGYANNFLFKQGLAIEA", 355),
    "bbl": ("GSQNNDALSPAIRRLLAEWNLDASAIKGTGVGGRLTREDVEKHLAKA", 298),
    "proteinb": ("LKNAIEDAIAELKKAGITSDFYFNAINKAKTVEEVNALVNEILKAHA", 340),
    "homeodomain": ("RPRTAFSSEQLARLKREFNENRYLTERRRQQLSSELGLNEAQIKIWFQNKRAKI", 360),
    "proteing": ("DTYKLVIVLNGTTFTYTTEAVDAATAEKVFKQYANDAGVDGEWTYDAATKTFTVTE", 350),
    "a3d": ("MGSWAEFKQRLAAIKTRLQALGGSEAELAAFEKEIAAFESELQAYKGKGNPEVEALRKEAAAIRDELQAYRHN", 370),
    "lambda": ("PLTQEQLEDARRLKAIYEKKKNELGLSQESVADKMGMGQSGVGALFNGINALNAYNAALLAKILKVSVEEFSPSIAREIY", 350),
}  # fmt: skip
RESIDUE_COUNTS = {"chignolin": 10, "trpcage": 20, "bba": 28, "villin": 35, "ww": 34, "ntl9": 39,
                  "bbl": 47, "proteinb": 47, "homeodomain": 54, "proteing": 56, "a3d": 73,
                  "lambda": 80}  # fmt: skip
# documented in paper.yaml: norleucine (not parameterized in OpenMM) becomes its isomer leucine
VILLIN_SUBSTITUTION = ("(NLE)", "L")

PER_PROTEIN_RULES = ["prepare", "unfold", "aa_md", "cg_map", "prior", "train", "cg_sim",
                     "analysis_reference", "analysis"]  # fmt: skip


@pytest.fixture(scope="module")
def paper():
    return cgconfig.load(PAPER)


def test_paper_config_holds_the_twelve_proteins_at_their_temperatures(paper):
    proteins = {p["name"]: p for p in paper["proteins"]}
    assert sorted(proteins) == sorted(PAPER_PROTEINS)
    for name, (sequence, temperature) in PAPER_PROTEINS.items():
        expected = sequence.replace(*VILLIN_SUBSTITUTION) if name == "villin" else sequence
        assert proteins[name]["sequence"] == expected, name
        assert proteins[name]["temperature"] == temperature, name
        assert len(parse_sequence(proteins[name]["sequence"])) == RESIDUE_COUNTS[name], name


def test_paper_config_uses_the_paper_scale_settings(paper):
    assert paper["aa"]["solvent"] == "explicit"
    assert paper["aa"]["timestep_fs"] == 4.0 and paper["aa"]["hmr"]
    aa = cgconfig.aa_settings(paper, "chignolin")
    assert aa["sampling"] == "adaptive"  # as the paper made its data
    frames_per_protein = aa["replicas"] * aa["length_ns"] * 1000 / aa["save_every_ps"]
    assert frames_per_protein >= 500_000
    train = paper["train"]
    assert (train["embedding_dimension"], train["num_layers"], train["num_rbf"]) == (128, 4, 18)
    assert (train["cutoff_lower"], train["cutoff_upper"], train["lr"]) == (3.0, 12.0, 5.0e-4)
    assert train["max_num_neighbors"] >= 64
    cgsim = paper["cgsim"]
    assert (cgsim["replicas"], cgsim["precision"], cgsim["timestep_fs"]) == (32, "float64", 1.0)
    assert cgsim["steps"] * cgsim["timestep_fs"] == 5_000_000  # 5 ns per replica
    assert set(paper["models"]) == {"prior_only", "specific", "multi"}


def test_villin_with_norleucine_fails_in_one_line_that_names_the_substitution():
    with pytest.raises(CgthermoError) as err:
        parse_sequence(PAPER_PROTEINS["villin"][0])
    message = str(err.value)
    assert "\n" not in message
    assert "NLE" in message and "LEU" in message


def test_the_demo_config_cannot_leak_into_a_paper_run(paper):
    """The Snakefile loads config/config.yaml first and Snakemake merges --configfile into
    it key by key: every key the demo sets must be set by paper.yaml too."""
    with open(DEMO) as fh:
        merged = yaml.safe_load(fh)
    with open(PAPER) as fh:
        update_config(merged, yaml.safe_load(fh))
    assert cgconfig.validate(copy.deepcopy(merged)) == paper


def test_paper_dry_run_plans_every_stage_for_all_twelve_proteins(paper, tmp_path):
    jobs = dry_run(PAPER, tmp_path / "results")
    names = set(PAPER_PROTEINS)
    for rule in PER_PROTEIN_RULES:
        assert {job.protein for job in jobs if job.rule == rule} == names, rule
    counts = Counter(job.rule for job in jobs)
    models = len(paper["models"])
    adaptive = paper["aa"]["adaptive"]
    trajectories = adaptive["epochs"] * adaptive["trajectories"]
    assert counts["aa_md"] == len(names) * trajectories
    # epoch 0 from unfolded starts, every later trajectory from a restart of its epoch's choice
    assert counts["unfold"] == len(names) * adaptive["trajectories"]
    assert counts["adaptive_restart"] == len(names) * (trajectories - adaptive["trajectories"])
    assert counts["adaptive_choice"] == len(names) * (adaptive["epochs"] - 1)
    assert counts["train"] == len(names)
    assert counts["cg_sim"] == counts["analysis"] == len(names) * models
    assert counts["prior_multi"] == counts["train_multi"] == 1
    assert counts["summary"] == counts["report"] == 1


def test_paper_config_predicts_the_deposited_mutant_with_the_multi_model(paper):
    """1GAB as deposited (SEQRES chain A): protein B's 47 residues with I5K and V39K after six
    more at the N-terminus; at another length than its parent, intrinsic readouts only."""
    from cgthermo.predict.entries import resolve

    mutant = resolve(paper, "proteinb_1gab")
    parent = next(p for p in paper["proteins"] if p["name"] == "proteinb")["sequence"]
    sequence = "TIDQWLLKNAKEDAIAELKKAGITSDFYFNAINKAKTVEEVNALKNEILKAHA"
    differ = [(i + 1, parent[i], sequence[6 + i]) for i in range(47) if parent[i] != sequence[6 + i]]
    assert differ == [(5, "I", "K"), (39, "V", "K")]
    assert (mutant.model, mutant.parent, mutant.beads, mutant.compares_to_parent) == \
        ("multi", "proteinb", 53, False)  # fmt: skip
