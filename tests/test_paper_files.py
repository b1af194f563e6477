"""The paper's own files as users bring them: a prior YAML typed CAA…CAY (CA + one-letter code)
like its prior_force_field.yaml, and torchmd-net checkpoints of an older release."""

import logging

import mdtraj
import numpy as np
import pytest
import torch
import yaml
from helpers.cgsim_toy import PAPER_DIHEDRALS, outputs_in, write_dataset
from helpers.chains import random_chain
from helpers.untrained import write_untrained_checkpoint

from cgthermo.cgsim import SimInputs, SimSettings
from cgthermo.cgsim.nnp import NetworkForces, load_network
from cgthermo.cgsim.run import simulate
from cgthermo.cgtopology import CA_CODES, RESIDUE_NAMES, CGTopology, prior_atomtype
from cgthermo.errors import CgthermoError
from cgthermo.forcefield.batched import build_batched_forces
from cgthermo.forcefield.evaluate import prior_forces
from cgthermo.forcefield.naming import prior_naming
from cgthermo.forcefield.torchmd import build_forces, evaluate, zero_box
from cgthermo.residues import AMINO_ACIDS, ONE_TO_THREE, parse_sequence

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CHIGNOLIN = parse_sequence("YYDPETGTWY")
# norleucine (typed as leucine, CAL) next to leucine, as in the paper's villin
NORLEUCINE = ["LYS", "LEU", "NLE", "GLU", "TRP", "NLE", "HIS", "ALA"]
# three Fourier terms (the paper's two and one more) on the one generic dihedral
DIHEDRAL_TERMS = [*PAPER_DIHEDRALS, {"phi_k": 0.15, "phase": 35.0, "per": 3}]


def paper_prior(seed: int = 3) -> dict:
    """A prior in the shape of the paper's prior_force_field.yaml: all twenty types CA + code,
    a bond for every ordered pair (its own k0 and req: a swapped type would show), one
    (X, X, X, X) dihedral with scnb/scee, lj with the 1-4 columns, electrostatics, masses, no
    angles."""
    rng = np.random.default_rng(seed)
    types = [f"CA{code}" for code in AMINO_ACIDS]
    bonds = {f"({a}, {b})": {"k0": float(rng.uniform(20, 110)), "req": float(rng.uniform(3.78, 3.9))}
             for a in types for b in types}  # fmt: skip
    epsilon = {t: float(rng.uniform(1300, 3200)) for t in types}
    return {
        "atomtypes": types,
        "bonds": bonds,
        "dihedrals": {"(X, X, X, X)": {"terms": [dict(t) for t in DIHEDRAL_TERMS],
                                       "scnb": 1, "scee": 1}},
        "lj": {t: {"epsilon": epsilon[t], "sigma": 1.0, "epsilon14": epsilon[t], "sigma14": 1.0}
               for t in types},  # fmt: skip
        "electrostatics": {t: {"charge": 0.0} for t in types},
        "masses": {t: 12.0 for t in types},
    }


def renamed(document: dict, name) -> dict:
    """The same prior with every type renamed by `name` (type → type), X kept."""

    def key(text: str) -> str:
        parts = [p.strip() for p in text.strip("()").split(",")]
        new = [p if p == "X" else name(p) for p in parts]
        return f"({', '.join(new)})" if text.startswith("(") else new[0]

    return {section: ([name(t) for t in value] if section == "atomtypes"
                      else {key(k): v for k, v in value.items()})
            for section, value in document.items()}  # fmt: skip


def residue_name(ca_type: str) -> str:
    return ONE_TO_THREE[ca_type[2]]


@pytest.fixture(scope="module")
def priors(tmp_path_factory):
    """The paper-shaped prior (CA + one-letter types) and the same numbers typed by residue name."""
    folder = tmp_path_factory.mktemp("paper_prior")
    document = paper_prior()
    paper = folder / "prior_force_field.yaml"
    paper.write_text(yaml.safe_dump(document, sort_keys=False))
    ours = folder / "prior.yaml"
    ours.write_text(yaml.safe_dump(renamed(document, residue_name), sort_keys=False))
    return paper, ours


