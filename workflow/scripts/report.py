"""Rule entry point of `report`: summary.csv and the analysis figures → results/report.html."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: SIM115 — lives as long as the job
logging.basicConfig(
    stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", force=True
)

from cgthermo.analysis.report import write_report  # noqa: E402
from cgthermo.errors import CgthermoError  # noqa: E402

try:
    write_report(
        snakemake.input.summary,
        list(snakemake.input.figures),
        snakemake.params.proteins,
        snakemake.params.models,
        snakemake.output[0],
    )
except CgthermoError as err:
    logging.getLogger("cgthermo").error("%s", err)
    sys.exit(f"cgthermo: {err}")
