"""The structures of a prediction's CG run (rule predict_structures).

With a parent of the same length, the prediction is placed like a model of the parent:
the parent's all-atom macrostates, medoids matched to the parent's, DSSP against the
parent's all-atom profile (gallery.model_structures); the mutation shows as a moved
population or another structure in a state. Without one there are no all-atom states: the
run's own states are k-means clusters (pyemma) of its Cα pair distances, as many as
`analysis.n_macrostates`, each with its population over resampled replicas. With a
`native`, every state's medoid is superposed on it and its RMSD to it reported: what the
paper's mutant study compared.
"""

import numpy as np

from ..analysis import bootstrap, features, inputs, kinetics, structure
from . import dssp
from .gallery import backmapped, dssp_sample, medoids_of, plot_profiles, sequence_of, write_json
from .states import superposed

# k-means on the run's own pair distances: enough frames for the centres, every frame assigned
KMEANS_MAX_FRAMES = 20000


def own_states(ensemble, topology, n_states: int, seed: int) -> np.ndarray:
    """The state of every frame: k-means (pyemma) of the Cα pair distances into `n_states`."""
    pyemma = kinetics._quiet_pyemma()
    pairs = features.distance_pairs(ensemble.n_beads, 1)
    distances = [features.pair_distances(np.asarray(p), pairs, topology)
                 for p in ensemble.pieces]  # fmt: skip
    n_frames = sum(len(d) for d in distances)
    stride = max(1, n_frames // KMEANS_MAX_FRAMES)
    clustering = pyemma.coordinates.cluster_kmeans(distances, k=min(n_states, n_frames),
                                                   max_iter=50, stride=stride, fixed_seed=seed,
                                                   n_jobs=1)  # fmt: skip
    return np.concatenate(clustering.dtrajs).astype(np.int64)


def state_populations(frame_state, frame_replica, n_replicas: int, m_cg, interval) -> dict:
    """Per state: the fraction of frames in it, with its interval over replica resamples."""
    frame_state, frame_replica = np.asarray(frame_state), np.asarray(frame_replica)
    n_states = int(frame_state.max()) + 1 if len(frame_state) else 0
    hits = np.zeros((n_replicas, max(n_states, 1)))
    np.add.at(hits, (frame_replica, frame_state), 1.0)
    frames = hits.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        point = hits.sum(axis=0) / frames.sum()
        samples = (m_cg @ hits) / (m_cg @ frames)[:, None]
    out = {}
    for k in range(n_states):
        low, high, _ = interval(np.where(np.isfinite(samples[:, k]), samples[:, k], np.nan))
        out[k] = {"population": float(point[k]), "population_ci_low": low,
                  "population_ci_high": high}  # fmt: skip
    return out


def own_profile(sample: dict, n_replicas: int, m_cg, interval) -> dict:
    """The run's per-residue DSSP class fractions with intervals, no all-atom side."""
    sums = dssp.unit_sums(dssp.class_indicator(sample["codes"]), sample["frame_unit"],
                          sample["weights"], n_replicas)  # fmt: skip
    point, samples = dssp.profiles(sums, np.ones(n_replicas)), dssp.profiles(sums, m_cg)
    low, high = dssp.residue_intervals(samples, interval)
    return {"classes": list(dssp.CLASS_NAMES), "fraction_cg": point,
            "fraction_cg_ci_low": low, "fraction_cg_ci_high": high}


def prediction_structures(traj, frames_csv, topology_path, run_json, settings: dict, seed: int,
                          forcefield_files: list, outputs: dict, native=None,
                          parent_reference=None, parent_dssp=None) -> dict:  # fmt: skip
    """Outputs `states_pdb`, `structures` (json) and `dssp_png` of one prediction."""
    from openmm import app

    from ..analysis.reference import load_reference_npz
    from .gallery import model_structures

    topology = inputs.load_topology(topology_path)
    ensemble, counts, _ = inputs.load_cg_run(traj, frames_csv, topology,
                                             settings["cg_burnin_fraction"], run_json)  # fmt: skip
    forcefield = app.ForceField(*forcefield_files)
    if parent_reference and parent_dssp:
        payload = model_structures(ensemble, load_reference_npz(parent_reference), parent_dssp,
                                   topology, settings, seed, forcefield, outputs)  # fmt: skip
        payload["states_of"] = "the parent's all-atom macrostates"
    else:
        payload = own_structures(ensemble, counts["n_replicas_cg"], topology, settings, seed,
                                 forcefield, outputs, native)  # fmt: skip
    payload["parent"] = str(load_reference_npz(parent_reference)["protein"]) \
        if parent_reference and parent_dssp else None
    payload["native"] = str(native) if native else None
    if native:
        add_native_rmsd(payload, outputs["states_pdb"], native, topology)
    write_json(payload, outputs["structures"])
    return payload


def own_structures(ensemble, n_replicas: int, topology, settings, seed, forcefield, outputs,
                   native) -> dict:  # fmt: skip
    """States, medoids and DSSP profile of a prediction without an all-atom parent."""
    frame_state = own_states(ensemble, topology, settings["n_macrostates"], seed)
    frame_replica = ensemble.frame_replica
    m_cg = bootstrap.multiplicities(np.random.default_rng(seed), settings["bootstrap_resamples"],
                                    n_replicas)  # fmt: skip
    method = settings.get("interval", "percentile")

    def interval(samples):
        return bootstrap.interval(samples, n_replicas, method)

    populations = state_populations(frame_state, frame_replica, n_replicas, m_cg, interval)
    medoids = medoids_of(ensemble, frame_state, topology)
    if native:
        native_ca = inputs.load_native_ca(native, topology)
        for medoid in medoids:  # in the native's frame, which the report shows them in
            medoid["xyz"] = superposed(medoid["xyz"], native_ca, topology)
    records = backmapped(medoids, sequence_of(topology), forcefield, outputs["states_pdb"])
    for record in records:
        record.update(populations[record["state"]])
    sample = dssp_sample(ensemble, frame_replica, np.ones(len(frame_replica)),
                         settings["dssp_frames"], topology)  # fmt: skip
    profile = own_profile(sample, n_replicas, m_cg, interval)
    plot_profiles(profile, sequence_of(topology), outputs["dssp_png"])
    return {"states_of": "k-means of the run's own Cα pair distances", "states": records,
            "dssp": profile, "dssp_frames": {"cg": int(len(sample["codes"]))}}  # fmt: skip


def add_native_rmsd(payload: dict, states_pdb, native, topology) -> None:
    """Every backmapped state's Cα RMSD (Å) to the native structure."""
    import mdtraj as md

    native_ca = inputs.load_native_ca(native, topology)
    written = md.load(str(states_pdb)) if any(s.get("pdb_model") for s in payload["states"]) else None
    for state in payload["states"]:
        if written is None or not state.get("pdb_model"):
            state["rmsd_native_A"] = None
            continue
        frame = written[state["pdb_model"] - 1]
        ca = inputs.angstrom_from_nm(frame.xyz[0, frame.topology.select("name CA")])
        state["rmsd_native_A"] = float(structure.rmsd_to(ca[None], native_ca, topology)[0])
