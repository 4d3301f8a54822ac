"""The append-only journal: torn last records, foreign journals, locking, failed writes, and
replay cost (no strategy re-run). That every strategy's journal reopens exactly and continues
like an uninterrupted run is checked by the conformance suite (tests/test_conformance.py)."""

from __future__ import annotations

import errno
import gc
import json
import os
import random
import warnings

import pytest

import nasopt
from nasopt.persist import checkpoint as persistence
from nasopt.core.errors import CheckpointError, CheckpointIOError, SpaceExhaustedError
from nasopt.persist import journal as journal_mod
from nasopt.persist.journal import JournalWarning, load_journal, read_journal
from nasopt.core.optimizer import Optimizer
from nasopt.spaces import NB201Space
from nasopt.spaces.product import ProductSpace
from nasopt.testing import apply_call, call_script, registered_strategies


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """fsync costs ~7 ms per record on a loaded CI disk; these tests check the file format
    and recovery logic (tests/test_crash.py keeps fsync on)."""
    monkeypatch.setattr(journal_mod, "FSYNC", False)


@pytest.fixture(scope="module")
def space(nb201_space: NB201Space) -> NB201Space:
    return nb201_space


def test_reopen_without_seed_takes_the_journal_seed(tmp_path, space):
    path = tmp_path / "run.jsonl"
    with nasopt.create("rea", space, journal=path) as opt:  # seed drawn at random
        for op in call_script(2, 30, space):
            apply_call(opt, op)
        seed, before = opt.seed, persistence.state_dict(opt)
    with nasopt.create("rea", space, journal=path) as again:
        assert again.seed == seed and persistence.state_dict(again) == before


def test_nasopt_load_resumes_a_journal(tmp_path, space):
    path = tmp_path / "run.jsonl"
    with nasopt.create("rea", space, seed=3, population=5, journal=path) as opt:
        for op in call_script(3, 40, space):
            apply_call(opt, op)
        before = persistence.state_dict(opt)
    resumed = nasopt.load(path)
    assert type(resumed).__name__ == "RegularizedEvolution" and resumed.journal_path == str(path)
    assert persistence.state_dict(resumed) == before
    resumed.tell(resumed.ask(), 1.0)  # keeps appending
    resumed.close()
    with nasopt.create("rea", space, seed=3, population=5, journal=path) as again:
        assert len(again.trials) == len(before["trials"]) + 1


def test_detached_load_leaves_the_journal_untouched_and_unlocked(tmp_path, space):
    path = tmp_path / "run.jsonl"
    opt = nasopt.create("random", space, seed=0, journal=path)
    opt.tell(opt.ask(), 5.0)
    raw = path.read_bytes()
    with open(path, "ab") as fh:
        fh.write(b'{"e":"tell","id":')  # a record being written right now
    with pytest.warns(JournalWarning):
        copy = load_journal(path, attach=False)  # while `opt` holds the lock
    assert len(copy.completed) == 1 and path.read_bytes() == raw + b'{"e":"tell","id":'
    opt.close()


def _record_run(path, space, name="rea", opts=None, n_ops=45):
    """Run a script with a journal; return {file size after each record: state_dict}."""
    opts = {"population": 4, "tournament": 2} if opts is None else opts
    states = {}
    with nasopt.create(name, space, seed=5, journal=path, **opts) as opt:
        states[path.stat().st_size] = persistence.state_dict(opt)
        for op in call_script(4, n_ops, space):
            apply_call(opt, op)
            states[path.stat().st_size] = persistence.state_dict(opt)
    return states


