"""Rule entry point of `cg_sim`: simulate one protein with one model; write traj.xtc, frames.csv, log.csv."""

from pathlib import Path

from cgthermo.rulelog import rule_logging

# the guard: worker processes (spawned on CPUs) import this file again as __mp_main__
if __name__ == "__main__":
    # earlier attempts' lines come from the record in the work folder (Snakemake empties the log)
    with rule_logging(snakemake, append=True, torch_threads=True):
        from cgthermo.cgsim import SimInputs, SimOutputs, SimSettings, simulate

        protein, model = snakemake.wildcards.protein, snakemake.wildcards.model
        checkpoint = snakemake.input.get("checkpoint")
        inputs = SimInputs(
            protein=protein,
            dataset_h5=Path(snakemake.input.dataset),
            topology_pdb=Path(snakemake.input.topology),
            prior_yaml=Path(snakemake.input.prior),
            checkpoint=Path(checkpoint) if checkpoint else None,
        )
        outputs = SimOutputs(
            traj_xtc=Path(snakemake.output.traj),
            frames_csv=Path(snakemake.output.frames),
            log_csv=Path(snakemake.output.log),
        )
        simulate(
            inputs,
            SimSettings.from_config(snakemake.config, protein, model),
            outputs,
            snakemake.params.work,
            label=f"{protein}/{model}",
            workers=snakemake.threads,
        )
