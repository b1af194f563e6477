"""predict_analysis: what a prediction's CG run says, with 95 % intervals over its replicas.

Always (intrinsic): radius of gyration, Cα RMSD of every replica to its own start, the
contact map (probability of each Cα pair within analysis.native_cutoff). With `native`: Cα
RMSD and fraction of native contacts Q to it, the folded fraction (RMSD below
analysis.folded_rmsd) and the folding free energy ΔG = −kT ln(f/(1 − f)). With a parent of
the same length: every metric of the model analysis against the parent's all-atom
reference, in the parent's TICA space (`parent_*`), and ΔΔG = ΔG(prediction) − ΔG(the
parent's CG run of the same model), both ΔG by the parent's folded definition: the mutant
readout. Intervals: percentiles over bootstrap resamples of whole CG replicas; with a
parent, the resamples are the parent analysis's own (same seed), replica k of both runs
drawn together, since they start from the same frame and draw the same noise.
"""

import json
import logging
from pathlib import Path

import numpy as np

from ..analysis import bootstrap, inputs, structure
from ..analysis.compare import analyse_model, finite_or_none
from ..analysis.metrics import folding_dg_kcal
from ..analysis.summary import read_resamples
from ..errors import CgthermoError
from ..io import atomic_path

log = logging.getLogger(__name__)


