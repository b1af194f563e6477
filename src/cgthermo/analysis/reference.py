"""The all-atom reference of one protein: TICA fit, MSM weights, FES grid, structure.

Everything the per-model comparison needs is stored in `reference.npz`, so a model is
projected with this TICA fit and binned on this grid without touching the all-atom data.
"""

import logging

import numpy as np

from ..config import schema_default
from ..errors import CgthermoError
from ..io import atomic_path
from ..units import FS_PER_PS
from . import features, fes, inputs, kinetics, metrics, plots, states, structure

log = logging.getLogger(__name__)
FS_PER_NS = FS_PER_PS * 1000.0


def all_atom_weights(dtrajs, n_states: int, msm, method: str):
    """Per-frame weights (sum 1): MSM stationary π(state)/count, or uniform for 'histogram'."""
    if method == "histogram":
        n = sum(len(d) for d in dtrajs)
        return [np.full(len(d), 1.0 / n) for d in dtrajs]
    if method != "msm":
        raise CgthermoError(f"unknown reweight method '{method}'", "use 'msm' or 'histogram'")
    return kinetics.frame_weights(dtrajs, kinetics.state_stationary(msm, n_states))


def reference_structure(ensemble, dtrajs, state_pi, topology, native_path):
    """(Cα structure in Å, description): the native PDB, else the top microstate's medoid,
    chosen among evenly spaced members, of which only those are read."""
    if native_path:
        return inputs.load_native_ca(native_path, topology), f"native {native_path}"
    top_state = int(np.argmax(state_pi))
    piece_of = np.concatenate([np.full(np.count_nonzero(d == top_state), k)
                               for k, d in enumerate(dtrajs)])  # fmt: skip
    frame_of = np.concatenate([np.flatnonzero(d == top_state) for d in dtrajs])
    chosen = structure.evenly_spaced(len(frame_of))
    piece_of, frame_of = piece_of[chosen], frame_of[chosen]
    members = np.concatenate([ensemble.pieces[k][frame_of[piece_of == k]]
                              for k in np.unique(piece_of)])  # fmt: skip
    return (
        structure.medoid(members, topology),
        f"medoid of all-atom microstate {top_state} (stationary probability {state_pi[top_state]:.3f})",
    )


def observables_and_unit_sums(ensemble, weights, pairs, ref_xyz, contacts, cutoff: float,
                              topology) -> dict:  # fmt: skip
    """One pass over the positions, a block at a time: every frame's RMSD to the reference
    structure, native-contact fraction Q, Rg and bootstrap unit (its all-atom replica,
    numbered 0…), and the weighted pair-distance sums of every unit."""
    ids = sorted(set(ensemble.replicas))
    number = {replica: k for k, replica in enumerate(ids)}
    unit_pair_sums = np.zeros((len(ids), len(pairs)))
    rows = []
    for piece, replica, w in zip(ensemble.pieces, ensemble.replicas, weights, strict=True):
        for start, pos in features.frame_blocks(piece, features.frames_per_block(len(pairs))):
            rows.append(structure.block_observables(pos, ref_xyz, contacts, cutoff, topology))
            distances = features.pair_distances(pos, pairs, topology)
            unit_pair_sums[number[replica]] += w[start : start + len(pos)] @ distances
    frame_unit = np.concatenate([np.full(len(p), number[r], dtype=np.int64)
                                 for p, r in zip(ensemble.pieces, ensemble.replicas, strict=True)])  # fmt: skip
    return {**structure.stack_observables(rows), "frame_unit": frame_unit,
            "unit_pair_sums": unit_pair_sums}  # fmt: skip


def build_reference(dataset, topology_path, protein: str, settings: dict, temperature_K: float,
                    native_path=None, seed: int = 0) -> dict:  # fmt: skip
    """All reference arrays for `protein`; `settings` is the config's 'analysis' block. The
    positions are read from the dataset a bounded block of frames at a time."""
    topology = inputs.load_topology(topology_path)
    with inputs.open_reference(dataset, protein, topology) as (ensemble, dataset_T):
        if dataset_T is not None and abs(float(dataset_T) - float(temperature_K)) > 1e-6:
            log.warning("dataset temperature %s K differs from config %s K; using the config",
                        dataset_T, temperature_K)  # fmt: skip
        return reference_arrays(ensemble, topology, protein, settings, temperature_K,
                                native_path, seed)  # fmt: skip


