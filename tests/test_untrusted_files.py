"""A checkpoint or journal is data: loading one never imports or calls anything it names.

The exploit these tests replay: a file whose ``ProductSpace`` names ``subprocess:Popen`` as
its validity rule, with parameter names ``["touch", <path>]``. A loader that imported the
rule and checked a member with it would run ``touch <path>``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nasopt
from nasopt.persist.journal import load_journal
from nasopt.spaces import ProductSpace, space_from_config


def no_even(arch: dict) -> bool:
    """An importable validity rule (this module's), for the trusted path."""
    return arch["a"] % 2 == 1


def _exploit_space(target: Path) -> ProductSpace:
    return ProductSpace({"touch": [0], str(target): [0]}, valid=no_even_names)


def no_even_names(arch: dict) -> bool:
    return True


def _plant_popen(config: dict) -> dict:
    assert config["valid"] == f"{__name__}:no_even_names"
    return {**config, "valid": "subprocess:Popen"}


def _exploit_checkpoint(tmp_path: Path) -> tuple[Path, Path]:
    target = tmp_path / "pwned"
    opt = nasopt.create("random", _exploit_space(target), seed=0)
    opt.tell(opt.ask(), 1.0)
    path = tmp_path / "run.json"
    opt.save(path)
    data = json.loads(path.read_text())
    data["space"] = _plant_popen(data["space"])
    path.write_text(json.dumps(data))
    return path, target


def _exploit_journal(tmp_path: Path) -> tuple[Path, Path]:
    target = tmp_path / "pwned"
    path = tmp_path / "run.jsonl"
    with nasopt.create("random", _exploit_space(target), seed=0, journal=path) as opt:
        opt.tell(opt.ask(), 1.0)
    header, *rest = path.read_text().splitlines(keepends=True)
    head = json.loads(header)
    head["space"] = _plant_popen(head["space"])
    path.write_text(json.dumps(head) + "\n" + "".join(rest))
    return path, target


@pytest.mark.parametrize("make", [_exploit_checkpoint, _exploit_journal], ids=["checkpoint", "journal"])
def test_loading_a_file_that_names_a_rule_runs_no_code(tmp_path, make):
    path, target = make(tmp_path)
    with pytest.raises(nasopt.CheckpointError, match=r"subprocess:Popen.*runs no code.*space="):
        nasopt.load(path)
    assert not target.exists(), "loading the file ran the command it names"


def test_reopening_a_journal_detached_runs_no_code(tmp_path):
    path, target = _exploit_journal(tmp_path)
    with pytest.raises(nasopt.CheckpointError, match="runs no code"):
        load_journal(path, attach=False)
    assert not target.exists()


@pytest.mark.parametrize("make", [_exploit_checkpoint, _exploit_journal], ids=["checkpoint", "journal"])
def test_the_rule_comes_from_the_space_the_caller_passes(tmp_path, make):
    path, target = make(tmp_path)
    # the file's space config must match the caller's space, rule name included
    space = _exploit_space(target)
    with pytest.raises(nasopt.CheckpointError, match="written for space"):
        nasopt.load(path, space=space)
    assert not target.exists()


def test_a_rule_named_in_a_file_is_refused_without_trust():
    config = ProductSpace({"a": [1, 2, 3]}, valid=no_even).config()
    with pytest.raises(nasopt.ConfigurationError, match="runs no code"):
        space_from_config(config)
    assert space_from_config(config, trusted=True) == ProductSpace({"a": [1, 2, 3]}, valid=no_even)


def test_trusted_load_imports_the_named_rule(tmp_path):
    space = ProductSpace({"a": [1, 2, 3, 4, 5]}, valid=no_even)
    opt = nasopt.create("random", space, seed=0)
    for t in opt.ask(3):
        opt.tell(t, float(t.arch["a"]))
    opt.save(tmp_path / "run.json")
    again = nasopt.load(tmp_path / "run.json", trusted=True)
    assert again.space.valid is no_even
    assert again.best == opt.best
    assert nasopt.load(tmp_path / "run.json", space=space).best == opt.best


def test_a_trusted_rule_that_cannot_be_imported_is_a_clear_error(tmp_path):
    config = {**ProductSpace({"a": [1, 2]}, valid=no_even).config(), "valid": "no_such_module_xyz:rule"}
    with pytest.raises(nasopt.ConfigurationError, match="cannot import the validity rule 'no_such_module_xyz:rule'"):
        space_from_config(config, trusted=True)


def test_a_lambda_rule_is_not_reported_as_corruption(tmp_path):
    space = ProductSpace({"a": [1, 2, 3]}, valid=lambda arch: arch["a"] != 2)
    opt = nasopt.create("random", space, seed=0)
    opt.tell(opt.ask(), 1.0)
    opt.save(tmp_path / "run.json")
    with pytest.raises(nasopt.CheckpointError) as info:
        nasopt.load(tmp_path / "run.json")
    assert "corrupted" not in str(info.value)
    assert "cannot be restored" in str(info.value) and "space=" in str(info.value)
