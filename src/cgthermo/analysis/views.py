"""3-D views of the states' structures in report.html, offline.

The page embeds the 3Dmol.js library (npm package `3dmol`, installed by scripts/setup.sh)
and the PDB text of every structure it shows, so it opens without a network. Each view
overlays the all-atom structure (grey) and the model's (orange), already superposed when
they were backmapped. Without the library the page lists the structures and says how to get
the views.
"""

import html
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

# drawn once the page has loaded; each view's element gets data-drawn="1" when rendered
START_VIEWS = """
document.querySelectorAll('.view3d').forEach(function (element) {
  var viewer = $3Dmol.createViewer(element, {backgroundColor: 'white'});
  JSON.parse(element.dataset.structures).forEach(function (shown) {
    var model = viewer.addModel(document.getElementById(shown.id).textContent, 'pdb');
    model.setStyle({}, {cartoon: {color: shown.colour},
                        stick: {radius: 0.12, colorscheme: shown.colour + 'Carbon'}});
  });
  viewer.zoomTo();
  viewer.render();
  element.dataset.drawn = '1';
});
"""
STYLE = (".view3d{width:420px;height:320px;position:relative;border:1px solid #ccc}"
         "figure.structure{display:inline-block;vertical-align:top;width:430px;margin:4px}")


def pdb_models(path) -> list[str]:
    """The MODEL blocks of a multi-model PDB file as separate PDB texts (atoms only)."""
    models, current = [], []
    for line in Path(path).read_text().splitlines():
        if line.startswith(("ATOM", "TER")):  # the protein: no waters or ligands
            current.append(line)
        elif line.startswith("ENDMDL") and current:
            models.append("\n".join([*current, "END"]))
            current = []
    if current:
        models.append("\n".join([*current, "END"]))
    return models


class Views:
    """Collects the structures a page shows (each embedded once) and the views over them."""

    def __init__(self, library: str | None):
        self.library = library if library and Path(library).is_file() else None
        self.blocks: dict[str, str] = {}
        self.ids: dict[tuple, str] = {}

    def structure_id(self, pdb_path, model_number: int | None) -> str | None:
        """The element id of one model of a PDB file, embedding it on first use."""
        if model_number is None:
            return None
        key = (str(pdb_path), int(model_number))
        if key not in self.ids:
            texts = pdb_models(pdb_path) if Path(pdb_path).is_file() else []
            if not 1 <= model_number <= len(texts):
                return None
            self.ids[key] = f"pdb-{len(self.ids)}"
            self.blocks[self.ids[key]] = texts[model_number - 1]
        return self.ids[key]

    def view(self, shown: list[tuple[str | None, str]], caption: str) -> str:
        """A view overlaying the structures `shown` ((element id, colour) pairs)."""
        shown = [{"id": i, "colour": c} for i, c in shown if i]
        if not shown:
            return f"<p>{html.escape(caption)}: no structure could be backmapped.</p>"
        if not self.library:
            return f"<p>{html.escape(caption)}</p>"
        return (f"<figure class='structure'><div class='view3d' data-structures='{html.escape(json.dumps(shown))}'>"
                f"</div><figcaption>{html.escape(caption)}</figcaption></figure>")

    def page_end(self) -> str:
        """The embedded structures, the library and the script that draws the views."""
        blocks = "".join(f"<script type='text/plain' id='{key}'>{html.escape(text)}</script>"
                         for key, text in self.blocks.items())  # fmt: skip
        if not self.library:
            return blocks
        code = Path(self.library).read_text(encoding="utf-8").replace("</script", "<\\/script")
        return (f"{blocks}<script>{code}</script>"
                f"<script>window.addEventListener('load', function () {{{START_VIEWS}}});</script>")


def link(path, page_dir) -> str:
    relative = os.path.relpath(Path(path), Path(page_dir))
    return f"<a href='{html.escape(relative)}' download>{html.escape(Path(path).name)}</a>"


def with_interval(row, key: str, digits: str = ".3f", undefined: str = "–",
                  no_interval: str = "") -> str:  # fmt: skip
    """`row[key]` with its 95 % interval (`_ci_low`, `_ci_high`) as text."""
    value, low, high = (row.get(k) for k in (key, f"{key}_ci_low", f"{key}_ci_high"))
    if value is None or pd.isna(value):
        return undefined
    if low is None or pd.isna(low):
        return f"{value:{digits}}{no_interval}"
    return f"{value:{digits}} [{low:{digits}}, {high:{digits}}]"


def population(row, key: str) -> str:
    return with_interval(row, key)


def state_line(record: dict, row, reference: dict) -> str:
    """What one model state is: its populations and the all-atom state it looks like."""
    k = record["state"]
    text = (f"state {k}: {population(row, f'macrostate{k}_population_cg')} of the model, "
            f"{population(row, f'macrostate{k}_population_aa')} of the all-atom data")
    nearest = record.get("nearest_reference_state")
    if nearest is not None:
        text += (f"; its medoid is closest to all-atom state {nearest}'s "
                 f"({record['rmsd_nearest_A']:.1f} Å Cα RMSD)")
    return text


