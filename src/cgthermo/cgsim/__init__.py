"""Coarse-grained simulation in torchmd: batched replicas under the prior and an NNP.

`simulate(inputs, settings, outputs, work_dir)` runs one (protein, model) pair end to
end; `CGSimulation` exposes the steps (set up, run, write) for tests and benchmarks.
"""

import importlib

# Snakemake imports cgthermo.cgsim.rules while parsing the workflow; the heavy modules
# (torch, torchmd-net) load only when a name below is first used.
_LAZY = {"CGSimulation": "run", "simulate": "run",
         "SimInputs": "settings", "SimOutputs": "settings", "SimSettings": "settings"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)


__all__ = ["CGSimulation", "SimInputs", "SimOutputs", "SimSettings", "simulate"]
