"""Rule report: summary.csv and the analysis figures → results/report.html."""

from cgthermo.rulelog import rule_logging

with rule_logging(snakemake):
    from cgthermo.analysis.stage import report

    report(snakemake)
