"""The neural-network potential as torchmd's external force: load and call.

`make_external` builds `NetworkForces`, which calls the model on precomputed bead-type and
batch vectors. torchmd-net's own adapter, `External` (`NoBoxExternal` here, the reference
the direct caller is tested and benchmarked against), also casts the positions on every
call, clones both outputs (which only its CUDA-graph buffers need), runs an output-transform
hook, passes the box on, and leaves the model to count the systems with
`batch.max().item()`, a host sync on a GPU. On a CPU all of that is microseconds against
milliseconds of network (benchmarks/RESULTS.md, network_call.py). With `cgsim.cuda_graph`
the network goes through torchmd-net's External after all: its CUDA-graph capture is the
library's.
"""

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


class NetworkForces:
    """The network's energies and forces for `nreplicas` copies of one chain.

    Same `calculate(pos, box)` contract as torchmd-net's External: `pos` (replicas,
    beads, 3) in, energies (replicas, 1) and forces (replicas, beads, 3) out.
    The box is never passed on (see NoBoxExternal): the CG system is not periodic.
    """

    def __init__(self, network: torch.nn.Module, embeddings, nreplicas: int, device="cpu",
                 dtype=torch.float64):
        self.network = network.eval()
        self.device, self.dtype = torch.device(device), dtype
        types = torch.as_tensor(embeddings, dtype=torch.long).reshape(-1)
        self.nreplicas, self.nbeads = int(nreplicas), types.numel()
        self.z = types.repeat(self.nreplicas).to(self.device)
        self.batch = torch.arange(self.nreplicas, device=self.device).repeat_interleave(
            self.nbeads)

    def calculate(self, pos, box=None):
        flat = pos.to(self.device, self.dtype).reshape(-1, 3)
        # num_systems spares the model a batch.max().item(): a host sync on a GPU
        energy, forces = self.network(self.z, flat, self.batch, None,
                                      num_systems=self.nreplicas)
        # the energy still references the autograd graph through the weights
        return energy.detach(), forces.reshape(self.nreplicas, self.nbeads, 3)


def check_cuda_graph(network: torch.nn.Module, device) -> None:
    """A CUDA graph replays fixed tensor shapes: it needs CUDA and a static-shape network."""
    if torch.device(device).type != "cuda":
        raise CgthermoError("cgsim.cuda_graph needs a CUDA device",
                            "set cgsim.cuda_graph: false on a CPU")
    # a network whose neighbour list is cut to the pairs found (graph-network, the
    # transformers) changes shape every step; TensorNet can pad it to a fixed size
    representation = getattr(network, "representation_model", None)
    if not getattr(representation, "static_shapes", False):
        raise CgthermoError(
            "cgsim.cuda_graph needs a network with static shapes (torchmd-net's TensorNet); "
            "this one changes its tensor shapes every call",
            "train with train.model: tensornet, or set cgsim.cuda_graph: false")


def load_network(checkpoint, device="cpu", dtype=torch.float64,
                 static_shapes: bool = False) -> torch.nn.Module:
    """A torchmd-net model from a Lightning checkpoint, predicting energies and forces.

    `static_shapes` (TensorNet models only) pads the neighbour list to its capacity, so
    that every call has the same tensor shapes, as a CUDA graph needs.

    Checkpoints of older torchmd-net releases (the paper's models among them) lack
    hyper-parameters that the installed torchmd-net reads without a default; they get the
    value the older release used, and one INFO line lists them.
    """
    import logging

    from torchmdnet.models.model import load_model

    # Hyper-parameters torchmd-net's create_model reads without a default, with the value of
    # the releases before the key existed. Its other such keys (output_model, reduce_op,
    # max_num_neighbors, max_z, ...) predate torchmd-net 0.2.0, the oldest release whose
    # module layout the installed load_model still reads; box_vecs, static_shapes and
    # vector_cutoff it fills itself.
    older_defaults = {
        # torchmd-net < 0.2.1 had no `aggr` option: TorchMD_GN's CFConv aggregated with "add"
        "aggr": "add",
    }
    path = Path(checkpoint)
    if not path.is_file():
        raise CgthermoError(f"missing NNP checkpoint {path}", "run the train stage first")
    try:
        hparams = dict(torch.load(path, map_location="cpu", weights_only=False)
                       ["hyper_parameters"])  # fmt: skip
        filled = [key for key in older_defaults if key not in hparams]
        hparams.update({key: older_defaults[key] for key in filled})
        if filled:
            logging.getLogger("cgthermo.cgsim").info(
                "NNP checkpoint %s was written by an older torchmd-net without %s: using "
                "that release's default (%s)", path, ", ".join(filled),
                ", ".join(f"{key}={older_defaults[key]!r}" for key in filled))
        hparams["derivative"] = True
        if hparams.get("max_num_neighbors", 0) < MIN_NEIGHBORS:
            hparams["max_num_neighbors"] = MIN_NEIGHBORS
        if static_shapes:
            hparams["static_shapes"] = True
        model = load_model(str(path), args=hparams, device="cpu")
    except (KeyError, TypeError, RuntimeError, EOFError, OSError, ValueError,
            pickle.UnpicklingError) as err:
        raise CgthermoError(
            f"NNP checkpoint {path} cannot be loaded by torchmd-net ({type(err).__name__}: {err})",
            "retrain the model with the train stage of this workflow",
        ) from None
    return model.to(device=device, dtype=dtype).eval()


def make_external(network: torch.nn.Module, embeddings, nreplicas: int, device="cpu",
                  dtype=torch.float64, cuda_graph: bool = False):
    """The network as torchmd's external force for `nreplicas` copies of a chain with bead
    types `embeddings`. `cuda_graph` (CUDA, static-shape networks) uses torchmd-net's own
    CUDA-graph capture in its External."""
    if cuda_graph:
        check_cuda_graph(network, device)
        types = torch.as_tensor(embeddings, dtype=torch.long).reshape(1, -1).repeat(nreplicas, 1)
        return NoBoxExternal(network, types, device=device, dtype=dtype, use_cuda_graph=True)
    return NetworkForces(network, embeddings, nreplicas, device, dtype)
