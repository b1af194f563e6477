"""Existing all-atom data into the CG dataset, with checks of shape, units and NaNs.

Two layouts (config key `import` of a protein):
- `coords`, `forces`, `embeddings`: .npy files as the paper published them
  (Cα coordinates in Å and Cα forces in kcal/mol/Å, frames × beads × 3; bead
  types (beads,) in the paper numbering). Already mapped: taken as they are.
- `trajectory`, `topology`, `forces`: an all-atom trajectory readable by mdtraj
  and an all-atom force array (frames × atoms × 3) in kJ/mol/nm, as OpenMM
  reports it. Mapped like our own runs; the constraint-aware map takes the
  hydrogens bonded to each Cα, i.e. it assumes the run used HBonds constraints.
"""

import logging
from pathlib import Path

import numpy as np

from .. import units
from ..errors import CgthermoError
from ..residues import BEAD_TYPE
from .dataset import CGData, LazyFrames
from .mapping import (
    FORCE_MAPS,
    AtomTable,
    MappedBlock,
    assemble,
    broken_frames,
    force_map_weights,
    force_second_moments,
    map_frames,
    slice_weights,
)

log = logging.getLogger(__name__)

NPY_KEYS = {"coords", "forces", "embeddings"}
TRAJECTORY_KEYS = {"trajectory", "topology", "forces"}
# A Cα–Cα bond is 3.8 Å; the same chain in nm has 0.38.
BOND_RANGE_ANGSTROM = (3.0, 4.6)
# bond_virial_ratio is ~1 for forces in kcal/mol/Å (0.999 ± 0.005 on the demo's all-atom data);
# kJ/mol/nm make it ~42, kcal/mol/nm ~10.
VIRIAL_RATIO_RANGE = (0.2, 5.0)
CHECK_FRAMES = 1000  # frames sampled for the unit checks
ERROR_BLOCKS = 20  # contiguous blocks of the sample that give the ratio's standard error
# fewer sampled frames than this cannot rule out an equilibrium sample (a WARNING instead)
MIN_FRAMES_TO_REFUSE = 100
SETTING_KEYS = {"timestep_ps", "nonequilibrium_forces"}  # import keys that name no file


def file_keys(spec: dict) -> set:
    return set(spec) - SETTING_KEYS


def residue_names_from_types(types) -> list[str]:
    """Invert the paper numbering; the first name of a number wins (HIS, not HSD; ASP, not ASH)."""
    names = {}
    for name, number in BEAD_TYPE.items():
        names.setdefault(number, name)
    unknown = sorted({int(t) for t in types} - set(names))
    if unknown:
        raise CgthermoError(
            f"bead type {unknown[0]} is not in the paper numbering",
            f"use the numbers of cgthermo.residues.BEAD_TYPE ({sorted(names)})",
        )
    return [names[int(t)] for t in types]


def import_protein(
    name: str, spec: dict, temperature: float, force_map: str, max_bond: float
) -> CGData:
    """Dispatch on the keys of a protein's `import` block."""
    keys = file_keys(spec)
    timestep_fs = float(units.ps_to_fs(spec.get("timestep_ps", 0.1)))
    if keys == NPY_KEYS:
        return import_npy(name, spec, temperature, timestep_fs, max_bond)
    if keys == TRAJECTORY_KEYS:
        return import_trajectory(name, spec, temperature, timestep_fs, force_map, max_bond)
    raise CgthermoError(
        f"protein '{name}': import gives {sorted(keys)}",
        "give either coords, forces and embeddings (.npy) or trajectory, topology and forces",
    )


def _path(name: str, spec: dict, key: str) -> Path:
    path = Path(spec[key])
    if not path.is_file():
        raise CgthermoError(
            f"protein '{name}': import.{key} file {path} does not exist", f"correct import.{key}"
        )
    return path


def _load_npy(name: str, spec: dict, key: str) -> np.ndarray:
    path = _path(name, spec, key)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as err:
        raise CgthermoError(
            f"protein '{name}': import.{key} file {path} is not a .npy array ({err})",
            "save it with numpy.save",
        ) from None
    if not isinstance(array, np.ndarray):  # an .npz archive loads as a lazy dict of arrays
        if hasattr(array, "close"):
            array.close()
        raise CgthermoError(
            f"protein '{name}': import.{key} file {path} is an .npz archive, not one .npy array",
            "save each array on its own with numpy.save (coords, forces and embeddings)",
        )
    return array


