"""`report.html`: one self-contained page (figures as base64 PNGs) with the summary table."""

import base64
import html
from pathlib import Path

import pandas as pd

from ..errors import CgthermoError
from ..io import atomic_path, require_file

HEADLINE = [
    "protein", "model", "fes_mae_weighted_kcal", "fes_mae_weighted_kcal_ci_low",
    "fes_mae_weighted_kcal_ci_high", "fes_mae_weighted_kcal_verdict", "js_divergence",
    "js_divergence_ci_low", "js_divergence_ci_high", "js_divergence_verdict",
    "folded_fraction_abs_error", "folded_fraction_abs_error_verdict", "md_emulation_mae_kcal",
    "md_emulation_mae_kcal_ci_low", "md_emulation_mae_kcal_ci_high", "md_emulation_coverage",
    "dssp_difference", "dssp_difference_ci_low", "dssp_difference_ci_high",
    "dG_fold_abs_error_kcal", "fes_mae_kcal",
    "fes_mae_weighted_aa_split_kcal", "fes_mae_aa_split_kcal",
    "js_divergence_aa_split", "fes_mae_weighted_cg_split_kcal", "fes_mae_cg_split_kcal",
    "js_divergence_cg_split", "js_divergence_cg_split_ci_low", "js_divergence_cg_split_ci_high",
    "js_divergence_cg_drift", "js_divergence_cg_drift_ci_low", "js_divergence_cg_drift_ci_high",
    "aa_mass_shared", "coverage", "distance_mae_A",
    "rg_mean_aa", "rg_mean_cg",
    "q_mean_aa", "q_mean_cg", "rmsd_mean_aa", "rmsd_mean_cg", "folded_fraction_aa",
    "folded_fraction_cg",
    "dG_fold_aa_kcal", "dG_fold_cg_kcal", "n_frames_cg_used", "n_frames_cg_exploded",
]  # fmt: skip