def test_torn_last_record_is_skipped_with_a_warning_and_nothing_before_is_lost(tmp_path, space):
    full = tmp_path / "full.jsonl"
    states = _record_run(full, space)
    data = full.read_bytes()
    bounds = sorted(states)
    header_len = bounds[0]
    rnd = random.Random(0)
    cuts = set(bounds) | {b - 1 for b in bounds} | {b + 1 for b in bounds[:-1]}
    cuts |= {rnd.randrange(header_len, len(data)) for _ in range(25)}
    for cut in sorted(c for c in cuts if header_len <= c <= len(data)):
        path = tmp_path / f"cut{cut}.jsonl"
        path.write_bytes(data[:cut])
        good = max(b for b in bounds if b <= cut)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            opt = nasopt.create("rea", space, seed=5, population=4, tournament=2, journal=path)
        torn = [w for w in caught if issubclass(w.category, JournalWarning)]
        assert bool(torn) == (cut != good), cut
        assert persistence.state_dict(opt) == states[good], cut
        assert path.stat().st_size == good  # the torn bytes were cut off
        opt.tell(opt.ask(), 1.0)  # appending after a recovery gives a clean journal
        after = persistence.state_dict(opt)
        opt.close()
        with warnings.catch_warnings():
            warnings.simplefilter("error", JournalWarning)
            again = nasopt.create("rea", space, seed=5, population=4, tournament=2, journal=path)
        assert persistence.state_dict(again) == after
        again.close()
        path.unlink()


def test_torn_header_starts_a_fresh_journal(tmp_path, space):
    path = tmp_path / "run.jsonl"
    with nasopt.create("random", space, seed=1, journal=path):
        pass
    header = path.read_bytes()
    for cut in (1, 10, len(header) - 1):
        path.write_bytes(header[:cut])
        with pytest.warns(JournalWarning, match="torn"):
            opt = nasopt.create("random", space, seed=1, journal=path)
        assert len(opt.trials) == 0 and path.read_bytes().endswith(b"}\n")
        opt.close()


def test_damaged_line_before_the_last_is_refused(tmp_path, space):
    path = tmp_path / "run.jsonl"
    _record_run(path, space, n_ops=15)
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3][:-5] + b"#" + lines[3][-4:]
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(CheckpointError, match="line 4 is damaged"):
        nasopt.create("rea", space, seed=5, population=4, tournament=2, journal=path)
    assert gc.isenabled()  # paused during the replay only, also when it fails


def test_damaged_last_record_that_ends_with_a_newline_is_refused_not_cut(tmp_path, space):
    """A last line with its newline was a complete record (maybe an acknowledged tell):
    damage there is refused like anywhere else, and the file is left as it is."""
    path = tmp_path / "run.jsonl"
    _record_run(path, space, n_ops=15)
    lines = path.read_bytes().split(b"\n")[:-1]
    assert lines[-1].startswith(b'{"e":"tell"')
    lines[-1] = lines[-1].replace(b'"value":', b'"value":#', 1)
    path.write_bytes(b"\n".join(lines) + b"\n")
    damaged = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error", JournalWarning)  # no "torn record" warning either
        with pytest.raises(CheckpointError, match=rf"line {len(lines)}, the last record, is damaged"):
            nasopt.create("rea", space, seed=5, population=4, tournament=2, journal=path)
        with pytest.raises(CheckpointError, match=rf"line {len(lines)}, the last record"):
            load_journal(path, attach=False)
    assert path.read_bytes() == damaged


def _read_only_media(monkeypatch, directory):
    """Opening a file of ``directory`` for writing fails with EROFS, as on a read-only
    mount (root ignores file modes, so the tests cannot use chmod)."""
    real_open = os.open

    def fake_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and os.path.dirname(
                os.path.abspath(path)) == str(directory):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)


def test_journal_on_read_only_media_is_read_detached_and_refused_for_appending(
        tmp_path, space, monkeypatch):
    path = tmp_path / "run.jsonl"
    states = _record_run(path, space, n_ops=15)
    raw = path.read_bytes()
    _read_only_media(monkeypatch, tmp_path)
    for reopen in (lambda: nasopt.load(path),
                   lambda: nasopt.create("rea", space, seed=5, population=4, tournament=2,
                                         journal=path)):
        with pytest.raises(CheckpointIOError, match=(
                rf"journal {path} cannot be opened for appending: Read-only file system "
                r"\(.*load_journal\(path, attach=False\)\)")) as info:
            reopen()
        assert isinstance(info.value, OSError) and info.value.errno == errno.EROFS
    copy = load_journal(path, attach=False)
    assert persistence.state_dict(copy) == states[len(raw)] and path.read_bytes() == raw