def import_npy(name, spec, temperature, timestep_fs, max_bond) -> CGData:
    coords, forces, types = open_npy_import(name, spec)
    resnames = residue_names_from_types(types)
    _check_finite(name, "coords", coords)
    _check_finite(name, "forces", forces)
    check_plausible_units(name, coords, forces, temperature,
                          spec.get("nonequilibrium_forces", False))
    keep = kept_frames(name, coords, max_bond)
    square_sum = sum(float(np.sum(np.asarray(forces[s], dtype=np.float64)[keep[s]] ** 2))
                     for s in _blocks(len(forces)))  # fmt: skip
    return CGData(
        name=name,
        resnames=resnames,
        pos=KeptFrames(coords, keep, np.float32),
        forces=KeptFrames(forces, keep, np.float64),
        replica=np.zeros(int(keep.sum()), dtype=np.int64),
        time=(np.arange(len(coords)) * timestep_fs)[keep],
        temperature=float(temperature),
        force_map="imported",
        dropped_frames=int((~keep).sum()),
        extra_attrs={"mean_square_force_imported": square_sum / (int(keep.sum()) * coords.shape[1] * 3)},
    )


def _blocks(frames: int, size: int = 50_000):
    return [slice(start, start + size) for start in range(0, frames, size)]


def kept_frames(name, coords, max_bond) -> np.ndarray:
    """Frames without a Cα–Cα distance above `max_bond`, judged a block at a time."""
    keep = np.concatenate([
        ~broken_frames(np.asarray(coords[s], dtype=np.float32), max_bond) for s in _blocks(len(coords))
    ])  # fmt: skip
    log.info("%s: %d frames imported, %d dropped (a Cα–Cα distance above %.1f Å)",
             name, len(keep), int((~keep).sum()), max_bond)  # fmt: skip
    if not keep.any():
        raise CgthermoError(
            f"protein '{name}': all {len(keep)} frames have a Cα–Cα distance above {max_bond} Å",
            "check the imported coordinates (Å, Cα atoms in chain order) or raise cg_map.max_bond",
        )
    return keep


class KeptFrames(LazyFrames):
    """The kept frames of a (frames, beads, 3) array (a memory map stays on disk), read as
    `dtype` only when sliced."""

    def __init__(self, array, keep: np.ndarray, dtype):
        self.array, self.index, self.dtype = array, np.flatnonzero(keep), np.dtype(dtype)
        self.shape = (len(self.index), *array.shape[1:])

    def __getitem__(self, frames):
        return np.asarray(self.array[self.index[frames]], dtype=self.dtype)


def open_npy_import(name, spec) -> tuple:
    """Memory-mapped coords and forces and the bead types, their shapes and types checked."""
    coords = _load_npy(name, spec, "coords")
    forces = _load_npy(name, spec, "forces")
    types = np.asarray(_load_npy(name, spec, "embeddings"))
    _check_frames_shape(name, "coords", coords)
    if forces.shape != coords.shape:
        raise CgthermoError(
            f"protein '{name}': import.forces has shape {forces.shape}, coords {coords.shape}",
            "give forces with the same frames × beads × 3 shape as coords",
        )
    for key, array in (("coords", coords), ("forces", forces)):
        if not np.issubdtype(array.dtype, np.floating):
            raise CgthermoError(
                f"protein '{name}': import.{key} holds {array.dtype} values", "save it as floats"
            )
    if types.ndim == 2 and len(types) and (types == types[0]).all():
        types = types[0]  # one row per frame, all the same
    if types.shape != (coords.shape[1],) or not np.issubdtype(types.dtype, np.integer):
        raise CgthermoError(
            f"protein '{name}': import.embeddings has shape {types.shape} ({types.dtype}), "
            f"expected ({coords.shape[1]},) integers",
            "give one integer bead type per bead",
        )
    residue_names_from_types(types)
    return coords, forces, types


def check_import_before_jobs(name, spec, temperature) -> None:
    """What can be judged from the files alone, fast: the .npy layout's shapes, types and
    units on a sample of frames; the trajectory layout's files and force array shape."""
    keys = file_keys(spec)
    if keys == NPY_KEYS:
        coords, forces, _ = open_npy_import(name, spec)
        check_plausible_units(name, coords, forces, temperature,
                              spec.get("nonequilibrium_forces", False))
    elif keys == TRAJECTORY_KEYS:
        _path(name, spec, "topology")
        _path(name, spec, "trajectory")
        forces = _load_npy(name, spec, "forces")
        if forces.ndim != 3 or forces.shape[2] != 3:
            raise CgthermoError(
                f"protein '{name}': import.forces has shape {forces.shape}",
                "give all-atom forces of shape frames × atoms × 3 in kJ/mol/nm",
            )
    else:
        import_protein(name, spec, temperature, "optimized", 10.0)  # raises on the keys


