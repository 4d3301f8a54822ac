"""Trial records beyond the result: start / end times, duration, user attributes; the
trials as a table (``trials_dataframe``, ``to_csv``); all kept by checkpoints and journals,
and files written before these records existed still load.

``tests/data/legacy/`` holds a checkpoint and a journal written by the code of ``main``
before this change (``git archive main nasopt``), with ``PYTHONPATH`` pointing at it::

    space = ProductSpace({"depth": [2, 4, 6, 8], "width": [32, 64, 128], "act": ["relu", "gelu"]})
    opt = nasopt.create("rea", space, seed=5, population=3, tournament=2)   # (journal=... for the journal)
    for t in opt.ask(3): opt.tell(t, float(t.arch["depth"] * t.arch["width"]))
    opt.tell(opt.ask(), failed=True, error="out of memory")
    opt.tell({"depth": 8, "width": 128, "act": "gelu"}, 1024.0)            # warm start
    opt.ask(2)                                                              # left pending
    opt.save("checkpoint_v1_no_records.json")
"""

from __future__ import annotations

import csv
import json
import pickle
import shutil
import sys
import time
from datetime import timezone
from pathlib import Path

import numpy as np
import pytest

import nasopt
from nasopt.persist import journal as journal_mod
from nasopt.persist import checkpoint as persistence
from nasopt.core.errors import MissingDependencyError, TrialError
from nasopt.core.trial import Trial
from nasopt.spaces.product import ProductSpace

LEGACY = Path(__file__).parent / "data" / "legacy"
SPACE = ProductSpace({"depth": [2, 4, 6, 8], "width": [32, 64, 128], "act": ["relu", "gelu"]})


def objective(arch: dict) -> float:
    return float(arch["depth"] * arch["width"]) + (0.5 if arch["act"] == "gelu" else 0.0)


class Clock:
    """A fake ``time.time`` advancing by ``step`` seconds per call."""

    def __init__(self, start: float = 1_700_000_000.0, step: float = 1.5) -> None:
        self.now, self.step = start, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    monkeypatch.setattr(journal_mod, "FSYNC", False)


def _run(opt: nasopt.Optimizer) -> nasopt.Optimizer:
    """Complete, failed, annotated, warm-started and pending trials."""
    first = opt.ask(2)
    opt.tell(first[0], objective(first[0].arch), user_attrs={"epochs": 12, "curve": (0.5, 0.75)})
    opt.tell(first[1], failed=True, error="out of memory", user_attrs={"gpu": "a100"})
    opt.set_user_attr(first[0], "test_acc", np.float32(0.875))  # after the tell
    pending = opt.ask()
    opt.set_user_attr(pending, "node", "n3")  # before the tell
    opt.tell({"depth": 8, "width": 128, "act": "gelu"}, 1024.5)  # never asked
    opt.ask()
    return opt


# ---------------------------------------------------------------- timestamps
def test_ask_stamps_the_start_and_tell_the_end_and_duration(monkeypatch):
    monkeypatch.setattr(time, "time", Clock(step=2.0))
    opt = nasopt.create("random", SPACE, seed=0)
    a, b = opt.ask(2)
    assert a.start_time == b.start_time == 1_700_000_002.0  # one ask, one time
    assert a.end_time is None and a.duration is None
    done = opt.tell(a, 1.0)
    assert done.end_time == 1_700_000_004.0 and done.duration == 2.0
    assert done.datetime_start.tzinfo is timezone.utc
    assert done.datetime_complete.timestamp() == 1_700_000_004.0
    failed = opt.tell(b, failed=True)
    assert failed.duration == 4.0
    warm = opt.tell({"depth": 2, "width": 32, "act": "relu"}, 0.5)
    assert warm.start_time is None and warm.end_time == 1_700_000_008.0 and warm.duration is None


def test_timestamps_and_user_attrs_do_not_change_the_trajectory(monkeypatch):
    def archs(clock, annotate):
        monkeypatch.setattr(time, "time", clock)
        opt = nasopt.create("rea", SPACE, seed=4, population=4, tournament=2)
        out = []
        for _ in range(6):
            for t in opt.ask(2):
                out.append(t.arch)
                opt.tell(t, objective(t.arch), user_attrs={"i": len(out)} if annotate else None)
                if annotate:
                    opt.set_user_attr(t, "again", [len(out)])
        return out

    assert archs(Clock(step=1.0), False) == archs(Clock(start=5.0, step=1000.0), True)


def test_trial_equality_ignores_the_timestamps_and_old_constructors_still_work():
    plain = Trial(id=3, arch="x", value=1.0)  # the fields existing code passes
    assert plain.start_time is None and plain.end_time is None and dict(plain.user_attrs) == {}
    assert plain == Trial(id=3, arch="x", value=1.0, start_time=1.0, end_time=2.0)
    assert plain != Trial(id=3, arch="x", value=1.0, user_attrs={"k": 1})
    assert hash(plain) == hash(Trial(id=3, arch="x", value=1.0, user_attrs={"k": 1}))


