"""Thread limits around numeric fits: the number of BLAS / OpenMP (and torch) threads a
strategy's predictor may use, chosen by nasopt and overridable with ``n_threads=``.

The predictors fitted during a search are small (hundreds of samples, tens of units): with
the libraries' defaults (one thread per core) OpenBLAS spends more CPU synchronising threads
than computing. Measured with ``benchmarks/threads.py`` (docs/performance.md): the default
WeakNAS search on NB201 used 2.3-2.7x the CPU of a one-thread run on a 2-core machine, for
the same proposals. Hence :data:`DEFAULT_THREADS` = 1.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .checks import check_int

#: Threads of a strategy's fits unless its ``n_threads`` says otherwise.
DEFAULT_THREADS = 1


def check_n_threads(value: Any) -> int | None:
    """``n_threads`` as given when it is ``None`` (no limit) or an integer >= 1, else a
    :class:`~nasopt.core.errors.ConfigurationError`."""
    return None if value is None else check_int("n_threads", value, 1)


@contextmanager
def torch_thread_limit(n: int) -> Iterator[None]:
    """Run the body with ``n`` torch CPU threads, restoring the previous count afterwards;
    does nothing when torch has not been imported (it is never imported here).

    ``torch.set_num_threads`` is process-wide: do not fit from several Python threads."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else n
    if before != n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        if before != n:
            torch.set_num_threads(before)


@contextmanager
def thread_limit(n_threads: int | None) -> Iterator[None]:
    """Run the body with at most ``n_threads`` threads in the BLAS and OpenMP libraries
    (``threadpoolctl.threadpool_limits``) and in torch when it is already imported; the
    previous settings are restored afterwards. ``None`` leaves every setting alone. The
    settings are process-wide: BLAS calls from other Python threads during the body get the
    limit too, and fits running at once in several Python threads (several optimizers) may
    restore each other's settings out of order.

    Surrogates with a thread option of their own keep it inside their fits (the torch
    surrogates' ``n_threads``, default 1; GBRT / RandomForest ``n_jobs``)."""
    if n_threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n_threads)), torch_thread_limit(int(n_threads)):
        yield
