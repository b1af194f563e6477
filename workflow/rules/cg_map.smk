# Cα mapping: the all-atom replicas (or a protein's imported data) become the CG
# force-matching dataset `cg/dataset.h5` and a Cα-only `cg/topology.pdb`.


rule cg_map:
    input:
        unpack(CGMAP.inputs),
    output:
        dataset=paths.dataset(RESULTS, "{protein}"),
        topology=paths.cg_topology(RESULTS, "{protein}"),
    log:
        "logs/cg_map/{protein}.log",
    benchmark:
        "logs/benchmarks/cg_map/{protein}.tsv"
    conda:
        "../../envs/cg.yaml"
    threads: 1
    resources:
        mem_mb=CGMAP.mem_mb,
        runtime=CGMAP.runtime,
    params:
        settings=cgconfig.result_settings(config, "cg_map", seeded=False),
        source=CGMAP.source,
    script:
        "../scripts/cg_map.py"
