"""cg_sim forces: the batched prior equals torchmd's, the direct network call equals
torchmd-net's External, and the integrator's forces are −∇U."""

import numpy as np
import pytest
import torch
from helpers.cgsim_toy import write_dataset, write_prior
from helpers.chains import random_chain
from helpers.untrained import write_untrained_checkpoint

from cgthermo.cgsim import CGSimulation, SimInputs, SimSettings
from cgthermo.cgsim.nnp import NetworkForces, NoBoxExternal, load_network, make_external
from cgthermo.cgtopology import CGTopology
from cgthermo.errors import CgthermoError
from cgthermo.forcefield.batched import build_batched_forces
from cgthermo.forcefield.torchmd import build_forces, evaluate, zero_box

CHIGNOLIN = ["TYR", "TYR", "ASP", "PRO", "GLU", "THR", "GLY", "THR", "TRP", "TYR"]
PAIR_BONDS = {("TYR", "TYR"): (30.0, 3.85), ("ASP", "PRO"): (90.0, 3.8),
              ("GLY", "THR"): (14.0, 3.9)}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("nnp") / "model.ckpt"
    return write_untrained_checkpoint(path, embedding_dimension=16, num_layers=2, num_rbf=8)


def thermal_chains(resnames, nreplicas, seed):
    """Self-avoiding chains with thermal-size noise: forces of all terms are of normal size."""
    rng = np.random.default_rng(seed)
    chains = [random_chain(len(resnames), rng) + rng.normal(0, 0.1, (len(resnames), 3))
              for _ in range(nreplicas)]
    return torch.tensor(np.stack(chains), dtype=torch.float64)


