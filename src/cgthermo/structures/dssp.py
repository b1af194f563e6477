"""Secondary structure of Cα frames: DSSP (mdtraj) on a PULCHRA backbone, compared between
the all-atom data and a CG model with intervals over replicas.

Both sides go through the same path (Cα trace → PULCHRA backbone → DSSP), so what the
backbone rebuild does to DSSP enters both alike and the comparison measures the ensembles.
PULCHRA's side chains do not enter DSSP and are not built. DSSP's eight codes are grouped
into four classes; every residue's fraction of frames in each class is its profile.
"""

import tempfile
from pathlib import Path

import numpy as np

# DSSP codes by class; mdtraj writes a loop as ' '
CLASSES = {"helix": "HGI", "strand": "EB", "turn": "T", "coil": "S "}
CLASS_NAMES = tuple(CLASSES)


def backbone_codes(ca_angstrom, sequence: str, work: Path) -> np.ndarray:
    """The DSSP code of every residue of one Cα frame (Å) of `sequence`."""
    import mdtraj as md
    from pulchra import Pulchra
    from pulchra.io.pdb_writer import write_pdb

    builder = Pulchra(ca_optimize=False, rebuild_sidechains=False)
    molecule = builder.reconstruct_coords(np.asarray(ca_angstrom, dtype=np.float64), sequence)
    path = Path(work) / "backbone.pdb"
    write_pdb(str(path), molecule)
    return md.compute_dssp(md.load(str(path)), simplified=False)[0]


def frame_codes(positions, sequence: str) -> np.ndarray:
    """(frames, residues) DSSP codes of Cα frames (Å)."""
    with tempfile.TemporaryDirectory() as work:
        rows = [backbone_codes(frame, sequence, Path(work)) for frame in positions]
    return np.array(rows, dtype="<U2").reshape(len(positions), len(sequence))


def class_indicator(codes) -> np.ndarray:
    """(frames, residues, classes) 1 where a residue's code is in the class; a code DSSP
    does not assign (mdtraj's 'NA') is in none."""
    codes = np.asarray(codes)
    return np.stack([np.isin(codes, list(members)) for members in CLASSES.values()],
                    axis=-1).astype(np.float64)  # fmt: skip


def sample_frames(frame_unit, count: int) -> np.ndarray:
    """Indices of about `count` frames spread evenly over the units (replicas) and evenly
    within each, at least one from every unit with frames."""
    frame_unit = np.asarray(frame_unit)
    units = np.unique(frame_unit)
    if not len(units) or count < 1:
        return np.empty(0, dtype=np.int64)
    each = max(1, int(round(count / len(units))))
    chosen = []
    for unit in units:
        members = np.flatnonzero(frame_unit == unit)
        chosen.append(members[np.unique(np.linspace(0, len(members) - 1, each).astype(int))])
    return np.concatenate(chosen)


def unit_sums(indicator, frame_unit, weights, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """(weighted class counts (units, residues, classes), weight (units,)) per replica."""
    indicator = np.asarray(indicator, dtype=np.float64)
    frame_unit = np.asarray(frame_unit, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    hits = np.zeros((n_units, *indicator.shape[1:]))
    np.add.at(hits, frame_unit, indicator * weights[:, None, None])
    return hits, np.bincount(frame_unit, weights=weights, minlength=n_units)


def profiles(sums: tuple, multiplicity) -> np.ndarray:
    """Class fractions (…, residues, classes) of the units weighted by `multiplicity`
    ((units,) or (resamples, units)); NaN where the weighted units hold no frame."""
    hits, weight = sums
    m = np.asarray(multiplicity, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.tensordot(m, hits, axes=(-1, 0)) / (m @ weight)[..., None, None]


def mean_abs_difference(model, reference) -> np.ndarray:
    """The mean over residues and classes of |model − reference| class fractions: 0 for the
    same profile, 1 when every residue is in another class on the two sides."""
    # each residue's fractions sum to at most 1 on each side: halve the L1 distance
    return 0.5 * np.abs(np.asarray(model) - np.asarray(reference)).sum(axis=-1).mean(axis=-1)


def residue_intervals(samples, interval) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of every residue's class fractions over resamples (resamples, residues,
    classes), each read by `interval(samples)` → (low, high, defined)."""
    bounds = np.array([[interval(samples[:, res, k])[:2] for k in range(samples.shape[2])]
                       for res in range(samples.shape[1])])  # fmt: skip
    return bounds[..., 0], bounds[..., 1]


def compare(ref_sums: tuple, cg_sums: tuple, m_ref, m_cg, interval) -> dict:
    """Per-residue class fractions of both sides and the profile difference, each with the
    interval `interval(samples)` → (low, high, defined) over paired replica resamples."""
    n_ref, n_cg = len(ref_sums[1]), len(cg_sums[1])
    p_ref, p_cg = profiles(ref_sums, np.ones(n_ref)), profiles(cg_sums, np.ones(n_cg))
    r_ref, r_cg = profiles(ref_sums, m_ref), profiles(cg_sums, m_cg)
    out = {"classes": list(CLASS_NAMES)}
    for side, point, samples in (("aa", p_ref, r_ref), ("cg", p_cg, r_cg)):
        out[f"fraction_{side}"] = point
        out[f"fraction_{side}_ci_low"], out[f"fraction_{side}_ci_high"] = residue_intervals(
            samples, interval)
    difference = mean_abs_difference(r_cg, r_ref)
    low, high, _ = interval(np.where(np.isfinite(difference), difference, np.nan))
    out["dssp_difference"] = float(mean_abs_difference(p_cg, p_ref))
    out["dssp_difference_ci_low"], out["dssp_difference_ci_high"] = low, high
    return out
