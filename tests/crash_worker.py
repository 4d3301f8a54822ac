"""Worker for ``tests/test_crash.py``: a journaled ask/tell loop on NAS-Bench-201 that the
test kills with SIGKILL at random points.

Run as ``python tests/crash_worker.py serve``: the process imports nasopt and loads the
benchmark once, then reads one JSON job per line on stdin. For each job it forks a child
that runs :func:`run_loop` against the job's journal and prints ``started <pid>``; when the
child ends (normally or killed) it prints ``exited <pid> <status>``. Forking keeps each
restart cheap (no interpreter start, import or data load), so a test can afford many kills.

The child writes one line ``<trial id> <value or 'failed'>`` to the job's ack file right after
each ``tell`` returned: every acked result must survive any crash.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import warnings
from typing import Callable

import nasopt
from nasopt.persist.journal import JournalWarning


def fails(arch: str) -> bool:
    """Deterministic simulated failures (about 1 in 13 architectures)."""
    return sum(map(ord, arch)) % 13 == 0


def run_loop(
    opt: "nasopt.Optimizer",
    bench: Callable[[str], float],
    total: int,
    batch: int,
    warm: list[str],
    ack: Callable[[nasopt.Trial], None] = lambda t: None,
) -> None:
    """The run: warm-start results, then ask a batch, tell it, until ``total`` results.

    Written so that restarting it on an optimizer rebuilt from a journal continues the same
    sequence of calls as an uninterrupted run: warm-start results not recorded yet are told
    first, then whatever was asked but not told, then new batches.
    """
    told = {t.arch for t in opt.trials if not t.is_pending}
    for arch in warm:
        if arch not in told:
            ack(opt.tell(arch, bench(arch)))
    while len(opt.completed) + sum(t.is_failed for t in opt.trials) < total:
        pending = opt.pending
        if not pending:
            opt.ask(batch)
            continue
        for t in pending:
            if fails(t.arch):
                ack(opt.tell(t, failed=True, error="simulated failure"))
            else:
                ack(opt.tell(t, bench(t.arch)))


def _child(job: dict, bench: Callable[[str], float], space) -> None:
    fd = os.open(job["ack"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    pace = float(job.get("pace", 0.0))

    def ack(t: nasopt.Trial) -> None:
        os.write(fd, f"{t.id} {'failed' if t.is_failed else repr(t.value)}\n".encode())
        if pace:  # slow the loop down so that kills land at every stage on any machine
            time.sleep(pace)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt = nasopt.create(job["strategy"], space, seed=job["seed"], journal=job["journal"],
                            **job.get("options", {}))
    if any(issubclass(w.category, JournalWarning) for w in caught):
        os.write(fd, b"# recovered a torn record\n")
    run_loop(opt, bench, job["total"], job["batch"], job["warm"], ack)
    os.write(fd, b"# done\n")


def serve() -> None:
    """Fork server loop (see the module docstring)."""
    from nasopt.benchmarks import NB201

    bench = NB201("cifar10")
    space = bench.space
    space[0]  # build the index tables once, before forking
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:  # child
            code = 0
            try:
                _child(job, bench, space)
            except BaseException:  # noqa: BLE001 - report and exit non-zero
                traceback.print_exc()
                code = 3
            finally:
                sys.stderr.flush()
                os._exit(code)
        print(f"started {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exited {pid} {status}", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if sys.argv[1:] != ["serve"]:
        sys.exit("usage: crash_worker.py serve")
    serve()
