"""cgthermo: machine-learned coarse-grained potentials of protein thermodynamics."""

import os

# OpenMP threads that spin while a sibling thread waits for a core turn a small loss of CPU
# into a large loss of speed: two-thread training ran 8x slower beside one process of
# another login session, whose nice value the kernel's per-session scheduling ignores
# (benchmarks/train_competition.py). Waiting threads that sleep degrade in proportion to the
# CPU they get and cost nothing on an idle machine. The OpenMP runtime reads the variable
# once, when torch loads it, so it is set here, before any stage imports torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
