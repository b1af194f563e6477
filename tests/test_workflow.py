"""config/test.yaml end to end through Snakemake: every stage runs and its artifacts hold
what the contracts (docs/artifacts.md) promise, in the units they promise."""

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml

from cgthermo.cgtopology import CGTopology
from cgthermo.forcefield.evaluate import prior_forces


@pytest.fixture(scope="module")
def run(test_config_run):
    return test_config_run / "results"


@pytest.fixture(scope="module")
def config(repo_root):
    from cgthermo.config import load

    return load(repo_root / "config/test.yaml")


def test_summary_has_every_protein_and_model(run, config):
    summary = pd.read_csv(run / "summary.csv")
    expected = {(p["name"], m) for p in config["proteins"] for m in config["models"]}
    assert set(zip(summary.protein, summary.model, strict=True)) == expected
    pep, cln = summary[summary.protein == "pep"], summary[summary.protein == "cln"]
    assert ((pep["js_divergence"] >= 0) & (pep["js_divergence"] <= 1)).all()
    for metric in ("md_emulation_mae_kcal", "js_divergence"):
        assert (pep[f"{metric}_ci_low"] < pep[f"{metric}_ci_high"]).all()
    # 20 ps of all-atom data and 4 × 0.8 ps of CG share few bins: where too few, the FES
    # error is undefined and the summary says why
    undefined = pep["fes_mae_weighted_kcal"].isna()
    assert pep.loc[undefined, "undefined"].str.contains(
        r"fes_mae_weighted_kcal: the (?:surfaces share \d+ bins|shared bins hold)").all()
    assert (pep.loc[~undefined, "fes_mae_weighted_kcal"] >= 0).all()
    assert set(summary.loc[summary.model != "prior_only", "js_divergence_verdict"]) <= {
        "better", "worse", "not resolved"}
    # at test sizes cln's all-atom MSM connects 2 of its 10 states: its MSM weights, and every
    # number built on them, are undefined, named with the reason, and the verdict unresolved
    assert cln["js_divergence"].isna().all() and cln["fes_mae_weighted_kcal"].isna().all()
    assert cln["undefined"].str.contains("MSM connects 2 of its 10 states").all()
    assert (cln.loc[cln.model != "prior_only", "js_divergence_verdict"] == "not resolved").all()
    assert cln["rmsd_mean_cg"].notna().all()  # CG-only numbers stay
    log = (run.parent / "logs/analysis/cln.specific.log").read_text()
    assert "WARNING cgthermo.analysis: cln/specific: " in log
    page = (run / "report.html").read_text()
    assert page.index("<h2>Verdicts against") < page.index("<h2>Summary</h2>")
    assert "WARNING" in page and "MSM connects 2 of its 10 states" in page
    # the speed-up from the runs' own records: both sides measured, their ratio reported
    assert "<h2>Speed-up over all-atom MD</h2>" in page
    assert (summary["aa_ns_per_day_per_core"] > 0).all()
    np.testing.assert_allclose(summary["throughput_ratio"], summary["cg_ns_per_day_per_core"]
                               / summary["aa_ns_per_day_per_core"], rtol=1e-9)
    dynamical = summary.dropna(subset=["dynamical_acceleration"])
    np.testing.assert_allclose(dynamical["effective_acceleration"],
                               dynamical["throughput_ratio"] * dynamical["dynamical_acceleration"],
                               rtol=1e-9)


