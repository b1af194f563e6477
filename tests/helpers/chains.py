"""Random self-avoiding Cα chains (Å, 3.8 Å bonds) for tests and benchmarks.

Two generators, because tests and benchmarks depend on the exact numbers each draws:
`random_chain` grows one chain bead by bead (any length, e.g. 37 beads), `random_chains`
draws whole chains of a few beads and keeps those with no close non-bonded pair (its
acceptance falls off exponentially with length).
"""

import numpy as np

BOND = 3.8  # Å, Cα–Cα


def random_chain(nbeads: int, rng, bond=BOND, min_distance=4.5) -> np.ndarray:
    """A self-avoiding Cα chain (Å): bonds of `bond`, no turn sharper than 90°."""
    pos = [np.zeros(3)]
    while len(pos) < nbeads:
        step = rng.normal(size=3)
        step /= np.linalg.norm(step)
        if len(pos) > 1 and step @ (pos[-1] - pos[-2]) < 0:
            continue
        candidate = pos[-1] + bond * step
        if len(pos) > 1 and np.linalg.norm(np.array(pos[:-1]) - candidate, axis=1).min() \
                < min_distance:
            continue
        pos.append(candidate)
    return np.array(pos)


def random_chains(frames: int, beads: int, rng, bond=BOND, min_distance=4.0,
                  center=True) -> np.ndarray:
    """(frames, beads, 3) Å chains: steps of `bond` in random directions, every non-bonded
    pair farther apart than `min_distance`; each chain centred on its mean if `center`."""
    out = np.empty((frames, beads, 3), dtype=np.float64)
    filled = 0
    while filled < frames:
        steps = rng.normal(size=(beads - 1, 3))
        steps *= bond / np.linalg.norm(steps, axis=1, keepdims=True)
        chain = np.vstack([np.zeros(3), np.cumsum(steps, axis=0)])
        dist = np.linalg.norm(chain[:, None] - chain[None], axis=-1)
        if np.all(dist[np.triu_indices(beads, 2)] > min_distance):
            out[filled] = chain - chain.mean(axis=0) if center else chain
            filled += 1
    return out


def harmonic_chain_sample(frames: int, beads: int, temperature: float, rng, k=100.0,
                          noise=20.0) -> tuple:
    """Cα chains (Å) whose bond lengths follow the Boltzmann law of U = Σ k/2 (r − 3.8)²
    (kcal/mol/Å²) at `temperature`, and their forces (kcal/mol/Å) −∇U plus zero-mean noise
    of `noise` per component, as force matching's mapped forces carry."""
    from cgthermo import units

    sigma = np.sqrt(units.kT_kcal(temperature) / k)
    directions = rng.normal(size=(frames, beads - 1, 3))
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    length = BOND + sigma * rng.normal(size=(frames, beads - 1, 1))
    coords = np.concatenate([np.zeros((frames, 1, 3)), np.cumsum(length * directions, axis=1)],
                            axis=1)
    bond_force = -k * (length - BOND) * directions  # on the later bead of each bond
    forces = np.zeros_like(coords)
    forces[:, 1:] += bond_force
    forces[:, :-1] -= bond_force
    return coords, forces + noise * rng.normal(size=coords.shape)
