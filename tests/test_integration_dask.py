"""Dask: the parallel driver on a real LocalCluster (2 worker processes) through
``client.get_executor()``: in-order runs equal the sequential loop, out-of-order runs keep
every result, worker exceptions become failed trials."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import pytest

import nasopt
from nasopt.driver import optimize

HAVE_DASK = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(not HAVE_DASK, reason='dask[distributed] not installed (pip install "nasopt[dask]")')

BATCH = 2
STRATEGIES = [("rea", {"population": 4, "tournament": 2}), ("weaknas", {"surrogate": "quadratic", "init": 4, "batch": 2})]


def test_missing_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.delitem(sys.modules, "nasopt.integrations.dask", raising=False)
    with pytest.raises(ImportError, match=r'pip install "nasopt\[dask\]"'):
        importlib.import_module("nasopt.integrations.dask")


@pytest.fixture(scope="module")
def bench(nb201_cifar10):
    return nb201_cifar10


@pytest.fixture(scope="module")
def executor():
    from nasopt.integrations.dask import dask_executor

    with dask_executor(n_workers=2, threads_per_worker=1) as ex:
        yield ex


def make(strategy, opts, bench):
    return nasopt.create(strategy, bench.space, seed=11, **opts)


def reference(strategy, opts, bench, n):
    opt = make(strategy, opts, bench)
    while len(opt.trials) < n:
        for t in opt.ask(BATCH):
            opt.tell(t, bench(t.arch))
    return opt


def planned_objective(plan: dict):
    """A picklable objective (a closure, shipped by value): sleeps, then looks the value up."""
    def objective(arch):
        import time

        delay, value = plan[arch]
        time.sleep(delay)
        return value
    return objective


def plan_for(ref, bench, reverse):
    plan = {}
    for i, t in enumerate(ref.trials):
        pos = i % BATCH
        plan[t.arch] = (0.4 * ((BATCH - 1 - pos) if reverse else pos), float(bench(t.arch)))
    return plan


def trajectory(opt):
    return [(t.arch, t.value) for t in opt.trials]


@needs_dask
@pytest.mark.slow
@pytest.mark.parametrize("strategy,opts", STRATEGIES)
def test_dask_run_finishing_in_order_equals_the_sequential_loop(bench, executor, strategy, opts):
    ref = reference(strategy, opts, bench, 12)
    opt = optimize(planned_objective(plan_for(ref, bench, reverse=False)), make(strategy, opts, bench), 12,
                   executor=executor, batch_size=BATCH, progress=False)
    assert trajectory(opt) == trajectory(ref)
    assert opt.best.arch == ref.best.arch


@needs_dask
@pytest.mark.slow
def test_dask_run_finishing_out_of_order_keeps_every_result(bench, executor):
    strategy, opts = STRATEGIES[0]
    ref = reference(strategy, opts, bench, 12)
    plan = plan_for(ref, bench, reverse=True)
    objective = planned_objective(plan)
    ordered = optimize(objective, make(strategy, opts, bench), 12, executor=executor,
                       batch_size=BATCH, ordered=True, progress=False)
    assert trajectory(ordered) == trajectory(ref)  # ordered telling: timing does not matter
    # told as they finish: the trajectory may differ, but nothing is lost or mixed up
    lookup = dict(zip((bench.space[i] for i in range(len(bench.space))), bench.values.tolist()))
    loose = optimize(table_objective(lookup), make(strategy, opts, bench), 12, executor=executor,
                     n_parallel=2, progress=False)
    assert len(loose.completed) == 12 and not loose.pending
    assert all(t.value == bench(t.arch) for t in loose.completed)


def table_objective(lookup: dict):
    def objective(arch):
        return lookup[arch]
    return objective


def exploding_objective():
    def explode(arch):
        raise MemoryError(f"worker ran out of memory on {arch}")
    return explode


@needs_dask
@pytest.mark.slow
def test_worker_exceptions_become_failed_trials(bench, executor):
    opt = optimize(exploding_objective(), nasopt.create("random", bench.space, seed=0), 4, executor=executor,
                   n_parallel=2, progress=False)
    assert all(t.is_failed and "MemoryError: worker ran out of memory" in t.error for t in opt.trials)
