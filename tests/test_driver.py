"""The parallel driver ``nasopt.driver.optimize``: scheduling, failures, stop/resume, executors."""

from __future__ import annotations

import concurrent.futures as cf
import errno
import functools
import io
import math
import multiprocessing
import os
import random
import signal
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest

import nasopt
from nasopt.core.errors import ConfigurationError
from nasopt.driver import CheckpointWarning, _Progress, optimize
from nasopt.spaces import NB201Space

sys.path.insert(0, str(Path(__file__).parent))
from driver_worker import alive, first_archs, launch, read_log, value, wait_until  # noqa: E402

posix_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="forks and sends signals (POSIX)")

STRATEGIES = [("random", {}), ("rea", {}), ("weaknas", {"surrogate": "quadratic"})]
OP_WEIGHT = {"none": 0.0, "skip_connect": 1.0, "nor_conv_1x1": 2.0, "nor_conv_3x3": 3.0, "avg_pool_3x3": 0.5}


def score(arch: str) -> float:
    """A deterministic synthetic objective on NB201 strings (no data needed; picklable)."""
    ops = [item.split("~")[0] for item in arch.replace("+", "").split("|") if item]
    return sum(OP_WEIGHT[o] for o in ops) + (zlib.crc32(arch.encode()) % 1000) / 1e4


def failing_score(arch: str) -> float:
    """Fails on every architecture with an average pooling on edge 0->1."""
    if arch.startswith("|avg_pool_3x3~0|"):
        raise ValueError(f"cannot train {arch}")
    return score(arch)


def make(strategy: str, opts: dict, seed: int = 3) -> nasopt.Optimizer:
    return nasopt.create(strategy, NB201Space(), seed=seed, **opts)


def sequential(strategy: str, opts: dict, n: int, batch: int) -> list[tuple[str, float]]:
    """The plain ask/tell loop with batches of ``batch``: the reference trajectory."""
    opt = make(strategy, opts)
    while len(opt.trials) < n:
        for t in opt.ask(min(batch, n - len(opt.trials))):
            opt.tell(t, score(t.arch))
    return [(t.arch, t.value) for t in opt.trials]


def trajectory(opt: nasopt.Optimizer) -> list[tuple[str, float]]:
    return [(t.arch, t.value) for t in opt.trials]


class InOrderExecutor(cf.Executor):
    """A thread pool whose tasks complete strictly in submission order (each waits for
    the previous one), with a shuffled start: evaluations *finish* in ask order."""

    def __init__(self, workers: int) -> None:
        self.pool = cf.ThreadPoolExecutor(workers)
        self.events: list[threading.Event] = []
        self.lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        with self.lock:
            prev = self.events[-1] if self.events else None
            mine = threading.Event()
            self.events.append(mine)

        def gated():
            time.sleep(random.random() * 0.005)
            try:
                return fn(*args, **kwargs)
            finally:
                if prev is not None:
                    prev.wait()
                mine.set()

        return self.pool.submit(gated)

    def shutdown(self, wait=True, *, cancel_futures=False):
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def jittered(arch: str) -> float:
    """Random delay: evaluations finish out of order."""
    time.sleep(random.random() * 0.01)
    return score(arch)


# ---------------------------------------------------------------------------------- equivalence
@pytest.mark.parametrize("strategy,opts", STRATEGIES)
def test_inline_run_is_the_plain_ask_tell_loop(strategy, opts):
    opt = optimize(score, make(strategy, opts), 24, progress=False)
    assert trajectory(opt) == sequential(strategy, opts, 24, 1)


@pytest.mark.parametrize("strategy,opts", STRATEGIES)
def test_batches_finishing_in_order_reproduce_the_sequential_batch_loop(strategy, opts):
    with InOrderExecutor(4) as ex:
        opt = optimize(score, make(strategy, opts), 24, executor=ex, batch_size=4, progress=False)
    ref = sequential(strategy, opts, 24, 4)
    assert trajectory(opt) == ref
    assert opt.best.arch == max(ref, key=lambda r: r[1])[0]


@pytest.mark.parametrize("strategy,opts", STRATEGIES)
def test_out_of_order_results_are_all_kept_and_ordered_mode_is_reproducible(strategy, opts):
    random.seed(0)
    with cf.ThreadPoolExecutor(4) as ex:
        loose = optimize(jittered, make(strategy, opts), 24, executor=ex, batch_size=4, progress=False)
        ordered = optimize(jittered, make(strategy, opts), 24, executor=ex, batch_size=4,
                           ordered=True, progress=False)
    for opt in (loose, ordered):
        assert len(opt.completed) == 24 and not opt.pending
        assert all(t.value == score(t.arch) for t in opt.trials)
        assert len({t.key for t in opt.trials}) == 24
    assert trajectory(ordered) == sequential(strategy, opts, 24, 4)