EXPLANATION = """
<p>Each coarse-grained (CG) model is compared with the all-atom reference of the same protein.
Cα–Cα distances are projected on a TICA fitted to the all-atom data only; CG frames use the
same fit. The all-atom frames are reweighted by the stationary distribution of a Markov state
model on k-means microstates (unless <code>analysis.reweight: histogram</code>).
Free energies F = −k<sub>B</sub>T ln p (kcal/mol) are histogrammed on one grid per protein.</p>
<ul>
<li><b>fes_mae_weighted_kcal</b>: mean |ΔF| over bins populated in both surfaces, weighted by
the all-atom probability, after shifting the CG surface by the all-atom-probability-weighted
mean difference (lower is better): the FES error at the all-atom frames.</li>
<li><b>fes_mae_kcal</b>: the same with every shared bin weighted equally. Bins with a handful
of frames, whose F is mostly counting noise, weigh as much as the basins, so a model that
visits fewer bins tends to score lower. Both ignore bins that only one side visits: read them
together with coverage and the JS divergence.</li>
<li><b>…_ci_low</b>, <b>…_ci_high</b>: the 95 % bootstrap interval of the number, from
resampling whole all-atom and whole CG replicas together. Metrics that shrink as data grow
(the FES errors, the JS divergence) are biased upward on finite data, so resamples, which
repeat replicas, sit a little higher and the point value may lie near or just below the
interval's low end.</li>
<li><b>…_vs_prior_only</b>: the model's number minus the prior-only baseline's, on the same
resamples, with its interval (<b>…_vs_prior_only_ci_low/high</b>). <b>…_verdict</b> reads the
interval: <i>better</i> when all of it lies below zero, <i>worse</i> when all of it lies above,
<i>not resolved</i> when it includes zero or a side is undefined.</li>
<li><b>md_emulation_mae_kcal</b>, <b>md_emulation_rmse_kcal</b>, <b>md_emulation_coverage</b>:
the BioEmu benchmarks' free-energy score on TIC1/TIC2 (standardised): both projections smoothed
by Gaussian noise of 0.25, 50 × 50 bins, the bins whose all-atom F lies within 4 kcal/mol of its
minimum and that the model visits, errors after the optimal offset, and the fraction of those
low-energy bins the model reaches.</li>
<li><b>undefined</b>: metrics computed on too little (too few shared bins, too little all-atom
probability in them, an MSM that connects too few states, no folded frames) are left empty and
named here with the reason; their verdict is <i>not resolved</i>.</li>
<li><b>js_divergence</b>: Jensen–Shannon divergence (bits, 0–1) of the two 2D distributions,
probability outside the grid counted as one extra bin.</li>
<li><b>…_aa_split</b>: the same two numbers between two halves of the all-atom replicas
(even against odd replicas): the noise floor of the reference. Each half has half the data,
so a perfect model sampled as much as the whole reference would score about the floor / √2 on
the MAE; a model near or below that is not told apart from the all-atom data by this number,
and only well above it is the difference the model's.</li>
<li><b>…_cg_split</b>: the same between the even and the odd CG replicas of the model: its
own sampling noise. When it is as large as the model's distance to the all-atom data, the CG
runs are too short (each replica stays near its start) for the number to describe the model.</li>
<li><b>…_cg_drift</b>: the same between the earlier and the later half of every CG replica
(after burn-in): how far the runs still move away from where they started. Well above the
split value, the runs have not reached the model's own equilibrium, and the model's numbers
still carry its starting frames (<code>cgsim.starts</code>).</li>
<li><b>aa_mass_shared</b>: the all-atom probability in the bins that both surfaces populate,
i.e. the part of the all-atom ensemble on which the two FES errors are measured. A model that
never visits a basin is not charged for it by either FES error; when this is well below 1,
compare models by the JS divergence, which counts the missed probability.</li>
<li><b>coverage</b>: fraction of all-atom-populated bins that the CG model visits.</li>
<li><b>distance_mae_A</b>: mean over the TICA feature pairs of |⟨d<sub>ij</sub>⟩<sub>CG</sub> −
⟨d<sub>ij</sub>⟩<sub>all-atom</sub>| (Å), the weighted all-atom mean; <b>rg_mean</b>: mean Cα
radius of gyration (Å); <b>q_mean</b>: mean fraction of native contacts.</li>
<li><b>folded_fraction</b>, <b>dG_fold</b>: frames with Cα RMSD below <code>folded_rmsd</code>
to the reference structure, and ΔG = −k<sub>B</sub>T ln(p<sub>folded</sub>/p<sub>unfolded</sub>).</li>
</ul>
"""

FIGURES = [
    ("fes", "2D FES on TIC1/TIC2: all-atom, model, aligned difference (kcal/mol)."),
    ("tica_1d", "1D FES along TIC1."),
    ("rmsd", "Cα RMSD and native-contact distributions."),
    ("meanforce", "Mean forces along named variables: all-atom, prior, prior + network on the "
                  "same all-atom frames; the PMF from the integrated all-atom mean force."),
    ("dssp", "Secondary structure per residue (DSSP on a PULCHRA backbone): all-atom against "
             "the model, 95 % bands over resampled replicas."),
]

STYLE = """
body{font-family:sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse;font-size:0.85em}
td,th{border:1px solid #bbb;padding:3px 6px;text-align:right}
th{background:#eee}
img{max-width:100%;margin:4px 0}
figure{margin:0 0 1em 0}
"""


def embed_png(path) -> str:
    data = base64.b64encode(Path(require_file(path, "the analysis rule")).read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(Path(path).name)}">'


def figure(path, caption: str) -> str:
    return f"<figure>{embed_png(path)}<figcaption>{html.escape(caption)}</figcaption></figure>"


def summary_table(table: pd.DataFrame, columns=None) -> str:
    columns = [c for c in (columns or table.columns) if c in table]
    return table[columns].to_html(index=False, float_format=lambda x: f"{x:.3g}", na_rep="–")


def index_figures(paths) -> dict:
    """Key figure paths by (protein, model or None, figure name), read from the results layout
    `{protein}/analysis/msm_its.png` and `{protein}/analysis/{model}/{name}.png`."""
    index = {}
    for path in map(Path, paths):
        if path.parent.name == "analysis":
            index[(path.parent.parent.name, None, path.stem)] = path
        elif path.parent.parent.name == "analysis":
            index[(path.parent.parent.parent.name, path.parent.name, path.stem)] = path
    return index


