"""Rule predict_sim: the CG simulation of one prediction (docs/predict.md)."""

from cgthermo.rulelog import rule_logging

# the guard: worker processes (spawned on CPUs) import this file again as __mp_main__
if __name__ == "__main__":
    with rule_logging(snakemake, append=True, torch_threads=True):
        from cgthermo.predict.stage import predict_sim

        predict_sim(snakemake)