@pytest.mark.parametrize(
    "resnames, angle, exclusions",
    [(CHIGNOLIN, None, None), ((CHIGNOLIN * 4)[:37], None, None), (CHIGNOLIN[:3], None, None),
     (CHIGNOLIN, (12.0, 115.0), None), (CHIGNOLIN[:3], (12.0, 115.0), None),
     (CHIGNOLIN, (12.0, 115.0), ("bonds", "angles"))],
)
def test_batched_prior_equals_torchmd_forces(tmp_path, resnames, angle, exclusions):
    prior = write_prior(tmp_path / "prior.yaml", resnames, bonds=PAIR_BONDS, angle=angle,
                        exclusions=exclusions)
    topology = CGTopology(list(resnames))
    pos = thermal_chains(resnames, nreplicas=5, seed=len(resnames))

    ref_energy, ref_forces = evaluate(build_forces(prior, topology), pos)
    ours = build_batched_forces(prior, topology)
    forces = torch.zeros_like(pos)
    energy = ours.compute(pos, zero_box(len(pos)), forces, toNumpy=False)

    assert ref_forces.abs().max() > 1.0  # the comparison is not between zeros
    np.testing.assert_allclose(energy.numpy(), ref_energy.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(forces.numpy(), ref_forces.numpy(), rtol=0, atol=1e-6)
    ref_terms = build_forces(prior, topology).compute(pos[:1], zero_box(1), torch.zeros_like(
        pos[:1]), returnDetails=True)[0]
    our_terms = ours.compute(pos[:1], None, torch.zeros_like(pos[:1]), returnDetails=True)[0]
    for term, value in our_terms.items():
        assert value == pytest.approx(ref_terms[term], abs=1e-8), term
    assert ("angles" in our_terms) == (angle is not None)
    if angle is not None:
        assert our_terms["angles"] > 0.1  # the angle term contributes, not a zero compared


def test_angle_forces_are_minus_gradient_near_collinear(tmp_path):
    """The batched angle force is −∇ of its energy, also for a triplet bent to 179°
    (where the dihedral prior alone has no restoring force and the chain can straighten)."""
    prior = write_prior(tmp_path / "prior.yaml", CHIGNOLIN[:4], bonds=PAIR_BONDS,
                        epsilon=1e-6, angle=(12.0, 115.0))
    topology = CGTopology(CHIGNOLIN[:4])
    forces = build_batched_forces(prior, topology)
    theta = np.radians(179.0)
    pos = torch.tensor([[[0.0, 0.0, 0.0], [3.8, 0.0, 0.0],
                         [3.8 - 3.8 * np.cos(theta), 3.8 * np.sin(theta), 0.0],
                         [7.0, 3.0, 1.5]]], dtype=torch.float64)

    def energy(x):
        return forces.compute(x, None, torch.zeros_like(x), toNumpy=False)

    used = torch.zeros_like(pos)
    forces.compute(pos, None, used, toNumpy=False)
    h = 1e-6
    gradient = torch.zeros_like(pos)
    for bead in range(4):
        for axis in range(3):
            step = torch.zeros_like(pos)
            step[0, bead, axis] = h
            gradient[0, bead, axis] = (energy(pos + step) - energy(pos - step))[0] / (2 * h)
    assert used[0, 1].norm() > 5.0  # 64° from θ0: a strong push back from collinear
    np.testing.assert_allclose(used.numpy(), -gradient.numpy(), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("wrapper", ["direct", "torchmd-net"])
def test_network_sees_no_box(tiny_checkpoint, wrapper):
    """torchmd's all-zero box must not reach the network (it would read it as periodic)."""
    network = load_network(tiny_checkpoint, dtype=torch.float64)
    embeddings = CGTopology(CHIGNOLIN).embeddings
    if wrapper == "direct":
        external = make_external(network, embeddings, 3, dtype=torch.float64)
    else:
        external = NoBoxExternal(network, torch.tensor(embeddings).repeat(3, 1),
                                 dtype=torch.float64)
    pos = thermal_chains(CHIGNOLIN, 3, seed=1)
    with_box, forces_box = external.calculate(pos, zero_box(3))
    without, forces = external.calculate(pos, None)
    assert torch.isfinite(with_box).all() and torch.isfinite(forces_box).all()
    assert torch.equal(with_box, without) and torch.equal(forces_box, forces)
    assert forces.abs().max() > 0


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_direct_network_call_equals_torchmd_net_external(tiny_checkpoint, dtype, tol):
    """The direct caller returns External's energies and forces, in External's shapes,
    and leaves the caller's positions as they were."""
    resnames = (CHIGNOLIN * 3)[:23]
    network = load_network(tiny_checkpoint, dtype=dtype)
    embeddings = CGTopology(resnames).embeddings
    reference = NoBoxExternal(network, torch.tensor(embeddings).repeat(4, 1), dtype=dtype)
    direct = make_external(network, embeddings, 4, dtype=dtype)
    pos = thermal_chains(resnames, 4, seed=2).to(dtype)
    before = pos.clone()

    ref_energy, ref_forces = reference.calculate(pos, None)
    for _ in range(2):  # the second call runs on the same precomputed vectors
        energy, forces = direct.calculate(pos, zero_box(4, precision=dtype))
        assert energy.shape == ref_energy.shape == (4, 1)
        assert forces.shape == ref_forces.shape == pos.shape
        assert energy.dtype == forces.dtype == dtype
        assert not energy.requires_grad and not forces.requires_grad
        np.testing.assert_allclose(energy.numpy(), ref_energy.numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(forces.numpy(), ref_forces.numpy(), rtol=tol, atol=tol)
    assert ref_forces.abs().max() > 1e-3  # the comparison is not between zeros
    assert (ref_energy.max() - ref_energy.min()) > 0  # nor between replicas alike
    assert torch.equal(pos, before) and not pos.requires_grad


def test_cuda_graph_is_refused_where_it_cannot_work(tiny_checkpoint):
    """The CUDA-graph option is off by default, needs CUDA, and needs a static-shape network
    (the graph network's neighbour list changes size from call to call)."""
    network = load_network(tiny_checkpoint, dtype=torch.float32)
    embeddings = CGTopology(CHIGNOLIN).embeddings
    assert isinstance(make_external(network, embeddings, 2, dtype=torch.float32), NetworkForces)
    with pytest.raises(CgthermoError, match="CUDA device"):
        make_external(network, embeddings, 2, "cpu", torch.float32, cuda_graph=True)
    with pytest.raises(CgthermoError, match="static shapes"):
        make_external(network, embeddings, 2, "cuda", torch.float32, cuda_graph=True)


def test_static_shape_network_gives_the_same_forces(tmp_path):
    """A TensorNet loaded with static shapes (what the CUDA-graph option needs) pads its
    neighbour list with dummy pairs; through the direct caller it still gives External's
    energies and forces of the same network loaded as usual."""
    checkpoint = write_untrained_checkpoint(tmp_path / "tensornet.ckpt", model="tensornet",
                                            embedding_dimension=16, num_layers=1, num_rbf=8)
    usual = load_network(checkpoint, dtype=torch.float64)
    static = load_network(checkpoint, dtype=torch.float64, static_shapes=True)
    assert static.representation_model.static_shapes
    assert not usual.representation_model.static_shapes
    embeddings = CGTopology(CHIGNOLIN).embeddings
    pos = thermal_chains(CHIGNOLIN, 3, seed=4)
    ref_energy, ref_forces = NoBoxExternal(usual, torch.tensor(embeddings).repeat(3, 1),
                                           dtype=torch.float64).calculate(pos, None)
    energy, forces = make_external(static, embeddings, 3, dtype=torch.float64).calculate(pos)
    assert ref_forces.abs().max() > 1e-3
    np.testing.assert_allclose(energy.numpy(), ref_energy.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(forces.numpy(), ref_forces.numpy(), rtol=0, atol=1e-10)


def test_integrator_forces_are_minus_gradient_of_total_potential(tmp_path, tiny_checkpoint):
    """Forces the integrator steps with = −finite-difference gradient of prior + NNP (float64).

    The energy is torchmd's own (replica-looping Forces with the network attached), so
    this also checks that the batched prior and the network wrapper add up to it.
    """
    prior = write_prior(tmp_path / "prior.yaml", CHIGNOLIN, bonds=PAIR_BONDS)
    dataset, topology_pdb = write_dataset(tmp_path, "cln", CHIGNOLIN, frames=8)
    inputs = SimInputs("cln", dataset, topology_pdb, prior, tiny_checkpoint)
    settings = SimSettings(temperature_K=340.0, seed=3, replicas=2, steps=10, save_every=10,
                           precision="float64", device="cpu")
    batch = CGSimulation(inputs, settings, tmp_path / "work").group.blocks[0]
    batch.start_fresh()
    pos = batch.system.pos.clone()
    used_forces = batch.system.forces.clone()

    network = load_network(tiny_checkpoint, dtype=torch.float64)
    types = torch.tensor(batch.topology.embeddings).repeat(2, 1)
    reference = build_forces(prior, batch.topology,
                             external=NoBoxExternal(network, types, dtype=torch.float64))

    def energy(x):
        return evaluate(reference, x)[0]

    h = 1e-4
    gradient = torch.zeros_like(pos)
    for bead in range(pos.shape[1]):
        for axis in range(3):
            step = torch.zeros_like(pos)
            step[:, bead, axis] = h  # replicas are independent: one shift probes all of them
            gradient[:, bead, axis] = (energy(pos + step) - energy(pos - step)) / (2 * h)

    assert used_forces.abs().max() > 1.0
    np.testing.assert_allclose(used_forces.numpy(), -gradient.numpy(), rtol=1e-6, atol=2e-6)
    np.testing.assert_allclose(batch.integrator.potential.numpy(), energy(pos).numpy(),
                               rtol=0, atol=1e-8)


def test_a_prior_that_excludes_the_1_3_pairs_drops_exactly_their_repulsion(tmp_path):
    """With exclusions [bonds, angles] the repulsion B/r⁶ (B = 4 ε σ⁶) leaves out the pairs
    across a bend: the energy falls by their sum worked out by hand, in torchmd and batched."""
    epsilon = 500.0
    both = {}
    for name, exclusions in (("bonds", None), ("angles", ("bonds", "angles"))):
        prior = write_prior(tmp_path / f"{name}.yaml", CHIGNOLIN, bonds=PAIR_BONDS,
                            epsilon=epsilon, angle=(12.0, 115.0), exclusions=exclusions)
        pos = thermal_chains(CHIGNOLIN, nreplicas=3, seed=4)
        energy, _ = evaluate(build_forces(prior, CGTopology(CHIGNOLIN)), pos)
        batched = build_batched_forces(prior, CGTopology(CHIGNOLIN)).compute(
            pos, None, torch.zeros_like(pos), toNumpy=False)
        np.testing.assert_allclose(batched.numpy(), energy.numpy(), rtol=0, atol=1e-6)
        both[name] = energy.numpy()
    r13 = torch.linalg.norm(pos[:, 2:] - pos[:, :-2], dim=-1).numpy()
    by_hand = (4.0 * epsilon / r13**6).sum(axis=1)
    assert by_hand.min() > 1e-3  # the pairs left out do carry energy
    np.testing.assert_allclose(both["bonds"] - both["angles"], by_hand, rtol=1e-8)
