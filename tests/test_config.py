"""Config schema, units and residue tables: the foundation every stage reads."""

import numpy as np
import pytest
import yaml

from cgthermo import config as cgconfig
from cgthermo import units
from cgthermo.errors import CgthermoError
from cgthermo.io import atomic_path
from cgthermo.residues import BEAD_TYPE, parse_sequence


def minimal(**extra):
    return {"proteins": [{"name": "cln", "sequence": "YYDPETGTWY", **extra}]}


def test_defaults_filled_from_schema():
    cfg = cgconfig.validate(minimal())
    assert cfg["aa"]["timestep_fs"] == 4.0
    assert cfg["train"]["embedding_dimension"] == 128
    assert cfg["cgsim"]["replicas"] == 32
    assert cfg["proteins"][0]["temperature"] == 300


@pytest.mark.parametrize(
    "bad, key",
    [
        ({"aa": {"timestep_fs": -1}}, "aa.timestep_fs"),
        ({"aa": {"platform": "Metal"}}, "aa.platform"),
        ({"cgsim": {"replicas": "many"}}, "cgsim.replicas"),
        ({"bogus": 1}, "(top level)"),
    ],
)
def test_schema_error_names_the_key(bad, key):
    with pytest.raises(CgthermoError) as err:
        cgconfig.validate({**minimal(), **bad})
    message = str(err.value)
    assert f"'{key}'" in message and "\n" not in message


def test_protein_needs_exactly_one_source():
    with pytest.raises(CgthermoError, match="proteins.x. gives none of sequence, pdb, import"):
        cgconfig.validate({"proteins": [{"name": "x"}]})


def test_per_protein_aa_override():
    cfg = cgconfig.validate(minimal(aa={"replicas": 7}))
    assert cgconfig.aa_settings(cfg, "cln")["replicas"] == 7
    assert cfg["aa"]["replicas"] != 7


def test_shipped_configs_validate(repo_root):
    for name in ("config.yaml", "test.yaml"):
        with open(repo_root / "config" / name) as fh:
            cgconfig.validate(yaml.safe_load(fh))


def test_derived_seeds_differ_and_repeat():
    import zlib

    from cgthermo import seeds

    assert seeds.unfold(7, "cln", 0) == seeds.unfold(7, "cln", 0)
    assert len({seeds.unfold(7, "cln", 0), seeds.unfold(7, "cln", 1), seeds.unfold(8, "cln", 0),
                seeds.aa_md(7, "cln", 0), seeds.unfold(7, "pep", 0)}) == 5
    # the derivation every artifact so far was drawn with: master × 1000003 + crc32(key)
    key = zlib.crc32(b"cg_sim/pep/specific")
    assert seeds.cg_sim(7, "pep", "specific") == (7 * 1_000_003 + key) % (2**31 - 1)
    # a prediction from its parent's starts draws its parent's noise (the same function)
    assert seeds.prediction_sim(7, "pep") != seeds.cg_sim(7, "pep", "multi")
    # train.draw 0 keeps the training every earlier run drew; each later draw is another
    train = zlib.crc32(b"train/pep")
    assert seeds.training(7, "pep", 0) == (7 * 1_000_003 + train) % (2**31 - 1)
    assert len({seeds.training(7, "pep", d) for d in range(4)}) == 4


def test_unit_conversions_are_exact():
    assert units.kj_per_mol_nm_to_kcal_per_mol_angstrom(41.84) == pytest.approx(1.0)
    assert units.nm_to_angstrom(0.38) == pytest.approx(3.8)
    # kB T at 300 K is the textbook 0.596 kcal/mol
    assert units.kT_kcal(300) == pytest.approx(0.5962, abs=1e-4)
    assert units.KB_KJ_PER_MOL_K == pytest.approx(0.0083144626, rel=1e-6)


def test_sequence_parsing_and_bead_types():
    names = parse_sequence("YYDPETGTWY")
    assert names[:3] == ["TYR", "TYR", "ASP"] and len(names) == 10
    assert [BEAD_TYPE[n] for n in names] == [4, 4, 5, 8, 6, 13, 2, 13, 7, 4]
    with pytest.raises(CgthermoError, match="'B' at position 3"):
        parse_sequence("AAB")
    with pytest.raises(CgthermoError, match="NLE.*substitute"):
        parse_sequence("LW(NLE)QQ")


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.npy"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            np.save(tmp, np.zeros(3))
            raise RuntimeError("interrupted")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with atomic_path(target) as tmp:
        np.save(tmp, np.ones(3))
    assert np.load(target).sum() == 3


def test_result_settings_leave_out_where_a_job_runs_and_ignore_key_order():
    cfg = cgconfig.validate({**minimal(), "cgsim": {"device": "cpu", "steps": 50}})
    other = cgconfig.validate({**minimal(), "cgsim": {"steps": 50, "device": "cuda"}})
    other["cgsim"] = dict(reversed(list(other["cgsim"].items())))
    settings = cgconfig.result_settings(cfg, "cgsim")
    assert "device" not in settings and settings["steps"] == 50
    assert settings["seed"] == cfg["seed"]
    assert repr(settings) == repr(cgconfig.result_settings(other, "cgsim"))
    assert "seed" not in cgconfig.result_settings(cfg, "prior", seeded=False)
