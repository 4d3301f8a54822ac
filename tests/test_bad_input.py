"""Bad input, one case per row of the table in ``docs/reliability.md``: each raises the
documented error class with the documented message, and leaves the optimizer unchanged
(``persistence.state_dict`` before == after)."""

from __future__ import annotations

import contextlib
import errno
import gzip
import json
import os
import re
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest

import nasopt
from nasopt.persist import checkpoint as persistence
from nasopt.core.errors import (
    CheckpointError, CheckpointIOError, ConfigurationError, DataError, InvalidArchitectureError,
    PriorError, SpaceExhaustedError, TrialError,
)
from nasopt.core.trial import Trial
from nasopt.spaces import NB201Space
from nasopt.spaces.product import ProductSpace

DOC = Path(__file__).parent.parent / "docs" / "reliability.md"  # the table between the bad-input markers
A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


#: A 9-member space for the prior rows.
_PRIOR_SPACE = ProductSpace({"a": [0, 1, 2], "b": ["x", "y", "z"]})


def _prior_raises(arch: dict) -> float:
    return 1 / 0


@pytest.fixture(scope="module")
def space(nb201_space: NB201Space) -> NB201Space:
    return nb201_space


def _ctx(space: NB201Space) -> SimpleNamespace:
    """An REA run with completed, failed and pending trials, and a trial of another run."""
    opt = nasopt.create("rea", space, seed=0, population=3, tournament=2)
    done = opt.ask()
    opt.tell(done, 1.0)
    failed = opt.ask()
    opt.tell(failed, failed=True, error="out of memory")
    pending = opt.ask()
    other = nasopt.create("rea", space, seed=0, population=3, tournament=2).ask()
    return SimpleNamespace(opt=opt, done=done, failed=failed, pending=pending, other=other,
                           space=space)


def _nb101():
    from nasopt.spaces import nb101

    return nb101


def _nb101_tell(matrix, ops):
    nb101 = _nb101()
    opt = nasopt.create("random", nb101.NB101Space(), seed=0)
    opt.tell(opt.ask(), 1.0)
    before = persistence.state_dict(opt)
    try:
        opt.tell(nb101.NB101Cell(np.array(matrix, dtype=np.uint8), ops), 2.0)
    finally:
        assert persistence.state_dict(opt) == before


def _ten_edges() -> np.ndarray:
    """A 7-vertex cell, every vertex on a path, with 10 edges (the limit is 9)."""
    m = np.eye(7, k=1, dtype=np.uint8)  # the chain 0->1->...->6: 6 edges
    m[0, 2] = m[0, 3] = m[0, 4] = m[0, 5] = 1
    return m


# ---------------------------------------------------------------- bad data files
def _npz(tmp_path: Path, name: str, **arrays) -> Path:
    p = tmp_path / name
    np.savez(p, **arrays)
    return p


def _bench(path):
    from nasopt.benchmarks import NB201

    return NB201("cifar10", path=path)