def test_ordered_asynchronous_run_is_the_k_in_flight_simulation():
    # reference: k asked up front, then one new ask after each tell, results in ask order
    opt = make("rea", {})
    queue = opt.ask(3)
    while len(opt.trials) < 30 or queue:
        t = queue.pop(0)
        opt.tell(t, score(t.arch))
        if len(opt.trials) < 30:
            queue.append(opt.ask())
    random.seed(1)
    with cf.ThreadPoolExecutor(3) as ex:
        run = optimize(jittered, make("rea", {}), 30, executor=ex, n_parallel=3, ordered=True, progress=False)
    assert trajectory(run) == trajectory(opt)


def test_asynchronous_mode_keeps_k_evaluations_in_flight():
    active, peak, lock = [0], [0], threading.Lock()

    def slow(arch):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        return score(arch)

    opt = optimize(slow, make("random", {}), 20, n_parallel=4, progress=False)
    assert peak[0] == 4
    assert len(opt.completed) == 20


def test_process_pool_executor_runs_the_objective_in_other_processes():
    with cf.ProcessPoolExecutor(2) as ex:
        opt = optimize(score, make("rea", {}), 16, executor=ex, batch_size=2, ordered=True, progress=False)
    assert trajectory(opt) == sequential("rea", {}, 16, 2)


# ---------------------------------------------------------------------------------- failures
def test_objective_exception_becomes_a_failed_trial_with_the_error_text():
    opt = optimize(failing_score, make("random", {}, seed=0), 60, n_parallel=2, progress=False)
    failed = [t for t in opt.trials if t.is_failed]
    assert failed, "expected some architectures with avg_pool on edge 0->1"
    for t in failed:
        assert t.arch.startswith("|avg_pool_3x3~0|")
        assert "ValueError: cannot train" in t.error and t.arch in t.error
    assert len(opt.completed) + len(failed) == 60


@pytest.mark.parametrize("bad", [float("nan"), math.inf, "0.5", None])
def test_non_finite_or_non_numeric_results_become_failed_trials(bad):
    opt = optimize(lambda a: bad, make("random", {}), 3, progress=False)
    assert all(t.is_failed and "objective returned" in t.error for t in opt.trials)


def test_exceptions_outside_catch_propagate_after_writing_the_checkpoint(tmp_path):
    ckpt = tmp_path / "run.json"
    calls = []

    def objective(arch):
        calls.append(arch)
        if len(calls) == 5:
            raise RuntimeError("disk full")
        return score(arch)

    with pytest.raises(RuntimeError, match="disk full"):
        optimize(objective, make("rea", {}), 10, catch=(ValueError,), checkpoint=str(ckpt), progress=False)
    saved = nasopt.load(str(ckpt))
    assert len(saved.completed) == 4 and len(saved.pending) == 1


# ---------------------------------------------------------------------------------- callbacks
@pytest.mark.parametrize("kw", [{}, {"n_parallel": 3}, {"batch_size": 4}])
def test_callbacks_see_each_finished_trial_right_after_its_tell(kw):
    seen, order = [], []

    def log(opt, trial):
        seen.append(trial)
        assert opt.trials[trial.id] == trial and not trial.is_pending  # already recorded
        order.append(len(opt.completed) + sum(t.is_failed for t in opt.trials))

    def check(opt, trial):
        assert trial.user_attrs == {"logged": True}  # set by the callback before this one

    opt = optimize(failing_score, make("rea", {}, seed=0), 40, progress=False,
                   callbacks=[log, lambda o, t: o.set_user_attr(t, "logged", True), check], **kw)
    assert [t.id for t in seen] == opt._told  # once per tell, in tell order
    assert order == list(range(1, 41))  # called after each tell, before the next one
    assert any(t.is_failed for t in seen) and any(t.is_complete for t in seen)
    assert all(t.user_attrs == {"logged": True} for t in opt.trials)


def test_user_attrs_set_by_a_callback_reach_the_checkpoint(tmp_path):
    ckpt = tmp_path / "run.json"
    optimize(score, make("random", {}), 7, checkpoint=str(ckpt), checkpoint_every=3, progress=False,
             callbacks=[lambda o, t: o.set_user_attr(t, "rank", t.id)])
    assert [t.user_attrs["rank"] for t in nasopt.load(str(ckpt)).trials] == list(range(7))