def test_checkpoint_save_on_read_only_media_names_the_checkpoint(tmp_path, space, monkeypatch):
    opt = nasopt.create("random", space, seed=0)
    opt.tell(opt.ask(), 1.0)
    _read_only_media(monkeypatch, tmp_path)
    with pytest.raises(CheckpointIOError) as info:
        opt.save(tmp_path / "run.json")
    assert str(info.value) == f"cannot write checkpoint {tmp_path / 'run.json'}: Read-only file system"
    assert isinstance(info.value, OSError) and info.value.errno == errno.EROFS
    assert os.listdir(tmp_path) == []


def test_journal_or_checkpoint_that_is_a_device_is_refused_without_reading_it(space):
    for attempt in (lambda: nasopt.create("random", space, journal="/dev/full"),
                    lambda: nasopt.create("random", space, seed=0, journal="/dev/zero"),
                    lambda: load_journal("/dev/zero", attach=False),
                    lambda: nasopt.load("/dev/zero")):
        with pytest.raises(CheckpointError, match="not a regular file"):
            attempt()


def test_record_that_contradicts_the_history_is_refused(tmp_path, space):
    path = tmp_path / "run.jsonl"
    with nasopt.create("random", space, seed=1, journal=path) as opt:
        t = opt.ask()
        opt.tell(t, 1.0)
    with open(path, "a") as fh:  # a second tell of the same trial
        fh.write(json.dumps({"e": "tell", "id": t.id, "status": "complete", "value": 2.0,
                             "error": None}) + "\n")
    with pytest.raises(CheckpointError, match=r"line 4: cannot replay this tell record.*already told"):
        nasopt.create("random", space, seed=1, journal=path)


@pytest.mark.parametrize("change,message", [
    (dict(name="random", opts={}), "strategy: journal has 'rea'"),
    (dict(opts={"population": 5, "tournament": 2}), "options: journal has"),
    (dict(seed=6), "seed: journal has 5, this optimizer 6"),
    (dict(maximize=False), "maximize: journal has True"),
    (dict(allow_duplicates=True), "allow_duplicates: journal has False"),
    (dict(space="product"), "space: journal has {'type': 'nb201'}"),
])
def test_journal_of_another_run_is_refused(tmp_path, space, change, message):
    path = tmp_path / "run.jsonl"
    _record_run(path, space, n_ops=10)
    raw = path.read_bytes()
    other = ProductSpace({"a": [1, 2, 3]}) if change.get("space") == "product" else space
    kw = {"seed": change.get("seed", 5), "maximize": change.get("maximize", True),
          "allow_duplicates": change.get("allow_duplicates", False)}
    with pytest.raises(CheckpointError, match="written by a different run") as err:
        nasopt.create(change.get("name", "rea"), other, journal=path, **kw,
                      **change.get("opts", {"population": 4, "tournament": 2}))
    assert message in str(err.value)
    assert path.read_bytes() == raw  # never modified


def test_checkpoint_or_foreign_file_is_refused_and_left_untouched(tmp_path, space):
    opt = nasopt.create("random", space, seed=0)
    opt.tell(opt.ask(), 1.0)
    ckpt = tmp_path / "run.ckpt"
    opt.save(ckpt)
    raw = ckpt.read_bytes()
    with pytest.raises(CheckpointError, match="a nasopt checkpoint"):
        nasopt.create("random", space, seed=0, journal=ckpt)
    assert ckpt.read_bytes() == raw
    for content in (b"hello world", b"a,b,c\n1,2,3\n", b"[1, 2]\n", b"not json\n"):
        other = tmp_path / "other.txt"
        other.write_bytes(content)
        with pytest.raises(CheckpointError, match="not a nasopt journal"):
            nasopt.create("random", space, seed=0, journal=other)
        assert other.read_bytes() == content


