"""cgthermo: machine-learned coarse-grained potentials of protein thermodynamics."""

__version__ = "0.1.0"
