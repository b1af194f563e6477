# Predictions: a trained model (this config's multi-protein or a protein's own network, or a
# checkpoint from elsewhere) simulates sequences without all-atom data of their own
# (config `predict`, docs/predict.md). Each entry has its own folder and reruns alone.


rule predict_prepare:
    input:
        unpack(PREDICT.prepare_inputs),
    output:
        topology=f"{RESULTS}/predictions/{{prediction}}/cg/topology.pdb",
        starts=f"{RESULTS}/predictions/{{prediction}}/cg/starts.h5",
        prior=f"{RESULTS}/predictions/{{prediction}}/prior/prior.yaml",
        record=f"{RESULTS}/predictions/{{prediction}}/prepare.json",
    log:
        "logs/predict_prepare/{prediction}.log",
    benchmark:
        "logs/benchmarks/predict_prepare/{prediction}.tsv"
    conda:
        "../../envs/cg.yaml"
    threads: 1
    resources:
        mem_mb=PREDICT.prepare_mem_mb,
        runtime=PREDICT.prepare_runtime,
    params:
        entry=PREDICT.entry,
        cgsim=cgconfig.result_settings(config, "cgsim"),
    script:
        "../scripts/predict_prepare.py"


rule predict_sim:
    input:
        unpack(PREDICT.sim_inputs),
    output:
        traj=f"{RESULTS}/predictions/{{prediction}}/cgsim/traj.xtc",
        frames=f"{RESULTS}/predictions/{{prediction}}/cgsim/frames.csv",
        log=f"{RESULTS}/predictions/{{prediction}}/cgsim/log.csv",
        run=f"{RESULTS}/predictions/{{prediction}}/cgsim/run.json",
    log:
        "logs/predict_sim/{prediction}.log",
    benchmark:
        "logs/benchmarks/predict_sim/{prediction}.tsv"
    conda:
        "../../envs/cgsim.yaml"
    threads: CGSIM.threads(workflow.cores)
    resources:
        mem_mb=CGSIM.mem_mb,
        runtime=CGSIM.runtime,
        gpu=CGSIM.gpus(),
    params:
        work=f"{RESULTS}/predictions/{{prediction}}/cgsim/work",
        entry=PREDICT.entry,
        settings=cgconfig.result_settings(config, "cgsim"),
    script:
        "../scripts/predict_sim.py"


rule predict_analysis:
    input:
        unpack(PREDICT.analysis_inputs),
    output:
        metrics=f"{RESULTS}/predictions/{{prediction}}/analysis/metrics.json",
        figure=report(
            f"{RESULTS}/predictions/{{prediction}}/analysis/figure.png",
            caption="../report/prediction.rst",
            category="Predictions",
            labels={"prediction": "{prediction}"},
        ),
    log:
        "logs/predict_analysis/{prediction}.log",
    benchmark:
        "logs/benchmarks/predict_analysis/{prediction}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=ANALYSIS.model_mem_mb,
        runtime=PREDICT.analysis_runtime,
    params:
        entry=PREDICT.entry,
        settings=cgconfig.result_settings(config, "analysis", seeded=False),
        seed=PREDICT.analysis_seed,
    script:
        "../scripts/predict_analysis.py"


rule predict_structures:
    input:
        unpack(PREDICT.structures_inputs),
    output:
        states_pdb=f"{RESULTS}/predictions/{{prediction}}/analysis/states.pdb",
        structures=f"{RESULTS}/predictions/{{prediction}}/analysis/structures.json",
        dssp_png=f"{RESULTS}/predictions/{{prediction}}/analysis/dssp.png",
    log:
        "logs/predict_structures/{prediction}.log",
    benchmark:
        "logs/benchmarks/predict_structures/{prediction}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=ANALYSIS.model_mem_mb,
        runtime=PREDICT.analysis_runtime,
    params:
        settings=cgconfig.result_settings(config, "analysis", seeded=False),
        seed=PREDICT.analysis_seed,
        forcefield=PREDICT.forcefield,
    script:
        "../scripts/predict_structures.py"


rule predictions_summary:
    input:
        metrics=PREDICT.metrics_files,
    output:
        f"{RESULTS}/predictions.csv",
    log:
        "logs/predictions_summary.log",
    benchmark:
        "logs/benchmarks/predictions_summary/predictions_summary.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=PREDICT.summary_mem_mb,
        runtime=PREDICT.summary_runtime,
    script:
        "../scripts/predictions_summary.py"
