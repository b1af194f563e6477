# Analysis: TICA/MSM of the all-atom Cα data once per protein (analysis_reference), then
# every CG model projected on that fit and compared on the same free-energy grid (analysis).


rule analysis_reference:
    input:
        unpack(ANALYSIS.reference_inputs),
    output:
        npz=paths.reference(RESULTS, "{protein}"),
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
        unpack(ANALYSIS.converged),
        reference=rules.analysis_reference.output.npz,
        topology=paths.cg_topology(RESULTS, "{protein}"),
        traj=paths.cg_run(RESULTS, "{protein}", "{model}", "traj.xtc"),
        frames=paths.cg_run(RESULTS, "{protein}", "{model}", "frames.csv"),
        run=paths.cg_run(RESULTS, "{protein}", "{model}", "run.json"),
        dataset=paths.dataset(RESULTS, "{protein}"),
    output:
        metrics=paths.model_analysis(RESULTS, "{protein}", "{model}", "metrics.json"),
        resamples=paths.model_analysis(RESULTS, "{protein}", "{model}", "resamples.npz"),
        fes=report(
            paths.model_analysis(RESULTS, "{protein}", "{model}", "fes.png"),
            caption="../report/fes.rst",
            category="Free-energy surfaces",
            subcategory="{protein}",
            labels={"protein": "{protein}", "model": "{model}"},
        ),
        tica_1d=report(
            paths.model_analysis(RESULTS, "{protein}", "{model}", "tica_1d.png"),
            caption="../report/tica_1d.rst",
            category="Free energy along TIC 1",
            subcategory="{protein}",
            labels={"protein": "{protein}", "model": "{model}"},
        ),
        rmsd=report(
            paths.model_analysis(RESULTS, "{protein}", "{model}", "rmsd.png"),
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
        runtime=ANALYSIS.model_runtime,
    params:
        settings=cgconfig.result_settings(config, "analysis", seeded=False),
        seed=ANALYSIS.bootstrap_seed,
        held_out=ANALYSIS.held_out,
        networks=config["train"]["networks"],
    script:
        "../scripts/analysis.py"


rule meanforce:
    input:
        unpack(ANALYSIS.meanforce_inputs),
    output:
        forces=paths.model_analysis(RESULTS, "{protein}", "{model}", "meanforce.csv"),
        pmf=paths.model_analysis(RESULTS, "{protein}", "{model}", "pmf.csv"),
        summary=paths.model_analysis(RESULTS, "{protein}", "{model}", "meanforce.json"),
        figure=report(
            paths.model_analysis(RESULTS, "{protein}", "{model}", "meanforce.png"),
            caption="../report/meanforce.rst",
            category="Mean forces",
            subcategory="{protein}",
            labels={"protein": "{protein}", "model": "{model}"},
        ),
    log:
        "logs/meanforce/{protein}.{model}.log",
    benchmark:
        "logs/benchmarks/meanforce/{protein}.{model}.tsv"
    conda:
        "../../envs/cgsim.yaml"
    threads: 1
    resources:
        mem_mb=ANALYSIS.meanforce_mem_mb,
        runtime=ANALYSIS.model_runtime,
    params:
        settings=cgconfig.result_settings(config, "analysis", seeded=False),
        seed=ANALYSIS.bootstrap_seed,
        held_out=ANALYSIS.held_out,
    script:
        "../scripts/meanforce.py"


rule reference_structures:
    input:
        reference=rules.analysis_reference.output.npz,
        topology=paths.cg_topology(RESULTS, "{protein}"),
        dataset=paths.dataset(RESULTS, "{protein}"),
    output:
        pdb=paths.reference_structures(RESULTS, "{protein}", "states.pdb"),
        json=paths.reference_structures(RESULTS, "{protein}", "states.json"),
        dssp=paths.reference_structures(RESULTS, "{protein}", "dssp.npz"),
    log:
        "logs/reference_structures/{protein}.log",
    benchmark:
        "logs/benchmarks/reference_structures/{protein}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=ANALYSIS.model_mem_mb,
        runtime=ANALYSIS.model_runtime,
    params:
        settings=cgconfig.result_settings(config, "analysis", seeded=False),
        forcefield=ANALYSIS.forcefield,
    script:
        "../scripts/reference_structures.py"


rule backmap:
    input:
        reference=rules.analysis_reference.output.npz,
        reference_dssp=rules.reference_structures.output.dssp,
        topology=paths.cg_topology(RESULTS, "{protein}"),
        traj=paths.cg_run(RESULTS, "{protein}", "{model}", "traj.xtc"),
        frames=paths.cg_run(RESULTS, "{protein}", "{model}", "frames.csv"),
        run=paths.cg_run(RESULTS, "{protein}", "{model}", "run.json"),
    output:
        pdb=paths.model_analysis(RESULTS, "{protein}", "{model}", "backmapped.pdb"),
        json=paths.model_analysis(RESULTS, "{protein}", "{model}", "backmapped.json"),
        states_pdb=paths.model_analysis(RESULTS, "{protein}", "{model}", "states.pdb"),
        structures=paths.model_analysis(RESULTS, "{protein}", "{model}", "structures.json"),
        dssp_png=report(
            paths.model_analysis(RESULTS, "{protein}", "{model}", "dssp.png"),
            caption="../report/dssp.rst",
            category="Secondary structure",
            subcategory="{protein}",
            labels={"protein": "{protein}", "model": "{model}"},
        ),
    log:
        "logs/backmap/{protein}.{model}.log",
    benchmark:
        "logs/benchmarks/backmap/{protein}.{model}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=ANALYSIS.model_mem_mb,
        runtime=ANALYSIS.model_runtime,
    params:
        settings=cgconfig.result_settings(config, "analysis", seeded=False),
        forcefield=ANALYSIS.forcefield,
        seed=ANALYSIS.bootstrap_seed,
    script:
        "../scripts/backmap.py"