def test_every_model_has_its_states_structures_and_secondary_structure(run, config):
    import mdtraj

    summary = pd.read_csv(run / "summary.csv").set_index(["protein", "model"])
    for protein in (p["name"] for p in config["proteins"]):
        reference = json.loads((run / protein / "analysis/reference_states.json").read_text())
        folded = [s for s in reference["states"] if s["state"] == "folded"]
        assert len(folded) == 1  # the folded structure is always among them
        written = [s for s in reference["states"] if s["pdb_model"]]
        assert mdtraj.load(str(run / protein / "analysis/reference_states.pdb")).n_frames == len(written)
        for model in config["models"]:
            folder = run / protein / "analysis" / model
            record = json.loads((folder / "structures.json").read_text())
            for state in record["states"]:
                # a model state's medoid is never further from its nearest all-atom medoid
                # than from the one of its own state
                if state["rmsd_same_state_A"] is not None:
                    assert state["rmsd_nearest_A"] <= state["rmsd_same_state_A"] + 1e-6
            fractions = np.array(record["dssp"]["fraction_cg"], dtype=float)
            assert np.all(fractions >= 0) and np.all(fractions.sum(axis=1) <= 1 + 1e-9)
            difference = summary.loc[(protein, model), "dssp_difference"]
            assert difference == pytest.approx(record["dssp"]["dssp_difference"])
            assert 0.0 <= difference <= 1.0


def test_all_atom_frames_and_time_axis(run, config):
    aa = config["aa"]
    frames = round(aa["length_ns"] * 1000 / aa["save_every_ps"])
    with h5py.File(run / "cln/aa/md/0.h5") as fh:
        assert fh["positions"].attrs["units"] == "nm"
        assert fh["forces"].attrs["units"] == "kJ/mol/nm"
        assert fh["positions"].shape[0] == frames
        np.testing.assert_allclose(
            fh["time"][:], aa["save_every_ps"] * np.arange(1, frames + 1), rtol=1e-9
        )


def test_cg_dataset_is_in_angstrom_and_kcal(run):
    with h5py.File(run / "cln/cg/dataset.h5") as fh:
        pos, forces = fh["cln/pos"][:], fh["cln/forces"][:]
    bonds = np.linalg.norm(np.diff(pos, axis=1), axis=-1)
    assert 3.7 < bonds.mean() < 3.95  # Cα–Cα in Å (would be 0.38 in nm)
    rms = np.sqrt((forces**2).mean())
    assert 5 < rms < 80  # kcal/mol/Å (kJ/mol/nm would be 41.84 times larger)


def test_delta_is_mapped_minus_torchmd_prior(run):
    """delta.h5 was written with the batched prior; torchmd's own force terms, an
    independent implementation, must give the same delta forces."""
    from cgthermo.forcefield.yamlio import prior_terms

    with h5py.File(run / "cln/cg/dataset.h5") as fh:
        pos, mapped = fh["cln/pos"][:5].astype(float), fh["cln/forces"][:5]
    with h5py.File(run / "cln/cg/delta.h5") as fh:
        delta = fh["cln/forces"][:5]
    topology = CGTopology.from_pdb(run / "cln/cg/topology.pdb")
    prior_yaml = run / "cln/prior/prior.yaml"
    _, torchmd = prior_forces(prior_yaml, topology, pos, terms=prior_terms(prior_yaml))
    np.testing.assert_allclose(delta, mapped - torchmd, atol=1e-3)


def test_models_load_and_predict_forces(run):
    import torch
    from torchmdnet.models.model import load_model

    with h5py.File(run / "pep/cg/dataset.h5") as fh:
        pos, types = fh["pep/pos"][0], fh["pep/types"][:]
    for path in (run / "pep/model/specific/model.ckpt", run / "multi/model/model.ckpt"):
        model = load_model(str(path), derivative=True)
        energy, forces = model(torch.as_tensor(types), torch.as_tensor(pos, dtype=torch.float32))
        assert forces.shape == (len(types), 3) and torch.isfinite(forces).all()


def test_cg_trajectories_have_every_frame(run, config):
    import mdtraj

    sim = config["cgsim"]
    per_replica = sim["steps"] // sim["save_every"]
    for model in config["models"]:
        folder = run / "cln/cgsim" / model
        traj = mdtraj.load(str(folder / "traj.xtc"), top=str(run / "cln/cg/topology.pdb"))
        frames = pd.read_csv(folder / "frames.csv")
        assert traj.n_frames == len(frames) == sim["replicas"] * per_replica
        bonds = np.linalg.norm(np.diff(traj.xyz * 10, axis=1), axis=-1)
        assert 3.0 < np.median(bonds) < 4.6  # the chain holds together, in Å


