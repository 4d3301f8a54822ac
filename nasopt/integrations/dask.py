"""Dask integration: run :func:`nasopt.driver.optimize` on a Dask cluster.

No adapter is needed — ``optimize(objective, opt, n, executor=client.get_executor(),
n_parallel=k)`` works with any ``distributed.Client``. :func:`dask_executor` is a shortcut
that connects to a scheduler (or starts a local cluster of worker processes) and yields
such an executor::

    from nasopt.driver import optimize
    from nasopt.integrations.dask import dask_executor

    with dask_executor(n_workers=4) as ex:               # or dask_executor("tcp://host:8786")
        optimize(objective, opt, 200, executor=ex, n_parallel=4)

The objective and the architectures travel to the workers with cloudpickle.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor
from typing import Any

from ._deps import require

distributed = require("distributed", "dask", "nasopt.integrations.dask")

__all__ = ["dask_executor"]


@contextlib.contextmanager
def dask_executor(address: Any = None, *, n_workers: int = 2, threads_per_worker: int = 1,
                  **cluster_options: Any) -> Iterator[Executor]:
    """A ``concurrent.futures.Executor`` backed by Dask.

    Args:
        address: A ``distributed.Client``, a scheduler address (``"tcp://host:8786"``), or
            ``None`` to start a ``LocalCluster`` of ``n_workers`` processes (closed on exit).
        n_workers, threads_per_worker, cluster_options: ``LocalCluster`` settings when
            ``address`` is ``None`` (the dashboard is off unless ``dashboard_address`` is set).
    """
    if isinstance(address, distributed.Client):
        yield address.get_executor()
        return
    with contextlib.ExitStack() as stack:
        if address is None:
            cluster_options.setdefault("dashboard_address", None)
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                **cluster_options))
            address = cluster
        client = stack.enter_context(distributed.Client(address))
        yield client.get_executor()
