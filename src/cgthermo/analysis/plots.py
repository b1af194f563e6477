"""Figures of the analysis (matplotlib, Agg backend), each written atomically."""

import numpy as np

from ..io import atomic_path

FES_MAX_KCAL = 7.5  # contour range of the paper's figures
DIFF_MAX_KCAL = 3.0


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path):
    plt = pyplot()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)


def fes_panels(path, grid, f_ref, f_model, diff, title: str):
    """All-atom FES, model FES and their aligned difference, side by side."""
    plt = pyplot()
    fig, axes = plt.subplots(
        1, 3, figsize=(13.5, 4.0), sharex=True, sharey=True, layout="constrained"
    )
    levels = np.linspace(0.0, FES_MAX_KCAL, 16)
    xc, yc = grid.x_centres, grid.y_centres
    for ax, f, name in ((axes[0], f_ref, "all-atom"), (axes[1], f_model, "CG model")):
        masked = np.ma.masked_invalid(np.clip(f, 0, FES_MAX_KCAL)).T
        filled = ax.contourf(xc, yc, masked, levels=levels, cmap="viridis", extend="max")
        ax.contour(xc, yc, masked, levels=levels[::3], colors="k", linewidths=0.4)
        ax.set_title(f"{name} F (kcal/mol)")
    fig.colorbar(filled, ax=axes[:2], shrink=0.9, label="F (kcal/mol)")
    image = axes[2].pcolormesh(
        grid.x_edges, grid.y_edges, np.ma.masked_invalid(diff).T,
        cmap="RdBu_r", vmin=-DIFF_MAX_KCAL, vmax=DIFF_MAX_KCAL,
    )  # fmt: skip
    axes[2].set_title("F_model − F_all-atom (aligned)")
    fig.colorbar(image, ax=axes[2], shrink=0.9, label="ΔF (kcal/mol)")
    for ax in axes:
        ax.set_xlabel("TIC 1")
    axes[0].set_ylabel("TIC 2")
    fig.suptitle(title)
    save_figure(fig, path)


def fes_1d(path, edges, f_ref, f_model, title: str):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    centres = 0.5 * (edges[1:] + edges[:-1])
    ax.plot(centres, f_ref, "k-", lw=2, label="all-atom")
    ax.plot(centres, f_model, "C1-", lw=2, label="CG model")
    ax.set_xlabel("TIC 1")
    ax.set_ylabel("F (kcal/mol)")
    ax.set_ylim(0, FES_MAX_KCAL + 1)
    ax.legend()
    ax.set_title(title)
    save_figure(fig, path)


def structure_distributions(path, ref, model, folded_rmsd: float, title: str):
    """Histograms of RMSD and native-contact fraction; `ref`/`model` are dicts of arrays."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    top = max(np.nanmax(ref["rmsd"]), np.nanmax(model["rmsd"]))
    rmsd_bins = np.linspace(0, top * 1.05 + 1e-6, 50)
    q_bins = np.linspace(0, 1, 26)
    for data, name, style in ((ref, "all-atom", "k"), (model, "CG model", "C1")):
        axes[0].hist(data["rmsd"], rmsd_bins, weights=data["weights"], density=True,
                     histtype="step", color=style, lw=2, label=name)  # fmt: skip
        q = data["q"]
        if np.all(np.isfinite(q)):
            axes[1].hist(q, q_bins, weights=data["weights"], density=True,
                         histtype="step", color=style, lw=2, label=name)  # fmt: skip
    axes[0].axvline(folded_rmsd, color="grey", ls="--", label=f"folded < {folded_rmsd:g} Å")
    axes[0].set_xlabel("Cα RMSD to reference (Å)")
    axes[1].set_xlabel("fraction of native contacts Q")
    if not np.all(np.isfinite(ref["q"])):
        axes[1].text(0.5, 0.5, "no native contacts\nin the reference structure",
                     ha="center", va="center", transform=axes[1].transAxes)  # fmt: skip
    for ax in axes:
        ax.set_ylabel("density")
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.suptitle(title)
    save_figure(fig, path)


def implied_timescales(path, lags, timescales, chosen_lag: int, frame_ns: float, title: str):
    """Implied timescales over lag (both in ns when the frame time is known, else frames)."""
    plt = pyplot()
    if not (np.isfinite(frame_ns) and frame_ns > 0):
        scale, unit = 1.0, "frames"
    elif frame_ns * max(lags) < 1.0:
        scale, unit = frame_ns * 1000.0, "ps"
    else:
        scale, unit = frame_ns, "ns"
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    lags = np.asarray(lags, dtype=float) * scale
    for k in range(np.asarray(timescales).shape[1]):
        ax.semilogy(lags, np.asarray(timescales)[:, k] * scale, "o-", label=f"process {k + 1}")
    ax.fill_between(lags, lags, lags.min() * 0.5 + 1e-12, color="grey", alpha=0.3,
                    label="timescale < lag")  # fmt: skip
    ax.axvline(chosen_lag * scale, color="k", ls="--", label="MSM lag")
    ax.set_xlabel(f"lag ({unit})")
    ax.set_ylabel(f"implied timescale ({unit})")
    ax.legend(fontsize=8)
    ax.set_title(title)
    save_figure(fig, path)


SOURCE_STYLE = {"mapped": ("k", "all-atom (mapped)"), "prior": ("C0", "prior"),
                "model": ("C1", "prior + network")}  # fmt: skip


def mean_force_panels(path, forces, pmfs, title: str):
    """Per variable: mean force of every source with its 95 % band (all replicas), and the
    TI PMF of the all-atom mean force beside the all-atom and CG population PMFs."""
    plt = pyplot()
    names = list(dict.fromkeys(pmfs["variable"]))
    fig, axes = plt.subplots(len(names), 2, figsize=(11, 3.0 * len(names)), squeeze=False,
                             layout="constrained")  # fmt: skip
    for row, name in zip(axes, names, strict=True):
        mine = forces[(forces.variable == name) & (forces.split == "all")]
        for source, (colour, label) in SOURCE_STYLE.items():
            part = mine[mine.source == source]
            if part.empty:
                continue
            row[0].plot(part.bin_centre, part.mean_force, "-", color=colour, label=label)
            row[0].fill_between(part.bin_centre, part.ci_low, part.ci_high, color=colour,
                                alpha=0.25, lw=0)  # fmt: skip
        pmf = pmfs[pmfs.variable == name]
        row[1].plot(pmf.bin_centre, pmf.pmf_ti_kcal, "k-", label="all-atom, integrated mean force")
        row[1].fill_between(pmf.bin_centre, pmf.pmf_ti_ci_low, pmf.pmf_ti_ci_high, color="k",
                            alpha=0.2, lw=0)  # fmt: skip
        row[1].plot(pmf.bin_centre, pmf.pmf_aa_population_kcal, "k--",
                    label="all-atom, populations")  # fmt: skip
        row[1].plot(pmf.bin_centre, pmf.pmf_cg_kcal, "C1-", label="CG run, populations")
        label = pmf.label.iloc[0]
        row[0].set_xlabel(label)
        row[1].set_xlabel(label)
        row[0].set_ylabel("mean force (kcal/mol per unit)")
        row[1].set_ylabel("PMF (kcal/mol)")
        row[0].axhline(0, color="grey", lw=0.5)
    axes[0][0].legend(fontsize=8)
    axes[0][1].legend(fontsize=8)
    fig.suptitle(title)
    save_figure(fig, path)
