# Prior fitting by Boltzmann inversion, its torchmd YAML and fit plot, and the delta
# forces (mapped − prior, computed by torchmd) that the NNP learns: one prior per
# protein (`prior`) and one over all proteins of the config (`prior_multi`).


from cgthermo.prior.rules import PriorRules

PRIOR = PriorRules(config)


rule prior:
    input:
        datasets=f"{RESULTS}/{{protein}}/cg/dataset.h5",
    output:
        prior=f"{RESULTS}/{{protein}}/prior/prior.yaml",
        fit=f"{RESULTS}/{{protein}}/prior/fit.png",
        delta=f"{RESULTS}/{{protein}}/cg/delta.h5",
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
        datasets=PRIOR.multi_datasets,
    output:
        prior=f"{RESULTS}/{MULTI}/prior/prior.yaml",
        fit=f"{RESULTS}/{MULTI}/prior/fit.png",
        delta=f"{RESULTS}/{MULTI}/cg/delta.h5",
    log:
        f"logs/prior_multi/{MULTI}.log",
    benchmark:
        f"logs/benchmarks/prior_multi/{MULTI}.tsv"
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