def test_journal_of_another_version_is_refused(tmp_path, space):
    path = tmp_path / "run.jsonl"
    _record_run(path, space, n_ops=5)
    lines = path.read_text().split("\n")
    header = json.loads(lines[0])
    header["version"] = 99
    path.write_text("\n".join([json.dumps(header)] + lines[1:]))
    with pytest.raises(CheckpointError, match="unsupported journal version 99"):
        nasopt.create("rea", space, seed=5, population=4, tournament=2, journal=path)
    with pytest.raises(CheckpointError, match="unsupported journal version 99"):
        nasopt.load(path)


def test_a_journal_is_held_by_one_optimizer_at_a_time(tmp_path, space):
    path = tmp_path / "run.jsonl"
    opt = nasopt.create("random", space, seed=0, journal=path)
    with pytest.raises(CheckpointError, match="in use by another optimizer"):
        nasopt.create("random", space, seed=0, journal=path)
    opt.close()
    with pytest.raises(CheckpointError, match="was closed"):
        opt.ask()
    assert opt.best is None and opt.trials == []  # still readable
    nasopt.create("random", space, seed=0, journal=path).close()


def _failing_write(monkeypatch, after_bytes: int = 7):
    real = os.write

    def write(fd, data):
        real(fd, bytes(data)[:after_bytes])  # a partial write, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", write)


def test_failed_journal_write_leaves_optimizer_and_file_unchanged(tmp_path, space, monkeypatch):
    path = tmp_path / "run.jsonl"
    opt = nasopt.create("rea", space, seed=2, population=3, tournament=2, journal=path)
    for op in call_script(5, 30, space):
        apply_call(opt, op)
    pending = opt.ask()
    before, raw = persistence.state_dict(opt), path.read_bytes()
    with monkeypatch.context() as m:
        _failing_write(m)
        with pytest.raises(CheckpointError, match="could not append to journal.*No space left"):
            opt.ask(2)
        assert persistence.state_dict(opt) == before and path.read_bytes() == raw
        with pytest.raises(CheckpointError, match="could not append to journal"):
            opt.tell(pending, 3.0)
        assert persistence.state_dict(opt) == before and path.read_bytes() == raw
        with pytest.raises(CheckpointError, match="could not append to journal"):
            opt.tell(space[77] if not opt._is_seen(space[77]) else space[78], 3.0)
        assert persistence.state_dict(opt) == before and path.read_bytes() == raw
    opt.tell(pending, 3.0)  # the disk has room again
    opt.ask(2)
    after = persistence.state_dict(opt)
    opt.close()
    with nasopt.create("rea", space, seed=2, population=3, tournament=2, journal=path) as again:
        assert persistence.state_dict(again) == after


def test_failed_ask_rolls_back_rng_and_permutation(tmp_path):
    tiny = ProductSpace({"a": [0, 1], "b": ["x", "y"]})  # 4 members
    opt = nasopt.create("random", tiny, seed=0, journal=tmp_path / "run.jsonl")
    opt.tell(opt.ask(), 1.0)
    before, size = persistence.state_dict(opt), os.path.getsize(tmp_path / "run.jsonl")
    with pytest.raises(SpaceExhaustedError):
        opt.ask(4)
    assert persistence.state_dict(opt) == before
    assert os.path.getsize(tmp_path / "run.jsonl") == size
    opt.close()


class _CountingStrategy(Optimizer):
    """Random search that counts proposals and keeps a tell-driven state using the RNG."""

    name = "test-counting"
    proposals = 0

    def __init__(self, space, **kw):
        super().__init__(space, **kw)
        self.total = 0.0
        self.draws: list[int] = []

    def _propose(self, n):
        type(self).proposals += 1
        self.draws.append(int(self._rng.integers(1000)))
        return self._random_unseen(n)

    def _on_tell(self, trial):
        if trial.is_complete:
            self.total += trial.value + float(self._rng.random())

    def _get_state(self):
        return {"total": self.total, "draws": self.draws}

    def _set_state(self, state):
        self.total, self.draws = float(state["total"]), list(state["draws"])


def test_replay_never_reruns_the_strategy_and_replays_on_tell(tmp_path, space):
    path = tmp_path / "run.jsonl"
    opt = _CountingStrategy(space, seed=4, journal=path)
    for op in call_script(6, 60, space):
        apply_call(opt, op)
    before = persistence.state_dict(opt)
    opt.close()
    _CountingStrategy.proposals = 0
    again = _CountingStrategy(space, seed=4, journal=path)
    assert _CountingStrategy.proposals == 0
    assert persistence.state_dict(again) == before and again.total == opt.total
    again.close()