def test_a_forced_explosion_is_reported_and_left_out(run, test_config_run):
    """The tests' workflow runs break pep/prior_only's replica 3 at step 300
    (FORCED_EXPLOSION): cg_sim keeps its 30 earlier frames, flagged, and the analysis leaves
    the replica out of every statistic, reports it and still has all four bootstrap units."""
    import json

    folder = run / "pep/cgsim/prior_only"
    frames = pd.read_csv(folder / "frames.csv")
    mine = frames.replica == 3
    # at step 301 by the injection, or earlier where this CPU exploded it first
    assert frames[mine].step.max() <= 300 and frames[mine].exploded.all()
    assert json.loads((folder / "run.json").read_text())["trajectory_replicas"] == 4
    log = (test_config_run / "logs/cg_sim/pep.prior_only.log").read_text()
    assert "replica 3 exploded at step" in log
    metrics = json.loads((run / "pep/analysis/prior_only/metrics.json").read_text())
    assert "3" in metrics["exploded_replicas_cg"].split()
    assert metrics["n_replicas_cg"] == 4
    assert metrics["n_frames_cg_exploded"] >= mine.sum()
    assert metrics["n_frames_cg_total"] == (metrics["n_frames_cg_used"]
                                            + metrics["n_frames_cg_burnin"]
                                            + metrics["n_frames_cg_exploded"])
    summary = pd.read_csv(run / "summary.csv")
    row = summary[(summary.protein == "pep") & (summary.model == "prior_only")]
    assert row["n_replicas_cg_exploded"].iloc[0] >= 1


def test_prior_yaml_is_torchmd_force_field(run):
    prior = yaml.safe_load((run / "multi/prior/prior.yaml").read_text())
    assert {"atomtypes", "bonds", "dihedrals", "lj", "masses"} <= set(prior)
    assert all(mass == 12.0 for mass in prior["masses"].values())


def test_no_half_written_artifacts_left(test_config_run):
    leftovers = [p for p in (test_config_run / "results").rglob("*") if ".partial" in p.name]
    leftovers += [p for p in (test_config_run / "results").rglob("*.chk")]
    assert leftovers == []


def plan_with(test_config_run, repo_root, tmp_path, section, changes):
    """Jobs a dry run plans in the finished test run after changing config SECTION."""
    from slurm.snakemake_plan import dry_run

    with open(repo_root / "config/test.yaml") as fh:
        changed = yaml.safe_load(fh)
    changed.setdefault(section, {}).update(changes)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(changed))
    return {job.rule for job in dry_run(path, "results", cwd=test_config_run)}


def test_a_changed_training_setting_reruns_training_and_what_follows(
    test_config_run, repo_root, tmp_path
):
    rules = plan_with(test_config_run, repo_root, tmp_path, "train", {"lr": 1.0e-3})
    assert {"train", "cg_sim", "analysis", "summary"} <= rules
    assert not rules & {"prepare", "unfold", "aa_md", "cg_map", "prior", "analysis_reference"}


def test_a_changed_force_map_reruns_from_cg_map(test_config_run, repo_root, tmp_path):
    rules = plan_with(test_config_run, repo_root, tmp_path, "cg_map", {"force_map": "slice"})
    assert {"cg_map", "prior", "train", "cg_sim"} <= rules
    assert not rules & {"prepare", "unfold", "aa_md"}


