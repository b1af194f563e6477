"""A run's all-atom data themselves against a converged reference: how well plain replicas or
adaptive epochs of the same cost sample the protein's equilibrium.

    python scripts/aa_against_converged.py RUN chignolin data/reference/chignolin.npz \
        [--results results] [--resamples 200] [--seed 1]

The run's all-atom frames, with the run's own frame weights (`analysis.reweight`: uniform
or the MSM's), are projected on the converged reference's TICA and scored as the analysis
scores a CG model against it: the AA-weighted FES error, the folded fraction (RMSD below
`folded_rmsd` to the reference's folded structure), and the population of every reference
macrostate (frames assigned to the nearest reference microstate). 95 % intervals resample
the run's trajectories and the reference's replicas together; with MSM weights every
resample estimates its MSM again (held fixed, those intervals cover far too rarely on
adaptive data: benchmarks/adaptive_bootstrap.py). Also printed: the all-atom ns run in all
before the first folded frame, epochs one after another and an epoch's trajectories side
by side (plain replicas are one epoch).
"""

import argparse
from pathlib import Path

import h5py
import numpy as np

from cgthermo.analysis import bootstrap, converged, emulation, inputs, msm_units, structure
from cgthermo.analysis.compare import _grid, project_cg, reference_units
from cgthermo.analysis.reference import load_reference_npz
from cgthermo.analysis.speedup import assign_states
from cgthermo.analysis.states import MIN_MACROSTATE_POPULATION
from cgthermo.config import schema_default

READOUTS = ("fes_mae_weighted_kcal", "folded_fraction_aa", "folded_fraction_cg",
            "folded_fraction_abs_error")  # fmt: skip


class RunFrames:
    """The run's all-atom frames: trajectory of every frame, weights and how to re-estimate
    them on a resample of trajectories."""

    def __init__(self, run_ref: dict):
        self.unit = np.asarray(run_ref["frame_unit"])
        self.n_units = len(run_ref["unit_pair_sums"])
        self.weights = np.asarray(run_ref["weights"], dtype=np.float64)
        self.msm = str(run_ref["reweight"]) == "msm"
        self.dtraj = np.asarray(run_ref["dtraj"])
        self.pieces = msm_units.reference_pieces(run_ref)
        self.lag, self.n_states = int(run_ref["msm_lag"]), len(run_ref["state_pi"])

    def weights_for(self, multiplicity) -> np.ndarray:
        """Per-frame weights of a resample: the run's own, or those of an MSM estimated on
        the resample's trajectories (as the analysis's bootstrap estimates them)."""
        if not self.msm:
            return self.weights
        return msm_units.resampled_state_weight(self.pieces, multiplicity, self.lag, self.n_states)[self.dtraj]


def run_units(frames: RunFrames, weights, tics, obs, folded, grid, md_grid, n_pairs):
    return bootstrap.unit_stats(frames.unit, frames.n_units, tics, weights, grid, md_grid,
                                obs["rmsd"], obs["q"], obs["rg"], folded,
                                np.zeros((frames.n_units, n_pairs)))  # fmt: skip