def test_a_failing_callback_ends_the_run_after_writing_the_checkpoint(tmp_path):
    ckpt = tmp_path / "run.json"

    def broken(opt, trial):
        if trial.id == 3:
            raise OSError("logger unreachable")

    with pytest.raises(OSError, match="logger unreachable"):
        optimize(score, make("rea", {}), 10, checkpoint=str(ckpt), progress=False, callbacks=[broken])
    assert len(nasopt.load(str(ckpt)).completed) == 4


# ---------------------------------------------------------------------------------- stop / resume
def test_stop_callback_ends_the_run_and_waits_for_running_evaluations():
    with cf.ThreadPoolExecutor(3) as ex:
        opt = optimize(jittered, make("rea", {}), 100, executor=ex, n_parallel=3,
                       stop=lambda o: len(o.completed) >= 10, progress=False)
    assert 10 <= len(opt.completed) <= 12
    assert not opt.pending


def test_interrupted_run_resumes_from_its_checkpoint_and_finishes_the_pending_trial(tmp_path):
    ckpt = str(tmp_path / "run.json")
    calls = []

    def objective(arch):
        calls.append(arch)
        if len(calls) == 13:
            raise KeyboardInterrupt
        return score(arch)

    with pytest.raises(KeyboardInterrupt):
        optimize(objective, make("rea", {}), 30, checkpoint=ckpt, checkpoint_every=5, progress=False)
    opt = nasopt.load(ckpt)
    assert len(opt.completed) == 12 and [t.arch for t in opt.pending] == [calls[12]]
    optimize(score, opt, 18, checkpoint=ckpt, progress=False)
    assert len(opt.completed) == 30 and not opt.pending
    # interrupting + resuming loses nothing: same trajectory as one uninterrupted run
    assert trajectory(opt) == sequential("rea", {}, 30, 1)
    assert trajectory(nasopt.load(ckpt)) == trajectory(opt)


class CtrlCExecutor(cf.ThreadPoolExecutor):
    """A thread pool where Ctrl-C hits the main thread at the 7th submission, while slow
    evaluations are running."""

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.count = 0

    def submit(self, fn, /, *args, **kwargs):
        self.count += 1
        if self.count == 7:
            raise KeyboardInterrupt
        return super().submit(fn, *args, **kwargs)


def slow_score(arch: str) -> float:
    time.sleep(0.05)
    return score(arch)


def test_ctrl_c_during_a_threaded_run_keeps_running_trials_pending(tmp_path):
    ckpt = str(tmp_path / "run.json")
    with CtrlCExecutor(2) as ex:
        with pytest.raises(KeyboardInterrupt):
            optimize(slow_score, make("rea", {}), 40, executor=ex, n_parallel=2, checkpoint=ckpt,
                     progress=False)
    opt = nasopt.load(ckpt)
    # 6 submitted: those told are complete, the rest (and the 7th, asked) stay pending
    assert len(opt.trials) == 7 and 1 <= len(opt.pending) <= 3
    assert len(opt.completed) + len(opt.pending) == 7
    optimize(score, opt, 33 + len(opt.pending), n_parallel=2, progress=False)
    assert len(opt.completed) == 40 and not opt.pending


def test_checkpoint_is_written_periodically(tmp_path):
    ckpt = str(tmp_path / "run.json")
    seen = []

    def objective(arch):
        try:
            seen.append(len(nasopt.load(ckpt).trials))
        except FileNotFoundError:
            seen.append(0)
        return score(arch)

    optimize(objective, make("random", {}), 12, checkpoint=ckpt, checkpoint_every=4, progress=False)
    assert seen == [0] * 4 + [4] * 4 + [8] * 4
    assert len(nasopt.load(ckpt).completed) == 12


