"""Rule entry point of `cg_map`: all-atom replicas or imported data → cg/dataset.h5, cg/topology.pdb."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.cg.stage import run_cg_map

    md = snakemake.input.get("md", [])
    run_cg_map(
        snakemake.config,
        snakemake.wildcards.protein,
        [md] if isinstance(md, str) else list(md),
        snakemake.input.get("system"),
        snakemake.output.dataset,
        snakemake.output.topology,
    )
