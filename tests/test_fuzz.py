"""Property-based tests (hypothesis, bounded example counts).

* Random sequences of ask / tell / fail / warm-start / bad tell / save+load / journal reopen
  keep the optimizer's invariants: unique sequential ids, consistent states,
  pending = asked - told, best = max of told values (earliest on ties), a loaded or reopened
  optimizer continues exactly as the original.
* Search-space properties: mutation and crossover give valid members (mutation always a
  different one), to_data/from_data, index/[] and encode round-trip, and NAS-Bench-101
  hashes are invariant under vertex relabelling.
* Files: any id, counter, generator state or value of a checkpoint or journal replaced by
  a hostile JSON value loads cleanly or raises a NasoptError.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule,
)

import nasopt
from nasopt.persist import journal as journal_mod
from nasopt.persist import checkpoint as persistence
from nasopt.core.errors import TrialError
from nasopt.spaces import NB201Space
from nasopt.spaces.nb201 import N_EDGES, OPS, ops_to_string
from nasopt.spaces.product import ProductSpace

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    SPACE = NB201Space()
    SPACE[0]

FUZZ = settings(max_examples=25, stateful_step_count=30, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
values = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    st.integers(min_value=-100, max_value=100),
    st.sampled_from([0.0, -0.0, 50.0, 50.0]),  # ties
)


class OptimizerMachine(RuleBasedStateMachine):
    """Drives one optimizer and a plain-Python model of what it must contain."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="nasopt-fuzz-"))
        self.saves = 0

    @initialize(name=st.sampled_from(["random", "rea"]), seed=st.integers(0, 2**32 - 1),
                maximize=st.booleans(), journal=st.booleans())
    def start(self, name, seed, maximize, journal):
        journal_mod.FSYNC = False
        opts = {"population": 3, "tournament": 2} if name == "rea" else {}
        self.args = dict(name=name, seed=seed, maximize=maximize, **opts)
        self.journal = self.tmp / "run.jsonl" if journal else None
        self.opt = self._make()
        self.asked: dict[int, str] = {}  # id -> arch
        self.results: dict[int, float | None] = {}  # id -> value (None: failed)
        self.tell_order: list[int] = []

    def _make(self):
        args = dict(self.args)
        return nasopt.create(args.pop("name"), SPACE, journal=self.journal, **args)

    def teardown(self) -> None:
        if hasattr(self, "opt"):
            self.opt.close()
        journal_mod.FSYNC = True
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------------ operations
    @rule(n=st.integers(1, 4))
    def ask(self, n):
        trials = self.opt.ask(n)
        assert len(trials) == n
        for t in trials:
            assert t.is_pending and t.id not in self.asked and t.id not in self.results
            self.asked[t.id] = t.arch

    def _pending_ids(self):
        return [i for i in self.asked if i not in self.results]

    @precondition(lambda self: any(i not in self.results for i in self.asked))
    @rule(k=st.integers(0, 100), value=values)
    def tell(self, k, value):
        ids = self._pending_ids()
        tid = ids[k % len(ids)]
        trial = next(t for t in self.opt.pending if t.id == tid)
        done = self.opt.tell(trial, value)
        assert done.is_complete and done.value == float(value) and done.arch == self.asked[tid]
        self.results[tid] = float(value)
        self.tell_order.append(tid)

    @precondition(lambda self: any(i not in self.results for i in self.asked))
    @rule(k=st.integers(0, 100))
    def fail(self, k):
        ids = self._pending_ids()
        tid = ids[k % len(ids)]
        done = self.opt.tell(next(t for t in self.opt.pending if t.id == tid), failed=True, error="x")
        assert done.is_failed and done.value is None and done.error == "x"
        self.results[tid] = None
        self.tell_order.append(tid)

    @rule(i=st.integers(0, len(SPACE) - 1), value=values)
    def warm_start(self, i, value):
        arch = SPACE[i]
        # the latest trial of the architecture; if it failed, telling it again is a retry
        holder = next((tid for tid, a in reversed(self.asked.items()) if a == arch), None)
        if holder is not None and self.results.get(holder, 0.0) is None:
            holder = None
        if holder is not None and holder in self.results:
            before = persistence.state_dict(self.opt)
            with pytest.raises(TrialError, match="already evaluated"):
                self.opt.tell(arch, value)
            assert persistence.state_dict(self.opt) == before
            return
        done = self.opt.tell(arch, value)
        if holder is None:  # a new trial with the next id
            assert done.id == max(self.asked, default=-1) + 1
            self.asked[done.id] = arch
        else:  # telling a pending architecture completes that trial
            assert done.id == holder
        self.results[done.id] = float(value)
        self.tell_order.append(done.id)

    @precondition(lambda self: len(self.results) > 0)
    @rule(k=st.integers(0, 100), value=values)
    def tell_again_is_refused(self, k, value):
        tid = list(self.results)[k % len(self.results)]
        trial = next(t for t in self.opt.trials if t.id == tid)
        before = persistence.state_dict(self.opt)
        with pytest.raises(TrialError, match="already told"):
            self.opt.tell(trial, value)
        assert persistence.state_dict(self.opt) == before

    @rule(n=st.integers(1, 3))
    def save_load_continues_identically(self, n):
        self.saves += 1
        path = self.tmp / f"ckpt{self.saves}.json"
        self.opt.save(path)
        loaded = nasopt.load(path)
        assert persistence.state_dict(loaded) == persistence.state_dict(self.opt)
        a, b = self.opt.ask(n), loaded.ask(n)
        assert [(t.id, t.arch) for t in a] == [(t.id, t.arch) for t in b]
        for t in a:
            self.asked[t.id] = t.arch
        if self.journal is None:  # continue with the loaded copy (same run token)
            self.opt = loaded

    @precondition(lambda self: self.journal is not None)
    @rule()
    def reopen_journal(self):
        before = persistence.state_dict(self.opt)
        self.opt.close()
        self.opt = self._make()
        assert persistence.state_dict(self.opt) == before

    # ------------------------------------------------------------------ invariants
    @invariant()
    def consistent(self):
        if not hasattr(self, "opt"):
            return
        opt = self.opt
        trials = opt.trials
        assert [t.id for t in trials] == list(range(len(trials)))  # unique, sequential
        assert {t.id: t.arch for t in trials} == self.asked
        assert len({t.key for t in trials}) == len(trials)  # no duplicates
        for t in trials:
            if t.id in self.results:
                v = self.results[t.id]
                assert (t.is_failed and t.value is None) if v is None else (t.is_complete and t.value == v)
            else:
                assert t.is_pending and t.value is None
        assert [t.id for t in opt.pending] == sorted(self._pending_ids())  # asked - told
        assert [t.id for t in opt.completed] == [i for i in self.tell_order if self.results[i] is not None]
        done = [(i, self.results[i]) for i in self.tell_order if self.results[i] is not None]
        if not done:
            assert opt.best is None
        else:
            sign = 1 if self.args["maximize"] else -1
            best = max(sign * v for _, v in done)
            first = next(i for i, v in done if sign * v == best)  # earliest on ties
            assert opt.best.id == first and sign * opt.best.value == best
        json.dumps(persistence.state_dict(opt))  # always serialisable


