"""Entry point of the adaptive_choice rule."""

from .. import config as cgconfig


def adaptive_choice(job) -> None:
    from .choice import choose_epoch, write_choice

    aa = cgconfig.aa_settings(job.config, job.wildcards.protein)
    choice = choose_epoch(list(job.input.trajectories), int(job.wildcards.epoch), aa["adaptive"],
                          job.params.seed)  # fmt: skip
    write_choice(choice, job.output[0])
