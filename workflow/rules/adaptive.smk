# Adaptive sampling (aa.sampling: adaptive): epoch 0 runs from unfolded starts; each later
# epoch's trajectories restart from the frames adaptive_choice draws from the least-visited
# clusters of every earlier trajectory. The count of trajectories is fixed by the config,
# only their starts depend on the data, so the whole plan is known at load: every
# trajectory is its own job, and more epochs later add jobs without touching earlier ones.


rule adaptive_choice:
    input:
        trajectories=ADAPTIVE.earlier_trajectories,
    output:
        paths.epoch_choice(RESULTS, "{protein}", "{epoch}"),
    log:
        "logs/adaptive_choice/{protein}/{epoch}.log",
    benchmark:
        "logs/benchmarks/adaptive_choice/{protein}/{epoch}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime="1h",
    params:
        settings=ADAPTIVE.params,
        seed=ADAPTIVE.seed,
    script:
        "../scripts/adaptive_choice.py"


rule adaptive_restart:
    input:
        unpack(AA.restart_inputs),
    output:
        pdb=paths.restart(RESULTS, "{protein}", "{replica}"),
        origin=paths.restart(RESULTS, "{protein}", "{replica}", "json"),
    log:
        "logs/adaptive_restart/{protein}/{replica}.log",
    benchmark:
        "logs/benchmarks/adaptive_restart/{protein}/{replica}.tsv"
    conda:
        "../../envs/openmm.yaml"
    threads: 1
    resources:
        mem_mb=AA.mem_mb,
        runtime="30m",
    script:
        "../scripts/adaptive_restart.py"