TestOptimizerMachine = OptimizerMachine.TestCase
TestOptimizerMachine.settings = FUZZ


# ====================================================================== space properties
archs = st.integers(0, len(SPACE) - 1).map(lambda i: SPACE[i])
rngs = st.integers(0, 2**32 - 1).map(np.random.default_rng)
PROPS = settings(max_examples=150, deadline=None)


@PROPS
@given(archs, rngs)
def test_nb201_mutation_is_a_different_valid_member_one_edge_away(arch, rng):
    child = SPACE.mutate(arch, rng)
    assert SPACE.is_valid(child) and child != arch
    a, b = SPACE.op_codes[SPACE.index(arch)], SPACE.op_codes[SPACE.index(child)]
    assert int((a != b).sum()) == 1


@PROPS
@given(archs, archs, rngs)
def test_nb201_crossover_takes_each_edge_from_a_parent(a, b, rng):
    child = SPACE.crossover(a, b, rng)
    assert SPACE.is_valid(child)
    ca, cb, cc = (SPACE.op_codes[SPACE.index(x)] for x in (a, b, child))
    assert np.all((cc == ca) | (cc == cb))


@PROPS
@given(archs)
def test_nb201_round_trips(arch):
    i = SPACE.index(arch)
    assert SPACE[i] == arch and SPACE.key_of_index(i) == SPACE.key(arch)
    assert SPACE.from_data(json.loads(json.dumps(SPACE.to_data(arch)))) == arch
    onehot = SPACE.encode([arch])[0].reshape(N_EDGES, len(OPS))
    assert onehot.sum() == N_EDGES and np.array_equal(onehot.argmax(1), SPACE.op_codes[i])
    assert ops_to_string(onehot.argmax(1)) == arch  # decode(encode(arch)) == arch
    assert np.array_equal(SPACE.encode([arch], "ops")[0], SPACE.op_codes[i])
    np.testing.assert_array_equal(SPACE.encode([arch]), SPACE.encode_indices(np.array([i])))


