# NNP training with torchmd-net on delta forces: one model per protein (`train`) and
# one for all proteins together (`train_multi`). Checkpoints for resuming live in a
# `work/` folder beside the outputs; a rerun with the same settings continues there.
from cgthermo.train.rules import TrainRules

TRAIN = TrainRules(config)


rule train:
    input:
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
