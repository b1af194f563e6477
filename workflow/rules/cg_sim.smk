# CG simulation in torchmd: batched replicas of each protein under the prior alone
# (`prior_only`), the protein's own NNP (`specific`) or the multi-protein NNP (`multi`).
# Checkpoints live in a `work/` folder beside the outputs; a rerun with the same
# settings and inputs continues there, and the folder goes once the outputs exist.
from cgthermo.cgsim import rules as cgsim_rules


rule cg_sim:
    input:
        unpack(cgsim_rules.inputs_for(RESULTS)),
    output:
        traj=f"{RESULTS}/{{protein}}/cgsim/{{model}}/traj.xtc",
        frames=f"{RESULTS}/{{protein}}/cgsim/{{model}}/frames.csv",
        log=f"{RESULTS}/{{protein}}/cgsim/{{model}}/log.csv",
    log:
        "logs/cg_sim/{protein}.{model}.log",
    benchmark:
        "logs/benchmarks/cg_sim/{protein}.{model}.tsv"
    conda:
        "../../envs/cgsim.yaml"
    threads: cgsim_rules.threads_for(config, workflow.cores)
    resources:
        mem_mb=4000,
        runtime=cgsim_rules.runtime_for(config),
        gpu=cgsim_rules.gpus_requested(config),
    params:
        work=f"{RESULTS}/{{protein}}/cgsim/{{model}}/work",
        settings=cgconfig.result_settings(config, "cgsim"),
        temperature=lambda wildcards: cgconfig.protein(config, wildcards.protein)["temperature"],
    script:
        "../scripts/cg_sim.py"
