# Analysis: TICA/MSM of the all-atom Cα data once per protein (analysis_reference), then
# every CG model projected on that fit and compared on the same free-energy grid (analysis).
from cgthermo.analysis.rules import AnalysisRules

ANALYSIS = AnalysisRules(config)


rule analysis_reference:
    input:
        unpack(ANALYSIS.reference_inputs),
    output:
        npz=f"{RESULTS}/{{protein}}/analysis/reference.npz",
        its=report(
            f"{RESULTS}/{{protein}}/analysis/msm_its.png",
            caption="../report/msm_its.rst",
            category="MSM implied timescales",
            labels={"protein": "{protein}"},
        ),
    log:
        "logs/analysis_reference/{protein}.log",
    benchmark:
        "logs/benchmarks/analysis_reference/{protein}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=ANALYSIS.reference_mem_mb,
        runtime=ANALYSIS.reference_runtime,
    params:
        settings=cgconfig.result_settings(config, "analysis", seeded=False),
        temperature=ANALYSIS.temperature,
        seed=ANALYSIS.seed,
    script:
        "../scripts/analysis_reference.py"


rule analysis:
    input:
        reference=rules.analysis_reference.output.npz,
        topology=f"{RESULTS}/{{protein}}/cg/topology.pdb",
        traj=f"{RESULTS}/{{protein}}/cgsim/{{model}}/traj.xtc",
        frames=f"{RESULTS}/{{protein}}/cgsim/{{model}}/frames.csv",
        run=f"{RESULTS}/{{protein}}/cgsim/{{model}}/run.json",
        dataset=f"{RESULTS}/{{protein}}/cg/dataset.h5",
    output:
        metrics=f"{RESULTS}/{{protein}}/analysis/{{model}}/metrics.json",
        resamples=f"{RESULTS}/{{protein}}/analysis/{{model}}/resamples.npz",
        fes=report(
            f"{RESULTS}/{{protein}}/analysis/{{model}}/fes.png",
            caption="../report/fes.rst",
            category="Free-energy surfaces",
            subcategory="{protein}",
            labels={"protein": "{protein}", "model": "{model}"},
        ),
        tica_1d=report(
            f"{RESULTS}/{{protein}}/analysis/{{model}}/tica_1d.png",
            caption="../report/tica_1d.rst",
            category="Free energy along TIC 1",
            subcategory="{protein}",
            labels={"protein": "{protein}", "model": "{model}"},
        ),
        rmsd=report(
            f"{RESULTS}/{{protein}}/analysis/{{model}}/rmsd.png",
            caption="../report/rmsd.rst",
            category="Structure",
            subcategory="{protein}",
            labels={"protein": "{protein}", "model": "{model}"},
        ),
    log:
        "logs/analysis/{protein}.{model}.log",
    benchmark:
        "logs/benchmarks/analysis/{protein}.{model}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=ANALYSIS.model_mem_mb,
        runtime="30m",
    params:
        settings=cgconfig.result_settings(config, "analysis", seeded=False),
        seed=ANALYSIS.bootstrap_seed,
        held_out=ANALYSIS.held_out,
    script:
        "../scripts/analysis.py"
