"""A cg_sim job outside Snakemake, for tests that kill it: `python cgsim_job.py spec.json`.

The spec names the inputs, settings, outputs, work folder, workers and the log file, as the
rule would pass them; the job logs as the rule does.
"""

import json
import logging
import sys
from pathlib import Path

if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    from cgthermo.cgsim import SimInputs, SimOutputs, SimSettings, simulate
    from cgthermo.rulelog import FORMAT

    with open(spec["log"], "a", buffering=1) as log_file:
        sys.stderr = log_file
        logging.basicConfig(stream=log_file, level=logging.INFO, format=FORMAT, force=True)
        inputs = SimInputs(**{k: (Path(v) if v else None) if k != "protein" else v
                              for k, v in spec["inputs"].items()})
        outputs = SimOutputs(**{k: Path(v) for k, v in spec["outputs"].items()})
        simulate(inputs, SimSettings(**spec["settings"]), outputs, spec["work"],
                 workers=spec["workers"])
