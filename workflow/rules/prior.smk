# Prior fitting by Boltzmann inversion, its torchmd YAML and fit plot, and the delta
# forces (mapped − prior, computed by torchmd) that the NNP learns: one prior per
# protein (`prior`) and one per multi-protein group (`prior_multi`): `multi`, all proteins,
# and `multi_loo/{protein}`, all proteins but one (the multi_loo model).


rule prior:
    input:
        datasets=paths.dataset(RESULTS, "{protein}"),
    output:
        prior=paths.prior(RESULTS, "{protein}"),
        fit=paths.prior(RESULTS, "{protein}", "fit.png"),
        delta=paths.delta(RESULTS, "{protein}"),
    log:
        "logs/prior/{protein}.log",
    benchmark:
        "logs/benchmarks/prior/{protein}.tsv"
    conda:
        "../../envs/cg.yaml"
    threads: 1
    resources:
        mem_mb=PRIOR.mem_mb,
        runtime=PRIOR.runtime,
    params:
        settings=cgconfig.result_settings(config, "prior", seeded=False),
    script:
        "../scripts/prior.py"


rule prior_multi:
    input:
        datasets=PRIOR.group_datasets,
    output:
        prior=paths.prior(RESULTS, "{group}"),
        fit=paths.prior(RESULTS, "{group}", "fit.png"),
        delta=paths.delta(RESULTS, "{group}"),
    log:
        "logs/prior_multi/{group}.log",
    benchmark:
        "logs/benchmarks/prior_multi/{group}.tsv"
    conda:
        "../../envs/cg.yaml"
    threads: 1
    resources:
        mem_mb=PRIOR.mem_mb,
        runtime=PRIOR.runtime,
    params:
        settings=cgconfig.result_settings(config, "prior", seeded=False),
    script:
        "../scripts/prior.py"


rule loo_prior_extended:
    input:
        prior=paths.prior(RESULTS, f"{LOO}/{{protein}}", "prior.yaml"),
        dataset=paths.dataset(RESULTS, "{protein}"),
    output:
        paths.prior(RESULTS, f"{LOO}/{{protein}}", "extended.yaml"),
    log:
        "logs/loo_prior_extended/{protein}.log",
    benchmark:
        "logs/benchmarks/loo_prior_extended/{protein}.tsv"
    conda:
        "../../envs/cg.yaml"
    threads: 1
    resources:
        mem_mb=PRIOR.extend_mem_mb,
        runtime=PRIOR.extend_runtime,
    script:
        "../scripts/loo_prior_extended.py"