def chains(resnames, n, seed):
    rng = np.random.default_rng(seed)
    return torch.tensor(np.stack([random_chain(len(resnames), rng) + rng.normal(0, 0.1, (len(resnames), 3))
                                  for _ in range(n)]), dtype=torch.float64)  # fmt: skip


def test_ca_types_of_residues():
    assert [prior_atomtype(r, CA_CODES) for r in ("TYR", "GLY", "NLE", "LEU", "HIE", "CYX")] == \
        ["CAY", "CAG", "CAL", "CAL", "CAH", "CAC"]
    assert prior_atomtype("NLE") == "LEU"  # the residue naming is unchanged
    assert list(CGTopology(NORLEUCINE).typed_as(CA_CODES).atomtype) == \
        ["CAK", "CAL", "CAL", "CAE", "CAW", "CAL", "CAH", "CAA"]
    assert prior_naming([f"CA{c}" for c in AMINO_ACIDS], "p.yaml") == CA_CODES
    assert prior_naming(["ALA", "GLY", "HIE"], "p.yaml") == RESIDUE_NAMES


@pytest.mark.parametrize("resnames", [CHIGNOLIN, NORLEUCINE], ids=["chignolin", "norleucine"])
def test_paper_prior_equals_residue_named_prior(priors, resnames):
    """Energies and forces of random chains are those of the same numbers typed by residue name,
    through torchmd's terms, the many-frame evaluator (delta forces) and the batched prior of
    cg_sim."""
    paper, ours = priors
    topology = CGTopology(list(resnames))
    pos = chains(resnames, 6, seed=len(resnames))

    ref_energy, ref_forces = evaluate(build_forces(ours, topology), pos)
    assert ref_forces.abs().max() > 1.0  # the comparison is not between zeros
    energy, forces = evaluate(build_forces(paper, topology), pos)
    np.testing.assert_allclose(energy.numpy(), ref_energy.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(forces.numpy(), ref_forces.numpy(), rtol=0, atol=1e-10)

    ours_many = prior_forces(ours, topology, pos.numpy())
    paper_many = prior_forces(paper, topology, pos.numpy())
    for got, want in zip(paper_many, ours_many, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours_many[1], ref_forces.numpy(), rtol=0, atol=1e-6)

    batched = {}
    for name, path in (("paper", paper), ("ours", ours)):
        out = torch.zeros_like(pos)
        energy = build_batched_forces(path, topology).compute(pos, zero_box(len(pos)), out,
                                                              toNumpy=False)
        batched[name] = energy.numpy(), out.numpy()
    for got, want in zip(batched["paper"], batched["ours"], strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    np.testing.assert_allclose(batched["ours"][1], ref_forces.numpy(), rtol=0, atol=1e-6)


def test_paper_prior_simulates_as_residue_named_prior(priors, tmp_path):
    """A prior-only cg_sim run with the paper-shaped prior follows the same trajectory."""
    paper, ours = priors
    dataset, topology = write_dataset(tmp_path / "data", "cln", CHIGNOLIN, frames=8)
    settings = SimSettings(temperature_K=340.0, seed=2, replicas=2, steps=40, save_every=10,
                           checkpoint_every=40, precision="float64", device="cpu")
    xyz = {}
    for name, prior in (("paper", paper), ("ours", ours)):
        outputs = outputs_in(tmp_path / name)
        (tmp_path / name).mkdir()
        simulate(SimInputs("cln", dataset, topology, prior, None), settings, outputs,
                 tmp_path / name / "work")
        xyz[name] = mdtraj.load(str(outputs.traj_xtc), top=str(topology)).xyz
    np.testing.assert_array_equal(xyz["paper"], xyz["ours"])


@pytest.mark.parametrize(
    "atomtypes, named",
    [(["CAY", "CAD", "TYR", "ASP", "PRO"], "CAY, CAD are CA + one-letter codes"),
     (["CAY", "CAD", "CAP", "TYR"], "TYR are residue names"),
     (["CAY", "CAB", "Y", "TYRO"], "neither naming: CAB, Y, TYRO")],
)
def test_mixed_or_unknown_naming_is_one_line(tmp_path, atomtypes, named):
    document = paper_prior()
    document["atomtypes"] = atomtypes
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(CgthermoError) as err:
        build_batched_forces(path, CGTopology(CHIGNOLIN))
    message = str(err.value)
    assert "\n" not in message and str(path) in message and named in message
    assert "Fix:" in message and "CAA" in message and "ALA" in message


# --- checkpoints of older torchmd-net releases ---

# The hyper-parameters torchmd-net 0.2.0 wrote (its training script's arguments): a checkpoint
# of the paper's time has these and no others.
RELEASE_0_2_0 = {
    "activation", "atom_filter", "attn_activation", "batch_size", "conf", "coord_files",
    "cutoff_lower", "cutoff_upper", "dataset", "dataset_arg", "dataset_root", "derivative",
    "distance_influence", "distributed_backend", "early_stopping_patience", "ema_alpha_dy",
    "ema_alpha_y", "embed_files", "embedding_dimension", "energy_files", "energy_weight",
    "force_files", "force_weight", "inference_batch_size", "load_model", "log_dir", "lr",
    "lr_factor", "lr_min", "lr_patience", "lr_warmup_steps", "max_num_neighbors", "max_z",
    "model", "neighbor_embedding", "ngpus", "num_epochs", "num_heads", "num_layers",
    "num_nodes", "num_rbf", "num_workers", "output_model", "precision", "prior_model",
    "rbf_type", "redirect", "reduce_op", "save_interval", "seed", "splits", "standardize",
    "test_interval", "test_size", "train_size", "trainable_rbf", "val_size", "weight_decay",
}  # fmt: skip


def older_checkpoint(source, path, keep=None, drop=()):
    ckpt = torch.load(source, map_location="cpu", weights_only=False)
    hparams = {k: v for k, v in ckpt["hyper_parameters"].items()
               if (keep is None or k in keep) and k not in drop}  # fmt: skip
    torch.save({**ckpt, "hyper_parameters": hparams}, path)
    return path


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("nnp") / "model.ckpt"
    return write_untrained_checkpoint(path, embedding_dimension=16, num_layers=2, num_rbf=8)


def network_forces(path, pos):
    network = load_network(path, dtype=torch.float64)
    return NetworkForces(network, CGTopology(CHIGNOLIN).embeddings, len(pos)).calculate(pos)


@pytest.mark.parametrize("keep, drop", [(None, ("aggr",)), (RELEASE_0_2_0, ())],
                         ids=["without-aggr", "release-0.2.0-keys"])
def test_older_checkpoint_loads_with_that_release_defaults(checkpoint, tmp_path, caplog, keep,
                                                           drop):
    from torchmdnet.models.model import load_model

    old = older_checkpoint(checkpoint, tmp_path / "old.ckpt", keep=keep, drop=drop)
    with pytest.raises(KeyError, match="aggr"):  # what torchmd-net alone makes of it
        load_model(str(old), derivative=True)

    pos = chains(CHIGNOLIN, 3, seed=7)
    want_energy, want_forces = network_forces(checkpoint, pos)
    with caplog.at_level(logging.INFO, logger="cgthermo.cgsim"):
        energy, forces = network_forces(old, pos)
    assert want_forces.abs().max() > 0
    np.testing.assert_allclose(energy.numpy(), want_energy.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(forces.numpy(), want_forces.numpy(), rtol=0, atol=1e-12)
    filled = [r.getMessage() for r in caplog.records if "older torchmd-net" in r.getMessage()]
    assert len(filled) == 1 and "without aggr" in filled[0] and "aggr='add'" in filled[0]


def test_current_checkpoint_logs_nothing_filled(checkpoint, caplog):
    with caplog.at_level(logging.INFO, logger="cgthermo.cgsim"):
        load_network(checkpoint, dtype=torch.float64)
    assert "older torchmd-net" not in caplog.text


def test_checkpoint_that_still_cannot_load_is_one_line(checkpoint, tmp_path):
    old = older_checkpoint(checkpoint, tmp_path / "old.ckpt", drop=("aggr", "embedding_dimension"))
    with pytest.raises(CgthermoError, match="cannot be loaded by torchmd-net") as err:
        load_network(old)
    assert "\n" not in str(err.value) and "embedding_dimension" in str(err.value)
