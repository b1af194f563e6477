"""Rule cg_map: all-atom replicas or imported data → cg/dataset.h5, cg/topology.pdb."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.cgmap.stage import cg_map

    cg_map(snakemake)
