"""train.networks: several trainings of one network model, each driving its own share of the
CG replicas; a verdict counts only where every network's share gives it."""

import numpy as np
import pandas as pd
import pytest

from cgthermo.analysis import bootstrap, compare, report, summary
from cgthermo.cgsim.settings import network_groups, run_batches

HEADLINE = bootstrap.HEADLINE


def test_shares_are_contiguous_and_batches_never_hold_two_networks():
    assert network_groups(32, 3) == [range(0, 10), range(10, 21), range(21, 32)]
    assert network_groups(32, 1) == [range(0, 32)]
    batches = run_batches(32, 16, 3)
    assert [b for b, _ in batches] == [range(0, 10), range(10, 21), range(21, 32)]
    assert [(b, j) for b, j in run_batches(32, 16, 1)] == [(range(0, 16), 0), (range(16, 32), 0)]


def test_a_share_is_resampled_alike_for_every_model_and_nowhere_else():
    group = range(10, 21)
    m = compare.network_multiplicities(7, 200, group, 32)
    assert np.all(m[:, :10] == 0) and np.all(m[:, 21:] == 0)
    assert np.all(m.sum(axis=1) == len(group))
    np.testing.assert_array_equal(m, compare.network_multiplicities(7, 200, group, 32))


def resamples(rng, shift: dict, n: int = 200) -> pd.DataFrame:
    """Resampled verdict metrics: pooled and per network share, each around `shift[name]`."""
    columns = {}
    for prefix in ("", "network0_", "network1_"):
        for metric in HEADLINE:
            columns[f"{prefix}{metric}"] = shift.get(prefix, 0.0) + 0.05 * rng.standard_normal(n)
    return pd.DataFrame(columns)


def table(rows: dict) -> pd.DataFrame:
    return pd.DataFrame([{"protein": "p", "model": model, "n_replicas_aa": 8,
                          "n_replicas_cg": 32, "interval_units": 8, "interval": "percentile",
                          **{f"{prefix}{m}": value for prefix in ("", "network0_", "network1_")
                             for m in HEADLINE}} for model, value in rows.items()])  # fmt: skip


def specific_row(rng, base, shifts: dict, point: float):
    """The specific model's summary row against a baseline, its resamples shifted by `shifts`."""
    mine = resamples(rng, shifts)
    out = summary.add_paired_verdicts(table({"prior_only": 0.0, "specific": point}),
                                      {("p", "prior_only"): base, ("p", "specific"): mine})
    return out, out[out.model == "specific"].iloc[0]


def test_a_verdict_needs_every_network():
    rng = np.random.default_rng(0)
    base = resamples(rng, {})
    # both networks' shares lower than the prior: better, as pooled
    _, row = specific_row(rng, base, {"": -0.5, "network0_": -0.5, "network1_": -0.5}, -0.5)
    for metric in HEADLINE:
        assert row[f"{metric}_verdict"] == "better"
        assert row[f"{metric}_verdict_pooled"] == "better"
        assert row[f"{metric}_networks_agreeing"] == 2
    # the second network's share is no better than the prior: the pooled verdict alone
    # would say better, the verdict does not
    out, row = specific_row(rng, base, {"": -0.3, "network0_": -0.6, "network1_": 0.0}, -0.3)
    for metric in HEADLINE:
        assert row[f"{metric}_verdict_pooled"] == "better"
        assert row[f"{metric}_verdict"] == "not resolved"
        assert row[f"{metric}_networks_agreeing"] == 1
        assert row[f"network1_{metric}_verdict"] == "not resolved"
    page = report.verdict_section(out.assign(networks=2))
    assert "All replicas together: better; 1 of 2 networks' shares" in page


def test_the_analysis_scores_each_share_on_its_own_replicas(tmp_path):
    """A run of 6 CG replicas read as 2 networks' shares: each share's folded-fraction error
    is that of replicas 0–2 or 3–5 alone, against the all-atom folded fraction."""
    from helpers import analysis_synthetic as synthetic

    from cgthermo.analysis import inputs, reference, structure

    settings = {**synthetic.SETTINGS, "reweight": "histogram"}
    top = tmp_path / "topology.pdb"
    md_top = synthetic.write_topology(top, "YYDPETGTWY")
    synthetic.write_dataset(tmp_path / "dataset.h5", "cln", "YYDPETGTWY", 4, 300, seed=3)
    synthetic.write_cg_run(tmp_path / "sim", md_top, replicas=6, frames=200, seed=4, shift=0.2)
    arrays = reference.build_reference(tmp_path / "dataset.h5", top, "cln", settings, 340.0,
                                       top, seed=5)  # fmt: skip
    reference.write_reference(arrays, tmp_path / "reference.npz", tmp_path / "its.png")
    sim = tmp_path / "sim"
    result, _, (names, rows) = compare.analyse_model(
        tmp_path / "reference.npz", sim / "traj.xtc", sim / "frames.csv", top, "specific",
        settings, 7, dataset=tmp_path / "dataset.h5", networks=2)
    assert result["networks"] == 2
    assert {f"network{j}_{m}" for j in (0, 1) for m in HEADLINE} <= set(names)
    ref = reference.load_reference_npz(tmp_path / "reference.npz")
    topology = inputs.load_topology(top)
    ensemble, _ = inputs.load_cg(sim / "traj.xtc", sim / "frames.csv", topology, 0.1)
    aa_folded = np.average(ref["rmsd"] < 2.0, weights=ref["weights"])
    for j, share in enumerate(network_groups(6, 2)):
        pieces = [p for p, r in zip(ensemble.pieces, ensemble.replicas, strict=True) if r in share]
        folded = np.concatenate([structure.rmsd_to(p, ref["reference_structure"], topology)
                                 for p in pieces]) < 2.0  # fmt: skip
        assert result[f"network{j}_folded_fraction_abs_error"] == pytest.approx(
            abs(folded.mean() - aa_folded))


def test_a_verdict_against_the_converged_reference_needs_every_network_too():
    """The verdicts against the converged reference follow the same rule: the second
    network's share no better than the prior leaves them unresolved, whatever the pooled
    replicas say; the verdicts against the run's own data are judged on their own shares."""
    rng = np.random.default_rng(1)
    prefixes = ("", "network0_", "network1_")

    def draws(shift: dict, n: int = 200) -> pd.DataFrame:
        return pd.DataFrame({f"{against}{p}{m}": shift.get(against + p, 0.0) + 0.05 * rng.standard_normal(n)
                             for against in ("", "converged_") for p in prefixes for m in HEADLINE})  # fmt: skip

    base = draws({})
    mine = draws({"": -0.5, "network0_": -0.5, "network1_": -0.5,
                  "converged_": -0.3, "converged_network0_": -0.6, "converged_network1_": 0.0})  # fmt: skip
    rows = table({"prior_only": 0.0, "specific": -0.3})
    for name, value in (("converged_n_replicas_aa", 14),):
        rows[name] = value
    for p in prefixes:
        for m in HEADLINE:
            rows[f"converged_{p}{m}"] = rows[f"{p}{m}"]
    out = summary.add_paired_verdicts(rows, {("p", "prior_only"): base, ("p", "specific"): mine})
    row = out[out.model == "specific"].iloc[0]
    for metric in HEADLINE:
        assert row[f"{metric}_verdict"] == "better"
        assert row[f"converged_{metric}_verdict_pooled"] == "better"
        assert row[f"converged_network1_{metric}_verdict"] == "not resolved"
        assert row[f"converged_{metric}_verdict"] == "not resolved"
        assert row[f"converged_{metric}_networks_agreeing"] == 1
