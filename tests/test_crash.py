"""Crash safety of the journal: SIGKILL a journaled ask/tell run at random points, many
times; after each kill every acknowledged result must be in the journal, and the run, resumed
each time, must end exactly as an uninterrupted run with the same seed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

import nasopt
from nasopt.core.errors import CheckpointError
from nasopt.persist.journal import JournalWarning, load_journal, read_journal

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import crash_worker  # noqa: E402
from driver_worker import alive, launch, read_log, wait_until  # noqa: E402

KILLS = 50  # SIGKILLs per run (the issue asks for at least 50 in CI)
pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(signal, "SIGKILL"),
                                reason="the crash worker forks and the test sends SIGKILL (POSIX)")


def _trajectory(opt: nasopt.Optimizer) -> list[tuple]:
    """Everything observable about a run: each trial in tell order, with its result."""
    return [(t.id, t.arch, t.state.value, t.value) for t in (opt._trials[i] for i in opt._told)] + [
        ("pending", t.id, t.arch) for t in opt.pending
    ]


def _acks(path: Path) -> dict[int, str]:
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#"):  # a torn last ack is ignored
                out[int(parts[0])] = parts[1]
    return out


class _Server:
    """The fork server of ``crash_worker.py``."""

    def __init__(self, env: dict) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "crash_worker.py"), "serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env,
        )
        assert self._line() == "ready", self.proc.stderr.read()

    def _line(self) -> str:
        line = self.proc.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"crash worker died: {self.proc.stderr.read()}")
        return line

    def start(self, job: dict) -> int:
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        word, pid = self._line().split()
        assert word == "started"
        return int(pid)

    def wait(self, pid: int) -> int:
        word, got, status = self._line().split()
        assert word == "exited" and int(got) == pid
        return int(status)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


def _crash_run(tmp_path: Path, strategy: str, options: dict, total: int, batch: int,
               kills: int, seed: int, pace: float = 0.004) -> dict:
    from nasopt.benchmarks import NB201

    bench = NB201("cifar10")
    warm = [bench.space[i] for i in (5, 500, 5000)]
    journal, ackfile = tmp_path / "run.jsonl", tmp_path / "acks.txt"
    job = {"strategy": strategy, "options": options, "seed": seed, "journal": str(journal),
           "ack": str(ackfile), "total": total, "batch": batch, "warm": warm, "pace": pace}
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]))
    rnd = random.Random(seed)
    server = _Server(env)
    n_kills = n_runs = 0
    try:
        while True:
            n_runs += 1
            before = len(_acks(ackfile))
            pid = server.start(job)
            if n_kills < kills:
                # The worker sleeps ``pace`` s after each acked tell, so each kill lets at
                # most a few results through whatever the machine's speed: the run must
                # not finish before it has been killed ``kills`` times.
                if rnd.random() < 0.5:  # anywhere: during the replay, an ask, a tell...
                    time.sleep(rnd.uniform(0, 5 * pace))
                else:  # after some progress, at a random moment of the loop
                    target, deadline = before + rnd.randint(1, 4), time.time() + 5
                    while len(_acks(ackfile)) < target and time.time() < deadline:
                        time.sleep(0.001)
                    time.sleep(rnd.uniform(0, 0.01))
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            status = server.wait(pid)
            killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            if not killed and os.WEXITSTATUS(status) != 0:
                server.proc.kill()
                raise AssertionError(f"worker failed:\n{server.proc.stderr.read()[-4000:]}")
            n_kills += killed
            # every result whose tell() returned is in the journal, with its value
            if journal.exists() and read_journal(str(journal))[0] is None:
                # killed between creating the file and writing its header: nothing was
                # acknowledged yet, and the next start writes the header
                assert not _acks(ackfile), "results were acked before the journal had a header"
            elif journal.exists():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", JournalWarning)
                    opt = load_journal(journal, attach=False)
                trials = {t.id: t for t in opt.trials}
                for tid, value in _acks(ackfile).items():
                    t = trials[tid]
                    assert not t.is_pending, f"acked trial #{tid} lost its result"
                    assert (value == "failed") if t.is_failed else (float(value) == t.value)
            if not killed:
                break
    finally:
        server.close()
    assert n_kills >= kills
    resumed = load_journal(journal, attach=False)

    # the same run, uninterrupted, in this process
    ref = nasopt.create(strategy, bench.space, seed=seed, **options)
    crash_worker.run_loop(ref, bench, total, batch, warm)
    assert _trajectory(resumed) == _trajectory(ref)
    assert (resumed.best.id, resumed.best.arch, resumed.best.value) == (
        ref.best.id, ref.best.arch, ref.best.value)
    text = ackfile.read_text()
    return {"kills": n_kills, "runs": n_runs, "torn": text.count("# recovered"),
            "results": len(resumed.completed)}


@pytest.mark.slow
def test_sigkill_rea_loses_no_told_result_and_resumes_same_trajectory(tmp_path, nb201_data):
    stats = _crash_run(tmp_path, "rea", {"population": 10, "tournament": 3},
                       total=250, batch=3, kills=KILLS, seed=7)
    print(stats)
    assert stats["kills"] >= KILLS and stats["results"] > 100


@pytest.mark.slow
def test_sigkill_weaknas_resumes_same_trajectory(tmp_path, nb201_data):
    stats = _crash_run(tmp_path, "weaknas",
                       {"surrogate": "quadratic", "init": 10, "batch": 5, "top_n": 20},
                       total=40, batch=5, kills=8, seed=3)
    assert stats["kills"] >= 8


@pytest.mark.parametrize("start", ["fork", pytest.param("spawn", marks=pytest.mark.slow),
                                   pytest.param("forkserver", marks=pytest.mark.slow)])
def test_sigkilled_driver_with_a_process_pool_leaves_the_journal_free_and_no_worker(tmp_path, start):
    # optimize(executor=ProcessPoolExecutor(2)) forks its workers while the journal is open:
    # they must neither keep its lock nor outlive the driver.
    journal, log = tmp_path / "run.jsonl", tmp_path / "log.txt"
    proc = launch({"log": str(log), "n": 1000, "journal": str(journal), "executor": "pool",
                   "start": start, "sleep": 0.1})
    try:
        wait_until(lambda: len({pid for _, pid, _ in read_log(log)}) == 2, 60, "running 2 workers")
        assert proc.poll() is None, proc.stderr.read()
        workers = {pid for _, pid, _ in read_log(log)}
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()

    def reopened() -> bool:
        try:
            nasopt.load(str(journal)).close()
        except CheckpointError as exc:
            assert "in use" in str(exc)
            return False
        return True

    try:
        wait_until(reopened, 5, "able to reopen the journal")
        wait_until(lambda: not any(map(alive, workers)), 5, "rid of the workers")
    finally:  # do not leave them behind if the test fails
        for pid in filter(alive, workers):
            os.kill(pid, signal.SIGKILL)


def test_a_forked_child_does_not_keep_the_journal_lock(tmp_path):
    from nasopt.spaces import NB201Space

    path = str(tmp_path / "run.jsonl")
    opt = nasopt.create("random", NB201Space(), seed=0, journal=path)
    opt.tell(opt.ask(), 1.0)
    r, w = os.pipe()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child outlives the parent's optimizer, then tries to write
        os.write(ready_w, b"x")  # running: the fork hooks are done
        os.read(r, 1)
        try:
            opt.ask()
        except CheckpointError:
            os._exit(0)
        os._exit(1)
    os.close(r)
    os.close(ready_w)
    try:
        assert os.read(ready_r, 1) == b"x"
        os.close(ready_r)
        opt.close()
        again = nasopt.load(path)  # the child still runs: its copy must not hold the lock
        assert len(again.completed) == 1
        again.close()
    finally:
        os.write(w, b"x")
        os.close(w)
        _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "the child wrote to the journal"
