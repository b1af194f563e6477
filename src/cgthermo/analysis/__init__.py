"""Comparison of CG ensembles with the all-atom reference: TICA, MSM, free energies, structure.

Modules:
- `inputs`: reading the all-atom Cα dataset, CG trajectories and the native structure
- `features`: Cα–Cα distance features
- `kinetics`: TICA fitted on all-atom data, k-means, implied timescales, MSM weights
- `fes`: histogram free-energy surfaces on fixed bins
- `metrics`: FES error, Jensen–Shannon divergence, coverage, folding free energy
- `structure`: RMSD, native contacts, reference structure
- `plots`: the figures
- `reference`: builds `reference.npz` from the all-atom data
- `compare`: one CG model against the reference (`metrics.json` and figures)
- `summary`, `report`: `summary.csv` and the self-contained `report.html`
"""
