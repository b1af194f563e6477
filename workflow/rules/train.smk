# NNP training with torchmd-net on delta forces: one model per protein (`train`) and
# one per multi-protein group (`train_multi`: `multi`, all proteins; `multi_loo/{protein}`,
# all but one). Checkpoints for resuming live in a
# `work/` folder beside the outputs; a rerun with the same settings continues there.
# With train.noise.sigmas set, the network trains on forces + noise labels instead
# (`noise_labels`, `noise_labels_multi`: their own cached step, so a new σ reruns from there).
# With train.networks > 1, `train_draw` and `train_multi_draw` train network 1, 2, … of the
# same data under their own seeds, beside the first (`draw{draw}/`).


rule noise_labels:
    input:
        datasets=paths.dataset(RESULTS, "{protein}"),
        prior=paths.prior(RESULTS, "{protein}"),
    output:
        labels=paths.noise_labels(RESULTS, "{protein}"),
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
        datasets=PRIOR.group_datasets,
        prior=paths.prior(RESULTS, "{group}"),
    output:
        labels=paths.noise_labels(RESULTS, "{group}"),
    log:
        "logs/noise_labels_multi/{group}.log",
    benchmark:
        "logs/benchmarks/noise_labels_multi/{group}.tsv"
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
        delta=paths.delta(RESULTS, "{protein}"),
        datasets=paths.dataset(RESULTS, "{protein}"),
    output:
        ckpt=paths.specific_model(RESULTS, "{protein}", "model.ckpt"),
        metrics=paths.specific_model(RESULTS, "{protein}", "metrics.csv"),
        curve=paths.specific_model(RESULTS, "{protein}", "learning_curve.png"),
        test=paths.specific_model(RESULTS, "{protein}", "test.json"),
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
        delta=paths.delta(RESULTS, "{group}"),
        datasets=PRIOR.group_datasets,
    output:
        ckpt=paths.group_model(RESULTS, "{group}", "model.ckpt"),
        metrics=paths.group_model(RESULTS, "{group}", "metrics.csv"),
        curve=paths.group_model(RESULTS, "{group}", "learning_curve.png"),
        test=paths.group_model(RESULTS, "{group}", "test.json"),
    log:
        "logs/train_multi/{group}.log",
    benchmark:
        "logs/benchmarks/train_multi/{group}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 4
    resources:
        mem_mb=TRAIN.mem_mb,
        runtime=TRAIN.runtime,
        gpu=TRAIN.gpus(),
    params:
        kind=TRAIN.group_kind,
        settings=cgconfig.result_settings(config, "train"),
        proteins=PRIOR.group_proteins,
    script:
        "../scripts/train.py"


use rule train as train_draw with:
    output:
        ckpt=paths.specific_model(RESULTS, "{protein}", "draw{draw}/model.ckpt"),
        metrics=paths.specific_model(RESULTS, "{protein}", "draw{draw}/metrics.csv"),
        curve=paths.specific_model(RESULTS, "{protein}", "draw{draw}/learning_curve.png"),
        test=paths.specific_model(RESULTS, "{protein}", "draw{draw}/test.json"),
    log:
        "logs/train_draw/{protein}.{draw}.log",
    benchmark:
        "logs/benchmarks/train_draw/{protein}.{draw}.tsv"


use rule train_multi as train_multi_draw with:
    output:
        ckpt=paths.group_model(RESULTS, "{group}", "draw{draw}/model.ckpt"),
        metrics=paths.group_model(RESULTS, "{group}", "draw{draw}/metrics.csv"),
        curve=paths.group_model(RESULTS, "{group}", "draw{draw}/learning_curve.png"),
        test=paths.group_model(RESULTS, "{group}", "draw{draw}/test.json"),
    log:
        "logs/train_multi_draw/{group}.{draw}.log",
    benchmark:
        "logs/benchmarks/train_multi_draw/{group}.{draw}.tsv"
