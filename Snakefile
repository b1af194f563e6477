# cgthermo: from a protein to a validated machine-learned coarse-grained model.
from snakemake.utils import min_version

min_version("9.20")


# The demo config is the default only: with --configfile, the named files alone make the
# config (Snakemake would otherwise merge the demo's keys into them key by key).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/aa_md.smk"
include: "workflow/rules/adaptive.smk"
include: "workflow/rules/cg_map.smk"
include: "workflow/rules/prior.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/cg_sim.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/predict.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(),
