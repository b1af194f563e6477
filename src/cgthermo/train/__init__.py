"""NNP training on delta forces with torchmd-net (per-protein and multi-protein models)."""

from .run import Outputs, train_model

__all__ = ["Outputs", "train_model"]
