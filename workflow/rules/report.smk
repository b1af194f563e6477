# Aggregation over every protein × model: results/summary.csv and the self-contained
# results/report.html (figures embedded). `snakemake --report report.html` gathers the
# report() figures of the analysis rules with their captions as well.
# ANALYSIS and PREDICT come from analysis.smk and predict.smk.


rule summary:
    input:
        metrics=ANALYSIS.metrics_files,
        resamples=ANALYSIS.resample_files,
        structures=ANALYSIS.state_files,
    output:
        report(
            f"{RESULTS}/summary.csv",
            caption="../report/summary.rst",
            category="Summary",
        ),
    log:
        "logs/summary/summary.log",
    benchmark:
        "logs/benchmarks/summary/summary.tsv"
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=ANALYSIS.summary_mem_mb,
        runtime=ANALYSIS.summary_runtime,
    script:
        "../scripts/summary.py"


rule report:
    input:
        unpack(PREDICT.report_inputs),
        summary=rules.summary.output[0],
        figures=ANALYSIS.figure_files,
        structures=ANALYSIS.structure_files,
        states=ANALYSIS.state_files,
        reference_states=ANALYSIS.reference_state_files,
    output:
        f"{RESULTS}/report.html",
    log:
        "logs/report/report.log",
    benchmark:
        "logs/benchmarks/report/report.tsv"
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=ANALYSIS.report_mem_mb,
        runtime=ANALYSIS.report_runtime,
    params:
        proteins=PROTEINS,
        models=MODELS,
        viewer=ANALYSIS.viewer_library(workflow.basedir),
    script:
        "../scripts/report.py"