@posix_only
def test_one_ctrl_c_stops_a_process_pool_run_and_the_resume_redoes_no_finished_evaluation(tmp_path):
    # The driver runs 2 evaluations at a time in a (fork) process pool, checkpointing only at
    # the end; evaluations #4 and #5 are long, and Ctrl-C comes while both are running.
    ckpt, log = tmp_path / "run.json", tmp_path / "log.txt"
    archs = first_archs(40)
    proc = launch({"log": str(log), "n": 40, "checkpoint": str(ckpt), "checkpoint_every": 1000,
                   "executor": "pool", "sleep": 0.05, "slow": {archs[4]: 4.0, archs[5]: 4.0}})
    try:
        started = lambda: {a for e, _, a in read_log(log) if e == "start"}  # noqa: E731
        wait_until(lambda: {archs[4], archs[5]} <= started(), 60, "running the long evaluations")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)  # one Ctrl-C is enough
    finally:
        proc.kill()
    assert "KeyboardInterrupt" in proc.stderr.read()
    finished = [a for e, _, a in read_log(log) if e == "done"]
    saved = nasopt.load(str(ckpt))
    told = {t.arch: t for t in saved.trials if not t.is_pending}
    # everything that finished was told and saved; the long ones were stopped, not awaited
    assert set(finished) == set(told) and len(finished) == len(told) >= 4
    assert {archs[4], archs[5]} <= {t.arch for t in saved.pending}
    again = []

    def objective(arch):
        again.append(arch)
        return value(arch)

    optimize(objective, saved, 40 - len(told), progress=False)
    assert not set(again) & set(finished), "an evaluation that had finished was run again"
    assert len(saved.completed) == 40 and not saved.pending
    assert all(t.value == value(t.arch) for t in saved.trials)


@posix_only
def test_one_ctrl_c_stops_a_threaded_run_whose_evaluations_hang(tmp_path):
    ckpt, log = tmp_path / "run.json", tmp_path / "log.txt"
    proc = launch({"log": str(log), "n": 10, "checkpoint": str(ckpt), "executor": "threads",
                   "hang": "all"})
    try:
        wait_until(lambda: len(read_log(log)) == 2, 60, "running 2 evaluations")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)  # before: the exit waited for the hung threads (a 2nd Ctrl-C)
    finally:
        proc.kill()
    assert "KeyboardInterrupt" in proc.stderr.read()
    saved = nasopt.load(str(ckpt))
    assert len(saved.pending) == 2 and not saved.completed


# ---------------------------------------------------------------------------------- checkpoint errors
def test_a_checkpoint_that_cannot_be_written_warns_and_the_run_completes_its_budget(tmp_path):
    ckpt = tmp_path / "not-yet" / "run.json"  # its directory appears after 12 evaluations
    calls = []

    def objective(arch):
        calls.append(arch)
        if len(calls) == 12:
            ckpt.parent.mkdir()
        return score(arch)

    with pytest.warns(CheckpointWarning, match="could not be written") as caught:
        opt = optimize(objective, make("rea", {}), 30, checkpoint=str(ckpt), checkpoint_every=5,
                       progress=False)
    assert len(opt.completed) == 30 and len(caught) == 2  # after 5 and 10 results
    assert trajectory(nasopt.load(str(ckpt))) == trajectory(opt)  # retried, then written


def test_a_full_disk_does_not_stop_the_run_and_the_write_is_retried(tmp_path, monkeypatch):
    from nasopt.persist import checkpoint as persistence

    real, writes = persistence.save_checkpoint, []

    def full_disk(opt, path):
        writes.append(len(opt.trials))
        if len(writes) <= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(opt, path)

    monkeypatch.setattr(persistence, "save_checkpoint", full_disk)
    ckpt = str(tmp_path / "run.json")
    with cf.ThreadPoolExecutor(3) as ex, pytest.warns(CheckpointWarning, match="No space left") as caught:
        opt = optimize(jittered, make("random", {}), 24, executor=ex, n_parallel=3,
                       checkpoint=ckpt, checkpoint_every=4, progress=False)
    assert len(opt.completed) == 24
    assert len(caught) == 2 and len(writes) == 24 // 4 + 1  # every 4 results, and at the end
    assert len(nasopt.load(ckpt).completed) == 24


def test_on_checkpoint_error_raise_stops_the_run_at_the_failed_write(tmp_path):
    ckpt = str(tmp_path / "missing" / "run.json")
    opt = make("random", {})
    with pytest.raises(OSError), pytest.warns(CheckpointWarning):  # the last try only warns
        optimize(score, opt, 30, checkpoint=ckpt, checkpoint_every=5, on_checkpoint_error="raise",
                 progress=False)
    assert len(opt.completed) == 5


# ---------------------------------------------------------------------------------- timeouts
HANG = threading.Event()  # set at the end of each test: abandoned threads then return


@pytest.fixture
def release_hung_threads():
    HANG.clear()
    yield
    HANG.set()


def hang_on(archs: set, arch: str) -> float:
    if arch in archs:
        HANG.wait()
    return score(arch)


