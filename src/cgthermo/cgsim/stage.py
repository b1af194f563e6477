"""Entry point of the cg_sim rule."""

from pathlib import Path


def cg_sim(job) -> None:
    """Simulate one protein with one model (`job`: the rule script's Snakemake object)."""
    from .run import simulate
    from .settings import SimInputs, SimOutputs, SimSettings, placement

    protein, model = job.wildcards.protein, job.wildcards.model
    checkpoint = job.input.get("checkpoint")
    inputs = SimInputs(
        protein=protein,
        dataset_h5=Path(job.input.dataset),
        topology_pdb=Path(job.input.topology),
        prior_yaml=Path(job.input.prior),
        checkpoint=Path(checkpoint) if checkpoint else None,
        draws=tuple(Path(path) for path in job.input.get("draws", [])),
    )
    outputs = SimOutputs(
        traj_xtc=Path(job.output.traj),
        frames_csv=Path(job.output.frames),
        log_csv=Path(job.output.log),
        run_json=Path(job.output.run),
    )
    simulate(
        inputs,
        SimSettings.from_params(job.params.settings, job.params.temperature, protein, model,
                                placement(job.config)),
        outputs,
        job.params.work,
        label=f"{protein}/{model}",
        workers=job.threads,
    )