def reference_arrays(ensemble, topology, protein, settings, temperature_K, native_path,
                     seed) -> dict:  # fmt: skip
    pairs = features.distance_pairs(ensemble.n_beads, settings["min_sequence_separation"])
    # pair distances are recomputed block by block rather than kept: frames × pairs floats
    # outgrow memory first (12 kB a frame at 80 beads)
    _, tica = kinetics.fit_tica_streamed(ensemble.pieces, pairs, topology,
                                         settings["tica_lag"], settings["tica_dim"])  # fmt: skip
    tics = [kinetics.project_piece(tica, p, pairs, topology) for p in ensemble.pieces]
    log.info("TICA: %d features, dim %d, timescales %s frames",
             len(pairs), tica.dim, np.round(tica.timescales[: tica.dim], 2))  # fmt: skip

    most = settings.get("kmeans_max_frames", schema_default("analysis", "kmeans_max_frames"))
    stride = kinetics.kmeans_stride(ensemble.n_frames, most)
    centres, dtrajs = kinetics.cluster(tics, settings["n_clusters"], seed=seed, stride=stride)
    longest = max(len(d) for d in dtrajs)
    lags = settings.get("its_lags") or kinetics.default_its_lags(settings["msm_lag"], longest)
    its_lags, its = kinetics.implied_timescales(dtrajs, lags, nits=min(4, len(centres) - 1))
    msm = kinetics.estimate_msm(dtrajs, settings["msm_lag"])
    state_pi = kinetics.state_stationary(msm, len(centres))
    weights = all_atom_weights(dtrajs, len(centres), msm, settings["reweight"])
    n_macro = settings.get("n_macrostates", schema_default("analysis", "n_macrostates"))
    of_state = states.crisp_macrostates(msm, len(centres), n_macro)
    log.info("MSM: %d states (k-means centres from every %d. frame), %d in the largest "
             "connected set", len(centres), stride, len(msm.active_set))  # fmt: skip

    ref_xyz, ref_source = reference_structure(ensemble, dtrajs, state_pi, topology, native_path)
    contacts = structure.native_contact_pairs(ref_xyz, settings["native_cutoff"])
    observed = observables_and_unit_sums(ensemble, weights, pairs, ref_xyz, contacts,
                                         settings["native_cutoff"], topology)  # fmt: skip
    all_weights = np.concatenate(weights)
    # the weighted mean is the sum of the replicas' sums
    distance_mean = observed["unit_pair_sums"].sum(axis=0) / all_weights.sum()
    all_tics = np.concatenate(tics)
    grid = fes.grid_from_reference(all_tics, settings["fes_bins"], settings["fes_margin"])
    lengths = [len(p) for p in ensemble.pieces]
    frame_replica = np.repeat(ensemble.replicas, lengths)
    floor = metrics.reference_split_floor(all_tics, frame_replica, all_weights, grid,
                                          temperature_K)  # fmt: skip
    log.info("all-atom replicas, one half against the other: FES MAE %.3f kcal/mol, JS %.3f",
             floor["fes_mae_aa_split_kcal"], floor["js_divergence_aa_split"])  # fmt: skip
    return {
        "protein": np.str_(protein),
        "temperature_K": np.float64(temperature_K),
        "frame_fs": np.float64(ensemble.frame_fs),
        "pairs": pairs,
        **tica.as_arrays(),
        "tics": all_tics,
        "piece_lengths": np.array(lengths, dtype=np.int64),
        "dtraj": np.concatenate(dtrajs),
        "cluster_centres": centres,
        "kmeans_stride": np.int64(stride),
        "state_pi": state_pi,
        "macrostate_of_state": of_state,
        "frame_macrostate": of_state[np.concatenate(dtrajs)].astype(np.int8),
        "msm_lag": np.int64(settings["msm_lag"]),
        "msm_active_states": np.int64(len(msm.active_set)),
        "weights": all_weights,
        "reweight": np.str_(settings["reweight"]),
        "its_lags": np.asarray(its_lags),
        "its_timescales": np.asarray(its),
        **{key: np.float64(value) for key, value in floor.items()},
        "x_edges": grid.x_edges,
        "y_edges": grid.y_edges,
        "reference_structure": ref_xyz,
        "reference_source": np.str_(ref_source),
        "native_given": np.bool_(bool(native_path)),
        "contact_pairs": contacts,
        "native_cutoff": np.float64(settings["native_cutoff"]),
        "folded_rmsd": np.float64(settings["folded_rmsd"]),
        "pair_distance_mean": distance_mean,
        **observed,
    }


def write_reference(arrays: dict, npz_path, its_png) -> None:
    plots.implied_timescales(
        its_png, arrays["its_lags"], arrays["its_timescales"], int(arrays["msm_lag"]),
        float(arrays["frame_fs"]) / FS_PER_NS, f"{arrays['protein']}: all-atom MSM",
    )  # fmt: skip
    with atomic_path(npz_path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def load_reference_npz(path) -> dict:
    from ..io import require_file
    from .converged import read

    return read(require_file(path, "the analysis_reference rule"))
