"""A Cα chain described the way torchmd reads a molecule, without moleculekit.

torchmd's `ForceField.create` and `Parameters` only read a handful of attributes
(`numAtoms`, `atomtype`, `charge`, `masses`, `bonds`, `angles`, `dihedrals`,
`impropers`, `box`), so a small dataclass carries them.
"""

import copy
from dataclasses import dataclass, field

import numpy as np

from .errors import CgthermoError
from .residues import BEAD_TYPE, ONE_TO_THREE, bead_type

BEAD_MASS_AMU = 12.0  # torchmd ≥ 1.0 reads masses from the molecule; zero masses give NaN

# The two ways a prior YAML types its beads: by residue name (ALA, GLY, …: what the prior
# stage writes) or by "CA" and the one-letter code (CAA, CAG, …: the paper's
# prior_force_field.yaml). Norleucine is leucine in both (LEU, CAL).
RESIDUE_NAMES = "residue names"
CA_CODES = "CA + one-letter codes"

# one-letter code of every residue name with a bead type (protonation and disulfide variants
# by their parent: HIE → H, CYX → C)
_ONE_LETTER = {name: one for one, three in ONE_TO_THREE.items()
               for name, number in BEAD_TYPE.items() if number == BEAD_TYPE[three]}  # fmt: skip


def prior_atomtype(resname: str, naming: str = RESIDUE_NAMES) -> str:
    """Prior atom type of a residue: its name, with norleucine typed as leucine (as the paper),
    or under CA_CODES "CA" and the one-letter code of that name (TYR → CAY, NLE → CAL)."""
    residue = "LEU" if resname == "NLE" else resname
    if naming == CA_CODES and residue in _ONE_LETTER:
        return "CA" + _ONE_LETTER[residue]
    return residue




@dataclass
class CGTopology:
    """One bead per residue at the Cα, chained N→C."""

    resnames: list[str]
    numAtoms: int = field(init=False)
    atomtype: np.ndarray = field(init=False)
    charge: np.ndarray = field(init=False)
    masses: np.ndarray = field(init=False)
    bonds: np.ndarray = field(init=False)
    angles: np.ndarray = field(init=False)
    dihedrals: np.ndarray = field(init=False)
    impropers: np.ndarray = field(init=False)
    box: np.ndarray = field(init=False)
    embeddings: np.ndarray = field(init=False)

    def __post_init__(self):
        n = len(self.resnames)
        if n < 2:
            raise CgthermoError(
                f"a CG chain of {n} bead(s) has no bonds", "use a protein of at least 2 residues"
            )
        idx = np.arange(n)
        self.numAtoms = n
        self.atomtype = np.array([prior_atomtype(r) for r in self.resnames], dtype=object)
        self.charge = np.zeros(n, dtype=np.float32)
        self.masses = np.full(n, BEAD_MASS_AMU, dtype=np.float32)
        self.bonds = np.stack([idx[:-1], idx[1:]], axis=1).astype(np.int64)
        # torchmd uses them only when the prior has an angle term
        self.angles = np.stack([idx[i : n - 2 + i] for i in range(3)], axis=1).astype(np.int64)
        self.dihedrals = np.stack([idx[i : n - 3 + i] for i in range(4)], axis=1).astype(np.int64)
        self.impropers = np.zeros((0, 4), dtype=np.int64)
        self.box = np.zeros((3, 1), dtype=np.float32)  # zeros: no periodic box
        self.embeddings = np.array([bead_type(r) for r in self.resnames], dtype=np.int64)

    def typed_as(self, naming: str) -> "CGTopology":
        """This chain with its beads typed in a prior's naming (RESIDUE_NAMES or CA_CODES)."""
        if naming == RESIDUE_NAMES:
            return self
        typed = copy.copy(self)
        typed.atomtype = np.array([prior_atomtype(r, naming) for r in self.resnames], dtype=object)
        return typed

    @classmethod
    def from_pdb(cls, path) -> "CGTopology":
        """Read the residue names of a Cα-only PDB such as `cg/topology.pdb`."""
        import mdtraj

        top = mdtraj.load_topology(str(path))
        return cls([res.name for res in top.residues])

    def to_mdtraj(self):
        """An mdtraj topology with one CA atom per residue, for writing trajectories."""
        import mdtraj

        top = mdtraj.Topology()
        chain = top.add_chain()
        previous = None
        for name in self.resnames:
            residue = top.add_residue(name, chain)
            atom = top.add_atom("CA", mdtraj.element.carbon, residue)
            if previous is not None:
                top.add_bond(previous, atom)
            previous = atom
        return top


def write_ca_pdb(path, resnames, positions_angstrom) -> None:
    """Write a Cα-only PDB (one frame, Å) atomically."""
    import mdtraj

    from .io import atomic_path
    from .units import angstrom_to_nm

    topo = CGTopology(list(resnames))
    xyz = angstrom_to_nm(np.asarray(positions_angstrom, dtype=np.float32))
    traj = mdtraj.Trajectory(xyz.reshape(1, topo.numAtoms, 3), topo.to_mdtraj())
    with atomic_path(path) as tmp:
        traj.save_pdb(str(tmp))