# (config section, change, the first jobs it reruns, jobs it must leave alone): one key of
# each block that shapes results, as docs/stages.md describes what each stage depends on
RERUNS = [
    ("aa", {"friction_per_ps": 2.0}, {"unfold", "aa_md", "cg_map"}, {"prepare"}),
    ("aa", {"length_ns": 0.03}, {"aa_md", "cg_map"}, {"prepare", "unfold"}),
    ("cg_map", {"max_bond": 12.0}, {"cg_map", "prior"}, {"aa_md"}),
    ("prior", {"bond_bins": 30}, {"prior", "train", "cg_sim"}, {"cg_map"}),
    ("train", {"num_epochs": 2}, {"train", "cg_sim", "analysis"}, {"prior", "cg_map"}),
    ("cgsim", {"steps": 300}, {"cg_sim", "analysis"}, {"train", "prior"}),
    ("analysis", {"msm_lag": 3}, {"analysis_reference", "analysis", "summary"}, {"cg_sim"}),
]


@pytest.mark.parametrize("section, change, reruns, untouched", RERUNS,
                         ids=[f"{r[0]}.{next(iter(r[1]))}" for r in RERUNS])
def test_a_changed_setting_reruns_exactly_its_stage_and_what_follows(
        test_config_run, repo_root, tmp_path, section, change, reruns, untouched):  # fmt: skip
    rules = plan_with(test_config_run, repo_root, tmp_path, section, change)
    assert reruns <= rules and not rules & untouched, sorted(rules)


def test_where_a_job_runs_does_not_rerun_it(test_config_run, repo_root, tmp_path):
    rules = plan_with(test_config_run, repo_root, tmp_path, "cgsim", {"device": "cpu"})
    rules |= plan_with(test_config_run, repo_root, tmp_path, "train", {"num_workers": 1})
    assert rules == set()


def test_cg_trajectories_do_not_depend_on_the_core_count(test_config_run, tmp_path):
    """The test config ran with --cores 2 (two worker processes per CG run); rerun every
    cg_sim job with --cores 1 (one process): the trajectories are the same bytes."""
    import shutil

    from slurm.snakemake_plan import REPO, run_snakemake

    workdir = tmp_path / "one_core"
    shutil.copytree(test_config_run / "results", workdir / "results")
    run_snakemake(["--workflow-profile", REPO / "profiles/default", "--cores", 1,
                   "--configfile", REPO / "config/test.yaml", "--forcerun", "cg_sim",
                   "--until", "cg_sim"], cwd=workdir)  # fmt: skip
    two_cores = sorted((test_config_run / "results").glob("*/cgsim/*/traj.xtc"))
    assert len(two_cores) == 6
    for path in two_cores:
        again = workdir / path.relative_to(test_config_run)
        assert again.stat().st_mtime > path.stat().st_mtime  # really rerun
        assert again.read_bytes() == path.read_bytes(), path
    log = (test_config_run / "logs/cg_sim/cln.specific.log").read_text()
    assert "in 2 processes of one thread each" in log


def test_tensornet_trains_and_simulates_through_the_test_config(test_config_run, repo_root,
                                                              tmp_path):  # fmt: skip
    """train.model: tensornet, torchmd-net's current architecture, through training, the CG
    run and its analysis, on the finished test run's data and prior."""
    import json
    import shutil

    import torch
    from slurm.snakemake_plan import run_snakemake

    shutil.copytree(test_config_run / "results", tmp_path / "results")  # keeps the times
    extra = tmp_path / "tensornet.yaml"
    extra.write_text(yaml.safe_dump({"train": {"model": "tensornet"}}))
    run_snakemake(["--workflow-profile", repo_root / "profiles/default", "--cores", 2,
                   "--configfile", repo_root / "config/test.yaml", extra, "--forcerun", "train",
                   "--", "results/cln/analysis/specific/metrics.json"], cwd=tmp_path)  # fmt: skip
    run = tmp_path / "results/cln"
    hparams = torch.load(run / "model/specific/model.ckpt", map_location="cpu",
                         weights_only=False)["hyper_parameters"]  # fmt: skip
    assert hparams["model"] == "tensornet"
    frames = pd.read_csv(run / "cgsim/specific/frames.csv")
    assert len(frames) > 0 and frames.replica.nunique() == 4
    metrics = json.loads((run / "analysis/specific/metrics.json").read_text())
    assert metrics["n_frames_cg_total"] == len(frames)
    test = json.loads((run / "model/specific/test.json").read_text())
    assert np.isfinite(test["full_model"]["rmse"])


