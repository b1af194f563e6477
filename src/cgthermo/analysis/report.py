"""`report.html`: one self-contained page (figures as base64 PNGs) with the summary table."""

import base64
import html
from pathlib import Path

import pandas as pd

from ..errors import CgthermoError
from ..io import atomic_path, require_file

HEADLINE = [
    "protein", "model", "fes_mae_weighted_kcal", "fes_mae_weighted_kcal_vs_prior_only",
    "fes_mae_kcal", "fes_mae_kcal_vs_prior_only", "js_divergence",
    "js_divergence_vs_prior_only", "fes_mae_weighted_aa_split_kcal", "fes_mae_aa_split_kcal",
    "js_divergence_aa_split", "fes_mae_weighted_cg_split_kcal", "fes_mae_cg_split_kcal",
    "js_divergence_cg_split", "js_divergence_cg_drift",
    "aa_mass_shared", "coverage", "distance_mae_A", "distance_mae_A_vs_prior_only",
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
<li><b>…_vs_prior_only</b>: the same number divided by the prior-only baseline; below 1 means the
neural network improves on the prior alone.</li>
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


def build_report(summary_csv, figure_paths, proteins, models) -> str:
    table = pd.read_csv(require_file(summary_csv, "the summary rule"))
    index = index_figures(figure_paths)
    body = [
        "<h1>cgthermo: CG models against all-atom free energies</h1>",
        EXPLANATION,
        "<h2>Summary</h2>",
        summary_table(table, HEADLINE),
        "<details><summary>all metrics</summary>",
        summary_table(table),
        "</details>",
    ]
    body += [protein_section(index, p, models) for p in proteins]
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>cgthermo report</title>"
        f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_report(summary_csv, figure_paths, proteins, models, out_html) -> None:
    page = build_report(summary_csv, figure_paths, proteins, models)
    with atomic_path(out_html) as tmp:
        tmp.write_text(page, encoding="utf-8")
