"""The neural-network potential as torchmd's external force: load and wrap."""

import pickle
from pathlib import Path

import torch
from torchmdnet.calculators import External

from ..errors import CgthermoError

# max_num_neighbors below this drops Cα neighbours of larger proteins: a bead buried in a
# compact chain of ~80 residues can have more Cα beads within the network's 12 Å cutoff
# than torchmd-net's default limit of 32
MIN_NEIGHBORS = 64


class NoBoxExternal(External):
    """torchmd-net's External that never hands a box to the network.

    torchmd keeps an all-zero box for non-periodic systems and passes it on;
    torchmd-net 3.x then treats it as a periodic box and returns NaN energies.
    """

    def calculate(self, pos, box=None):
        return super().calculate(pos, None)


def load_network(checkpoint, device="cpu", dtype=torch.float64) -> torch.nn.Module:
    """A torchmd-net model from a Lightning checkpoint, predicting energies and forces."""
    from torchmdnet.models.model import load_model

    path = Path(checkpoint)
    if not path.is_file():
        raise CgthermoError(f"missing NNP checkpoint {path}", "run the train stage first")
    try:
        # Checkpoints from older torchmd-net releases lack newer keys; they get defaults here.
        hparams = torch.load(path, map_location="cpu", weights_only=False)["hyper_parameters"]
        overrides = {"derivative": True}
        if hparams.get("max_num_neighbors", 0) < MIN_NEIGHBORS:
            overrides["max_num_neighbors"] = MIN_NEIGHBORS
        model = load_model(str(path), device="cpu", **overrides)
    except (KeyError, RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as err:
        raise CgthermoError(
            f"NNP checkpoint {path} cannot be loaded by torchmd-net ({type(err).__name__}: {err})",
            "retrain the model with the train stage of this workflow",
        ) from None
    return model.to(device=device, dtype=dtype).eval()


def make_external(network: torch.nn.Module, embeddings, nreplicas: int, device="cpu",
                  dtype=torch.float64) -> NoBoxExternal:
    """Wrap a network for `nreplicas` copies of a chain with bead types `embeddings`."""
    types = torch.as_tensor(embeddings, dtype=torch.long).reshape(1, -1).repeat(nreplicas, 1)
    return NoBoxExternal(network, types, device=device, dtype=dtype)
