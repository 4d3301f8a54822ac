"""The experiments' thread limit: one BLAS / OpenMP / torch thread per process.

The experiments run many small fits side by side (``--workers`` processes on a 2-core
machine); with the libraries' defaults (one thread per core in every process) the threads
oversubscribe the cores and CPU times stop being comparable. Every script calls
:func:`one_thread` when run as a script, and the worker pools call it in every worker. A
search's result does not depend on the thread count, only its cost does.
"""

from __future__ import annotations

import os
import sys

#: Environment variables naming the thread count of OpenMP, OpenBLAS and MKL.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread() -> None:
    """Limit this process and the processes it starts to one thread in the BLAS / OpenMP
    libraries and in torch: the environment variables for libraries loaded later and for
    child processes, ``threadpoolctl`` for those already loaded (numpy's BLAS), and
    ``torch.set_num_threads(1)`` when torch is imported already (torch imported later reads
    ``OMP_NUM_THREADS``). The limit stays for the life of the process."""
    for var in THREAD_VARS:
        os.environ[var] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