@PROPS
@given(st.lists(st.sampled_from(OPS), min_size=N_EDGES, max_size=N_EDGES))
def test_nb201_every_op_combination_is_a_member(ops):
    arch = ops_to_string([OPS.index(o) for o in ops])
    assert SPACE.is_valid(arch) and SPACE.op_codes[SPACE.index(arch)].tolist() == [OPS.index(o) for o in ops]


@PROPS
@given(st.text(max_size=60))
def test_nb201_random_strings_are_rejected_cleanly(text):
    if text in SPACE._t[2]:
        return
    assert not SPACE.is_valid(text)
    with pytest.raises(nasopt.InvalidArchitectureError, match="is not a member of NB201Space"):
        SPACE.validate(text)


# ---------------------------------------------------------------------- NAS-Bench-101
def _nb101():
    from nasopt.spaces import nb101

    return nb101


@settings(max_examples=60, deadline=None)
@given(rngs)
def test_nb101_mutation_crossover_valid_and_hash_invariant_under_relabelling(rng):
    nb101 = _nb101()
    space = nb101.NB101Space()
    a, b = space.sample(rng), space.sample(rng)
    assert space.is_valid(a) and space.is_valid(b)
    child = space.mutate(a, rng)
    assert space.is_valid(child) and space.key(child) != space.key(a)
    assert space.is_valid(space.crossover(a, b, rng))
    assert space.key(space.from_data(json.loads(json.dumps(space.to_data(a))))) == space.key(a)
    # relabel: another topological order of the same DAG (input first, output last)
    m, ops, n = a.matrix.astype(int), list(a.ops), a.matrix.shape[0]
    order, placed = [0], {0}
    while len(order) < n - 1:
        ready = [v for v in range(1, n - 1) if v not in placed
                 and all(u in placed for u in range(n) if m[u, v])]
        v = ready[int(rng.integers(len(ready)))]
        order.append(v)
        placed.add(v)
    order.append(n - 1)
    perm = np.array(order)
    relabelled = nb101.NB101Cell(m[np.ix_(perm, perm)].astype(np.uint8), [ops[i] for i in perm])
    assert space.is_valid(relabelled)
    assert space.key(relabelled) == space.key(a)


# ---------------------------------------------------------------------- ProductSpace
scalars = st.one_of(st.integers(-5, 5), st.text(max_size=3), st.booleans(), st.none(),
                    st.floats(-10, 10, allow_nan=False))


@st.composite
def product_spaces(draw):
    names = draw(st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=5, unique=True))
    choices = {}
    for n in names:
        opts = draw(st.lists(scalars, min_size=1, max_size=4,
                             unique_by=lambda v: (type(v).__name__, v)))
        choices[n] = opts
    big = draw(st.booleans())
    return ProductSpace(choices, max_enumerate=0 if big else 2_000_000)