def first_folded_ns(dataset, protein: str, folded: np.ndarray) -> float:
    """All-atom ns run in all before the first folded frame (NaN: none folds)."""
    with h5py.File(dataset, "r") as fh:
        group = fh[protein]
        replica, time_fs = group["replica"][:], group["time"][:]
        epoch_of = dict(zip(group.attrs.get("trajectory_replica", []),
                            group.attrs.get("trajectory_epoch", []), strict=True))  # fmt: skip
    epochs = np.array([epoch_of.get(r, 0) for r in replica])
    frame_fs = np.median(np.diff(np.unique(time_fs)))
    length_fs = time_fs.max() + frame_fs - time_fs.min()  # every trajectory as long
    per_epoch = {e: len(np.unique(replica[epochs == e])) for e in np.unique(epochs)}
    for e in sorted(per_epoch):
        hits = folded & (epochs == e)
        if hits.any():
            before = sum(per_epoch[k] * length_fs for k in per_epoch if k < e)
            return float((before + per_epoch[e] * (time_fs[hits].min() - time_fs.min() + frame_fs)) / 1e6)
    return float("nan")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("protein")
    parser.add_argument("reference", type=Path, help="a converged reference artifact")
    parser.add_argument("--results", default="results")
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    folder = args.run / args.results / args.protein
    run_ref = load_reference_npz(folder / "analysis/reference.npz")
    topology = inputs.load_topology(folder / "cg/topology.pdb")
    conv = converged.load_artifact(args.reference, args.protein, topology.n_atoms, float(run_ref["temperature_K"]))
    with inputs.open_reference(folder / "cg/dataset.h5", args.protein, topology) as (ensemble, _):
        tics = project_cg(conv, ensemble, topology)
        obs = structure.frame_observables(ensemble.pieces, conv["reference_structure"], conv["contact_pairs"],
                                          float(conv["native_cutoff"]), topology)  # fmt: skip
    folded = obs["rmsd"] < float(conv["folded_rmsd"])
    frames = RunFrames(run_ref)
    grid, md_grid = _grid(conv), emulation.grid_for_reference(conv["tics"], conv["weights"])
    ref_units = reference_units(conv, md_grid)
    support = bootstrap.Support.from_settings({k: schema_default("analysis", k) for k in (
        "min_shared_bins", "min_shared_bins_1d", "min_aa_mass_shared")})  # fmt: skip
    T = float(conv["temperature_K"])
    macro = np.asarray(conv["macrostate_of_state"])
    frame_macro = macro[np.concatenate(assign_states([tics], conv["cluster_centres"]))]
    ref_macro = np.bincount(conv["frame_macrostate"], weights=conv["weights"], minlength=macro.max() + 1)
    ref_macro = ref_macro / ref_macro.sum()

    def readouts(m_run, m_ref) -> np.ndarray:
        w = frames.weights_for(m_run)
        units = run_units(frames, w, tics, obs, folded, grid, md_grid, len(conv["pairs"]))
        values, why = bootstrap.evaluate(ref_units.totals(m_ref), units.totals(m_run), T, md_grid, support)
        wm = w * np.asarray(m_run, float)[frames.unit]
        pops = np.bincount(frame_macro[frame_macro >= 0], weights=wm[frame_macro >= 0],
                           minlength=len(ref_macro)) / wm.sum()  # fmt: skip
        return np.array([values[k] if k not in why else np.nan for k in READOUTS] + list(pops))

    point = readouts(np.ones(frames.n_units), np.ones(ref_units.n_units))
    rng = np.random.default_rng(args.seed)
    m_run = bootstrap.multiplicities(rng, args.resamples, frames.n_units)
    m_ref = converged.resamples(args.seed, args.resamples, ref_units.n_units)
    rows = np.array([readouts(a, b) for a, b in zip(m_run, m_ref, strict=True)])
    labels = {"folded_fraction_aa": "folded_fraction_reference", "folded_fraction_cg": "folded_fraction_data"}
    names = [*(labels.get(k, k) for k in READOUTS), *(f"macrostate{k}_population" for k in range(len(ref_macro)))]
    print(f"{args.run}: {len(tics)} all-atom frames in {frames.n_units} trajectories, "
          f"weights: {'MSM, estimated again per resample' if frames.msm else 'uniform'}")
    for k, name in enumerate(names):
        low, high, _ = bootstrap.percentile_interval(rows[:, k])
        extra = ""
        if name.startswith("macrostate"):
            share = ref_macro[int(name[10:].split("_")[0])]
            extra = f" (reference {share:.3f}{', holds >= 5 %' if share >= MIN_MACROSTATE_POPULATION else ''})"
        print(f"  {name}: {point[k]:.3f} [{low:.3f}, {high:.3f}]{extra}")
    print(f"  all-atom ns before the first folded frame: {first_folded_ns(folder / 'cg/dataset.h5', args.protein, folded):.2f}")


if __name__ == "__main__":
    main()
