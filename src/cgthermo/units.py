"""The one place where OpenMM units (nm, kJ/mol, ps) become CG units (Å, kcal/mol, fs).

Every artifact after the all-atom MD is in Å, kcal/mol, K and fs. Nothing else in
the package multiplies by these constants.
"""

import numpy as np

ANGSTROM_PER_NM = 10.0
KCAL_PER_KJ = 1.0 / 4.184
FS_PER_PS = 1000.0
SECONDS_PER_DAY = 86400.0  # for the ns/day rates the runs record
KB_KCAL_PER_MOL_K = 0.0019872041  # Boltzmann constant in kcal/mol/K
KB_KJ_PER_MOL_K = KB_KCAL_PER_MOL_K * 4.184


def nm_to_angstrom(x):
    return np.asarray(x) * ANGSTROM_PER_NM


def kj_per_mol_nm_to_kcal_per_mol_angstrom(f):
    return np.asarray(f) * (KCAL_PER_KJ / ANGSTROM_PER_NM)


def ps_to_fs(t):
    return np.asarray(t) * FS_PER_PS


def kT_kcal(temperature_K: float) -> float:
    """Thermal energy kB·T in kcal/mol."""
    return KB_KCAL_PER_MOL_K * float(temperature_K)


def angstrom_to_nm(x):
    """For handing Å coordinates to mdtraj, which stores nm internally."""
    return np.asarray(x) / ANGSTROM_PER_NM
