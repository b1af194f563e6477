# All-atom MD in OpenMM: prepare -> unfold -> aa_md (docs/artifacts.md).
# aa_md keeps an OpenMM checkpoint (.chk) and a working trajectory (.partial.h5)
# beside its outputs; they are not declared outputs, so Snakemake keeps them when
# a job is killed and a rerun continues from them.


rule prepare:
    input:
        AA.pdb_input,
    output:
        structure=f"{RESULTS}/{{protein}}/aa/structure.pdb",
        system=f"{RESULTS}/{{protein}}/aa/system.xml",
    log:
        "logs/prepare/{protein}.log",
    benchmark:
        "logs/benchmarks/prepare/{protein}.tsv"
    conda:
        "../../envs/openmm.yaml"
    threads: AA.threads("prepare")
    resources:
        mem_mb=AA.mem_mb,
        runtime=AA.prepare_runtime,
        gpu=AA.gpu,
    params:
        settings=AA.prepare_params,
        seed=AA.prepare_seed,
    script:
        "../scripts/prepare.py"


rule unfold:
    input:
        structure=rules.prepare.output.structure,
        system=rules.prepare.output.system,
    output:
        f"{RESULTS}/{{protein}}/aa/starts/{{replica}}.pdb",
    log:
        "logs/unfold/{protein}/{replica}.log",
    benchmark:
        "logs/benchmarks/unfold/{protein}/{replica}.tsv"
    conda:
        "../../envs/openmm.yaml"
    threads: AA.threads("unfold")
    resources:
        mem_mb=AA.mem_mb,
        runtime=AA.unfold_runtime,
        gpu=AA.gpu,
    params:
        settings=AA.unfold_params,
        seed=AA.unfold_seed,
    script:
        "../scripts/unfold.py"


rule aa_md:
    input:
        unpack(AA.md_start),
        system=rules.prepare.output.system,
    output:
        h5=f"{RESULTS}/{{protein}}/aa/md/{{replica}}.h5",
        xtc=f"{RESULTS}/{{protein}}/aa/md/{{replica}}.xtc",
    log:
        "logs/aa_md/{protein}/{replica}.log",
    benchmark:
        "logs/benchmarks/aa_md/{protein}/{replica}.tsv"
    conda:
        "../../envs/openmm.yaml"
    threads: AA.threads("aa_md")
    resources:
        mem_mb=AA.mem_mb,
        runtime=AA.md_runtime,
        gpu=AA.gpu,
    params:
        settings=AA.md_params,
        seed=AA.md_seed,
    script:
        "../scripts/aa_md.py"
