"""Rule entry point of `cg_sim`: simulate one protein with one model; write traj.xtc, frames.csv, log.csv."""

import logging
import os
import sys
from pathlib import Path


def send_output_to_log(path):
    """torchmd, torchmd-net and warp print to stdout/stderr: all of it goes to the rule's log."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", force=True)


send_output_to_log(snakemake.log[0])

import torch  # noqa: E402

from cgthermo.cgsim import SimInputs, SimOutputs, SimSettings, simulate  # noqa: E402
from cgthermo.errors import CgthermoError  # noqa: E402

torch.set_num_threads(snakemake.threads)
protein, model = snakemake.wildcards.protein, snakemake.wildcards.model
inputs = SimInputs(
    protein=protein,
    dataset_h5=Path(snakemake.input.dataset),
    topology_pdb=Path(snakemake.input.topology),
    prior_yaml=Path(snakemake.input.prior),
    checkpoint=Path(snakemake.input.checkpoint) if "checkpoint" in snakemake.input.keys() else None,
)
outputs = SimOutputs(
    traj_xtc=Path(snakemake.output.traj),
    frames_csv=Path(snakemake.output.frames),
    log_csv=Path(snakemake.output.log),
)
try:
    simulate(
        inputs,
        SimSettings.from_config(snakemake.config, protein, model),
        outputs,
        snakemake.params.work,
        label=f"{protein}/{model}",
    )
except CgthermoError as err:
    logging.getLogger("cgthermo").error("%s", err)
    sys.exit(f"cgthermo: {err}")
