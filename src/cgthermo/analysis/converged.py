"""A converged all-atom reference made once, shipped as a small artifact, and scored against.

A run's own all-atom data are a few short replicas: their even-against-odd split floor can
be larger than a model's error, so a model cannot be placed against the true ensemble. A
converged reference is an `analysis_reference` of a much longer all-atom run of the same
protein, force field, solvent and temperature, thinned to every `stride`-th frame (frames a
few ps apart carry little more than their neighbours) and stored compressed. It keeps what a
model is projected and binned with (TICA, grid, microstates, folded structure) and the
per-frame numbers its bootstrap units are built from. Its MSM time series are not kept, so
it scores thermodynamics only: the speed-up and implied timescales stay with the run's own
all-atom data.

Every metric against it carries the prefix `converged_`, with intervals that resample its
replicas and the model's CG replicas together (the same CG resamples as the run's own
metrics, so model differences pair up).
"""

import numpy as np

from ..errors import CgthermoError
from ..io import atomic_path, require_file

PREFIX = "converged_"
# per-frame arrays of a reference.npz, thinned together
PER_FRAME = ("tics", "weights", "rmsd", "q", "rg", "frame_unit")
# what a converged artifact carries beyond the per-frame arrays (kinetics arrays are dropped)
KEPT = ("protein", "temperature_K", "frame_fs", "pairs", "tica_mean", "tica_eigenvectors",
        "tica_eigenvalues", "tica_timescales", "tica_dim", "tica_lag", "x_edges", "y_edges", "reference_structure", "reference_source",
        "contact_pairs", "native_cutoff", "folded_rmsd", "reweight", "state_pi",
        "msm_active_states", "msm_lag", "cluster_centres", "its_lags", "its_timescales",
        "fes_mae_aa_split_kcal", "fes_mae_weighted_aa_split_kcal", "js_divergence_aa_split")
# a different stream from the run's own all-atom resamples, the same for every model
RESAMPLE_STREAM = 7


def thin(ref: dict, stride: int, sequence: str, made_by: str,
         macrostate_of_state: np.ndarray | None = None) -> dict:  # fmt: skip
    """The converged artifact of a full `reference.npz` (`ref`): every `stride`-th frame of
    each replica's per-frame arrays, weights renormalized, the pair-distance sums of every
    replica scaled to its kept weight so its mean distances are unchanged. With
    `macrostate_of_state` (`macrostates`; else the reference's own), every kept frame's
    macrostate comes too."""
    if stride < 1:
        raise CgthermoError(f"stride {stride} is not a positive whole number", "give stride ≥ 1")
    missing = [k for k in (*PER_FRAME, *KEPT, "unit_pair_sums") if k not in ref]
    if missing:
        raise CgthermoError(f"the reference.npz lacks {', '.join(missing)}",
                            "rerun analysis_reference with the current code")  # fmt: skip
    unit = np.asarray(ref["frame_unit"])
    keep = np.zeros(len(unit), dtype=bool)
    for u in np.unique(unit):
        keep[np.flatnonzero(unit == u)[::stride]] = True
    weights = np.asarray(ref["weights"], dtype=np.float64)
    kept_w = weights[keep] / weights[keep].sum()
    n_units = len(ref["unit_pair_sums"])
    before = np.bincount(unit, weights=weights / weights.sum(), minlength=n_units)
    after = np.bincount(unit[keep], weights=kept_w, minlength=n_units)
    scale = np.divide(after, before, out=np.zeros(n_units), where=before > 0)
    out = {k: ref[k] for k in KEPT}
    out.update(
        tics=np.asarray(ref["tics"])[keep],
        weights=kept_w,
        rmsd=np.asarray(ref["rmsd"])[keep].astype(np.float32),
        q=np.asarray(ref["q"])[keep].astype(np.float32),
        rg=np.asarray(ref["rg"])[keep].astype(np.float32),
        frame_unit=unit[keep].astype(np.int32),
        unit_pair_sums=np.asarray(ref["unit_pair_sums"]) * scale[:, None],
        converged_stride=np.int64(stride),
        converged_frames_full=np.int64(len(unit)),
        sequence=np.str_(sequence),
        made_by=np.str_(made_by),
    )
    if macrostate_of_state is None and "macrostate_of_state" in ref:
        macrostate_of_state = ref["macrostate_of_state"]
    if macrostate_of_state is not None:
        out["macrostate_of_state"] = np.asarray(macrostate_of_state, dtype=np.int64)
        out["frame_macrostate"] = np.asarray(macrostate_of_state)[ref["dtraj"]][keep].astype(np.int8)
    return out