def test_journal_records_are_one_json_object_per_line(tmp_path, space):
    path = tmp_path / "run.jsonl"
    _record_run(path, space, n_ops=20)
    header, records, good, torn = read_journal(str(path))
    assert header["format"] == "nasopt-journal" and header["version"] == 1
    assert header["strategy"] == "rea" and header["space"] == space.config()
    assert torn == 0 and good == path.stat().st_size
    kinds = {rec["e"] for _, rec in records}
    assert kinds <= {"ask", "tell"} and "ask" in kinds and "tell" in kinds
    for _, rec in records:
        if rec["e"] == "ask":
            assert set(rec) >= {"trials", "rng", "perm"}


def test_journal_of_nb101_cells_and_a_space_given_explicitly(tmp_path):
    from nasopt.spaces import nb101

    space = nb101.NB101Space()
    path = tmp_path / "run.jsonl"
    with nasopt.create("rea", space, seed=1, population=4, tournament=2, journal=path) as opt:
        for op in call_script(7, 40, ProductSpace({"x": list(range(50))})):
            if op[0] != "warm":
                apply_call(opt, op)
        before = persistence.state_dict(opt)
    with nasopt.create("rea", space, seed=1, population=4, tournament=2, journal=path) as again:
        assert persistence.state_dict(again) == before
        assert all(isinstance(t.arch, nb101.NB101Cell) for t in again.trials)


def _even(arch: dict) -> bool:
    return (arch["a"] + arch["b"]) % 2 == 0


def test_user_space_that_cannot_be_rebuilt_is_passed_to_load(tmp_path):
    space = ProductSpace({"a": list(range(6)), "b": list(range(6))}, valid=lambda a: _even(a))
    path = tmp_path / "run.jsonl"
    with nasopt.create("random", space, seed=0, journal=path) as opt:
        for op in call_script(8, 25, space):
            apply_call(opt, op)
        before = persistence.state_dict(opt)
    with pytest.raises(CheckpointError, match="pass the space explicitly"):
        nasopt.load(path)
    again = nasopt.load(path, space=space)
    assert persistence.state_dict(again) == before
    again.close()


class _SetState(Optimizer):
    """A strategy whose state is not JSON-able (allowed without save/journal)."""

    name = "test-set-state"

    def __init__(self, space, **kw):
        super().__init__(space, **kw)
        self.marks: set = set()

    def _propose(self, n):
        self.marks.add(len(self.marks))
        return self._random_unseen(n)

    def _get_state(self):
        return {"marks": self.marks}

    def _set_state(self, state):
        self.marks = set(state["marks"])


def test_failed_ask_restores_a_state_that_is_not_json(tmp_path):
    tiny = ProductSpace({"a": [0, 1, 2]})
    opt = _SetState(tiny, seed=0)
    opt.ask(2)
    marks = set(opt.marks)
    with pytest.raises(SpaceExhaustedError):
        opt.ask(2)
    assert opt.marks == marks
    # a journal needs a state it can store: a clear error naming the strategy and the key
    with pytest.raises(CheckpointError, match=r"strategy 'test-set-state' state .*\['marks'\] holds a set"):
        _SetState(tiny, seed=0, journal=tmp_path / "run.jsonl").ask()


