"""Rule entry point of `analysis_reference`: all-atom Cα data → reference.npz, msm_its.png."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: SIM115 — lives as long as the job
logging.basicConfig(
    stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", force=True
)

from cgthermo.analysis.reference import build_reference, write_reference  # noqa: E402
from cgthermo.errors import CgthermoError  # noqa: E402

try:
    arrays = build_reference(
        snakemake.input.dataset,
        snakemake.input.topology,
        snakemake.wildcards.protein,
        snakemake.params.settings,
        snakemake.params.temperature,
        native_path=snakemake.input.get("native"),
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
    write_reference(arrays, snakemake.output.npz, snakemake.output.its)
except CgthermoError as err:
    logging.getLogger("cgthermo").error("%s", err)
    sys.exit(f"cgthermo: {err}")
