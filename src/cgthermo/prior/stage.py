"""The prior stages: fit on one protein (prior) or on all proteins together (prior_multi)."""

import logging

from ..cgmap.dataset import open_datasets, write_dataset
from ..cgtopology import CGTopology
from .delta import delta_data
from .fitting import fit_prior
from .plots import plot_fit
from .statistics import Histograms
from .yamlio import write_prior_yaml

log = logging.getLogger(__name__)


def run_prior(dataset_paths, settings: dict, yaml_path, png_path, delta_path) -> None:
    """Fit one prior on every group of the given datasets; delta forces for each group.

    Frames are read, histogrammed and turned into delta forces a block at a time: the
    stage's memory does not grow with the number of frames.
    """
    with open_datasets(dataset_paths) as datasets:
        fit_and_write(datasets, settings, yaml_path, png_path, delta_path)


def fit_and_write(datasets, settings: dict, yaml_path, png_path, delta_path) -> None:
    hist = Histograms.from_settings(settings)
    for data in datasets:
        hist.add(CGTopology(data.resnames).atomtype, data.pos, data.temperature)
    if len(hist.temperatures) > 1:
        log.warning(
            "proteins at different temperatures %s: one prior fitted at their frame-weighted mean %.1f K",
            sorted(hist.temperatures),
            hist.temperature,
        )
    prior = fit_prior(hist, settings)
    write_prior_yaml(yaml_path, prior)
    plot_fit(png_path, prior)
    write_dataset(delta_path, [delta_data(data, yaml_path) for data in datasets])
    log.info(
        "prior on %d frames of %s at %.1f K written to %s",
        hist.frames,
        [d.name for d in datasets],
        hist.temperature,
        yaml_path,
    )


def prior(job) -> None:
    """Entry point of the prior and prior_multi rules (`job`: the Snakemake object);
    prior_multi fits one prior on every protein and its delta.h5 holds a group per protein."""
    run_prior(
        job.input.datasets,
        job.params.settings,
        job.output.prior,
        job.output.fit,
        job.output.delta,
    )


def loo_prior_extended(job) -> None:
    """The prior of the proteins but one, extended to that one's chain (docs/predict.md):
    what the multi_loo model simulates it with."""
    from ..cgmap.dataset import open_dataset
    from ..forcefield.extend import write_extended_prior

    with open_dataset(job.input.dataset) as groups:
        resnames = groups[0].resnames
    filled = write_extended_prior(job.input.prior, resnames, job.output[0])
    log.info("%s: the leave-one-out prior extended by %d entries", job.wildcards.protein,
             len(filled))  # fmt: skip
