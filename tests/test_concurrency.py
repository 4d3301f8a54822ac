"""ask/tell from many threads: unique ids, no duplicate architectures, no lost tells, and a
history equal to the set of tells; readers (best, trials, save) run concurrently."""

from __future__ import annotations

import sys
import threading
import zlib

import pytest

import nasopt
from nasopt.persist import journal as journal_mod
from nasopt.spaces.product import ProductSpace

THREADS, PER_THREAD = 8, 2000


def big_space() -> ProductSpace:
    """10^8 combinations: too many to enumerate, so the rejection-sampling path is used."""
    return ProductSpace({f"p{i}": list(range(10)) for i in range(8)}, max_enumerate=10_000)


def objective(arch: dict) -> float:
    return (zlib.crc32(repr(sorted(arch.items())).encode()) % 100_000) / 1000


def _hammer(opt, per_thread: int, batch: int = 1, fail_every: int = 0, readers: int = 1,
            save_path=None) -> tuple[list, list, list]:
    """Run THREADS workers doing ask/tell; returns (asked, told, errors)."""
    asked: list[list] = [[] for _ in range(THREADS)]
    told: list[list] = [[] for _ in range(THREADS)]
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS + readers)
    stop = threading.Event()

    def worker(k: int) -> None:
        try:
            start.wait()
            n = 0
            while n < per_thread:
                trials = opt.ask(min(batch, per_thread - n)) if batch > 1 else [opt.ask()]
                asked[k].extend(trials)
                for t in trials:
                    if fail_every and t.id % fail_every == 0:
                        done = opt.tell(t, failed=True)
                    else:
                        done = opt.tell(t, objective(t.arch))
                    told[k].append(done)
                n += len(trials)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    def reader() -> None:
        try:
            start.wait()
            i = 0
            while not stop.is_set():
                best, trials = opt.best, opt.trials
                if best is not None:
                    assert best.is_complete and best.id < len(trials) + THREADS * batch
                _ = opt.pending, opt.completed, len(opt)
                if save_path is not None and i % 200 == 0:
                    opt.save(save_path)
                i += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: more interleavings
    try:
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
        rthreads = [threading.Thread(target=reader) for _ in range(readers)]
        for th in threads + rthreads:
            th.start()
        for th in threads:
            th.join()
        stop.set()
        for th in rthreads:
            th.join()
    finally:
        sys.setswitchinterval(old)
    return [t for a in asked for t in a], [t for a in told for t in a], errors


def _check(opt, asked, told, errors, n_total: int) -> None:
    assert not errors, errors[:3]
    ids = [t.id for t in asked]
    assert len(ids) == n_total and sorted(ids) == list(range(n_total))  # unique, no gaps
    keys = [opt.space.key(t.arch) for t in asked]
    assert len(set(keys)) == n_total  # no architecture proposed twice
    assert len(told) == n_total and not opt.pending  # no lost tells
    history = {(t.id, t.state, t.value) for t in opt.trials}
    assert history == {(t.id, t.state, t.value) for t in told}
    told_ok = {t.id for t in told if t.is_complete}
    assert {t.id for t in opt.completed} == told_ok and len(opt.completed) == len(told_ok)
    best_value = max(t.value for t in told if t.is_complete)
    first_best = next(t for t in opt.completed if t.value == best_value)  # earliest on ties
    assert opt.best.id == first_best.id and opt.best.value == best_value


@pytest.mark.slow
def test_8_threads_x_2000_trials_random_search(tmp_path):
    opt = nasopt.create("random", big_space(), seed=0)
    asked, told, errors = _hammer(opt, PER_THREAD, save_path=tmp_path / "run.ckpt")
    _check(opt, asked, told, errors, THREADS * PER_THREAD)
    again = nasopt.load(tmp_path / "run.ckpt")  # a checkpoint saved mid-run is consistent
    assert {t.id for t in again.trials} <= {t.id for t in opt.trials}


@pytest.mark.slow
def test_8_threads_rea_batches_and_failures():
    opt = nasopt.create("rea", big_space(), seed=1, population=20, tournament=5)
    asked, told, errors = _hammer(opt, 500, batch=3, fail_every=7)
    _check(opt, asked, told, errors, THREADS * 500)
    assert sum(t.is_failed for t in told) == len([t for t in asked if t.id % 7 == 0])


def test_threads_on_a_finite_space_use_each_member_once():
    space = ProductSpace({"a": list(range(20)), "b": list(range(20))})  # 400 members
    opt = nasopt.create("random", space, seed=2)
    asked, told, errors = _hammer(opt, 50)
    _check(opt, asked, told, errors, 400)
    with pytest.raises(nasopt.SpaceExhaustedError):
        opt.ask()


def test_threads_with_a_journal_rebuild_the_same_run(tmp_path, monkeypatch):
    monkeypatch.setattr(journal_mod, "FSYNC", False)
    path = tmp_path / "run.jsonl"
    opt = nasopt.create("rea", big_space(), seed=3, population=5, tournament=2, journal=path)
    asked, told, errors = _hammer(opt, 40, batch=2, fail_every=5)
    _check(opt, asked, told, errors, THREADS * 40)
    from nasopt.persist.checkpoint import state_dict

    before = state_dict(opt)
    opt.close()
    with nasopt.create("rea", big_space(), seed=3, population=5, tournament=2, journal=path) as again:
        assert state_dict(again) == before