def write_artifact(arrays: dict, path) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def load_artifact(path, protein: str, n_beads: int, temperature_K: float) -> dict:
    """The converged reference at `path`, refused in one line unless it describes `protein`
    with `n_beads` Cα beads at `temperature_K`."""
    require_file(path, "scripts/converged_reference.py")
    ref = read(path)
    problem = artifact_problem(ref, path, protein, n_beads, temperature_K)
    if problem:
        raise problem
    return ref


def artifact_problem(ref: dict, path, protein: str, n_beads: int | None,
                     temperature_K: float) -> CgthermoError | None:  # fmt: skip
    """Why `ref` cannot score `protein` (None when it can)."""
    fix = "point converged_reference at the artifact made for this protein and temperature"
    if "converged_stride" not in ref:
        return CgthermoError(f"{path} is not a converged reference artifact",
                             "make it with scripts/converged_reference.py")  # fmt: skip
    if str(ref["protein"]) != protein:
        return CgthermoError(f"{path} is the converged reference of '{ref['protein']}', not "
                             f"of '{protein}'", fix)  # fmt: skip
    if abs(float(ref["temperature_K"]) - float(temperature_K)) > 1e-6:
        return CgthermoError(f"{path} was simulated at {float(ref['temperature_K']):g} K, "
                             f"'{protein}' at {float(temperature_K):g} K", fix)  # fmt: skip
    beads = len(ref["reference_structure"])
    if n_beads is not None and beads != n_beads:
        return CgthermoError(f"{path} has {beads} beads, '{protein}' {n_beads}", fix)
    return None