def _nb201_truncated(tmp_path, data_dir):
    raw = (Path(data_dir) / "nb201.npz").read_bytes()
    p = tmp_path / "nb201.npz"
    p.write_bytes(raw[: len(raw) // 3])
    return _bench(p)


def _nb201_wrong_shape(tmp_path, data_dir):
    with np.load(Path(data_dir) / "nb201.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["cifar10_valid_valid_acc"] = arrays["cifar10_valid_valid_acc"][:100]
    return _bench(_npz(tmp_path, "nb201.npz", **arrays))


def _nb201_missing_array(tmp_path, data_dir):
    with np.load(Path(data_dir) / "nb201.npz") as z:
        arrays = {k: z[k] for k in z.files if k != "cifar10_test_acc"}
    return _bench(_npz(tmp_path, "nb201.npz", **arrays))


def _latency_file_missing(tmp_path, data_dir):
    (tmp_path / "nb201.npz").symlink_to((Path(data_dir) / "nb201.npz").resolve())
    with mock.patch.dict(os.environ, {"NASOPT_DATA": str(tmp_path)}):
        return _bench(tmp_path).latency(A, "pixel3")


# ---------------------------------------------------------------- bad checkpoints
def _checkpoint(tmp_path, space) -> tuple[Path, dict]:
    opt = nasopt.create("rea", space, seed=0, population=3, tournament=2)
    opt.tell(opt.ask(), 1.0)
    opt.ask()
    p = tmp_path / "run.ckpt"
    opt.save(p)
    return p, json.loads(p.read_text())


def _load_edited(tmp_path, space, edit, load_space=None):
    p, data = _checkpoint(tmp_path, space)
    text = edit(data) if callable(edit) else edit
    p.write_text(text if isinstance(text, str) else json.dumps(text))
    return nasopt.load(p, space=load_space)


def _set(d, key, value):
    d[key] = value
    return d


DEEP = "[" * 100_000 + "]" * 100_000  # JSON nested deeper than any parser recursion


@contextlib.contextmanager
def _read_only(directory: Path):
    """Make ``directory`` behave as read-only media: opening a file in it for writing fails
    with EROFS, as on a read-only mount (the tests run as root, which ignores file modes)."""
    real_open = os.open
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def fake_open(path, flags, *args, **kwargs):
        if flags & writing and Path(os.path.abspath(path)).parent == directory:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    with mock.patch("os.open", fake_open):
        yield


def _save_read_only(tmp_path, space):
    opt = nasopt.create("random", space, seed=0)
    opt.tell(opt.ask(), 1.0)
    with _read_only(tmp_path):
        opt.save(tmp_path / "run.ckpt")


def _journal(tmp_path, space) -> Path:
    """A closed REA journal: header, ask, tell, ask, tell, ask (6 lines)."""
    p = tmp_path / "run.jsonl"
    with nasopt.create("rea", space, seed=0, population=3, tournament=2, journal=p) as opt:
        for value in (1.0, 2.0):
            opt.tell(opt.ask(), value)
        opt.ask()
    return p


def _reopen_edited(tmp_path, space, edit):
    """Edit the lines of a journal (``edit(lines)``, bytes), then reopen it."""
    p = _journal(tmp_path, space)
    lines = p.read_bytes().split(b"\n")[:-1]
    p.write_bytes(b"\n".join(edit(lines)) + b"\n")
    return nasopt.create("rea", space, seed=0, population=3, tournament=2, journal=p)


def _edit_line(k: int, old: bytes, new: bytes):
    def edit(lines):
        assert old in lines[k], lines[k]
        lines[k] = lines[k].replace(old, new, 1)
        return lines
    return edit


def _load_journal_read_only(tmp_path, space):
    p = _journal(tmp_path, space)
    with _read_only(tmp_path):
        nasopt.load(p)


def _rule_for_a_0_or_1(arch: dict) -> bool:
    """A validity rule that only knows a in {0, 1} (raises KeyError for a=2)."""
    return {0: True, 1: True}[arch["a"]]


def _mo(act, **options):
    """A two-objective REA run (accuracy up, latency down) with one result told with a
    constraint value and one pending trial; ``act(opt, pending)`` must fail and leave the
    run unchanged."""
    space = NB201Space()
    opt = nasopt.create("rea", space, seed=0, objectives={"acc": "max", "latency": "min"},
                        **options)
    opt.tell(opt.ask(), {"acc": 0.9, "latency": 3.0}, constraints=[-1.0])
    pending = opt.ask()
    before = persistence.state_dict(opt)
    try:
        act(opt, pending)
    finally:
        assert persistence.state_dict(opt) == before


def _never_feasible(arch) -> float:
    return 1.0


def _latency_table_lookup(arch) -> float:
    raise KeyError(arch)


def _nan_constraint(arch) -> float:
    return float("nan")


# (row id, what it does, error class, message regex). ``ctx`` cases act on the optimizer
# from _ctx and must leave it unchanged; the others build nothing that could change.
OPT_CASES = [
    ("unknown trial", lambda c: c.opt.tell(Trial(id=99, arch=A, owner=c.opt._owner), 1.0),
     TrialError, r"trial #99 is unknown to this optimizer"),
    ("trial of another optimizer", lambda c: c.opt.tell(c.other, 1.0),
     TrialError, r"trial #0 was not asked by this optimizer \(it belongs to another run\)"),
    ("double tell", lambda c: c.opt.tell(c.done, 2.0),
     TrialError, r"trial #0 was already told \(complete, value 1.0\); a trial is told once"),
    ("tell after failure", lambda c: c.opt.tell(c.failed, 2.0),
     TrialError, r"trial #1 was already told \(failed\); a trial is told once"),
    ("failure after failure", lambda c: c.opt.tell(c.failed, failed=True),
     TrialError, r"trial #1 was already told \(failed\)"),
    ("NaN value", lambda c: c.opt.tell(c.pending, float("nan")),
     TrialError, r"value must be finite, got nan; use tell\(trial, failed=True\)"),
    ("+inf value", lambda c: c.opt.tell(c.pending, float("inf")),
     TrialError, r"value must be finite, got inf"),
    ("-inf value", lambda c: c.opt.tell(c.pending, -np.inf),
     TrialError, r"value must be finite, got -inf"),
    ("numpy NaN value", lambda c: c.opt.tell(c.pending, np.float32("nan")),
     TrialError, r"value must be finite, got nan"),
    ("string value", lambda c: c.opt.tell(c.pending, "0.93"),
     TrialError, r"value must be a finite real number, got '0.93' \(str\)"),
    ("list value", lambda c: c.opt.tell(c.pending, [0.9]),
     TrialError, r"value must be a finite real number, got \[0.9\] \(list\)"),
    ("complex value", lambda c: c.opt.tell(c.pending, 1 + 2j),
     TrialError, r"value must be a finite real number, got \(1\+2j\) \(complex\)"),
    ("bool value", lambda c: c.opt.tell(c.pending, True),
     TrialError, r"value must be a finite real number, got True \(bool\)"),
    ("numpy bool value", lambda c: c.opt.tell(c.pending, np.bool_(False)),
     TrialError, r"value must be a finite real number, got .*False.* \(bool_?\)"),
    ("integer beyond the float range", lambda c: c.opt.tell(c.pending, 10**400),
     TrialError, r"value must be finite, got 1000.*\.\.\.0+ \(int\), beyond the range of a float"),
    ("fraction beyond the float range", lambda c: c.opt.tell(c.pending, Fraction(10**400, 3)),
     TrialError, r"value must be finite, got Fraction\(1000.* \(Fraction\), beyond the range of a float"),
    ("array of two values", lambda c: c.opt.tell(c.pending, np.array([0.5, 0.6])),
     TrialError, r"value must be a finite real number, got array\(\[0.5, 0.6\]\) \(ndarray, an array of 2 elements\)"),
    ("0-d array holding NaN", lambda c: c.opt.tell(c.pending, np.array(np.nan)),
     TrialError, r"value must be finite, got nan"),
    ("no value", lambda c: c.opt.tell(c.pending),
     TrialError, r"tell\(\) needs a value, or failed=True for a failed evaluation"),
    ("value with failed=True", lambda c: c.opt.tell(c.pending, 0.5, failed=True),
     TrialError, r"a failed trial takes no value: call tell\(trial, failed=True\)"),
    ("user attribute not JSON-able", lambda c: c.opt.set_user_attr(c.pending, "tags", {"a"}),
     TrialError, r"user attribute 'tags' must be JSON-able \(numbers, strings, booleans, None, "
     r"lists and dicts of them\), got \{'a'\} \(set\)"),
    ("user attribute holding NaN", lambda c: c.opt.tell(c.pending, 0.5, user_attrs={"curve": [0.1, np.nan]}),
     TrialError, r"user attribute 'curve' must be JSON-able .*got \[0.1, nan\] \(list\): it holds a "
     r"non-finite number"),
    ("user attribute key not a string", lambda c: c.opt.set_user_attr(c.pending, 3, "x"),
     TrialError, r"user attribute keys must be strings, got 3 \(int\)"),
    ("warm start of an evaluated architecture", lambda c: c.opt.tell(c.done.arch, 2.0),
     TrialError, r"was already evaluated as trial #0 \(complete\); pass allow_duplicates=True"),
    ("architecture of another space", lambda c: c.opt.tell({"a": 1}, 1.0),
     InvalidArchitectureError,
     r"is not a member of NB201Space\(\): expected an architecture string, got dict"),
    ("NB201 string with 2 node groups", lambda c: c.opt.tell("|none~0|+|none~0|none~1|", 1.0),
     InvalidArchitectureError,
     r"not a member of NB201Space\(\): expected 3 node groups separated by '\+'"),
    ("NB201 unknown operation", lambda c: c.opt.tell(A.replace("skip_connect", "conv_5x5"), 1.0),
     InvalidArchitectureError, r"unknown operation 'conv_5x5'"),
    ("NB201 edge from the wrong node",
     lambda c: c.opt.tell(A.replace("nor_conv_1x1~2", "nor_conv_1x1~1"), 1.0),
     InvalidArchitectureError, r"edge 'nor_conv_1x1~1' of node 3 should read from node 2"),
    ("NB201 node with too many inputs", lambda c: c.opt.tell(A.replace("|+|skip", "|none~2|+|skip"), 1.0),
     InvalidArchitectureError, r"node 2 needs 2 inputs, got 3"),
    ("NB201 empty string", lambda c: c.opt.tell("", 1.0),
     InvalidArchitectureError, r"expected 3 node groups"),
    ("ask(0)", lambda c: c.opt.ask(0),
     ConfigurationError, r"ask\(n\) needs a positive integer n, got 0"),
    ("ask(-3)", lambda c: c.opt.ask(-3),
     ConfigurationError, r"ask\(n\) needs a positive integer n, got -3"),
    ("ask(2.5)", lambda c: c.opt.ask(2.5),
     ConfigurationError, r"ask\(n\) needs a positive integer n, got 2.5"),
    ("ask(True)", lambda c: c.opt.ask(True),
     ConfigurationError, r"ask\(n\) needs a positive integer n, got True"),
]

OTHER_CASES = [
    # --- NAS-Bench-101 cells
    ("NB101 cell with 10 edges", lambda t, d, s: _nb101_tell(
        _ten_edges(), ["input"] + ["conv3x3-bn-relu"] * 5 + ["output"]),
     InvalidArchitectureError, r"not a member of NB101Space\(.*\): 10 edges > 9"),
    ("NB101 cell with a cycle", lambda t, d, s: _nb101_tell(
        [[0, 1, 0, 0], [0, 0, 1, 0], [0, 1, 0, 1], [0, 0, 0, 0]],
        ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]),
     InvalidArchitectureError, r"not upper-triangular \(cycle\)"),
    ("NB101 cell with 8 vertices", lambda t, d, s: _nb101_tell(
        np.eye(8, k=1, dtype=np.uint8), ["input"] + ["conv1x1-bn-relu"] * 6 + ["output"]),
     InvalidArchitectureError, r"8 vertices > 7"),
    ("NB101 cell with an unknown op", lambda t, d, s: _nb101_tell(
        np.eye(3, k=1, dtype=np.uint8), ["input", "conv5x5", "output"]),
     InvalidArchitectureError, r"op 'conv5x5' at vertex 1 not allowed"),
    # --- ProductSpace definitions and members
    ("empty ProductSpace", lambda t, d, s: ProductSpace({}),
     ConfigurationError, r"ProductSpace needs a non-empty mapping \{name: \[choices\]\}"),
    ("ProductSpace parameter without choices", lambda t, d, s: ProductSpace({"depth": []}),
     ConfigurationError, r"parameter 'depth' has no choices"),
    ("ProductSpace choice listed twice", lambda t, d, s: ProductSpace({"depth": [2, 4, 2]}),
     ConfigurationError, r"parameter 'depth' lists a choice twice: \[2, 4, 2\]"),
    ("ProductSpace choices given as a string", lambda t, d, s: ProductSpace({"op": "conv"}),
     ConfigurationError, r"choices of 'op' must be a list, got 'conv'"),
    ("ProductSpace non-scalar choice", lambda t, d, s: ProductSpace({"k": [[3, 3], 5]}),
     ConfigurationError, r"choices of 'k' must be str, int, finite float, bool or None; got \[3, 3\]"),
    ("ProductSpace non-finite choice", lambda t, d, s: ProductSpace({"lr": [0.1, float("nan")]}),
     ConfigurationError, r"choices of 'lr' must be .*; got nan"),
    ("ProductSpace empty parameter name", lambda t, d, s: ProductSpace({"": [1, 2]}),
     ConfigurationError, r"parameter names must be non-empty strings, got ''"),
    ("ProductSpace rule that is not callable", lambda t, d, s: ProductSpace({"a": [1, 2]}, valid=True),
     ConfigurationError, r"valid must be a callable taking the architecture dict, got True"),
    ("ProductSpace rule rejecting everything",
     lambda t, d, s: len(ProductSpace({"a": [1, 2]}, valid=lambda a: False)),
     ConfigurationError, r"the validity rule of ProductSpace\(.*\) rejects every combination"),
    ("ProductSpace member with an unknown parameter", lambda t, d, s: nasopt.create(
        "random", ProductSpace({"a": [1, 2]}), seed=0).tell({"a": 1, "b": 2}, 1.0),
     InvalidArchitectureError, r"parameters missing \[\] / unknown \['b'\]"),
    ("ProductSpace member with a choice not offered", lambda t, d, s: nasopt.create(
        "random", ProductSpace({"a": [1, 2]}), seed=0).tell({"a": 3}, 1.0),
     InvalidArchitectureError, r"a=3 is not one of \[1, 2\]"),
    ("ProductSpace rule that raises", lambda t, d, s: nasopt.create(
        "random", ProductSpace({"a": [0, 1, 2], "b": [0, 1]}, valid=_rule_for_a_0_or_1), seed=0).ask(),
     ConfigurationError, r"the validity rule .*:_rule_for_a_0_or_1 of ProductSpace\(.*\) raised "
     r"KeyError: 2 on \{'a': 2, 'b': 0\}; a rule must return True or False"),
    # --- options out of range
    ("REA population 1", lambda t, d, s: nasopt.create("rea", s, population=1),
     ConfigurationError, r"population must be >= 2, got 1"),
    ("REA population 3.5 (kept as given: get_params)", lambda t, d, s: nasopt.create("rea", s, population=3.5),
     ConfigurationError, r"population must be an integer, got 3.5"),
    ("REA tournament 0", lambda t, d, s: nasopt.create("rea", s, tournament=0),
     ConfigurationError, r"tournament must be between 1 and population \(10\), got 0"),
    ("REA tournament > population", lambda t, d, s: nasopt.create("rea", s, population=4, tournament=5),
     ConfigurationError, r"tournament must be between 1 and population \(4\), got 5"),
    ("WeakNAS top_n < batch", lambda t, d, s: nasopt.create(
        "weaknas", s, top_n=5, batch=10),
     ConfigurationError, r"top_n \(5\) must be >= batch \(10\)"),
    ("WeakNAS init 0", lambda t, d, s: nasopt.create("weaknas", s, init=0),
     ConfigurationError, r"init must be an integer >= 1, got 0"),
    ("ReNAS init as large as a finite space", lambda t, d, s: nasopt.create(
        "renas", ProductSpace({"depth": [2, 4, 6]}), init=3),
     ConfigurationError, r"init \(3\) must be smaller than the space \(3\)"),
    ("init not below the budget hint", lambda t, d, s: nasopt.create("weaknas", s, init=60, budget=50),
     ConfigurationError, r"init \(60\) must be smaller than budget \(50\): the whole run would be random search"),
    ("budget hint 0", lambda t, d, s: nasopt.create("renas", s, budget=0),
     ConfigurationError, r"budget must be an integer >= 1, got 0"),
    ("predictor option the predictor lacks", lambda t, d, s: nasopt.create(
        "weaknas", s, surrogate_options={"widht": 3}),
     ConfigurationError, r"surrogate 'nn' has no option\(s\) widht; options: device, epochs, full_epochs_rows, hidden"),
    ("GPU for a numpy predictor", lambda t, d, s: nasopt.create(
        "weaknas", s, surrogate_options={"device": "cuda"}),
     ConfigurationError, r"BatchedMLP runs on the CPU only \(numpy\), got device='cuda'"),
    ("WeakNAS prior that raises", lambda t, d, s: nasopt.create(
        "weaknas", _PRIOR_SPACE, seed=0, init=4, prior=_prior_raises).ask(),
     PriorError, r"prior '.*_prior_raises' raised ZeroDivisionError: division by zero for "
                 r"architecture \{'a': \d, 'b': '[xyz]'\}"),
    ("WeakNAS prior returning NaN", lambda t, d, s: nasopt.create(
        "weaknas", _PRIOR_SPACE, seed=0, init=4, prior=lambda arch: [1.0, float("nan")]).ask(),
     PriorError, r"prior '.*<lambda>' returned non-finite scores \[1.0, nan\] for architecture "
                 r"\{'a': \d, 'b': '[xyz]'\}"),
    ("WeakNAS prior of the wrong shape", lambda t, d, s: nasopt.create(
        "weaknas", _PRIOR_SPACE, seed=0, init=4, prior=lambda arch: [[1.0, 2.0]]).ask(),
     PriorError, r"prior '.*<lambda>' returned shape \(1, 2\); expected a number or a flat "
                 r"sequence of numbers for architecture \{'a': \d, 'b': '[xyz]'\}"),
    ("WeakNAS prior table of the wrong length", lambda t, d, s: nasopt.create(
        "weaknas", _PRIOR_SPACE, init=4, prior=np.ones(5)),
     ConfigurationError, r"an array prior must have shape \(9,\) or \(9, k\) \(one row per "
                         r"architecture of the space, in index order\), got \(5,\)"),
    ("WeakNAS prior='free' on a space without free features", lambda t, d, s: nasopt.create(
        "weaknas", _PRIOR_SPACE, init=4, prior="free"),
     ConfigurationError, r"prior='free': ProductSpace\(\{a: 3, b: 3\}\) has no free features"),
    ("ReNAS top_k 0", lambda t, d, s: nasopt.create("renas", s, top_k=0),
     ConfigurationError, r"top_k must be an integer >= 1, got 0"),
    ("ReNAS crossover probability 1.5", lambda t, d, s: nasopt.create(
        "renas", s, p_crossover=1.5),
     ConfigurationError, r"p_crossover must be a probability in \[0, 1\], got 1.5"),
    ("negative budget of optimize()", lambda t, d, s: nasopt.optimize(
        lambda arch: 1.0, nasopt.create("random", s, seed=0), -5),
     ConfigurationError, r"n_trials must be an integer >= 0, got -5"),
    ("optimize() with 0 parallel evaluations", lambda t, d, s: nasopt.optimize(
        lambda arch: 1.0, nasopt.create("random", s, seed=0), 5, n_parallel=0),
     ConfigurationError, r"n_parallel must be an integer >= 1, got 0"),
    ("maximize not a bool", lambda t, d, s: nasopt.create("rea", s, maximize="min"),
     ConfigurationError, r"maximize must be True or False, got 'min' \(str\)"),
    ("unknown direction", lambda t, d, s: nasopt.create("rea", s, direction="down"),
     ConfigurationError, r"direction must be 'maximize' or 'minimize', got 'down'"),
    ("maximize contradicting direction", lambda t, d, s: nasopt.create(
        "rea", s, maximize=True, direction="minimize"),
     ConfigurationError, r"maximize=True contradicts direction='minimize'"),
    ("unknown strategy option", lambda t, d, s: nasopt.create("weaknas", s, batchsize=3),
     ConfigurationError, r"strategy 'weaknas' has no option 'batchsize' \(did you mean 'batch'\?\); "
                         r"valid options: .*batch, .*top_n"),
    ("negative seed", lambda t, d, s: nasopt.create("random", s, seed=-1),
     ConfigurationError, r"seed must be a non-negative integer, got -1"),
    ("non-integer seed", lambda t, d, s: nasopt.create("random", s, seed="0"),
     ConfigurationError, r"seed must be a non-negative integer, got '0'"),
    ("space that is not a SearchSpace", lambda t, d, s: nasopt.create("random", ["a", "b"]),
     ConfigurationError, r"space must be a nasopt SearchSpace, got list"),
    ("unknown strategy", lambda t, d, s: nasopt.create("bayesian", s),
     ConfigurationError, r"unknown strategy 'bayesian'; available: .*random.*rea"),
    # --- checkpoints
    ("checkpoint: not JSON", lambda t, d, s: _load_edited(t, s, "\x00garbage{"),
     CheckpointError, r"run.ckpt: not a readable nasopt checkpoint"),
    ("checkpoint: truncated", lambda t, d, s: _load_edited(t, s, lambda x: json.dumps(x)[:200]),
     CheckpointError, r"run.ckpt: not a readable nasopt checkpoint"),
    ("checkpoint: empty file", lambda t, d, s: _load_edited(t, s, ""),
     CheckpointError, r"run.ckpt: not a readable nasopt checkpoint"),
    ("checkpoint: foreign JSON", lambda t, d, s: _load_edited(t, s, {"study": "optuna", "trials": []}),
     CheckpointError, r"not a nasopt checkpoint \(missing format marker\)"),
    ("checkpoint: other version", lambda t, d, s: _load_edited(t, s, lambda x: _set(x, "version", 2)),
     CheckpointError, r"unsupported checkpoint version 2"),
    ("checkpoint: other space",
     lambda t, d, s: _load_edited(t, s, lambda x: x, load_space=ProductSpace({"a": [1, 2]})),
     CheckpointError, r"checkpoint was written for space \{'type': 'nb201'\}, not \{'type': 'product'"),
    ("checkpoint naming code to run (a validity rule to import)",
     lambda t, d, s: _load_edited(t, s, lambda x: _set(x, "space", {
         "type": "product", "choices": {"touch": [0], str(t / "pwned"): [0]},
         "valid": "subprocess:Popen", "max_enumerate": 10})),
     CheckpointError, r"cannot rebuild the search space of the checkpoint: .*'subprocess:Popen'; "
                      r"loading a file runs no code"),
    ("checkpoint of a space with a lambda rule, loaded without space=",
     lambda t, d, s: _load_edited(t, s, lambda x: _set(x, "space", {
         "type": "product", "choices": {"a": [0, 1]}, "valid": "<unnamed>", "max_enumerate": 10})),
     CheckpointError, r"validity rule cannot be restored from the file .* pass the space explicitly"),
    ("checkpoint: unknown strategy",
     lambda t, d, s: _load_edited(t, s, lambda x: _set(x, "strategy", "nope")),
     CheckpointError, r"corrupted checkpoint: ConfigurationError: unknown strategy 'nope'"),
    ("checkpoint: bad trial state", lambda t, d, s: _load_edited(
        t, s, lambda x: (x["trials"][0].update(state="done"), x)[1]),
     CheckpointError, r"corrupted checkpoint: ValueError: 'done' is not a valid TrialState"),
    ("checkpoint: NaN value", lambda t, d, s: _load_edited(
        t, s, lambda x: json.dumps(x).replace('"value": 1.0', '"value": NaN')),
     CheckpointError, r"corrupted checkpoint: TrialError: value must be finite, got nan"),
    ("checkpoint: invalid architecture", lambda t, d, s: _load_edited(
        t, s, lambda x: (x["trials"][0].update(arch="|none~0|"), x)[1]),
     CheckpointError, r"corrupted checkpoint: InvalidArchitectureError: '\|none~0\|' is not a member"),
    ("checkpoint: tell order inconsistent", lambda t, d, s: _load_edited(
        t, s, lambda x: _set(x, "told", [0, 0])),
     CheckpointError, r"the tell order does not list each finished trial once"),
    ("checkpoint: corrupted gzip", lambda t, d, s: _bad_gzip(t),
     CheckpointError, r"run.ckpt.gz: not a readable nasopt checkpoint"),
    ("checkpoint: trial id 1e400", lambda t, d, s: _load_edited(
        t, s, lambda x: json.dumps(x).replace('"id": 0', '"id": 1e400')),
     CheckpointError, r"corrupted checkpoint: ValueError: trial id must be a non-negative integer, got inf"),
    ("checkpoint: fractional counter", lambda t, d, s: _load_edited(
        t, s, lambda x: _set(x, "next_id", 9.5)),
     CheckpointError, r"corrupted checkpoint: ValueError: next_id must be a non-negative integer, got 9.5"),
    ("checkpoint: negative perm position", lambda t, d, s: _load_edited(
        t, s, lambda x: _set(x, "perm", [x["perm"][0], -1])),
     CheckpointError, r"corrupted checkpoint: ValueError: perm position must be a non-negative integer, got -1"),
    ("checkpoint: JSON nested 100,000 deep", lambda t, d, s: _load_edited(t, s, DEEP),
     CheckpointError, r"run.ckpt: not a readable nasopt checkpoint \(maximum recursion depth exceeded"),
    ("checkpoint: a device, not a file", lambda t, d, s: nasopt.load("/dev/full"),
     CheckpointError, r"/dev/full: not a regular file, so not a nasopt checkpoint"),
    ("save into a read-only directory", lambda t, d, s: _save_read_only(t, s),
     CheckpointIOError, r"^cannot write checkpoint /\S*/run.ckpt: Read-only file system$"),
    # --- several objectives and constraints
    ("several objectives: wrong number of values",
     lambda t, d, s: _mo(lambda o, p: o.tell(p, [0.9, 3.0, 1.0])),
     TrialError, r"this optimizer has 2 objectives: tell 2 values, got 3"),
    ("several objectives: a single value", lambda t, d, s: _mo(lambda o, p: o.tell(p, 0.9)),
     TrialError, r"this optimizer has 2 objectives: tell a sequence of 2 values \(or a dict"),
    ("several objectives: unknown objective name",
     lambda t, d, s: _mo(lambda o, p: o.tell(p, {"acc": 0.9, "latncy": 3.0})),
     TrialError, r"keyed by the objective names \['acc', 'latency'\]; unknown: \['latncy'\]; "
     r"missing: \['latency'\]"),
    ("several objectives: NaN value",
     lambda t, d, s: _mo(lambda o, p: o.tell(p, [0.9, float("nan")])),
     TrialError, r"objective 'latency': value must be finite, got nan"),
    ("objective direction other than max/min",
     lambda t, d, s: nasopt.create("random", s, objectives=["max", "fastest"]),
     ConfigurationError, r"objective 1 has direction 'fastest': a direction must be 'max'"),
    ("several objectives and maximize=",
     lambda t, d, s: nasopt.create("random", s, objectives=["max", "min"], maximize=True),
     ConfigurationError, r"objectives gives 2 objectives: pass their directions there only"),
    ("best of a run with several objectives", lambda t, d, s: _mo(lambda o, p: o.best),
     ConfigurationError, r"2 objectives, so no single best trial: use opt.pareto_front"),
    ("WeakNAS hypervolume selection with three objectives",
     lambda t, d, s: nasopt.create("weaknas", s, objectives=["max", "min", "min"],
                                   mo_selection="hvi"),
     ConfigurationError, r"mo_selection='hvi' handles two objectives, got 3"),
    ("WeakNAS reference with one entry for two objectives",
     lambda t, d, s: nasopt.create("weaknas", s, objectives=["max", "min"], reference=[0.5]),
     ConfigurationError, r"reference has 1 entries for 2 objective\(s\): give one quantile"),
    ("WeakNAS reference quantile of 1 or more",
     lambda t, d, s: nasopt.create("weaknas", s, objectives=["max", "min"], reference=[1.5, None]),
     ConfigurationError, r"reference entries are quantiles in \[0, 1\) or None, got 1.5"),
    ("WeakNAS quality_exploit outside [0, 1]",
     lambda t, d, s: nasopt.create("weaknas", s, objectives=["max", "min"], quality_exploit=1.5),
     ConfigurationError, r"quality_exploit must be a number in \[0, 1\], got 1.5"),
    ("WeakNAS stall_repeats that is not a boolean",
     lambda t, d, s: nasopt.create("weaknas", s, objectives=["max", "min"], stall_repeats="yes"),
     ConfigurationError, r"stall_repeats must be True or False, got 'yes'"),
    ("WeakNAS function_aware that is not a boolean",
     lambda t, d, s: nasopt.create("weaknas", s, objectives=["max", "min"], function_aware="yes"),
     ConfigurationError, r"function_aware must be True or False, got 'yes'"),
    ("NaN constraint value",
     lambda t, d, s: _mo(lambda o, p: o.tell(p, [0.9, 3.0], constraints=[float("nan")])),
     TrialError, r"constraint value 0: value must be finite, got nan"),
    ("constraint count changing between tells",
     lambda t, d, s: _mo(lambda o, p: o.tell(p, [0.9, 3.0], constraints=[-1.0, 2.0])),
     TrialError, r"tell\(\) got 2 constraint values, but the earlier results of this run had 1"),
    ("constraint function that raises",
     lambda t, d, s: _mo(lambda o, p: (setattr(o, "constraints", [_latency_table_lookup]),
                                        o.ask())),
     ConfigurationError, r"constraint function _latency_table_lookup raised KeyError: .* on "
     r"architecture '\|"),
    ("constraint function returning NaN",
     lambda t, d, s: _mo(lambda o, p: (setattr(o, "constraints", [_nan_constraint]), o.ask())),
     ConfigurationError, r"constraint function _nan_constraint returned nan on architecture .*: "
     r"it must return a finite number"),
    ("no feasible architecture left", lambda t, d, s: nasopt.create(
        "random", ProductSpace({"a": [0, 1]}), constraints=[_never_feasible]).ask(),
     SpaceExhaustedError, r"no feasible architecture left: 0 of 1 found, 2 proposals violated"),
    # --- journals
    ("journal: a device, not a file", lambda t, d, s: nasopt.create("random", s, seed=0, journal="/dev/full"),
     CheckpointError, r"journal /dev/full is not a regular file; use a file path"),
    ("journal: damaged last record ending in a newline",
     lambda t, d, s: _reopen_edited(t, s, _edit_line(-1, b'"e":"ask"', b'"e":"ask#')),
     CheckpointError, r"run.jsonl: line 6, the last record, is damaged .*it ends with a newline.*not cut off"),
    ("journal: trial id 1e400", lambda t, d, s: _reopen_edited(t, s, _edit_line(2, b'"id":0', b'"id":1e400')),
     CheckpointError, r"run.jsonl: line 3: cannot replay this tell record \(ValueError: trial id must be a non-negative integer, got inf\)"),
    ("journal: negative perm position", lambda t, d, s: _reopen_edited(
        t, s, lambda lines: [*lines[:1], re.sub(rb'"perm":\[(\d+),1\]', rb'"perm":[\1,-1]', lines[1]), *lines[2:]]),
     CheckpointError, r"run.jsonl: line 2: cannot replay this ask record \(ValueError: perm position must be a non-negative integer, got -1\)"),
    ("journal: JSON nested 100,000 deep", lambda t, d, s: _reopen_edited(
        t, s, lambda lines: [*lines[:3], DEEP.encode(), *lines[3:]]),
     CheckpointError, r"run.jsonl: line 4 is damaged \(JSON nested too deeply\)"),
    ("journal: loaded from read-only media", lambda t, d, s: _load_journal_read_only(t, s),
     CheckpointIOError, r"journal /\S*/run.jsonl cannot be opened for appending: Read-only file system \(.*"
     r"load_journal\(path, attach=False\)\)"),
    # --- benchmark data files
    ("benchmark data file missing", lambda t, d, s: _bench(t / "nowhere" / "nb201.npz"),
     DataError, r"data file not found: .*nowhere/nb201.npz \(expected nb201.npz\)"),
    ("benchmark data file truncated", lambda t, d, s: _nb201_truncated(t, d),
     DataError, r"nb201.npz: not a readable .npz archive"),
    ("benchmark data file not an npz", lambda t, d, s: _bench(_text_file(t)),
     DataError, r"nb201.npz: not a readable .npz archive"),
    ("benchmark array of the wrong shape", lambda t, d, s: _nb201_wrong_shape(t, d),
     DataError, r"array 'cifar10_valid_valid_acc' has shape \(100,\), expected \(15625,\)"),
    ("benchmark array missing", lambda t, d, s: _nb201_missing_array(t, d),
     DataError, r"missing array 'cifar10_test_acc'"),
    ("device latency file missing", lambda t, d, s: _latency_file_missing(t, d),
     DataError, r"NB201 device latency needs nb201_hw_latency.npz, not found beside \S+, in \$NASOPT_DATA "
     r"\(\S+\): pass latency_path= \(the file or its directory\) or set \$NASOPT_DATA to its directory"),
    ("unknown latency device", lambda t, d, s: _bench(d).latency(A, "pixle3"),
     ConfigurationError, r"unknown device 'pixle3' for NB201 latency; available: 1080ti_1, .*, titanxp_32; "
     r"did you mean 'pixel3'\?"),
]


def _bad_gzip(tmp_path):
    p = tmp_path / "run.ckpt.gz"
    p.write_bytes(gzip.compress(b'{"format": "nasopt-checkpoint"')[:-6])
    return nasopt.load(p)


def _text_file(tmp_path):
    p = tmp_path / "nb201.npz"
    p.write_text("arch,acc\n")
    return p


@pytest.mark.parametrize("case", OPT_CASES, ids=[c[0] for c in OPT_CASES])
def test_bad_call_raises_and_leaves_the_optimizer_unchanged(space, case):
    _, act, error, message = case
    ctx = _ctx(space)
    before = persistence.state_dict(ctx.opt)
    with pytest.raises(error, match=message):
        act(ctx)
    assert persistence.state_dict(ctx.opt) == before
    ctx.opt.tell(ctx.pending, 0.5)  # and it still works
    assert ctx.opt.ask() is not None


DATA_ROWS = {"benchmark data file truncated", "benchmark array of the wrong shape",
             "benchmark array missing", "device latency file missing", "unknown latency device"}
LATENCY_ROWS = {"unknown latency device"}


@pytest.mark.parametrize("case", OTHER_CASES, ids=[c[0] for c in OTHER_CASES])
def test_bad_definition_file_or_option_raises_a_clear_error(tmp_path, space, case, request):
    name, act, error, message = case
    data_dir = request.getfixturevalue("nb201_data").parent if name in DATA_ROWS else None
    if name in LATENCY_ROWS:
        request.getfixturevalue("nb201_latency_data")  # skips without the latency table
    with pytest.raises(error, match=message):
        act(tmp_path, data_dir, space)


def test_failed_ask_on_an_exhausted_space_leaves_the_optimizer_unchanged():
    tiny = ProductSpace({"a": [0, 1], "b": ["x", "y"]})
    for name in ("random", "rea"):
        opts = {"population": 2, "tournament": 1} if name == "rea" else {}
        opt = nasopt.create(name, tiny, seed=0, **opts)
        opt.tell(opt.ask(3)[0], 1.0)
        before = persistence.state_dict(opt)
        with pytest.raises(nasopt.SpaceExhaustedError, match="only 1 unseen architectures left, 2 asked"):
            opt.ask(2)
        assert persistence.state_dict(opt) == before


def test_every_row_of_the_documented_table_is_tested():
    text = DOC.read_text()
    start, end = text.index("<!-- bad-input-table -->"), text.index("<!-- /bad-input-table -->")
    rows = re.findall(r"^\| (.+?) \| `(\w+)` \|", text[start:end], flags=re.M)
    documented = {(r[0], r[1]) for r in rows if r[0] not in ("Bad input",)}
    tested = {(c[0], c[2].__name__) for c in OPT_CASES + OTHER_CASES}
    tested.add(("exhausted finite space", "SpaceExhaustedError"))
    assert documented == tested


def markdown_table(data_dir: Path) -> str:
    """The bad-input table of docs/reliability.md, with the messages the cases really produce."""
    import tempfile

    space = NB201Space()
    rows = []
    for name, act, err, _ in OPT_CASES:
        try:
            act(_ctx(space))
        except err as exc:
            rows.append((name, err.__name__, str(exc)))
    for name, act, err, _ in OTHER_CASES:
        with tempfile.TemporaryDirectory() as d:
            try:
                act(Path(d), data_dir, space)
            except err as exc:
                rows.append((name, err.__name__, str(exc).replace(d, "<dir>")))
    rows.append(("exhausted finite space", "SpaceExhaustedError",
                 "ProductSpace(...) has only 1 unseen architectures left, 2 asked"))

    def cell(msg: str) -> str:
        msg = re.sub(r"(NB101Cell\(matrix=.*?\]\)|'[^']*'|\{[^}]*\}) is not a member",
                     "<arch> is not a member", msg)
        if msg.startswith("architecture '"):
            msg = "architecture <arch>" + msg.split("'", 2)[2]
        msg = msg.replace("|", "\\|")
        return msg if len(msg) < 170 else msg[:167] + "..."

    lines = ["| Bad input | Error class | Message |", "| --- | --- | --- |"]
    lines += [f"| {n} | `{c}` | {cell(m)} |" for n, c, m in rows]
    return "\n".join(lines)


if __name__ == "__main__":  # regenerate the table: python tests/test_bad_input.py
    import os

    print(markdown_table(Path(os.environ["NASOPT_DATA"])))
