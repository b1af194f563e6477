"""The cg_map stage: all-atom replicas (or imported data) → cg/dataset.h5 and cg/topology.pdb."""

import logging

from ..cgtopology import write_ca_pdb
from .dataset import write_dataset
from .importer import import_protein
from .mapping import map_aa_protein
from .rules import map_source

log = logging.getLogger(__name__)


def run_cg_map(
    config: dict, protein: str, md_files, system_xml, dataset_path, topology_path
) -> None:
    """map_protein with the settings and source a config gives."""
    map_protein(protein, map_source(config, protein), config["cg_map"], md_files, system_xml,
                dataset_path, topology_path)  # fmt: skip


def map_protein(protein: str, source: dict, settings: dict, md_files, system_xml, dataset_path,
                topology_path) -> None:  # fmt: skip
    """The dataset and topology of one protein from its all-atom runs or imported data."""
    entry = {"name": protein, **source}
    if "import" in entry:
        data = import_protein(
            protein,
            entry["import"],
            entry["temperature"],
            settings["force_map"],
            settings["max_bond"],
        )
        log.info("%s: imported data record no all-atom speed, so the dataset has no "
                 "aa_ns_per_day_per_core", protein)  # fmt: skip
    else:
        data = map_aa_protein(
            protein, list(md_files), system_xml, settings["force_map"], settings["max_bond"]
        )
        if abs(data.temperature - float(entry["temperature"])) > 1e-6:
            log.warning(
                "%s: all-atom runs were at %.1f K, the config says %.1f K; the dataset keeps %.1f K",
                protein,
                data.temperature,
                entry["temperature"],
                data.temperature,
            )
    write_dataset(dataset_path, [data])
    write_ca_pdb(topology_path, data.resnames, data.pos[0])
    log.info(
        "%s: wrote %d frames × %d beads to %s",
        protein,
        data.frames,
        len(data.resnames),
        dataset_path,
    )


def cg_map(job) -> None:
    """Entry point of the cg_map rule (`job`: the rule script's Snakemake object)."""
    md = job.input.get("md", [])
    map_protein(
        job.wildcards.protein,
        job.params.source,
        job.params.settings,
        [md] if isinstance(md, str) else list(md),
        job.input.get("system"),
        job.output.dataset,
        job.output.topology,
    )
