"""Coarse-grained simulation in torchmd: batched replicas under the prior and an NNP.

`simulate(inputs, settings, outputs, work_dir)` runs one (protein, model) pair end to
end; `CGSimulation` exposes the steps (set up, run, write) for tests and benchmarks.
"""

from .run import CGSimulation, SimulationStopped, simulate
from .settings import SimInputs, SimOutputs, SimSettings

__all__ = ["CGSimulation", "SimInputs", "SimOutputs", "SimSettings", "SimulationStopped",
           "simulate"]
