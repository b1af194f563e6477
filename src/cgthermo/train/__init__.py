"""NNP training on delta forces with torchmd-net (per-protein and multi-protein models)."""

import importlib

# Snakemake imports cgthermo.train.rules while parsing; torch-heavy modules load lazily.
_LAZY = {"Outputs": "run", "train_model": "run"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)


__all__ = ["Outputs", "train_model"]
