"""TICA and the grids fitted again on every bootstrap resample (`analysis.refit_tica`).

The analysis holds the all-atom TICA fit, its FES grid and the md_emulation grid fixed and
resamples only which replicas enter the histograms. That leaves the coordinates' own noise
out of the intervals, and it is not small for the FES error (benchmarks/refit_resamples.py:
1.2–1.6× wider on the demo). With `refit_tica` every resample fits TICA (pyemma) on its
resampled all-atom replicas, projects the all-atom and CG frames with that fit and lays the
grids on its resampled all-atom frames; its metrics then come from the same sufficient
statistics as the fixed-coordinate ones. The point value keeps the stored fit, which every
resample of every model of a protein refits identically (the resamples are shared), so the
paired differences stay paired. Frame weights must be uniform: with MSM weights the
microstates would have to be refitted too (refused at load). Observables outside TICA
(RMSD, Q, Rg, folded fraction, distances) come out as without the refit.
"""

from dataclasses import replace

import numpy as np

from ..errors import CgthermoError
from . import bootstrap, emulation, features, fes, inputs, kinetics


class RefitSpace:
    """The pair distances of every all-atom and CG frame, and their per-frame observables,
    from which each resample's units are rebuilt in its own TICA space."""

    def __init__(self, ref: dict, aa_features: list, cg: dict, settings: dict):
        self.ref, self.aa_features, self.cg = ref, aa_features, cg
        self.lag, self.dim = int(ref["tica_lag"]), int(ref["tica_dim"])
        self.bins, self.margin = len(ref["x_edges"]) - 1, float(settings["fes_margin"])
        self.aa_unit = np.asarray(ref["frame_unit"])
        self.n_aa = len(ref["unit_pair_sums"])
        self.aa_folded = ref["rmsd"] < float(ref["folded_rmsd"])
        self.piece_unit = [int(self.aa_unit[start]) for start in
                           np.cumsum([0] + [len(f) for f in aa_features])[:-1]]  # fmt: skip
        # a resample's TICA fit, the costly part, depends on its all-atom draw alone: the
        # pooled rows and those of each network's share (same draws) reuse it; only the
        # `dim` columns used are kept
        self._fits: dict[bytes, kinetics.TicaModel] = {}

    def tica_for(self, multiplicity) -> kinetics.TicaModel:
        """TICA fitted on the resample: a replica's pieces enter as often as it was drawn."""
        key = np.asarray(multiplicity, dtype=np.int64).tobytes()
        if key not in self._fits:
            chosen = [piece for piece, unit in zip(self.aa_features, self.piece_unit, strict=True)
                      for _ in range(int(multiplicity[unit]))]  # fmt: skip
            fit = kinetics.fit_tica(chosen, self.lag, self.dim)[1]
            self._fits[key] = replace(fit, eigenvectors=fit.eigenvectors[:, :fit.dim].copy())
        return self._fits[key]

    def units_for(self, multiplicity) -> tuple:
        """(all-atom units, CG units, md_emulation grid) in the resample's own coordinates."""
        ref, cg = self.ref, self.cg
        tica = self.tica_for(multiplicity)
        aa_tics = np.concatenate([kinetics.project(tica, f) for f in self.aa_features])
        weights = np.asarray(ref["weights"], dtype=np.float64)
        repeat = np.asarray(multiplicity)[self.aa_unit].astype(int)
        drawn = np.repeat(aa_tics, repeat, axis=0)
        grid = fes.grid_from_reference(drawn, self.bins, self.margin)
        md_grid = emulation.grid_for_reference(drawn, np.repeat(weights, repeat))
        aa_units = bootstrap.unit_stats(self.aa_unit, self.n_aa, aa_tics, weights, grid, md_grid,
                                        ref["rmsd"], ref["q"], ref["rg"], self.aa_folded,
                                        ref["unit_pair_sums"])  # fmt: skip
        cg_tics = np.concatenate([kinetics.project(tica, f) for f in cg["features"]])
        cg_units = bootstrap.unit_stats(cg["unit"], cg["n_units"], cg_tics,
                                        np.ones(len(cg_tics)), grid, md_grid, cg["rmsd"],
                                        cg["q"], cg["rg"], cg["folded"], cg["pair_sums"])  # fmt: skip
        return aa_units, cg_units, md_grid

    def rows(self, m_ref, m_cg, temperature_K: float, support) -> np.ndarray:
        """(resamples, len(METRICS)) metric values, each resample in its own TICA space."""
        out = []
        for a, b in zip(m_ref, m_cg, strict=True):
            aa_units, cg_units, md_grid = self.units_for(a)
            out.append(bootstrap.as_row(*bootstrap.evaluate(
                aa_units.totals(a), cg_units.totals(b), temperature_K, md_grid, support)))
        return np.stack(out)


def all_atom_features(dataset, protein: str, pairs, topology) -> list:
    """Pair distances of the all-atom pieces, in the order of the reference's frames."""
    with inputs.open_reference(dataset, protein, topology) as (ensemble, _):
        return [features.pair_distances(np.asarray(p[:]), pairs, topology)
                for p in ensemble.pieces]  # fmt: skip


def refit_space(ref: dict, dataset, ensemble, cg_units, cg: dict, topology,
                settings: dict) -> RefitSpace:
    """The space of a model's analysis: its CG frames beside the protein's all-atom ones."""
    if dataset is None:
        raise CgthermoError("analysis.refit_tica needs the all-atom frames of cg/dataset.h5",
                            "pass the dataset to the analysis, or set analysis.refit_tica: false")  # fmt: skip
    lengths = [len(p) for p in ensemble.pieces]
    frames = {
        "features": [features.pair_distances(p, ref["pairs"], topology) for p in ensemble.pieces],
        "unit": np.repeat(ensemble.replicas, lengths), "n_units": cg_units.n_units,
        "rmsd": cg["rmsd"], "q": cg["q"], "rg": cg["rg"],
        "folded": cg["rmsd"] < float(ref["folded_rmsd"]), "pair_sums": cg_units.pair_sums,
    }  # fmt: skip
    aa = all_atom_features(dataset, str(ref["protein"]), ref["pairs"], topology)
    return RefitSpace(ref, aa, frames, settings)
