# Config validation, wildcard constraints, paths and input functions shared by all stages.
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))  # works without `pip install -e .` too
import cgthermo.config as cgconfig
import cgthermo.paths as paths
import cgthermo.predict.entries as cgpredict
from cgthermo.errors import CgthermoError
from cgthermo.preflight import check_config
from cgthermo.aa.rules import AaRules
from cgthermo.adaptive.rules import AdaptiveRules
from cgthermo.analysis.rules import AnalysisRules
from cgthermo.cgmap.rules import CgMapRules
from cgthermo.cgsim.rules import CgSimRules
from cgthermo.predict.rules import PredictRules
from cgthermo.prior.rules import PriorRules
from cgthermo.train.rules import TrainRules

# The one validation pass: the schema (every problem at once, defaults filled in) and the
# content of sequences, structure files and imported arrays, before any job (docs/inputs.md).
try:
    config.update(check_config(config, workflow.basedir))
except CgthermoError as err:
    raise WorkflowError(f"cgthermo: {err}") from None

# Jobs (local, conda or SLURM) import the package from this checkout, whatever env runs them.
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(None, [str(Path(workflow.basedir) / "src"), os.environ.get("PYTHONPATH")])
    )
)

RESULTS = config["results"]
PROTEINS = cgconfig.protein_names(config)
MODELS = config["models"]
MULTI = cgconfig.MULTI
LOO = cgconfig.LOO

# every rule file's input, params and resource functions, made here so the rule files
# depend on this file alone and can be included in any order
AA = AaRules(config)
ADAPTIVE = AdaptiveRules(config)
ANALYSIS = AnalysisRules(config)
CGMAP = CgMapRules(config)
CGSIM = CgSimRules(config)
PREDICT = PredictRules(config)
PRIOR = PriorRules(config)
TRAIN = TrainRules(config)


wildcard_constraints:
    protein="|".join(PROTEINS),
    prediction="|".join(name for name in cgpredict.names(config)) or "(?!x)x",
    model="|".join(cgconfig.model_names()),
    group=cgconfig.group_pattern(config),
    replica=r"\d+",
    epoch=r"\d+",
    draw=r"[1-9]\d*",


def all_targets():
    targets = [f"{RESULTS}/summary.csv", f"{RESULTS}/report.html"]
    if cgpredict.names(config):
        targets.append(f"{RESULTS}/predictions.csv")
    return targets
