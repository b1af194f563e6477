"""Residues and Cα coordinates (Å) of a prediction's structures and starts."""

import logging
from pathlib import Path

import numpy as np

from ..errors import CgthermoError
from ..units import nm_to_angstrom

log = logging.getLogger(__name__)

MIN_NONBONDED = 4.0  # Å: no two beads of a random-coil start closer than this
MAX_TRIES = 1000  # random-coil growth attempts per bead before giving up


def pdb_chain(path) -> tuple[list[str], np.ndarray]:
    """(residue names, Cα positions (residues, 3) Å) of the first chain of a PDB or mmCIF."""
    from ..aa.pdbinput import inspect

    contents = inspect(path)
    if not contents.chains:
        raise CgthermoError(f"{path} holds no amino-acid residue", "give a protein structure")
    chain_id, residues = next(iter(contents.chains.items()))
    if len(contents.chains) > 1:
        log.warning("%s has %d chains; chain %s is used", path, len(contents.chains), chain_id)
    names, positions = [], []
    for residue in residues:
        ca = next((a.index for a in residue.atoms() if a.name == "CA"), None)
        if ca is None:
            raise CgthermoError(f"{path} residue {residue.name} {residue.id} has no CA atom",
                                "give a structure with every Cα")  # fmt: skip
        names.append(residue.name.upper())
        positions.append(contents.positions[ca])
    return names, np.asarray(positions, dtype=np.float64)


def trajectory_topology(path):
    """The mdtraj topology of a trajectory's topology file. A CHARMM/NAMD psf is read by
    OpenMM's reader, which takes atoms in file order: the paper's Cα psf files number their
    atoms by all-atom serials, which mdtraj's psf reader refuses as non-sequential."""
    import mdtraj

    if Path(path).suffix.lower() == ".psf":
        from openmm import app

        return mdtraj.Topology.from_openmm(app.CharmmPsfFile(str(path)).topology)
    return mdtraj.load_topology(str(path))


def trajectory_ca(path, topology, frames: int | None = None) -> tuple[list[str], np.ndarray]:
    """(residue names, Cα positions (frames, beads, 3) Å) of every frame (or the first
    `frames`) of a trajectory mdtraj reads (xtc, dcd, … with a topology file: PDB, psf, …):
    mdtraj's nm become Å here."""
    import mdtraj

    try:
        top = trajectory_topology(topology)
        if frames is None:
            traj = mdtraj.load(str(path), top=top)
        else:
            traj = next(mdtraj.iterload(str(path), top=top, chunk=frames))
    except Exception as err:  # mdtraj and OpenMM raise assorted IOError/ValueError types
        raise CgthermoError(f"trajectory {path} with topology {topology} cannot be read ({err})",
                            "give a trajectory and topology mdtraj reads, with the same atoms") from None
    ca = traj.topology.select("name CA")
    if len(ca) == 0:
        raise CgthermoError(f"topology {topology} has no atom named CA",
                            "give a topology whose beads are named CA, as the paper's PSF files")
    names = [traj.topology.atom(i).residue.name.upper() for i in ca]
    return names, nm_to_angstrom(traj.xyz[:, ca, :]).astype(np.float64)


def random_coils(count: int, beads: int, bond: float, angle_deg: float,
                 rng: np.random.Generator) -> np.ndarray:
    """(count, beads, 3) Å self-avoiding chains with every bond `bond` and every bend angle
    `angle_deg` (the prior's req and θ0), dihedrals drawn uniformly: starts that know
    nothing of the fold."""
    chains = np.empty((count, beads, 3))
    for k in range(count):
        chains[k] = _grow(beads, bond, np.radians(angle_deg), rng)
    return chains - chains.mean(axis=1, keepdims=True)


def _grow(beads: int, bond: float, angle: float, rng) -> np.ndarray:
    chain = [np.zeros(3), np.array([bond, 0.0, 0.0])]
    while len(chain) < beads:
        for _ in range(MAX_TRIES):
            candidate = _next_bead(chain, bond, angle, rng.uniform(-np.pi, np.pi))
            if len(chain) < 2 or np.all(np.linalg.norm(np.asarray(chain[:-1]) - candidate,
                                                       axis=1) > MIN_NONBONDED):  # fmt: skip
                chain.append(candidate)
                break
        else:
            raise CgthermoError(f"no self-avoiding random coil of {beads} beads was found",
                                "use starts: pdb or trajectory for this entry")
    return np.asarray(chain)


def _next_bead(chain, bond: float, angle: float, dihedral: float) -> np.ndarray:
    """The bead at `bond` from the last one, at bend `angle` and torsion `dihedral`."""
    b = chain[-1]
    a = chain[-2]
    c_prev = chain[-3] if len(chain) >= 3 else a + np.array([0.0, 1.0, 0.0])
    u = (b - a) / np.linalg.norm(b - a)
    n = np.cross(a - c_prev, u)
    n /= np.linalg.norm(n)
    m = np.cross(n, u)
    step = np.array([-np.cos(angle), np.sin(angle) * np.cos(dihedral), np.sin(angle) * np.sin(dihedral)])
    return b + bond * (step[0] * u + step[1] * m + step[2] * n)
