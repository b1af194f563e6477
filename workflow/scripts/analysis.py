"""Rule entry point of `analysis`: one CG model against reference.npz → metrics.json and figures."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: SIM115 — lives as long as the job
logging.basicConfig(
    stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", force=True
)

from cgthermo.analysis.compare import run_analysis  # noqa: E402
from cgthermo.errors import CgthermoError  # noqa: E402

try:
    result = run_analysis(
        snakemake.input.reference,
        snakemake.input.traj,
        snakemake.input.frames,
        snakemake.input.topology,
        snakemake.wildcards.model,
        snakemake.params.burnin,
        dict(snakemake.output.items()),
    )
    logging.getLogger("cgthermo").info("metrics: %s", result)
except CgthermoError as err:
    logging.getLogger("cgthermo").error("%s", err)
    sys.exit(f"cgthermo: {err}")