def _check_frames_shape(name, key, array) -> None:
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] == 0 or array.shape[1] < 2:
        raise CgthermoError(
            f"protein '{name}': import.{key} has shape {array.shape}",
            "give an array of frames × beads × 3 (at least one frame and two beads)",
        )


def _check_finite(name, key, array, stride=1) -> None:
    """No NaN or inf; `array` may be every `stride`-th frame of the file."""
    for start in range(0, len(array), 50_000):
        block = np.asarray(array[start : start + 50_000])
        bad = ~np.isfinite(block).all(axis=tuple(range(1, block.ndim)))
        if bad.any():
            frame = (start + int(np.flatnonzero(bad)[0])) * stride
            raise CgthermoError(
                f"protein '{name}': import.{key} has NaN/inf values (first at frame {frame})",
                "remove or repair those frames",
            )


def check_plausible_units(name, coords_angstrom, forces_kcal, temperature,
                          nonequilibrium: bool = False) -> None:
    """Catch nm coordinates and kJ/mol/nm forces given where Å and kcal/mol/Å are expected.

    Coordinates: consecutive Cα are ~3.8 Å apart. Forces: for any equilibrium sample,
    E[δr · f_b] = −kT along each bond (Stein's identity, with δr the bond length's deviation
    from its mean and f_b the force difference of its two beads along it, halved), so the
    ratio −E[δr f_b]/kT is ~1 whatever the force field and mapping noise; forces in
    kJ/mol/nm make it 41.84. The forces and coordinates are judged together, not the forces'
    size alone, which depends on the protein, the temperature and the force map.
    """
    step = max(1, len(coords_angstrom) // CHECK_FRAMES)
    sample = np.asarray(coords_angstrom[::step], dtype=np.float64)
    sample_forces = np.asarray(forces_kcal[::step], dtype=np.float64)
    _check_finite(name, "coords", sample, step)
    _check_finite(name, "forces", sample_forces, step)
    bond = float(np.median(np.linalg.norm(np.diff(sample, axis=1), axis=2)))
    low, high = BOND_RANGE_ANGSTROM
    if not low <= bond <= high:
        raise CgthermoError(
            f"protein '{name}': median consecutive Cα distance is {bond:.3g}, not ~3.8 Å "
            "(coordinates in nm? or not Cα atoms?)",
            "give Cα coordinates in Å (multiply nm by 10)",
        )
    ratio, error = bond_virial_ratio(sample, sample_forces, temperature)
    low, high = VIRIAL_RATIO_RANGE
    # judged beyond its statistical error: a short or noisy sample is let through, not refused
    if ratio - 3 * error > high:
        raise CgthermoError(
            f"protein '{name}': the forces along the Cα bonds are {ratio:.3g} ± {error:.2g} times "
            f"what the bond-length fluctuations imply at {temperature:g} K, not ~1 "
            f"({force_unit_guess(ratio)})",
            "give forces in kcal/mol/Å (divide kcal/mol/nm by 10, kJ/mol/nm by 41.84, "
            "kJ/mol/Å by 4.184)",
        )
    if ratio + 3 * error < 0:
        raise CgthermoError(
            f"protein '{name}': the forces along the Cα bonds are {ratio:.3g} ± {error:.2g} times "
            f"what the bond-length fluctuations imply at {temperature:g} K, not ~1 (forces of "
            "the wrong sign?)",
            "give each frame's forces in kcal/mol/Å as −dU/dx",
        )
    if ratio + 3 * error < low:
        what = (f"protein '{name}': the forces along the Cα bonds are {ratio:.3g} ± {error:.2g} "
                f"times what the bond-length fluctuations imply at {temperature:g} K, not ~1: "
                "not an equilibrium sample at that temperature, noise, or forces of other frames")
        if not nonequilibrium and len(sample) >= MIN_FRAMES_TO_REFUSE:
            raise CgthermoError(what, "give each frame's own forces at the protein's temperature, "
                                      "or set import.nonequilibrium_forces: true if the sample "
                                      "is knowingly not at equilibrium")
        log.warning("%s (%s)", what, "import.nonequilibrium_forces: true" if nonequilibrium
                    else f"only {len(sample)} frames, too few to refuse them")


def force_unit_guess(ratio: float) -> str:
    """The force unit a bond-virial ratio well above 1 points to."""
    known = {"kJ/mol/Å": 4.184, "kcal/mol/nm": 10.0, "kJ/mol/nm": 41.84}
    unit, factor = min(known.items(), key=lambda item: abs(np.log(ratio / item[1])))
    return f"forces in {unit}? they give ~{factor:g}"


def bond_virial_ratio(coords, forces, temperature) -> tuple[float, float]:
    """−E[δr f_b] / (kT E[1 + 2δr/r]) over every Cα bond, and its standard error over frames:
    1 for an equilibrium sample in Å and kcal/mol/Å."""
    bonds = np.diff(coords, axis=1)
    length = np.linalg.norm(bonds, axis=2)
    along = np.einsum("tbk,tbk->tb", np.diff(forces, axis=1), bonds / length[..., None]) / 2
    deviation = length - length.mean(axis=0)
    scale = units.kT_kcal(temperature) * np.mean(1.0 + 2.0 * deviation / length)
    per_frame = -np.mean(deviation * along, axis=1) / scale
    # consecutive frames are correlated: the error comes from the means of contiguous blocks
    blocks = [b.mean() for b in np.array_split(per_frame, min(ERROR_BLOCKS, len(per_frame)))]
    error = np.std(blocks, ddof=1) / np.sqrt(len(blocks)) if len(blocks) > 1 else np.inf
    return float(per_frame.mean()), float(error)


# --- all-atom trajectory + forces ---


def import_trajectory(name, spec, temperature, timestep_fs, force_map, max_bond) -> CGData:
    import mdtraj

    if force_map not in FORCE_MAPS:
        raise CgthermoError(f"force map '{force_map}' is unknown", f"use one of {FORCE_MAPS}")
    topology_path = _path(name, spec, "topology")
    trajectory_path = _path(name, spec, "trajectory")
    try:
        traj = mdtraj.load(str(trajectory_path), top=str(topology_path))
    except Exception as err:  # mdtraj raises many types for unreadable or mismatched files
        raise CgthermoError(
            f"protein '{name}': import.trajectory {trajectory_path} cannot be read with topology "
            f"{topology_path} ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})",
            "give a trajectory mdtraj reads and the topology it was written with",
        ) from None
    forces = _load_npy(name, spec, "forces")
    if forces.shape != (traj.n_frames, traj.n_atoms, 3):
        raise CgthermoError(
            f"protein '{name}': import.forces has shape {forces.shape}, the trajectory has "
            f"{traj.n_frames} frames × {traj.n_atoms} atoms",
            "give all-atom forces of shape frames × atoms × 3 for every trajectory frame",
        )
    _check_finite(name, "trajectory", traj.xyz)
    _check_finite(name, "forces", forces)
    table, atoms = protein_atom_table(traj.topology)
    hydrogen_bonds = _hydrogen_bond_columns(traj.topology, atoms)
    coord_weights = slice_weights(table.ca_columns(), table.n_atoms)
    atom_forces = np.asarray(forces)[:, atoms]
    force_weights = {
        force_map: force_map_weights(
            force_map, table, hydrogen_bonds, force_second_moments(atom_forces)
        )
    }
    pos, mapped = map_frames(traj.xyz[:, atoms], atom_forces, coord_weights, force_weights)
    check_plausible_units(name, pos, mapped[force_map], temperature,
                          spec.get("nonequilibrium_forces", False))
    block = MappedBlock(pos, mapped, 0, np.arange(traj.n_frames) * timestep_fs)
    data = assemble(name, table.residue_names, [block], temperature, force_map, max_bond)
    data.force_weights = force_weights[force_map]
    return data


def protein_atom_table(topology) -> tuple:
    """AtomTable of the amino-acid residues (those with a CA) and their atom indices."""
    residues = [
        r for r in topology.residues if r.name in BEAD_TYPE and any(a.name == "CA" for a in r.atoms)
    ]
    if len(residues) < 2:
        raise CgthermoError(
            f"the import topology has {len(residues)} amino-acid residue(s) with a CA atom",
            "give the all-atom topology of the protein",
        )
    atoms = [a for r in residues for a in r.atoms]
    res_pos = {r.index: i for i, r in enumerate(residues)}
    table = AtomTable(
        names=[a.name for a in atoms],
        elements=[a.element.symbol if a.element is not None else "" for a in atoms],
        residue_index=np.array([res_pos[a.residue.index] for a in atoms], dtype=np.int64),
        residue_names=[r.name for r in residues],
    )
    return table, np.array([a.index for a in atoms], dtype=np.int64)


def _hydrogen_bond_columns(topology, atoms) -> np.ndarray:
    """Bonds to hydrogens as column pairs: what HBonds constraints make rigid."""
    column = {int(a): c for c, a in enumerate(atoms)}
    pairs = [
        (column[a.index], column[b.index])
        for a, b in topology.bonds
        if a.index in column
        and b.index in column
        and "H" in (getattr(a.element, "symbol", ""), getattr(b.element, "symbol", ""))
    ]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)