@pytest.mark.parametrize("strategy", registered_strategies(), ids=repr)
def test_reopening_streams_the_journal_in_chunks_and_rebuilds_exactly(tmp_path, space, monkeypatch, strategy):
    """A long journal is replayed while it is read, a chunk of records at a time, instead of
    parsing every record into memory first (100,000 trials: +430 MB and 57 s before); the
    rebuilt optimizer is the same whatever the chunk size, attached or not."""
    path = tmp_path / "run.jsonl"
    opt = strategy(space, seed=5, journal=path)
    for op in call_script(2, 60, space):
        apply_call(opt, op)
    live = persistence.state_dict(opt)
    opt.close()
    sizes: list[int] = []
    replay = journal_mod.replay

    def spy(o, header, records, p):
        sizes.append(len(records))
        replay(o, header, records, p)

    monkeypatch.setattr(journal_mod._Replayer, "CHUNK", 4)
    monkeypatch.setattr(journal_mod, "replay", spy)
    for attach in (True, False):
        sizes.clear()
        rebuilt = load_journal(path, attach=attach)
        assert persistence.state_dict(rebuilt) == live
        assert max(sizes) == 4 and sum(sizes) == len(path.read_bytes().splitlines()) - 1
        rebuilt.close()
    header, records, good, torn = read_journal(str(path), sink=lambda k, rec: None)
    assert header["strategy"] == strategy.name and records == [] and good == path.stat().st_size and torn == 0


def _rewrite_header(path, **changes):
    lines = path.read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    for key, value in changes.items():
        if value is None:
            header["options"].pop(key)
        else:
            header["options"][key] = value
    lines[0] = json.dumps(header, separators=(",", ":")) + "\n"
    path.write_text("".join(lines))


def test_reopen_accepts_an_old_header_without_default_options_or_with_resolved_values(tmp_path):
    """Journals written before options were recorded as given hold the resolved ``init``
    and ``loss``, and none of the options added since (``budget``, ``n_threads``): they
    reopen with the same constructor arguments."""
    space = ProductSpace({"a": list(range(8)), "b": list(range(8))})
    path = tmp_path / "run.jsonl"
    with nasopt.WeakNAS(space, seed=1, journal=path) as opt:
        opt.tell(opt.ask(), 1.0)
        resolved = (opt._init, opt._loss)
    _rewrite_header(path, init=resolved[0], loss=resolved[1], budget=None, n_threads=None)
    with nasopt.WeakNAS(space, seed=1, journal=path) as again:
        assert len(again.trials) == 1
    with pytest.raises(CheckpointError, match="different run"):
        nasopt.WeakNAS(space, seed=1, n_threads=2, journal=path)  # not the default: refused
    with pytest.raises(CheckpointError, match="different run"):
        nasopt.WeakNAS(space, seed=1, init=resolved[0] + 1, journal=path)
    _rewrite_header(path, init=resolved[0] + 1)  # a recorded value that is neither
    with pytest.raises(CheckpointError, match="different run"):
        nasopt.WeakNAS(space, seed=1, journal=path)


def _nb101_run(path, n_asks=30):
    """A journaled REA run on NB101Space: asks, tells, a failed trial, pending trials, and
    cells told without being asked (one of them an official unpruned spec)."""
    from nasopt.spaces import nb101

    space = nb101.NB101Space()
    opt = nasopt.create("rea", space, seed=3, population=6, tournament=2, journal=path)
    unpruned = nb101.NB101Cell([[0, 1, 1], [0, 0, 0], [0, 0, 0]], [nb101.INPUT, nb101.CONV3X3, nb101.OUTPUT])
    opt.tell(space.from_data(unpruned.to_data()), 0.5)
    for k in range(n_asks):
        for t in opt.ask(2):
            if k % 7 == 3:
                opt.tell(t, failed=True, error="diverged")
            elif k < n_asks - 2:
                opt.tell(t, float(t.arch.n_edges) + 0.01 * k)
    return space, opt


def spec_hash_of(cell) -> str:
    from nasopt.spaces.nb101_hash import spec_hash

    return spec_hash(cell.matrix, cell.ops)


