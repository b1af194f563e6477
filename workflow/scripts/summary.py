"""Rule entry point of `summary`: every metrics.json → results/summary.csv."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: SIM115 — lives as long as the job
logging.basicConfig(
    stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", force=True
)

from cgthermo.analysis.summary import write_summary  # noqa: E402
from cgthermo.errors import CgthermoError  # noqa: E402

try:
    table = write_summary(list(snakemake.input), snakemake.output[0])
    logging.getLogger("cgthermo").info("summary of %d protein × model rows", len(table))
except CgthermoError as err:
    logging.getLogger("cgthermo").error("%s", err)
    sys.exit(f"cgthermo: {err}")
