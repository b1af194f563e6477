# CG simulation in torchmd: batched replicas of each protein under the prior alone
# (`prior_only`), the protein's own NNP (`specific`) or the multi-protein NNP (`multi`).
# Checkpoints live in a `work/` folder beside the outputs; a rerun with the same
# settings and inputs continues there, and the folder goes once the outputs exist.


rule cg_sim:
    input:
        unpack(CGSIM.inputs),
    output:
        traj=paths.cg_run(RESULTS, "{protein}", "{model}", "traj.xtc"),
        frames=paths.cg_run(RESULTS, "{protein}", "{model}", "frames.csv"),
        log=paths.cg_run(RESULTS, "{protein}", "{model}", "log.csv"),
        run=paths.cg_run(RESULTS, "{protein}", "{model}", "run.json"),
    log:
        "logs/cg_sim/{protein}.{model}.log",
    benchmark:
        "logs/benchmarks/cg_sim/{protein}.{model}.tsv"
    conda:
        "../../envs/cgsim.yaml"
    threads: CGSIM.threads(workflow.cores)
    resources:
        mem_mb=CGSIM.mem_mb,
        runtime=CGSIM.runtime,
        gpu=CGSIM.gpus(),
    params:
        work=paths.cg_run(RESULTS, "{protein}", "{model}", "work"),
        settings=cgconfig.result_settings(config, "cgsim"),
        temperature=CGSIM.temperature,
    script:
        "../scripts/cg_sim.py"
