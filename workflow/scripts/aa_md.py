"""Rule aa_md: production MD with forces; continues from its checkpoint when rerun."""

from cgthermo.rulelog import rule_logging

# appended, so the log of a resumed job keeps the lines of the interrupted one
with rule_logging(snakemake, append=True):
    from cgthermo.aa.stage import aa_md

    aa_md(snakemake)