def model_part(views: Views, structures_json, summary_row, reference: dict,
               reference_pdb, page_dir) -> str:  # fmt: skip
    """One model's states (views against the all-atom ones), its DSSP difference and files."""
    folder = Path(structures_json).parent
    record = json.loads(Path(structures_json).read_text())
    by_state = {s["state"]: s for s in reference["states"]}
    parts = []
    for state in record["states"]:
        aa = by_state.get(state.get("nearest_reference_state"), {})
        parts.append(views.view(
            [(views.structure_id(reference_pdb, aa.get("pdb_model")), "grey"),
             (views.structure_id(folder / "states.pdb", state.get("pdb_model")), "orange")],
            state_line(state, summary_row, reference)))  # fmt: skip
    folded = by_state.get("folded", {})
    parts.append(views.view(
        [(views.structure_id(reference_pdb, folded.get("pdb_model")), "grey"),
         (views.structure_id(folder / "backmapped.pdb", 1), "orange")],
        "the folded structure (grey) and the model's frame closest to it"))  # fmt: skip
    d = record["dssp"]
    parts.append(f"<p>DSSP profile difference {d['dssp_difference']:.3f} "
                 f"[{_or_dash(d['dssp_difference_ci_low'])}, "
                 f"{_or_dash(d['dssp_difference_ci_high'])}] "
                 f"({record['dssp_frames']['cg']} model frames, "
                 f"{record['dssp_frames']['aa']} all-atom frames). Files: "
                 + ", ".join(link(folder / name, page_dir) for name in
                             ("states.pdb", "backmapped.pdb", "structures.json")
                             if name != "states.pdb" or any(s.get("pdb_model")
                                                            for s in record["states"]))
                 + "</p>")  # fmt: skip
    return "\n".join(parts)


def _or_dash(value) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.3f}"


def structures_section(views: Views, table: pd.DataFrame, reference_jsons, model_jsons,
                       page_dir) -> str:  # fmt: skip
    """Per protein: every model's states beside the all-atom ones, in 3-D."""
    if not model_jsons:
        return ""
    parts = ["<h2>States in 3-D</h2>",
             "<p>Backmapped medoids of the metastable states (PCCA+ macrostates of the "
             "all-atom MSM; CG frames take the state of their nearest all-atom microstate). "
             "Grey: the all-atom medoid of the state nearest to the model's (by Cα RMSD); "
             "orange: the model's medoid, superposed. Populations with 95 % intervals.</p>"]
    if not views.library:
        parts.append("<p>The 3-D views need the 3Dmol.js library: run "
                     "<code>bash scripts/setup.sh</code> (it installs the npm package "
                     "<code>3dmol</code> under <code>vendor/</code>) and rerun the report.</p>")
    references = {Path(p).parent.parent.name: Path(p) for p in reference_jsons}
    for path in map(Path, model_jsons):
        protein, model = path.parent.parent.parent.name, path.parent.name
        reference_json = references.get(protein)
        if reference_json is None:
            continue
        reference = json.loads(reference_json.read_text())
        rows = table[(table["protein"] == protein) & (table["model"] == model)]
        row = rows.iloc[0].to_dict() if len(rows) else {}
        reference_pdb = reference_json.with_name("reference_states.pdb")
        parts.append(f"<h3>{html.escape(protein)} — {html.escape(model)}</h3>")
        parts.append(model_part(views, path, row, reference, reference_pdb, page_dir))
    return "\n".join(parts)


def prediction_line(state: dict) -> str:
    """What one state of a prediction is: its population and what it is closest to."""
    text = f"state {state['state']}"
    if "population" in state:
        text += f": {population(state, 'population')} of the run"
    if state.get("nearest_reference_state") is not None:
        text += (f"; closest to the parent's all-atom state {state['nearest_reference_state']}"
                 f" ({state['rmsd_nearest_A']:.1f} Å)")
    if state.get("rmsd_native_A") is not None:
        text += f"; {state['rmsd_native_A']:.1f} Å from the native structure"
    return text


def prediction_part(views: Views, structures_json, references: dict, page_dir) -> str:
    """One prediction's states: beside the parent's all-atom state, or over the native."""
    path = Path(structures_json)
    record = json.loads(path.read_text())
    parent = references.get(record.get("parent"))
    parent_states = ({s["state"]: s for s in json.loads(parent.read_text())["states"]}
                     if parent else {})  # fmt: skip
    native = record.get("native")
    parts = [f"<h4>{html.escape(path.parent.parent.name)}: states of "
             f"{html.escape(record['states_of'])}</h4>"]
    for state in record["states"]:
        grey = None
        if parent is not None:
            aa = parent_states.get(state.get("nearest_reference_state"), {})
            grey = views.structure_id(parent.with_name("reference_states.pdb"),
                                      aa.get("pdb_model"))  # fmt: skip
        elif native and str(native).lower().endswith(".pdb"):
            grey = views.structure_id(native, 1)
        parts.append(views.view([(grey, "grey"),
                                 (views.structure_id(path.with_name("states.pdb"),
                                                     state.get("pdb_model")), "orange")],
                                prediction_line(state)))  # fmt: skip
    parts.append("<p>Files: " + ", ".join(link(path.with_name(name), page_dir)
                                          for name in ("states.pdb", "structures.json"))
                 + "</p>")  # fmt: skip
    return "\n".join(parts)


def prediction_structures_section(views: Views, structures, reference_jsons, page_dir) -> str:
    """Every prediction's states in 3-D (grey: the parent's all-atom state or the native)."""
    references = {Path(p).parent.parent.name: Path(p) for p in reference_jsons}
    parts = ["<h3>Predicted states in 3-D</h3>",
             "<p>Backmapped medoids of each prediction's states (orange), superposed on the "
             "parent's nearest all-atom state or on the native structure (grey).</p>"]
    parts += [prediction_part(views, p, references, page_dir) for p in structures]
    return "\n".join(parts)
