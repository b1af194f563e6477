# NNP training with torchmd-net on delta forces: one model per protein (`train`) and
# one for all proteins together (`train_multi`). Checkpoints for resuming live in a
# `work/` folder beside the outputs; a rerun with the same settings continues there.
# With train.noise.sigmas set, the network trains on forces + noise labels instead
# (`noise_labels`, `noise_labels_multi`: their own cached step, so a new σ reruns from there).
from cgthermo.train.rules import TrainRules

TRAIN = TrainRules(config)


rule noise_labels:
    input:
        datasets=f"{RESULTS}/{{protein}}/cg/dataset.h5",
        prior=f"{RESULTS}/{{protein}}/prior/prior.yaml",
    output:
        labels=f"{RESULTS}/{{protein}}/cg/noise_labels.h5",
    log:
        "logs/noise_labels/{protein}.log",
    benchmark:
        "logs/benchmarks/noise_labels/{protein}.tsv"
    conda:
        "../../envs/cg.yaml"
    threads: 1
    resources:
        mem_mb=TRAIN.noise_mem_mb,
        runtime=TRAIN.noise_runtime,
    params:
        settings=TRAIN.noise_settings(),
    script:
        "../scripts/noise_labels.py"


rule noise_labels_multi:
    input:
        datasets=expand(f"{RESULTS}/{{protein}}/cg/dataset.h5", protein=PROTEINS),
        prior=f"{RESULTS}/{MULTI}/prior/prior.yaml",
    output:
        labels=f"{RESULTS}/{MULTI}/cg/noise_labels.h5",
    log:
        f"logs/noise_labels_multi/{MULTI}.log",
    benchmark:
        f"logs/benchmarks/noise_labels_multi/{MULTI}.tsv"
    conda:
        "../../envs/cg.yaml"
    threads: 1
    resources:
        mem_mb=TRAIN.noise_mem_mb,
        runtime=TRAIN.noise_runtime,
    params:
        settings=TRAIN.noise_settings(),
    script:
        "../scripts/noise_labels.py"


rule train:
    input:
        labels=TRAIN.labels,
        delta=f"{RESULTS}/{{protein}}/cg/delta.h5",
        datasets=f"{RESULTS}/{{protein}}/cg/dataset.h5",
    output:
        ckpt=f"{RESULTS}/{{protein}}/model/specific/model.ckpt",
        metrics=f"{RESULTS}/{{protein}}/model/specific/metrics.csv",
        curve=f"{RESULTS}/{{protein}}/model/specific/learning_curve.png",
        test=f"{RESULTS}/{{protein}}/model/specific/test.json",
    log:
        "logs/train/{protein}.log",
    benchmark:
        "logs/benchmarks/train/{protein}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 4
    resources:
        mem_mb=TRAIN.mem_mb,
        runtime=TRAIN.runtime,
        gpu=TRAIN.gpus(),
    params:
        kind="specific",
        settings=cgconfig.result_settings(config, "train"),
    script:
        "../scripts/train.py"


rule train_multi:
    input:
        labels=TRAIN.labels_multi,
        delta=f"{RESULTS}/{MULTI}/cg/delta.h5",
        datasets=expand(f"{RESULTS}/{{protein}}/cg/dataset.h5", protein=PROTEINS),
    output:
        ckpt=f"{RESULTS}/{MULTI}/model/model.ckpt",
        metrics=f"{RESULTS}/{MULTI}/model/metrics.csv",
        curve=f"{RESULTS}/{MULTI}/model/learning_curve.png",
        test=f"{RESULTS}/{MULTI}/model/test.json",
    log:
        "logs/train_multi/multi.log",
    benchmark:
        "logs/benchmarks/train_multi/multi.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 4
    resources:
        mem_mb=TRAIN.mem_mb,
        runtime=TRAIN.runtime,
        gpu=TRAIN.gpus(),
    params:
        kind="multi",
        settings=cgconfig.result_settings(config, "train"),
        proteins=PROTEINS,
    script:
        "../scripts/train.py"