def test_nb101_journal_reloads_in_batches_exactly_as_record_by_record(tmp_path, monkeypatch):
    """Reopening an NB101 journal decodes and hashes each chunk's cells in one batch
    (``from_data_many``); the rebuilt optimizer equals the live one and the one rebuilt
    record by record (the per-item path), whatever the chunk size."""
    path = tmp_path / "run.jsonl"
    space, opt = _nb101_run(path)
    live = persistence.state_dict(opt)
    keys = [t.key for t in opt.trials]
    opt.close()
    assert any(t.arch.n_vertices == 2 for t in load_journal(path, attach=False).trials)  # pruned
    for chunk in (3, 2048):
        monkeypatch.setattr(journal_mod._Replayer, "CHUNK", chunk)
        rebuilt = load_journal(path, attach=False)
        assert persistence.state_dict(rebuilt) == live and [t.key for t in rebuilt.trials] == keys
    batches: list[int] = []
    decode = journal_mod.decode_archs
    monkeypatch.setattr(journal_mod, "decode_archs", lambda s, d: batches.append(len(d)) or decode(s, d))
    load_journal(path, attach=False)
    assert batches and max(batches) > 1  # the cells really went through the batched decoder
    monkeypatch.setattr(journal_mod, "decode_archs", lambda s, d: None)  # record by record
    one_by_one = load_journal(path, attach=False)
    assert persistence.state_dict(one_by_one) == live and [t.key for t in one_by_one.trials] == keys
    # an official unpruned spec told from elsewhere (written by hand) is pruned both ways
    spec = {"matrix": [[0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]],
            "ops": ["input", "maxpool3x3", "conv1x1-bn-relu", "output"]}
    with open(path, "a") as fh:
        fh.write(json.dumps({"e": "tell", "id": live["next_id"], "status": "complete", "value": 0.7,
                             "error": None, "arch": spec}) + "\n")
    monkeypatch.setattr(journal_mod, "decode_archs", decode)
    batched = load_journal(path, attach=False)
    monkeypatch.setattr(journal_mod, "decode_archs", lambda s, d: None)
    one_by_one = load_journal(path, attach=False)
    assert persistence.state_dict(batched) == persistence.state_dict(one_by_one)
    assert batched.trials[-1].arch == space.from_data(spec) and batched.trials[-1].arch.n_vertices == 3
    assert batched.trials[-1].key == one_by_one.trials[-1].key == spec_hash_of(batched.trials[-1].arch)


@pytest.mark.parametrize("bad", [
    {"matrix": [[0, 1, 0], [0, 0, 1], [0, 1, 0]], "ops": ["input", "conv3x3-bn-relu", "output"]},
    {"matrix": [[0, 1], [0, 0]], "ops": ["input", "conv5x5"]},
    {"matrix": [[0, 1.5], [0, 0]], "ops": ["input", "output"]},
    {"matrix": [[0, 0], [0, 0]], "ops": ["input", "output"]},
    {"ops": ["input", "output"]},
])
def test_nb101_journal_with_a_bad_cell_is_refused_at_its_line(tmp_path, monkeypatch, bad):
    """A damaged or hostile cell in a journal is refused with the line that holds it, with
    the batched decoder as with the per-item path; nothing of the file is trusted."""
    path = tmp_path / "run.jsonl"
    _, opt = _nb101_run(path, n_asks=12)
    opt.close()
    lines = path.read_text().splitlines(keepends=True)
    k = next(i for i, line in enumerate(lines) if i > 5 and '"e":"ask"' in line)
    rec = json.loads(lines[k])
    rec["trials"][-1][1] = bad
    lines[k] = json.dumps(rec, separators=(",", ":")) + "\n"
    path.write_text("".join(lines))
    messages = []
    for batched in (True, False):
        if not batched:
            monkeypatch.setattr(journal_mod, "decode_archs", lambda s, d: None)
        with pytest.raises(CheckpointError, match=rf"line {k + 1}: cannot replay this ask record") as info:
            load_journal(path, attach=False)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_nb101_checkpoint_reloads_exactly_and_refuses_a_bad_cell(tmp_path):
    _, opt = _nb101_run(tmp_path / "run.jsonl", n_asks=12)
    data = persistence.state_dict(opt)
    opt.close()
    rebuilt = persistence.from_state_dict(json.loads(json.dumps(data)))
    assert persistence.state_dict(rebuilt) == data
    assert [t.key for t in rebuilt.trials] == [t.key for t in opt.trials]
    bad = json.loads(json.dumps(data))
    bad["trials"][4]["arch"]["matrix"][0][0] = 1  # a self-loop
    with pytest.raises(CheckpointError, match="corrupted checkpoint: .*self-loop"):
        persistence.from_state_dict(bad)
