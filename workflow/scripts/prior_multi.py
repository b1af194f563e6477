"""Rule entry point of `prior_multi`: one prior on all proteins; delta.h5 with a group per protein."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: SIM115 — lives as long as the job
logging.basicConfig(
    stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", force=True
)

import torch  # noqa: E402

from cgthermo.errors import CgthermoError  # noqa: E402
from cgthermo.prior.stage import run_prior  # noqa: E402

torch.set_num_threads(snakemake.threads)
datasets = snakemake.input.datasets
try:
    run_prior(
        [datasets] if isinstance(datasets, str) else list(datasets),
        snakemake.config["prior"],
        snakemake.output.prior,
        snakemake.output.fit,
        snakemake.output.delta,
    )
except CgthermoError as err:
    logging.getLogger("cgthermo").error("%s", err)
    sys.exit(f"cgthermo: {err}")
