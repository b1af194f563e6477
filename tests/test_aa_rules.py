"""What the all-atom rules request from Snakemake, and how their scripts report user errors."""

import logging
from types import SimpleNamespace

import pytest

from cgthermo import config as cgconfig
from cgthermo.aa.rules import AaRules
from cgthermo.errors import CgthermoError
from cgthermo.rulelog import rule_logging


def rules(sequence="KAAWAE", **aa) -> AaRules:
    cfg = cgconfig.validate({"proteins": [{"name": "p", "sequence": sequence}], "aa": aa})
    return AaRules(cfg)


def job(protein="p", replica="0"):
    return SimpleNamespace(protein=protein, replica=replica)


def test_where_a_job_runs_does_not_rerun_it():
    cpu, gpu = rules(platform="CPU", threads=1), rules(platform="CUDA", threads=8)
    for name in ("prepare_params", "unfold_params", "md_params"):
        assert getattr(cpu, name)(job()) == getattr(gpu, name)(job())
    assert cpu.gpu(job()) == 0 and gpu.gpu(job()) == 1


def test_science_settings_do_rerun_the_jobs_that_use_them():
    base, longer, hotter = rules(), rules(length_ns=20.0), rules(unfold_temperature=800.0)
    assert base.md_params(job()) != longer.md_params(job())
    assert base.prepare_params(job()) == longer.prepare_params(job())
    assert base.unfold_params(job()) != hotter.unfold_params(job())
    assert base.md_seed(job(replica="0")) != base.md_seed(job(replica="1"))
    assert base.md_seed(job()) != base.unfold_seed(job())


def test_runtime_request_grows_with_length():
    minutes = [int(rules(length_ns=ns).md_runtime(job()).rstrip("m")) for ns in (1, 10, 100)]
    assert minutes[0] < minutes[1] < minutes[2]
    # 10 ns of implicit solvent on a CPU at the assumed 20 ns/day, with 50 % margin
    assert minutes[1] == pytest.approx(10 + 1.5 * 10.0 / 20.0 * 1440, abs=2)


@pytest.mark.parametrize("solvent, exponent", [("implicit", 2), ("explicit", 1)])
def test_runtime_request_grows_with_the_protein(solvent, exponent):
    """Generalized Born without a cutoff costs ∝ residues², PME in a padded box ∝ residues:
    a 200-residue protein asks for 20^exponent times the MD time of a 10-residue one."""
    def md_minutes(sequence):
        return int(rules(sequence, solvent=solvent).md_runtime(job()).rstrip("m")) - 10

    small, large = md_minutes("YYDPETGTWY"), md_minutes("YYDPETGTWY" * 20)
    assert large / small == pytest.approx(20.0**exponent, rel=1e-3)
    assert md_minutes("KAAWAE") == small  # below the reference size: never less
    assert rules("YYDPETGTWY" * 50).prepare_runtime(job()) == "150m"


def test_script_errors_end_the_job_with_one_logged_line(tmp_path, capfd):
    log = tmp_path / "rule.log"
    with pytest.raises(SystemExit) as exit_info:
        with rule_logging(SimpleNamespace(log=[str(log)])):
            logging.getLogger("cgthermo.test").info("started")
            raise CgthermoError("input x is bad", "give a good x")
    assert exit_info.value.code == 1
    lines = log.read_text().splitlines()
    assert "started" in lines[0] and lines[-1].endswith("input x is bad. Fix: give a good x")
    assert capfd.readouterr().err.strip() == "cgthermo: input x is bad. Fix: give a good x"