@pytest.mark.parametrize("n_parallel", [1, 3])
def test_an_evaluation_exceeding_timeout_fails_and_the_run_goes_on(n_parallel, release_hung_threads):
    archs = [t.arch for t in make("random", {}).ask(12)]
    hung = {archs[1], archs[6]}
    t0 = time.monotonic()
    opt = optimize(functools.partial(hang_on, hung), make("random", {}), 12, n_parallel=n_parallel,
                   timeout=0.5, progress=False)
    assert time.monotonic() - t0 < 10
    failed = {t.arch: t.error for t in opt.trials if t.is_failed}
    assert set(failed) == hung and not opt.pending
    assert all("TimeoutError" in e and "timeout=0.5 s" in e and "abandoned" in e for e in failed.values())
    assert all(t.value == score(t.arch) for t in opt.completed) and len(opt.completed) == 10


def sleep_on(archs: set, log: str, arch: str) -> float:
    """For process pools: sleeps a minute on ``archs``, logging its pid first."""
    if arch in archs:
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(60)
    time.sleep(0.05)
    return score(arch)


@posix_only
def test_a_hung_evaluation_in_a_process_pool_times_out_and_its_worker_is_killed(tmp_path):
    archs = [t.arch for t in make("random", {}).ask(10)]
    log = str(tmp_path / "pids.txt")
    objective = functools.partial(sleep_on, {archs[2]}, log)
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
        with pytest.warns(RuntimeWarning, match="killed the worker processes"):
            opt = optimize(objective, make("random", {}), 10, executor=ex, n_parallel=2, timeout=2.0,
                           progress=False)
    failed = [t for t in opt.trials if t.is_failed]
    assert [t.arch for t in failed] == [archs[2]] and "worker process was killed" in failed[0].error
    # the evaluation running beside it died with the pool and was run again: nothing lost
    assert len(opt.completed) == 9 and all(t.value == score(t.arch) for t in opt.completed)
    (pid,) = map(int, Path(log).read_text().split())
    wait_until(lambda: not alive(pid), 10, "killed the hung worker")


def test_a_trial_pending_because_it_hung_fails_on_resume_with_timeout(tmp_path, release_hung_threads):
    ckpt = str(tmp_path / "run.json")
    opt = make("rea", {})
    optimize(score, opt, 5, progress=False)
    hung = opt.ask()  # the run was stopped while this one hung
    opt.save(ckpt)
    resumed = nasopt.load(ckpt)
    optimize(functools.partial(hang_on, {hung.arch}), resumed, 5, timeout=0.5, progress=False)
    assert resumed.trials[5].arch == hung.arch and resumed.trials[5].is_failed
    assert "TimeoutError" in resumed.trials[5].error
    assert len(resumed.completed) == 9 and not resumed.pending


# ---------------------------------------------------------------------------------- misc
def test_progress_bar_only_on_a_terminal(monkeypatch):
    opt = make("random", {})
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert _Progress(True, 5, opt).bar is None

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    assert _Progress(False, 5, opt).bar is None
    optimize(score, opt, 5, progress=True)
    assert "5/5" in tty.getvalue() and "best" in tty.getvalue()


@pytest.mark.parametrize("kw", [{"n_trials": -1}, {"n_parallel": 0}, {"batch_size": 0},
                                {"executor": object()}, {"checkpoint_every": 0},
                                {"callbacks": [print, 3]}, {"callbacks": print},
                                {"on_checkpoint_error": "ignore"}, {"timeout": 0}, {"timeout": -1.0},
                                {"timeout": math.nan}, {"timeout": "5"}, {"timeout": True}])
def test_bad_arguments_are_configuration_errors(kw):
    args = {"n_trials": 3, **kw}
    with pytest.raises(ConfigurationError):
        optimize(score, make("random", {}), **args)


def test_zero_budget_does_nothing():
    opt = optimize(score, make("random", {}), 0, progress=False)
    assert not opt.trials


@pytest.mark.parametrize("kw", [{}, {"n_parallel": 2}, {"batch_size": 4}, {"n_parallel": 3, "ordered": True}])
def test_exhausting_a_finite_space_ends_the_run_with_a_warning(kw):
    from nasopt.spaces.product import ProductSpace

    space = ProductSpace({"a": [1, 2, 3], "b": ["x", "y"]})
    opt = nasopt.create("random", space, seed=0)
    with pytest.warns(RuntimeWarning, match="exhausted"):
        optimize(lambda arch: float(arch["a"]), opt, 10, progress=False, **kw)
    assert len(opt.completed) == 6 and not opt.pending
    assert opt.best.value == 3.0