# ---------------------------------------------------------------- user attributes
def test_user_attrs_are_stored_in_json_form_and_read_only():
    opt = _run(nasopt.create("random", SPACE, seed=1))
    t0, t1, t2, t3 = opt.trials[:4]
    assert t0.user_attrs == {"epochs": 12, "curve": [0.5, 0.75], "test_acc": 0.875}
    assert type(t0.user_attrs["test_acc"]) is float
    assert t1.is_failed and t1.user_attrs == {"gpu": "a100"}
    assert t2.is_pending and t2.user_attrs == {"node": "n3"}
    assert t3.start_time is None and dict(t3.user_attrs) == {}
    with pytest.raises(TypeError, match="read-only"):
        t0.user_attrs["epochs"] = 1
    with pytest.raises(TypeError, match="read-only"):
        t0.user_attrs.update(epochs=1)
    assert pickle.loads(pickle.dumps(t0)) == t0


def test_tell_merges_user_attrs_set_while_pending():
    opt = nasopt.create("random", SPACE, seed=1)
    t = opt.ask()
    opt.set_user_attr(t, "a", 1)
    opt.set_user_attr(t, "b", 2)
    done = opt.tell(t, 1.0, user_attrs={"b": 3, "c": None})
    assert done.user_attrs == {"a": 1, "b": 3, "c": None}


BAD_ATTRS = [
    (lambda o, t: o.set_user_attr(t, "model", object()), r"user attribute 'model' must be JSON-able"),
    (lambda o, t: o.set_user_attr(t, "loss", float("nan")),
     r"'loss' must be JSON-able.*got nan \(float\): not a finite number"),
    (lambda o, t: o.set_user_attr(t, 3, "x"), r"user attribute keys must be strings, got 3"),
    (lambda o, t: o.tell(t, 1.0, user_attrs={"w": np.ones(2), "f": print}),
     r"user attribute 'f' must be JSON-able"),
    (lambda o, t: o.tell(t, 1.0, user_attrs=[("a", 1)]), r"user_attrs must be a dict"),
    (lambda o, t: o.set_user_attr(nasopt.create("random", SPACE, seed=0).ask(), "k", 1),
     r"trial #0 was not asked by this optimizer"),
    (lambda o, t: o.set_user_attr(t.arch, "k", 1), r"expected a Trial of this optimizer, got dict"),
]


@pytest.mark.parametrize("act,message", BAD_ATTRS)
def test_bad_user_attrs_raise_a_trial_error_and_change_nothing(tmp_path, act, message):
    opt = nasopt.create("rea", SPACE, seed=2, population=3, tournament=2,
                        journal=tmp_path / "run.jsonl")
    opt.tell(opt.ask(), 1.0, user_attrs={"ok": True})
    pending = opt.ask()
    before, raw = persistence.state_dict(opt), (tmp_path / "run.jsonl").read_bytes()
    with pytest.raises(TrialError, match=message):
        act(opt, pending)
    assert persistence.state_dict(opt) == before
    assert (tmp_path / "run.jsonl").read_bytes() == raw
    assert opt.tell(pending, 2.0).is_complete  # and the trial can still be told
    opt.close()


# ---------------------------------------------------------------- persistence
def _records(opt):
    return [(t.id, t.state, t.value, t.error, t.start_time, t.end_time, dict(t.user_attrs))
            for t in opt.trials]


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_checkpoint_keeps_times_and_user_attrs(tmp_path, suffix):
    opt = _run(nasopt.create("rea", SPACE, seed=3, population=3, tournament=2))
    opt.save(tmp_path / f"run{suffix}")
    loaded = nasopt.load(tmp_path / f"run{suffix}")
    assert _records(loaded) == _records(opt)
    assert persistence.state_dict(loaded) == persistence.state_dict(opt)


def test_journal_keeps_times_and_user_attrs_across_reopen(tmp_path):
    path = tmp_path / "run.jsonl"
    opt = _run(nasopt.create("rea", SPACE, seed=3, population=3, tournament=2, journal=path))
    before = _records(opt)
    opt.close()
    again = nasopt.load(path)
    assert _records(again) == before
    again.set_user_attr(again.trials[-1], "late", {"k": [1]})  # an attr record, then reopen
    again.close()
    with nasopt.create("rea", SPACE, seed=3, population=3, tournament=2, journal=path) as third:
        assert third.trials[-1].user_attrs == {"late": {"k": [1]}}
        assert _records(third)[:-1] == before[:-1]


