"""Driver process for the interrupt and kill tests of ``optimize`` (tests/test_driver.py,
tests/test_crash.py): the tests send it SIGINT or SIGKILL in the middle of a run.

Run as ``python tests/driver_worker.py '<json job>'``. The job says:

* ``log``: file the objective appends ``start <pid> <arch>`` and ``done <pid> <arch>`` lines
  to (``done`` just before it returns);
* ``n``: the budget; ``journal`` or ``checkpoint`` (with ``checkpoint_every``): persistence;
* ``executor``: ``"pool"`` (a ``ProcessPoolExecutor(2)`` with the start method ``start``,
  ``"fork"`` by default, as in ``with ...: optimize(...)``) or ``"threads"`` (nasopt's own
  threads);
* ``sleep``: seconds an evaluation takes, ``slow``: ``{arch: seconds}`` for some; ``hang``:
  architectures that hang (wait on an event that never comes), or ``"all"``.

The random strategy with seed 0 proposes the same architectures whatever the results, so a
test picks which evaluations are slow or hang with :func:`first_archs`. The helpers at the
end (:func:`launch`, :func:`read_log`, :func:`wait_until`, :func:`alive`) are the tests'.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Callable

import nasopt
from nasopt.spaces import NB201Space

JOB: dict = {}


def first_archs(n: int) -> list[str]:
    """The first ``n`` architectures the runs of this worker evaluate, in ask order."""
    return [t.arch for t in nasopt.create("random", NB201Space(), seed=0).ask(n)]


def value(arch: str) -> float:
    """The result of evaluating ``arch``."""
    return (zlib.crc32(arch.encode()) % 1000) / 10.0


def objective(arch: str) -> float:
    """Log, work (or hang), log, return a deterministic value."""
    with open(JOB["log"], "a") as fh:
        fh.write(f"start {os.getpid()} {arch}\n")
    hang = JOB.get("hang", [])
    if hang == "all" or arch in hang:
        threading.Event().wait()
    time.sleep(JOB.get("slow", {}).get(arch, JOB.get("sleep", 0.0)))
    with open(JOB["log"], "a") as fh:
        fh.write(f"done {os.getpid()} {arch}\n")
    return value(arch)


def _setup(job: dict) -> None:
    """Pool initializer: the job, for workers that did not fork from the driver."""
    JOB.update(job)


def main() -> None:
    JOB.update(json.loads(sys.argv[1]))
    opt = nasopt.create("random", NB201Space(), seed=0, journal=JOB.get("journal"))
    kw = dict(checkpoint=JOB.get("checkpoint"), checkpoint_every=JOB.get("checkpoint_every", 10),
              progress=False)
    if JOB["executor"] == "pool":
        context = multiprocessing.get_context(JOB.get("start", "fork"))
        with cf.ProcessPoolExecutor(2, mp_context=context, initializer=_setup, initargs=(JOB,)) as ex:
            nasopt.optimize(objective, opt, JOB["n"], executor=ex, n_parallel=2, **kw)
    else:
        nasopt.optimize(objective, opt, JOB["n"], n_parallel=2, **kw)


# ---------------------------------------------------------------------------------- for the tests
HERE = Path(__file__).parent


def launch(job: dict) -> subprocess.Popen:
    """Start a driver process running ``job``."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen([sys.executable, str(HERE / "driver_worker.py"), json.dumps(job)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def read_log(path: str | Path) -> list[tuple[str, int, str]]:
    """The ``(event, pid, arch)`` lines of a log (a torn last line is left out)."""
    if not os.path.exists(path):
        return []
    text = Path(path).read_text()
    return [(e, int(p), a) for e, p, a in
            (line.split(" ", 2) for line in text.split("\n")[:-1])]


def wait_until(cond: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``cond`` until it holds, or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {seconds} s")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """``pid`` is a running process (a zombie, dead but not reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return not os.path.exists("/proc")


if __name__ == "__main__":
    # act as a foreground program whatever launched the suite: a shell running it as a
    # background job without job control (``cmd &`` in a script) ignores SIGINT, and the
    # worker would inherit that and never see the tests' Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