def read(path) -> dict:
    """Every array of an .npz (a converged artifact or a reference.npz)."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def compared_metrics() -> tuple:
    """The metrics that mean something against an external reference: every one that
    compares with the all-atom side (the model-only numbers are the run's own)."""
    from . import bootstrap

    return tuple(m for m in bootstrap.METRICS if m not in bootstrap.MODEL_ONLY)


def resamples(seed: int, n_resamples: int, n_units: int) -> np.ndarray:
    """The converged reference's replica multiplicities: one draw per protein seed."""
    from . import bootstrap

    rng = np.random.default_rng([seed, RESAMPLE_STREAM])
    return bootstrap.multiplicities(rng, n_resamples, n_units)


def unit_histograms(ref: dict) -> np.ndarray:
    """(units, x bins, y bins) weighted 2-D histogram of every all-atom replica."""
    edges = (ref["x_edges"], ref["y_edges"])
    unit, tics, w = ref["frame_unit"], np.asarray(ref["tics"]), np.asarray(ref["weights"])
    return np.stack([np.histogram2d(tics[unit == u, 0], tics[unit == u, 1], bins=edges,
                                    weights=w[unit == u])[0]
                     for u in range(len(ref["unit_pair_sums"]))])  # fmt: skip


def split_floor_samples(ref: dict, seed: int, n_resamples: int) -> np.ndarray:
    """AA-weighted FES error between the even and the odd replicas, each half resampled
    with replacement on its own: the spread of the split floor."""
    from . import fes, metrics

    hist = unit_histograms(ref)
    halves = (np.arange(0, len(hist), 2), np.arange(1, len(hist), 2))
    rng = np.random.default_rng([seed, RESAMPLE_STREAM, 1])
    T = float(ref["temperature_K"])
    out = np.empty(n_resamples)
    for k in range(n_resamples):
        p = []
        for half in halves:
            counts = hist[rng.choice(half, size=len(half))].sum(axis=0)
            p.append(counts / counts.sum())
        f = [fes.free_energy(q, T) for q in p]
        out[k] = metrics.fes_mae_weighted(f[0], f[1], p[0])
    return out


def unit_fraction_samples(ref: dict, indicator: np.ndarray, seed: int,
                          n_resamples: int) -> np.ndarray:  # fmt: skip
    """The weighted mean of a per-frame `indicator` over replica resamples."""
    from . import bootstrap

    n_units = len(ref["unit_pair_sums"])
    w = np.asarray(ref["weights"], dtype=np.float64)
    weight = np.bincount(ref["frame_unit"], weights=w, minlength=n_units)
    hits = np.bincount(ref["frame_unit"], weights=w * indicator, minlength=n_units)
    m = bootstrap.multiplicities(np.random.default_rng([seed, RESAMPLE_STREAM, 2]),
                                 n_resamples, n_units)  # fmt: skip
    return (m @ hits) / (m @ weight)


def macrostates(ref: dict, n_macrostates: int) -> np.ndarray:
    """Macrostate of every microstate (PCCA+ on the reference MSM, crisp; −1 outside its
    largest connected set), from a full reference.npz (its discrete trajectories)."""
    from . import kinetics
    from .states import crisp_macrostates

    dtrajs = np.split(ref["dtraj"], np.cumsum(ref["piece_lengths"])[:-1])
    msm = kinetics.estimate_msm(list(dtrajs), int(ref["msm_lag"]))
    return crisp_macrostates(msm, len(ref["state_pi"]), n_macrostates)


def convergence_record(ref: dict, of_state: np.ndarray, seed: int, n_resamples: int) -> dict:
    """How converged a full reference.npz is: its even/odd split floor, folded fraction and
    the populations of its macrostates (`of_state`: `macrostates`), each with a 95 %
    replica-bootstrap interval, and the slowest implied timescales against lag time."""
    from . import bootstrap

    def interval(samples):
        low, high, _ = bootstrap.percentile_interval(samples)
        return [round(low, 4), round(high, 4)]

    folded = (np.asarray(ref["rmsd"]) < float(ref["folded_rmsd"])).astype(np.float64)
    w = np.asarray(ref["weights"], dtype=np.float64)
    record = {
        "frames": int(len(w)),
        "replicas": int(len(ref["unit_pair_sums"])),
        "split_floor_fes_mae_weighted_kcal": round(float(ref["fes_mae_weighted_aa_split_kcal"]), 4),
        "split_floor_ci": interval(split_floor_samples(ref, seed, n_resamples)),
        "folded_fraction": round(float(w @ folded / w.sum()), 4),
        "folded_fraction_ci": interval(unit_fraction_samples(ref, folded, seed, n_resamples)),
        "folded_structure": str(ref["reference_source"]),
        "its_lag_frames": [int(x) for x in ref["its_lags"]],
        "slowest_its_frames": [round(float(x), 2) for x in np.asarray(ref["its_timescales"])[:, 0]],
        "frame_fs": float(ref["frame_fs"]),
        "macrostates": [],
    }
    frame_macro = of_state[ref["dtraj"]]
    for k in range(int(of_state.max()) + 1):
        member = (frame_macro == k).astype(np.float64)
        record["macrostates"].append({
            "population": round(float(w @ member / w.sum()), 4),
            "ci": interval(unit_fraction_samples(ref, member, seed, n_resamples)),
            "folded_fraction_inside": round(float((w * member) @ folded / max(w @ member, 1e-300)), 3),
        })  # fmt: skip
    return record