def figure_of(index: dict, protein: str, model, name: str, caption: str) -> str:
    key = (protein, model, name)
    if key not in index:
        where = f"{protein}/{model}" if model else protein
        raise CgthermoError(
            f"the report lacks figure {name}.png of {where}", "run the analysis rules first"
        )
    return figure(index[key], caption)


def protein_section(index: dict, protein: str, models) -> str:
    parts = [f"<h2>{html.escape(protein)}</h2>"]
    parts.append(
        figure_of(index, protein, None, "msm_its", "Implied timescales of the all-atom MSM.")
    )
    for model in models:
        parts.append(f"<h3>{html.escape(protein)} — {html.escape(model)}</h3>")
        for name, caption in FIGURES:
            parts.append(figure_of(index, protein, model, name, caption))
    return "\n".join(parts)


VERDICT_WORDS = {
    "fes_mae_weighted_kcal": ("FES error at the all-atom frames", "kcal/mol"),
    "js_divergence": ("Jensen–Shannon divergence of the TIC1/TIC2 distributions", "bits"),
    "folded_fraction_abs_error": ("error of the folded fraction", ""),
}
SENTENCE = {"better": "closer to all-atom than the prior alone",
            "worse": "further from all-atom than the prior alone",
            "not resolved": "not told apart from the prior alone by these runs"}


def _interval(row, key: str) -> str:
    from .views import with_interval

    return with_interval(row, key, ".3g", "undefined", " (no interval)")


OWN = "the run's own all-atom data"


def verdict_section(table: pd.DataFrame, prefix: str = "", against: str = OWN) -> str:
    """The paired verdicts of every NNP model against prior_only, in sentences, per protein;
    `prefix` picks the metrics against another reference (`converged_`)."""
    parts = [f"<h2>Verdicts against {html.escape(against)}</h2>",
             "<p>Each line compares a neural-network model with the prior alone on the same "
             "bootstrap resamples; values are the model's, the baseline's and their difference, "
             "each with its 95 % interval. A difference counts only when its interval excludes "
             "zero.</p>"]
    if "model" not in table or (table["model"] != "prior_only").sum() == 0:
        return "\n".join(parts + ["<p>No neural-network model to compare.</p>"])
    for protein, rows in table.groupby("protein", sort=False):
        base = rows[rows.model == "prior_only"]
        if base.empty:
            continue
        base = base.iloc[0]
        parts.append(f"<h3>{html.escape(str(protein))}</h3><ul>")
        for _, row in rows[rows.model != "prior_only"].iterrows():
            for name, (words, unit) in VERDICT_WORDS.items():
                metric = f"{prefix}{name}"
                word = row.get(f"{metric}_verdict")
                word = word if isinstance(word, str) else "not resolved"
                diff = _interval(row, f"{metric}_vs_prior_only")
                parts.append(
                    f"<li><b>{html.escape(str(row.model))}</b>, {words}: "
                    f"<b>{SENTENCE[word]}</b> ({html.escape(word)}). Model "
                    f"{_interval(row, metric)}, prior alone {_interval(base, metric)}, "
                    f"difference {diff} {unit}.{networks_note(row, metric)}</li>")
        parts.append("</ul>")
        if prefix:
            parts.append(distance_lines(rows, prefix))
            continue
        notes = [f"<li>{html.escape(str(r.model))}: {html.escape(str(r.undefined))}</li>"
                 for _, r in rows.iterrows()
                 if isinstance(r.get("undefined"), str) and r.get("undefined")]
        if notes:
            parts.append("<p><b>WARNING</b>: metrics left undefined (too little support):</p>"
                         "<ul>" + "".join(notes) + "</ul>")
    return "\n".join(parts)


