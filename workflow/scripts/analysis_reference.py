"""Rule entry point of `analysis_reference`: all-atom Cα data → reference.npz, msm_its.png."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.analysis.reference import build_reference, write_reference

    arrays = build_reference(
        snakemake.input.dataset,
        snakemake.input.topology,
        snakemake.wildcards.protein,
        snakemake.params.settings,
        snakemake.params.temperature,
        native_path=snakemake.input.get("native"),
        seed=snakemake.params.seed,
    )
    write_reference(arrays, snakemake.output.npz, snakemake.output.its)
