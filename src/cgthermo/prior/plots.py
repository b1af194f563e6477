"""fit.png: every fitted prior curve over the histogram free energy it was fitted to."""

import numpy as np

from ..io import atomic_path
from .fitting import Fit, Prior, fourier, harmonic

MAX_PANELS_PER_TERM = 24  # multi-protein priors have hundreds of pairs; the best sampled are shown
COLUMNS = 6


def _curve(fit: Fit, x):
    if "theta0" in fit.params:
        return harmonic(x, fit.params["k0"], fit.params["theta0"], 0.0)
    if "k0" in fit.params:
        return harmonic(x, fit.params["k0"], fit.params["req"], 0.0)
    if "B" in fit.params:
        return fit.params["B"] * x**-6.0
    return fourier(x, fit.params["terms"])


def _panels(prior: Prior) -> list[Fit]:
    def best(fits):
        return sorted(fits, key=lambda f: -f.data.samples)[:MAX_PANELS_PER_TERM]

    return [
        *([prior.angle] if prior.angle is not None else []),
        prior.dihedral,
        *best(prior.dihedral_types.values()),
        prior.pooled_bond,
        *best(prior.bonds.values()),
        prior.pooled_repulsion,
        *best(prior.repulsion.values()),
    ]


def plot_fit(path, prior: Prior) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [p for p in _panels(prior) if len(p.data.x)]
    rows = -(-len(panels) // COLUMNS)
    fig, axes = plt.subplots(rows, COLUMNS, figsize=(2.6 * COLUMNS, 2.2 * rows), squeeze=False)
    for ax, fit in zip(axes.flat, panels, strict=False):
        data = fit.data
        ax.plot(data.x, data.value - fit.offset, "o", ms=2.5, color="0.4", label="−kT ln p")
        x = np.linspace(data.x.min(), data.x.max(), 200)
        ax.plot(
            x, _curve(fit, x), "-", color="C3" if fit.source == "fit" else "C0", label=fit.source
        )
        ax.set_title(f"{fit.label} (n={data.samples})", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=5, loc="best")
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.suptitle(
        f"prior fit at {prior.temperature:.0f} K (kcal/mol vs Å or rad; red: own fit, blue: pooled)",
        fontsize=9,
    )
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
