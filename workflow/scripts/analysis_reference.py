"""Rule analysis_reference: all-atom Cα data → reference.npz, msm_its.png."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.analysis.stage import analysis_reference

    analysis_reference(snakemake)