def networks_note(row, metric: str) -> str:
    """With several networks (train.networks): how many of their shares give the verdict of
    all replicas together, which counts only where every share does."""
    agreeing = row.get(f"{metric}_networks_agreeing")
    networks = row.get("networks")
    if agreeing is None or pd.isna(agreeing) or networks is None or pd.isna(networks):
        return ""
    pooled = html.escape(str(row.get(f"{metric}_verdict_pooled")))
    return (f" All replicas together: {pooled}; {int(agreeing)} of {int(networks)} "
            "networks' shares of the replicas give that verdict.")


def distance_lines(rows: pd.DataFrame, prefix: str) -> str:
    """Each model's folded fraction and FES error beside the reference's own, with intervals."""
    items = []
    for _, row in rows.iterrows():
        items.append(
            f"<li><b>{html.escape(str(row.model))}</b>: folded fraction "
            f"{_interval(row, 'folded_fraction_cg')} against the reference's "
            f"{_interval(row, f'{prefix}folded_fraction_aa')}; FES error at the reference's "
            f"frames {_interval(row, f'{prefix}fes_mae_weighted_kcal')} kcal/mol (the "
            f"reference's own even/odd split: "
            f"{_interval(row, f'{prefix}fes_mae_weighted_aa_split_kcal')}).{macrostates(row, prefix)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def macrostates(row, prefix: str) -> str:
    """How many of the reference's major macrostates the model populates within a factor e."""
    major = row.get(f"{prefix}macrostates_major")
    if major is None or pd.isna(major):
        return ""
    return (f" Reference macrostates holding ≥ 5 %: {int(row.get(f'{prefix}macrostates_within_e'))} "
            f"of {int(major)} within a factor e of their population over the whole 95 % interval.")


def converged_section(table: pd.DataFrame) -> str:
    """The verdicts against the converged reference, where the proteins have one."""
    if "converged_fes_mae_weighted_kcal" not in table:
        return ""
    return verdict_section(table, "converged_", "the converged all-atom reference")


SPEEDUP = [
    ("sampler", "CG sampler"),
    ("cg_ns_per_day_per_core", "CG ns/day per core"),
    ("aa_ns_per_day_per_core", "all-atom ns/day per core"),
    ("throughput_ratio", "raw throughput (CG ÷ all-atom)"),
    ("folding_mfpt_aa_ps", "folding MFPT, all-atom (ps)"),
    ("folding_mfpt_cg_ps", "folding MFPT, CG (ps)"),
    ("unfolding_mfpt_aa_ps", "unfolding MFPT, all-atom (ps)"),
    ("unfolding_mfpt_cg_ps", "unfolding MFPT, CG (ps)"),
    ("folding_acceleration", "folding acceleration (all-atom ÷ CG relaxation time)"),
    ("effective_folding_acceleration", "effective acceleration (product)"),
]
# shown where a converged reference is given: the same kinetics against its replicas
CONVERGED_SPEEDUP = [
    ("converged_folding_mfpt_aa_ps", "folding MFPT, converged reference (ps)"),
    ("converged_unfolding_mfpt_aa_ps", "unfolding MFPT, converged reference (ps)"),
    ("converged_folding_acceleration", "folding acceleration against the converged reference"),
]


def speedup_section(table: pd.DataFrame) -> str:
    """The CG speed-up of every model in its two factors and their product."""
    columns = SPEEDUP + (CONVERGED_SPEEDUP if CONVERGED_SPEEDUP[-1][0] in table else [])
    parts = ["<h2>Speed-up over all-atom MD</h2>",
             "<p>Raw throughput: simulated ns per core-day of the CG run against the all-atom "
             "runs, as each run recorded it on its machine (its interval covers how the speed "
             "varied within these runs, over the CG run's checkpoint segments and the all-atom "
             "replicas, not another machine; the "
             "all-atom solvent model matters: benchmarks/RESULTS.md gives implicit against "
             "explicit solvent). Folding acceleration: the same process on both sides, "
             "folding and unfolding between the folded core (RMSD below "
             "analysis.folded_rmsd) and the unfolded core (twice that or more), counted in "
             "every trajectory; the all-atom two-state relaxation time 1 / (k_fold + "
             "k_unfold) over the CG model's, with its 95 % bootstrap interval. It is "
             "undefined under replica exchange, which has no dynamics, and wherever a side "
             "folds or unfolds fewer than five times (the reason is in the warnings above and "
             "in summary.csv). Their product is the effective acceleration. summary.csv "
             "also keeps the slowest implied timescales of the two MSMs, which may belong to "
             "different processes.</p>",
             "<table><tr><th>protein</th><th>model</th>"
             + "".join(f"<th>{html.escape(words)}</th>" for _, words in columns) + "</tr>"]
    for _, row in table.iterrows():
        cells = [html.escape(str(row.get("sampler", "langevin")))]
        cells += [_interval(row, key) for key, _ in columns[1:]]
        parts.append(f"<tr><td>{html.escape(str(row.protein))}</td>"
                     f"<td>{html.escape(str(row.model))}</td>"
                     + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return "\n".join(parts + ["</table>"])


PREDICTION_COLUMNS = (("model", "model"), ("starts", "starts"), ("parent", "parent"),
                      ("rg_mean", "Rg (Å)"), ("rmsd_native_mean", "RMSD to native (Å)"),
                      ("folded_fraction_native", "folded fraction (native)"),
                      ("parent_folded_fraction_cg", "folded fraction (parent's definition)"),
                      ("ddG_fold_kcal", "ΔΔG fold vs parent CG (kcal/mol)"),
                      ("ddG_fold_verdict", "ΔΔG verdict"))  # fmt: skip


def prediction_section(predictions_csv, figure_paths, views=None, structures=(),
                       reference_states=(), page_dir=".") -> str:  # fmt: skip
    """One row per prediction (values with 95 % intervals) and its figure."""
    table = pd.read_csv(require_file(predictions_csv, "the predictions_summary rule"))
    parts = ["<h2>Predictions</h2>",
             "<p>Sequences simulated with a trained model and no all-atom data of their own. "
             "ΔΔG is the prediction's folding free energy minus that of its parent's CG run "
             "of the same model, both by the parent's folded definition, with its 95 % "
             "interval over paired resamples of whole CG replicas.</p>",
             "<table><tr><th>prediction</th>"
             + "".join(f"<th>{html.escape(words)}</th>" for _, words in PREDICTION_COLUMNS)
             + "</tr>"]  # fmt: skip
    for _, row in table.iterrows():
        cells = []
        for key, _ in PREDICTION_COLUMNS:
            value = row.get(key)
            if f"{key}_ci_low" in row or isinstance(value, float):
                cells.append(_interval(row, key))
            else:
                cells.append("" if pd.isna(value) else html.escape(str(value)))
        parts.append(f"<tr><td>{html.escape(str(row.prediction))}</td>"
                     + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")  # fmt: skip
    parts.append("</table>")
    for path in figure_paths:
        name = Path(path).parent.parent.name
        parts.append(figure(path, f"prediction {name}"))
    if views is not None and structures:
        from .views import prediction_structures_section

        parts.append(prediction_structures_section(views, structures, reference_states,
                                                   page_dir))  # fmt: skip
    return "\n".join(parts)


def within_e(row, state: str) -> bool:
    """The state's log population ratio lies within ±1 over its whole interval."""
    low, high = (row.get(f"{state}_log_ratio_ci_{end}") for end in ("low", "high"))
    return bool(pd.notna(low) and pd.notna(high) and -1.0 <= low and high <= 1.0)


def states_section(table: pd.DataFrame, prefix: str = "") -> str:
    """Each protein's metastable states: the reference's population and every model's."""
    if f"{prefix}macrostates" not in table:
        return ""
    title = "converged reference" if prefix else "run's own all-atom data"
    parts = [f"<h2>Metastable states of the {html.escape(title)}</h2>",
             "<p>PCCA+ macrostates of the all-atom MSM; CG frames take the macrostate of "
             "their nearest all-atom microstate. Populations with 95 % intervals; a model "
             "state within a factor e of the reference's over its whole interval is marked "
             "✓.</p>"]
    for protein, rows in table.groupby("protein", sort=False):
        n = rows[f"{prefix}macrostates"].max()
        if not (isinstance(n, (int, float)) and n == n and n > 0):
            continue
        head = "".join(f"<th>state {k}</th>" for k in range(int(n)))
        lines = [f"<h3>{html.escape(str(protein))}</h3><table><tr><th></th>{head}</tr>",
                 "<tr><td>all-atom</td>" + "".join(
                     f"<td>{_interval(rows.iloc[0], f'{prefix}macrostate{k}_population_aa')}</td>"
                     for k in range(int(n))) + "</tr>"]  # fmt: skip
        for _, row in rows.iterrows():
            cells = "".join(f"<td>{_interval(row, f'{prefix}macrostate{k}_population_cg')}"
                            f"{' ✓' if within_e(row, f'{prefix}macrostate{k}') else ''}</td>"
                            for k in range(int(n)))  # fmt: skip
            lines.append(f"<tr><td>{html.escape(str(row.model))}</td>{cells}</tr>")
        parts.append("".join(lines) + "</table>")
    return "\n".join(parts)


def structures_section(paths) -> str:
    """Where every model's all-atom models are, and what each frame is."""
    import json

    if not paths:
        return ""
    parts = ["<h2>All-atom models of CG frames</h2>",
             "<p>Each model's <code>backmapped.pdb</code> (beside its metrics.json) holds "
             "all-atom models of chosen CG frames: PULCHRA's backbone and side chains on the "
             "Cα trace, relaxed in the all-atom force field with every Cα restrained. The "
             "first frame is the one closest to the folded structure.</p><ul>"]
    for path in paths:
        record = json.loads(Path(path).read_text())
        folder = Path(path).parent
        frames = ", ".join(f"replica {f['replica']} at {f['rmsd_to_folded_A']:.1f} Å"
                           + ("" if f["passed"] else f" (not kept: {f['problem']})")
                           for f in record["frames"])  # fmt: skip
        parts.append(f"<li>{html.escape(folder.parent.parent.name)} — "
                     f"{html.escape(folder.name)}: {record['models_written']} model(s); "
                     f"{html.escape(frames)}</li>")
    return "\n".join(parts + ["</ul>"])


def build_report(summary_csv, figure_paths, proteins, models, predictions_csv=None,
                 prediction_figures=(), structures=(), states=(), reference_states=(),
                 viewer=None, page_dir=".", prediction_structures=()) -> str:  # fmt: skip
    from . import views as structure_views

    table = pd.read_csv(require_file(summary_csv, "the summary rule"))
    index = index_figures(figure_paths)
    views = structure_views.Views(viewer)
    body = [
        "<h1>cgthermo: CG models against all-atom free energies</h1>",
        verdict_section(table),
        converged_section(table),
        states_section(table),
        states_section(table, "converged_"),
        structure_views.structures_section(views, table, reference_states, states, page_dir),
        speedup_section(table),
        EXPLANATION,
        "<h2>Summary</h2>",
        summary_table(table, HEADLINE),
        "<details><summary>all metrics</summary>",
        summary_table(table),
        "</details>",
    ]
    body += [protein_section(index, p, models) for p in proteins]
    body.append(structures_section(structures))
    if predictions_csv:
        body.append(prediction_section(predictions_csv, prediction_figures, views,
                                       prediction_structures, reference_states, page_dir))
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>cgthermo report</title>"
        f"<style>{STYLE}{structure_views.STYLE}</style></head><body>\n" + "\n".join(body)
        + views.page_end() + "\n</body></html>\n"
    )


def write_report(summary_csv, figure_paths, proteins, models, out_html, predictions_csv=None,
                 prediction_figures=(), structures=(), states=(), reference_states=(),
                 viewer=None, prediction_structures=()) -> None:  # fmt: skip
    page = build_report(summary_csv, figure_paths, proteins, models, predictions_csv,
                        prediction_figures, structures, states, reference_states, viewer,
                        page_dir=Path(out_html).parent,
                        prediction_structures=prediction_structures)  # fmt: skip
    with atomic_path(out_html) as tmp:
        tmp.write_text(page, encoding="utf-8")