@settings(max_examples=80, deadline=None)
@given(product_spaces(), rngs)
def test_product_space_variation_and_round_trips(space, rng):
    a, b = space.sample(rng), space.sample(rng)
    assert space.is_valid(a) and space.is_valid(b)
    if any(len(c) > 1 for c in space.choices.values()):
        child = space.mutate(a, rng)
        assert space.is_valid(child) and space.key(child) != space.key(a)
    cross = space.crossover(a, b, rng)
    assert space.is_valid(cross) and all(cross[n] in (a[n], b[n]) for n in space.names)
    assert space.from_data(json.loads(json.dumps(space.to_data(a)))) == a
    codes = space.encode([a], "codes")[0].astype(int)
    assert space.key(space.from_codes(codes)) == space.key(a)  # decode(encode(arch))
    onehot = space.encode([a])[0]
    assert onehot.sum() == len(space.names)
    if space.is_finite:
        i = space.index(a)
        assert space.key(space[i]) == space.key(a) and space.key_of_index(i) == space.key(a)
    again = ProductSpace.from_config(json.loads(json.dumps(space.config())))
    assert again.config() == space.config() and again.key(a) == space.key(a)


# ---------------------------------------------------------------- hostile numbers in files
HOSTILE = ["1e400", "-1e400", "9.5", "-1", "-0.5", "true", "null", '"7"', "[]", "{}",
           str(10**30), str(2**64), "[" * 50_000 + "]" * 50_000]
#: Fields whose numbers are ids, counters, results, the seed or strategy options.
NUMERIC_FIELDS = {"id", "next_id", "told", "perm", "rng", "value", "trials", "seed", "options", "time",
                  "user_attrs"}


def _number_paths(obj, path=(), inside=False):
    """Paths of the numbers of ``obj`` that lie under one of NUMERIC_FIELDS."""
    if isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float)):
        return [path] if inside else []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    out = []
    for key, value in items:
        out += _number_paths(value, path + (key,), inside or key in NUMERIC_FIELDS)
    return out


def _replaced(obj, path, marker):
    if not path:
        return marker
    obj = obj.copy() if isinstance(obj, dict) else list(obj)
    obj[path[0]] = _replaced(obj[path[0]], path[1:], marker)
    return obj


@pytest.fixture(scope="module")
def run_files(tmp_path_factory):
    """A checkpoint and a journal of the same REA run (pending, completed, failed trials)."""
    d = tmp_path_factory.mktemp("hostile")
    with nasopt.create("rea", SPACE, seed=3, population=3, tournament=2,
                       journal=d / "run.jsonl") as opt:
        for i in range(5):
            t = opt.ask()
            opt.tell(t, failed=True) if i == 2 else opt.tell(t, float(i), user_attrs={"i": [i]})
        opt.ask()
        opt.save(d / "run.json")
    return json.loads((d / "run.json").read_text()), (d / "run.jsonl").read_text().splitlines()


def _load_must_be_clean(path, text):
    path.write_text(text)
    try:
        opt = nasopt.load(path)
    except nasopt.NasoptError:
        return
    try:  # a file that loads gives an optimizer that works or refuses cleanly
        opt.tell(opt.ask(), 1.0)
    except nasopt.NasoptError:
        pass
    finally:
        opt.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_hostile_number_in_a_checkpoint_or_a_journal_is_a_nasopt_error(run_files, data, tmp_path):
    """Any id, counter, generator state or value replaced by an overflowing, fractional,
    negative, non-numeric or deeply nested JSON value: loading raises a NasoptError or
    gives a working optimizer, never another exception."""
    checkpoint, lines = run_files
    bad = data.draw(st.sampled_from(HOSTILE))
    if data.draw(st.booleans()):
        where = data.draw(st.sampled_from(_number_paths(checkpoint)))
        text = json.dumps(_replaced(checkpoint, where, "@HOSTILE@"))
        _load_must_be_clean(tmp_path / "run.json", text.replace('"@HOSTILE@"', bad))
    else:
        k = data.draw(st.integers(0, len(lines) - 1))  # 0: the header (seed, options)
        record = json.loads(lines[k])
        where = data.draw(st.sampled_from(_number_paths(record)))
        edited = json.dumps(_replaced(record, where, "@HOSTILE@")).replace('"@HOSTILE@"', bad)
        text = "\n".join(lines[:k] + [edited] + lines[k + 1:]) + "\n"
        _load_must_be_clean(tmp_path / "run.jsonl", text)
