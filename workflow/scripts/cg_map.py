"""Rule entry point of `cg_map`: all-atom replicas or imported data → cg/dataset.h5, cg/topology.pdb."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: SIM115 — lives as long as the job
logging.basicConfig(
    stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", force=True
)

from cgthermo.cg.stage import run_cg_map  # noqa: E402
from cgthermo.errors import CgthermoError  # noqa: E402


def as_list(files):
    return [files] if isinstance(files, str) else list(files)


try:
    run_cg_map(
        snakemake.config,
        snakemake.wildcards.protein,
        as_list(snakemake.input.get("md", [])),
        snakemake.input.get("system"),
        snakemake.output.dataset,
        snakemake.output.topology,
    )
except CgthermoError as err:
    logging.getLogger("cgthermo").error("%s", err)
    sys.exit(f"cgthermo: {err}")