def test_a_converged_reference_is_scored_in_the_summary_and_the_report(test_config_run,
                                                                       repo_root, tmp_path):
    """A protein's converged_reference (here an artifact thinned from the run's own
    reference) reruns its models' analysis, summary and report only, and every model carries
    the converged_ metrics with the paired verdicts and a report section."""
    import json
    import shutil

    from slurm.snakemake_plan import dry_run, run_snakemake

    from cgthermo.analysis import converged

    for folder in ("results", "logs"):  # the benchmark files count as outputs too
        shutil.copytree(test_config_run / folder, tmp_path / folder)
    full = converged.read(tmp_path / "results/cln/analysis/reference.npz")
    converged.write_artifact(converged.thin(full, 2, "YYDPETGTWY", "test"),
                             tmp_path / "cln_converged.npz")  # fmt: skip
    config = yaml.safe_load((repo_root / "config/test.yaml").read_text())
    config["proteins"][0]["converged_reference"] = str(tmp_path / "cln_converged.npz")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    rerun = {job.rule for job in dry_run(tmp_path / "config.yaml", "results", cwd=tmp_path)}
    assert rerun == {"analysis", "summary", "report"}, sorted(rerun)
    run_snakemake(["--workflow-profile", repo_root / "profiles/default", "--cores", 2,
                   "--configfile", tmp_path / "config.yaml"], cwd=tmp_path)
    metrics = json.loads((tmp_path / "results/cln/analysis/specific/metrics.json").read_text())
    assert metrics["converged_n_replicas_aa"] == 2
    # at test sizes a metric may be undefined; then its reason is recorded
    for key in ("converged_folded_fraction_aa", "converged_fes_mae_weighted_kcal"):
        assert metrics[key] is not None or key in metrics["undefined"], key
    summary = pd.read_csv(tmp_path / "results/summary.csv")
    cln = summary[(summary.protein == "cln") & (summary.model == "specific")].iloc[0]
    assert cln["converged_js_divergence_verdict"] in ("better", "worse", "not resolved")
    assert summary[summary.protein == "pep"]["converged_fes_mae_weighted_kcal"].isna().all()
    page = (tmp_path / "results/report.html").read_text()
    assert "Verdicts against the converged all-atom reference" in page


def job_requests(printed: str) -> list[tuple[str, int]]:
    """(benchmark file, mem_mb asked) of every job Snakemake printed."""
    jobs, benchmark = [], None
    for line in printed.splitlines():
        line = line.strip()
        if line.startswith(("rule ", "localrule ")):
            benchmark = None
        elif line.startswith("benchmark: "):
            benchmark = line.removeprefix("benchmark: ")
        elif line.startswith("resources: ") and benchmark:
            asked = dict(item.split("=", 1) for item in line.removeprefix("resources: ").split(", "))
            jobs.append((benchmark, int(asked["mem_mb"])))
    return jobs


def test_every_job_asked_for_more_memory_than_it_used(test_config_run):
    """The memory each job asks of a scheduler covers its measured peak (Snakemake's
    benchmark record of the job's processes): a SLURM job that asks for too little is
    killed."""
    from conftest import SNAKEMAKE_OUTPUT

    jobs = job_requests((test_config_run / SNAKEMAKE_OUTPUT).read_text())
    assert {Path(b).parts[2] for b, _ in jobs} >= {"cg_map", "prior", "train", "cg_sim",
                                                    "analysis_reference", "analysis"}  # fmt: skip
    for benchmark, asked in jobs:
        used = float((test_config_run / benchmark).read_text().splitlines()[1].split("\t")[2])
        assert used < asked, f"{benchmark}: {used:.0f} MB used, {asked} MB asked"
