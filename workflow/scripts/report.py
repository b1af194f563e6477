"""Rule entry point of `report`: summary.csv and the analysis figures → results/report.html."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.analysis.report import write_report

    write_report(
        snakemake.input.summary,
        list(snakemake.input.figures),
        snakemake.params.proteins,
        snakemake.params.models,
        snakemake.output[0],
    )
