"""Rules train and train_multi: train an NNP on delta forces with torchmd-net."""

from cgthermo.rulelog import rule_logging

# torchmd-net, Lightning and warp print to stdout/stderr: rule_logging sends all of it to the log
with rule_logging(snakemake, append=True, torch_threads=True):
    from cgthermo.train.stage import train

    train(snakemake)