def test_corrupted_records_are_checkpoint_errors(tmp_path):
    opt = _run(nasopt.create("random", SPACE, seed=3))
    opt.save(tmp_path / "run.json")
    data = json.loads((tmp_path / "run.json").read_text())
    data["trials"][0]["start_time"] = "yesterday"
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(nasopt.CheckpointError, match="start_time must be a number of seconds"):
        nasopt.load(tmp_path / "bad.json")
    data["trials"][0]["start_time"] = 10**400  # beyond float range
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(nasopt.CheckpointError, match="start_time must be a number of seconds"):
        nasopt.load(tmp_path / "bad.json")
    data["trials"][0]["start_time"] = None
    data["trials"][0]["user_attrs"] = ["not", "a", "dict"]
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(nasopt.CheckpointError, match="user_attrs must be a dict"):
        nasopt.load(tmp_path / "bad.json")


def test_checkpoint_written_before_these_records_still_loads_and_continues():
    opt = nasopt.load(LEGACY / "checkpoint_v1_no_records.json")
    assert [t.state.value for t in opt.trials] == [
        "complete", "complete", "complete", "failed", "complete", "pending", "pending"]
    assert all(t.start_time is None and t.end_time is None and not t.user_attrs for t in opt.trials)
    done = opt.tell(opt.pending[0], 1.0, user_attrs={"resumed": True})
    assert done.start_time is None and done.end_time is not None and done.duration is None
    assert opt.ask().start_time is not None
    assert opt.trials_dataframe()["duration"].isna().sum() == len(opt.trials)


def test_journal_written_before_these_records_still_replays_and_appends(tmp_path):
    path = tmp_path / "run.jsonl"
    shutil.copy(LEGACY / "journal_v1_no_records.jsonl", path)
    ckpt = nasopt.load(LEGACY / "checkpoint_v1_no_records.json")  # the same run, saved
    with nasopt.load(path) as opt:
        assert [(t.id, t.arch, t.state, t.value, t.error) for t in opt.trials] == [
            (t.id, t.arch, t.state, t.value, t.error) for t in ckpt.trials]
        assert all(t.start_time is None and not t.user_attrs for t in opt.trials)
        opt.tell(opt.pending[0], 2.0, user_attrs={"resumed": True})
        opt.set_user_attr(opt.trials[0], "note", "old trial")
        before = _records(opt)
    with nasopt.load(path) as opt:  # old and new records in one file
        assert _records(opt) == before


# ---------------------------------------------------------------- tables
def test_trials_dataframe_has_one_row_per_trial_and_a_column_per_user_attr():
    opt = _run(nasopt.create("random", SPACE, seed=5))
    df = opt.trials_dataframe()
    assert list(df.columns) == [
        "id", "arch", "state", "value", "error", "datetime_start", "datetime_complete",
        "duration", "user_attrs_curve", "user_attrs_epochs", "user_attrs_gpu", "user_attrs_node",
        "user_attrs_test_acc"]
    assert df["id"].tolist() == [t.id for t in opt.trials]
    assert df["state"].tolist() == ["complete", "failed", "pending", "complete", "pending"]
    assert json.loads(df["arch"][0]) == opt.trials[0].arch
    assert df["value"][0] == opt.trials[0].value and np.isnan(df["value"][1])
    assert df["error"][1] == "out of memory"
    assert df["datetime_start"][0].timestamp() == pytest.approx(opt.trials[0].start_time)
    assert df["duration"][0] == pytest.approx(opt.trials[0].duration)
    assert df["user_attrs_curve"][0] == [0.5, 0.75] and df["user_attrs_node"][2] == "n3"
    assert str(df["datetime_complete"].dtype) .startswith("datetime64")


def test_trials_dataframe_of_an_empty_run_has_the_fixed_columns():
    df = nasopt.create("random", SPACE, seed=5).trials_dataframe()
    assert len(df) == 0 and list(df.columns)[:3] == ["id", "arch", "state"]


def test_trials_dataframe_without_pandas_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    opt = nasopt.create("random", SPACE, seed=5)
    with pytest.raises(MissingDependencyError, match=r'pip install "nasopt\[pandas\]"'):
        opt.trials_dataframe()


def test_to_csv_writes_the_same_table_without_pandas(tmp_path, monkeypatch):
    opt = _run(nasopt.create("random", SPACE, seed=5))
    frame = opt.trials_dataframe()
    monkeypatch.setitem(sys.modules, "pandas", None)
    opt.to_csv(tmp_path / "trials.csv")
    with open(tmp_path / "trials.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(frame.columns)
    assert [r["state"] for r in rows] == frame["state"].tolist()
    first = rows[0]
    assert float(first["value"]) == opt.trials[0].value
    assert json.loads(first["user_attrs_curve"]) == [0.5, 0.75]
    assert first["datetime_start"] == opt.trials[0].datetime_start.isoformat()
    assert float(first["duration"]) == opt.trials[0].duration
    assert rows[1]["value"] == "" and rows[1]["error"] == "out of memory"
    assert rows[3]["datetime_start"] == ""  # told without being asked
