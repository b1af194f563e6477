"""Rule cg_sim: simulate one protein with one model; write traj.xtc, frames.csv, log.csv."""

from cgthermo.rulelog import rule_logging

# the guard: worker processes (spawned on CPUs) import this file again as __mp_main__
if __name__ == "__main__":
    # earlier attempts' lines come from the record in the work folder (Snakemake empties the log)
    with rule_logging(snakemake, append=True, torch_threads=True):
        from cgthermo.cgsim.stage import cg_sim

        cg_sim(snakemake)