def replica_intervals(values: np.ndarray, frame_replica: np.ndarray, n_replicas: int,
                      m_cg: np.ndarray, reduce=None) -> tuple[float, float, float]:
    """(point, 2.5 %, 97.5 %) of the frame mean of `values` (then `reduce`d) over resamples
    of whole replicas with multiplicities `m_cg` (resamples, replicas)."""
    sums = np.bincount(frame_replica, weights=values, minlength=n_replicas)
    counts = np.bincount(frame_replica, minlength=n_replicas).astype(float)
    reduce = reduce or (lambda x: x)
    point = reduce(sums.sum() / counts.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        samples = np.array([reduce((m @ sums) / (m @ counts)) for m in m_cg])
    low, high, _ = bootstrap.percentile_interval(samples)
    return float(point), low, high


def folding_dg(temperature_K: float):
    """f ↦ ΔG_fold in kcal/mol (metrics.folding_dg_kcal), for replica_intervals."""
    return lambda f: folding_dg_kcal(f, temperature_K)


def start_of_each_replica(starts_h5, name: str, n_replicas: int, slots: int = 1) -> np.ndarray:
    """(replicas, beads, 3) Å: the frame each trajectory replica started from. The run gives
    slot s frame given_frames(frames, slots × replicas)[s]; under replica exchange the
    trajectory's replica k is the target-temperature slot k × slots of its ladder."""
    from ..cgsim.starts import given_frames, load_start_data

    data = load_start_data(starts_h5, name)
    return data.pos[given_frames(len(data.pos), n_replicas * slots)[::slots]]


CONTACT_BLOCK_VALUES = 1 << 24  # pair distances per block of the contact map (64 MB float32)


def contact_map(pos: np.ndarray, cutoff: float) -> np.ndarray:
    """(beads, beads) probability that a Cα pair is closer than `cutoff` Å, counted a block
    of frames at a time (frames × pairs distances never all at once)."""
    beads = pos.shape[1]
    i, j = np.triu_indices(beads, k=1)
    counts = np.zeros(len(i))
    block = max(1, CONTACT_BLOCK_VALUES // max(1, len(i)))
    for start in range(0, len(pos), block):
        chunk = np.asarray(pos[start : start + block], dtype=np.float32)
        counts += (np.linalg.norm(chunk[:, i] - chunk[:, j], axis=-1) < cutoff).sum(axis=0)
    probability = np.eye(beads)
    probability[i, j] = probability[j, i] = counts / max(1, len(pos))
    return probability


def add_interval(result: dict, key: str, triple) -> None:
    result[key], result[f"{key}_ci_low"], result[f"{key}_ci_high"] = triple


def analyse_prediction(name: str, traj, frames_csv, topology_path, starts_h5, settings: dict,
                       temperature_K: float, seed: int, native=None, parent=None,
                       slots: int = 1, run_json=None) -> tuple:  # fmt: skip
    """(metrics dict, figure data) of one prediction; `parent`: dict with reference,
    dataset, run_json, model, metrics, resamples (or None); `slots`: simulated replicas per
    trajectory replica (the ladder size under replica exchange, else 1)."""
    topology = inputs.load_topology(topology_path)
    ensemble, counts, _ = inputs.load_cg_run(traj, frames_csv, topology,
                                             settings["cg_burnin_fraction"], run_json)  # fmt: skip
    pos = np.concatenate(ensemble.pieces)
    n_replicas = counts["n_replicas_cg"]
    frame_replica = ensemble.frame_replica
    m_cg = bootstrap.multiplicities(np.random.default_rng(seed), settings["bootstrap_resamples"],
                                    n_replicas)  # fmt: skip
    result = {"prediction": name, "temperature_K": temperature_K, **counts,
              "n_frames_cg_used": int(len(pos))}  # fmt: skip
    rg = structure.radius_of_gyration(pos)
    add_interval(result, "rg_mean", replica_intervals(rg, frame_replica, n_replicas, m_cg))
    starts = start_of_each_replica(starts_h5, name, n_replicas, slots)
    to_start = np.concatenate([structure.rmsd_to(piece, starts[r], topology)
                               for piece, r in zip(ensemble.pieces, ensemble.replicas,
                                                   strict=True)])  # fmt: skip
    add_interval(result, "rmsd_to_start_mean",
                 replica_intervals(to_start, frame_replica, n_replicas, m_cg))  # fmt: skip
    figure = {"rg": rg, "rmsd_start": to_start,
              "contacts": contact_map(pos, float(settings["native_cutoff"]))}  # fmt: skip
    if native:
        result.update(native_metrics(pos, native, topology, settings, temperature_K,
                                     frame_replica, n_replicas, m_cg, figure))  # fmt: skip
    if parent:
        result.update(parent_metrics(name, traj, frames_csv, topology_path, settings,
                                     {**parent, "start_positions": starts}))
    return {k: finite_or_none(v) for k, v in result.items()}, figure


def native_metrics(pos, native, topology, settings, temperature_K, frame_replica, n_replicas,
                   m_cg, figure) -> dict:
    native_ca = inputs.load_native_ca(native, topology)
    rmsd = structure.rmsd_to(pos, native_ca, topology)
    pairs = structure.native_contact_pairs(native_ca, float(settings["native_cutoff"]))
    q = structure.contact_fraction(pos, pairs, float(settings["native_cutoff"]), topology)
    folded = (rmsd < float(settings["folded_rmsd"])).astype(float)
    figure.update(rmsd_native=rmsd, q_native=q)
    out = {"native": str(native)}
    add_interval(out, "rmsd_native_mean", replica_intervals(rmsd, frame_replica, n_replicas, m_cg))
    add_interval(out, "q_native_mean", replica_intervals(q, frame_replica, n_replicas, m_cg))
    add_interval(out, "folded_fraction_native",
                 replica_intervals(folded, frame_replica, n_replicas, m_cg))  # fmt: skip
    add_interval(out, "dG_fold_native_kcal",
                 replica_intervals(folded, frame_replica, n_replicas, m_cg,
                                   folding_dg(temperature_K)))  # fmt: skip
    return out


def parent_metrics(name, traj, frames_csv, topology_path, settings, parent: dict) -> dict:
    """The model analysis against the parent's all-atom reference, and ΔΔG to the parent's
    CG run of the same model (its metrics.json and resamples.npz)."""
    metrics, _, table = analyse_model(parent["reference"], traj, frames_csv, topology_path, name,
                                      settings, parent["seed"], parent.get("run_json"),
                                      parent["dataset"])  # fmt: skip
    out = {f"parent_{k}": v for k, v in metrics.items()
           if k not in ("protein", "model", "undefined") and not isinstance(v, (dict, list))}
    out["parent"] = parent["protein"]
    out["parent_model"] = parent.get("model")
    if parent.get("metrics"):
        out.update(ddg(metrics, table, parent))
        if (parent.get("run") or {}).get("traj"):
            memory = start_memory(traj, frames_csv, topology_path, settings, parent)
            out.update(memory)
            if memory["start_memory_verdict"] == "start-dependent":
                out["ddG_fold_verdict"] = "start-dependent"
    return out


def replica_folded_counts(traj, frames_csv, run_json, topology, settings, folded_structure):
    """(folded frames, frames) of every replica of a CG run, folded meaning within
    analysis.folded_rmsd of `folded_structure`; burn-in and exploded replicas left out."""
    ensemble, counts, _ = inputs.load_cg_run(traj, frames_csv, topology,
                                             settings["cg_burnin_fraction"], run_json)  # fmt: skip
    n = counts["n_replicas_cg"]
    folded, frames = np.zeros(n), np.zeros(n)
    for piece, replica in zip(ensemble.pieces, ensemble.replicas, strict=True):
        rmsd = structure.rmsd_to(np.asarray(piece), folded_structure, topology)
        folded[replica] += float((rmsd < float(settings["folded_rmsd"])).sum())
        frames[replica] += len(rmsd)
    return folded, frames


def group_ddg(pred, par, multiplicity, temperature_K: float) -> np.ndarray:
    """ΔΔG of the replicas weighted by `multiplicity` (rows: resamples), both runs' replica k
    drawn together."""
    m = np.atleast_2d(multiplicity)
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty group: 0 / 0
        f_pred, f_par = (m @ pred[0]) / (m @ pred[1]), (m @ par[0]) / (m @ par[1])
        dg = np.vectorize(lambda f: folding_dg_kcal(f, temperature_K), otypes=[float])
        return dg(f_pred) - dg(f_par)


def start_memory(traj, frames_csv, topology_path, settings: dict, parent: dict) -> dict:
    """ΔΔG from the replicas that started folded against those that started unfolded (by the
    parent's folded definition), each with a 95 % interval, and their difference. Where the
    difference's interval excludes zero the runs still remember their starts, and the ΔΔG
    verdict is `start-dependent`."""
    from ..analysis.reference import load_reference_npz

    ref = load_reference_npz(parent["reference"])
    folded_structure, T = ref["reference_structure"], float(ref["temperature_K"])
    topology = inputs.load_topology(topology_path)
    pred = replica_folded_counts(traj, frames_csv, parent.get("run_json"), topology, settings,
                                 folded_structure)  # fmt: skip
    run = parent["run"]
    par = replica_folded_counts(run["traj"], run["frames"], run["run"], topology, settings,
                                folded_structure)  # fmt: skip
    if len(pred[0]) != len(par[0]):
        return {"start_memory_verdict": f"undetermined (the prediction has {len(pred[0])} "
                                        f"replicas, the parent's run {len(par[0])})"}
    started_folded = structure.rmsd_to(parent["start_positions"], folded_structure,
                                       topology) < float(settings["folded_rmsd"])  # fmt: skip
    rng = np.random.default_rng([int(parent["seed"]), 11])
    return start_gap(pred, par, started_folded, T, settings["bootstrap_resamples"], rng)


def start_gap(pred, par, started_folded, temperature_K: float, resamples: int, rng) -> dict:
    """ΔΔG of the folded-start and of the unfolded-start replicas (`pred`, `par`: folded
    frames and frames of each replica of the prediction and the parent), their difference,
    each with a 95 % interval (each group resampled on its own, replica k of both runs
    together), and the verdict on the runs' memory of their starts."""
    n = len(pred[0])
    out, rows = {}, {}
    for group, members in (("folded", np.flatnonzero(started_folded)),
                           ("unfolded", np.flatnonzero(~np.asarray(started_folded)))):  # fmt: skip
        out[f"n_replicas_{group}_starts"] = int(len(members))
        point_m = np.zeros(n)
        point_m[members] = 1.0
        draws = np.zeros((resamples, n))
        if len(members):
            draws[:, members] = bootstrap.multiplicities(rng, resamples, len(members))
        rows[group] = group_ddg(pred, par, draws, temperature_K)
        low, high, _ = bootstrap.percentile_interval(rows[group])
        add_interval(out, f"ddG_fold_{group}_starts_kcal",
                     (float(group_ddg(pred, par, point_m, temperature_K)[0]), low, high))  # fmt: skip
    low, high, _ = bootstrap.percentile_interval(rows["folded"] - rows["unfolded"])
    point = out["ddG_fold_folded_starts_kcal"] - out["ddG_fold_unfolded_starts_kcal"]
    add_interval(out, "ddG_fold_start_gap_kcal", (point, low, high))
    if not (np.isfinite(low) and np.isfinite(point)):
        verdict = "undetermined (a group of starts is empty, or never or always folded)"
    elif bootstrap.verdict(low, high) != "not resolved":
        verdict = "start-dependent"
    else:
        verdict = "no memory of the starts resolved"
    out["start_memory_verdict"] = verdict
    return out


def ddg(metrics: dict, table, parent: dict) -> dict:
    """ΔΔG = ΔG_fold_cg(prediction) − ΔG_fold_cg(parent's CG run), paired over resamples."""
    parent_metrics_ = json.loads(Path(parent["metrics"]).read_text())
    names, rows = table
    parent_rows = read_resamples(parent["resamples"])
    key = "dG_fold_cg_kcal"
    if len(parent_rows) != len(rows):
        raise CgthermoError(
            f"{parent['resamples']} has {len(parent_rows)} resamples, the prediction {len(rows)}",
            "rerun the parent's analysis with the current analysis.bootstrap_resamples")
    ours, theirs = metrics.get(key), parent_metrics_.get(key)
    # both ΔG count "folded" against the parent's structure: its native, else its medoid
    out = {"dG_fold_cg_kcal": ours, "parent_cg_dG_fold_kcal": theirs,
           "ddG_folded_structure": parent_metrics_.get("reference_structure")}
    if ours is None or theirs is None:
        out.update(ddG_fold_kcal=None, ddG_fold_kcal_ci_low=None, ddG_fold_kcal_ci_high=None,
                   ddG_fold_verdict="not resolved")  # fmt: skip
        return out
    diff = rows[:, names.index(key)] - parent_rows[key].to_numpy()
    low, high, _ = bootstrap.percentile_interval(diff)
    verdict = {"better": "stabilised", "worse": "destabilised"}.get(bootstrap.verdict(low, high),
                                                                   "not resolved")
    if parent.get("untrained"):  # the network's embedding of those residues is random
        verdict = f"not judged: untrained residue types {' '.join(parent['untrained'])}"
    out.update(ddG_fold_kcal=float(ours) - float(theirs), ddG_fold_kcal_ci_low=low,
               ddG_fold_kcal_ci_high=high, ddG_fold_verdict=verdict)
    return out


def write_figure(path, name: str, figure: dict) -> None:
    from ..analysis.plots import pyplot, save_figure

    plt = pyplot()
    native = "rmsd_native" in figure
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), layout="constrained")
    axes[0].hist(figure["rg"], 50, density=True, histtype="step", lw=2)
    axes[0].set_xlabel("radius of gyration (Å)")
    rmsd = figure["rmsd_native"] if native else figure["rmsd_start"]
    axes[1].hist(rmsd, 50, density=True, histtype="step", lw=2)
    axes[1].set_xlabel(f"Cα RMSD to {'the native structure' if native else 'each start'} (Å)")
    for ax in axes[:2]:
        ax.set_ylabel("density")
    image = axes[2].imshow(figure["contacts"], vmin=0, vmax=1, cmap="Greys", origin="lower")
    axes[2].set_title("contact probability")
    axes[2].set_xlabel("bead")
    fig.colorbar(image, ax=axes[2], shrink=0.9)
    fig.suptitle(f"prediction {name}")
    save_figure(fig, path)


def write_prediction(result: dict, figure: dict, metrics_json, figure_png) -> None:
    """The figure first, metrics.json last: its presence means the analysis is complete."""
    write_figure(figure_png, result["prediction"], figure)
    with atomic_path(metrics_json) as tmp:
        tmp.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
