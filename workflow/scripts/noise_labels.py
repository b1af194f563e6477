"""Rules noise_labels and noise_labels_multi: forces + noise training rows (noise_labels.h5)."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake, torch_threads=True):
    from cgthermo.train.stage import noise_labels

    noise_labels(snakemake)
