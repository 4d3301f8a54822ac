"""Ray Tune integration: NASSearch in real local Ray Tune runs (concurrent trials, a failed
trial, in-order and out-of-order completion, save/restore through the experiment directory)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

import pytest

import nasopt
from nasopt.testing import registered_strategies
from prior_fixture import OPTIONS, params_prior, weaknas_run

HAVE_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason='ray[tune] not installed (pip install "nasopt[ray]")')

BATCH = 3
REA = {"population": 3, "tournament": 2}


def test_missing_ray_names_the_extra(monkeypatch):
    for name in ("ray", "ray.tune", "ray.tune.search"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "nasopt.integrations.ray", raising=False)
    with pytest.raises(ImportError, match=r'pip install "nasopt\[ray\]"'):
        importlib.import_module("nasopt.integrations.ray")


@pytest.fixture(scope="module")
def bench(nb201_cifar10):
    return nb201_cifar10


@pytest.fixture(scope="module")
def ray_session():
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def reference(bench, n: int, fail: str | None):
    """The sequential ask(BATCH)/tell loop; ``fail`` is an architecture whose training fails."""
    opt = nasopt.create("rea", bench.space, seed=7, **REA)
    while len(opt.trials) < n:
        for t in opt.ask(BATCH):
            if t.arch == fail:
                opt.tell(t, failed=True, error="boom")
            else:
                opt.tell(t, bench(t.arch))
    return opt


def run_tune(search, plan: dict, n: int, path, name: str):
    """A real Tune run: each trial sleeps ``plan[arch][0]`` s, fails when ``plan[arch][1]``."""
    from ray import tune

    def trainable(config, plan=plan):
        import time

        delay, fail, value = plan.get(config["arch"], (0.0, False, None))
        time.sleep(delay)
        if fail:
            raise RuntimeError("boom")
        tune.report({"score": value})

    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 0.5}),
        tune_config=tune.TuneConfig(search_alg=search, num_samples=n, max_concurrent_trials=BATCH,
                                    reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(path), name=name, verbose=0),
    )
    return tuner.fit()


def make_plan(bench, trials, fail: str | None, reverse: bool) -> dict:
    """Delays that make each batch finish in ask order (or in reverse order), 1 s apart
    (the ordered searcher does not depend on it: a loaded machine may reorder them)."""
    plan = {}
    for i, t in enumerate(trials):
        pos = i % BATCH
        step = (BATCH - 1 - pos) if reverse else pos
        plan[t.arch] = (1.0 * step, t.arch == fail, None if t.arch == fail else float(bench(t.arch)))
    return plan


@needs_ray
@pytest.mark.slow
def test_tune_run_matches_the_sequential_loop_and_restores(bench, ray_session, tmp_path):
    from nasopt.integrations.ray import NASSearch

    # which architecture fails: the 5th one the strategy proposes (second batch)
    probe = reference(bench, 15, None)
    fail = probe.trials[4].arch
    ref = reference(bench, 15, fail)
    expect = [(t.arch, t.value, t.state) for t in ref.trials]

    # run 1: 9 trials, 3 at a time, planned to finish in ask order, one of them fails. The
    # searcher is ordered: on a loaded machine Ray's trial start-up can reorder completions,
    # and an unordered searcher would then (rightly) tell them in another order and propose
    # other cells (unordered telling is checked without a cluster, below)
    search = NASSearch(bench.space, strategy="rea", metric="score", mode="max", seed=7,
                       batch_size=BATCH, ordered=True, **REA)
    results = run_tune(search, make_plan(bench, ref.trials, fail, reverse=False), 9, tmp_path, "first")
    assert len(results) == 9 and sum(r.error is not None for r in results) == 1
    got = [(t.arch, t.value, t.state) for t in search.optimizer.trials]
    assert got == expect[:9]
    failed = [t for t in search.optimizer.trials if t.is_failed]
    assert [t.arch for t in failed] == [fail] and "raised an error" in failed[0].error

    # run 2: a fresh searcher restored from the experiment directory Tune saved it in
    # (ordered mode included); the batches now finish in reverse order: results are all
    # kept, and the run still continues exactly as the sequential loop
    again = NASSearch(bench.space, strategy="rea", seed=123, batch_size=BATCH, **REA)
    again.restore_from_dir(str(tmp_path / "first"))
    assert again.ordered
    assert [(t.arch, t.value, t.state) for t in again.optimizer.trials] == expect[:9]
    results = run_tune(again, make_plan(bench, ref.trials, fail, reverse=True), 6, tmp_path, "second")
    assert len(results) == 6 and all(r.error is None for r in results)
    opt = again.optimizer
    assert not opt.pending and len(opt.trials) == 15
    assert [(t.arch, t.value, t.state) for t in opt.trials] == expect
    assert opt.best.arch == ref.best.arch
    assert {r.config["arch"]: r.metrics["score"] for r in results} == {
        a: v for a, v, _ in expect[9:]}  # every Tune result reached the optimizer


@needs_ray
def test_searcher_unit_behaviour_without_a_cluster(bench, tmp_path):
    from nasopt.integrations.ray import NASSearch

    search = NASSearch(bench.space, strategy="random", seed=0, batch_size=2)
    assert search.set_search_properties("acc", "min", {})
    configs = [search.suggest(f"t{i}") for i in range(3)]
    assert configs[2] is None  # batch of 2 still running
    assert not search.optimizer.maximize
    search.on_trial_complete("t1", {"acc": 1.0})
    search.on_trial_complete("t0", {"acc": float("nan")})
    assert search.optimizer.trials[0].is_failed and search.optimizer.trials[1].value == 1.0
    nxt = search.suggest("t2")
    assert search.arch(nxt) == search.optimizer.trials[2].arch
    path = str(tmp_path / "state.json")
    search.save(path)
    restored = NASSearch(bench.space, strategy="random")
    restored.restore(path)
    restored.on_trial_complete("t2", {"acc": 2.0})
    assert [t.value for t in restored.optimizer.trials] == [None, 1.0, 2.0, None]
    assert restored.arch(restored.suggest("t3")) == restored.optimizer.trials[3].arch  # queued half
    assert restored.optimizer.best.value == 1.0 and restored.metric == "acc"  # mode="min"
    with pytest.raises(nasopt.ConfigurationError):
        NASSearch(bench.space, strategy="rea", mode="best")


def test_searcher_with_several_metrics_tells_one_value_per_metric_and_restores(tmp_path):
    from nasopt.integrations.ray import NASSearch
    from nasopt.spaces import NB201Space

    search = NASSearch(NB201Space(), strategy="rea", seed=0, population=3)
    assert search.set_search_properties(["acc", "latency"], ["max", "min"], {})
    configs = {f"t{i}": search.suggest(f"t{i}") for i in range(4)}
    assert search.optimizer.objectives == ["max", "min"]
    search.on_trial_complete("t0", {"acc": 0.9, "latency": 3.0})
    search.on_trial_complete("t1", {"acc": 0.8})  # a metric missing: a failed trial
    search.on_trial_complete("t2", {"acc": 0.7, "latency": 1.0})
    opt = search.optimizer
    assert [t.values for t in opt.trials[:3]] == [(0.9, 3.0), None, (0.7, 1.0)]
    assert opt.trials[1].is_failed and "latency=None" in opt.trials[1].error
    assert sorted(t.id for t in opt.pareto_front) == [0, 2]
    path = str(tmp_path / "state.json")
    search.save(path)
    restored = NASSearch(NB201Space(), strategy="rea", population=3)
    restored.restore(path)
    restored.on_trial_complete("t3", {"acc": 0.95, "latency": 0.5})
    assert [t.id for t in restored.optimizer.pareto_front] == [3]
    assert restored.arch(configs["t3"]) == restored.optimizer.trials[3].arch
    with pytest.raises(nasopt.ConfigurationError, match="mode must be"):
        NASSearch(NB201Space(), metric=["acc", "latency"], mode=["max", "fastest"])
    with pytest.raises(nasopt.ConfigurationError, match="contradicts"):
        NASSearch(optimizer=nasopt.create("random", NB201Space(), objectives=["max", "max"]),
                  metric=["a", "b"], mode=["max", "min"])


@needs_ray
@pytest.mark.parametrize("strategy,opts", [(f.name, f.options) for f in registered_strategies()],
                         ids=[f.name for f in registered_strategies()])
def test_searcher_with_every_strategy_in_a_simulated_tune_loop(bench, strategy, opts):
    """Tune's calls simulated: 3 trials at a time, completions shuffled (the conformance
    suite's check_ray_save_restore also saves and restores such a searcher mid-run)."""
    import random

    from nasopt.integrations.ray import NASSearch

    rng = random.Random(0)
    ref = nasopt.create(strategy, bench.space, seed=4, **opts)
    while len(ref.trials) < 15:
        for t in ref.ask(BATCH):
            ref.tell(t, bench(t.arch))
    for ordered in (True, False):
        search = NASSearch(bench.space, strategy=strategy, metric="acc", mode="max", seed=4,
                           batch_size=BATCH, ordered=ordered, **opts)
        running, n = {}, 0
        while n < 15 or running:
            while n < 15:
                config = search.suggest(f"t{n}")
                if config is None:
                    break
                running[f"t{n}"] = config
                n += 1
            tid = rng.choice(sorted(running))
            search.on_trial_complete(tid, {"acc": bench(search.arch(running.pop(tid)))})
        opt = search.optimizer
        assert len(opt.completed) == 15 and not opt.pending
        assert all(t.value == bench(t.arch) for t in opt.trials)
        if ordered:
            assert [(t.arch, t.value) for t in opt.trials] == [(t.arch, t.value) for t in ref.trials]



@needs_ray
@pytest.mark.parametrize("prior", ["free", params_prior], ids=["free", "callable"])
def test_searcher_passes_a_prior_on_and_a_restore_needs_it_again(bench, tmp_path, prior):
    import json
    import pickle

    from nasopt.integrations.ray import NASSearch

    opts = OPTIONS
    ref = weaknas_run(bench, 3, prior, 14)
    search = NASSearch(bench.space, strategy="weaknas", metric="acc", mode="max", seed=3, prior=prior, **opts)
    configs = []
    for i in range(9):
        configs.append(search.suggest(f"t{i}"))
        search.on_trial_complete(f"t{i}", {"acc": bench(search.arch(configs[-1]))})
    path = str(tmp_path / "state.json")
    search.save(path)
    assert json.load(open(path))["optimizer"]["prior"] == ref._prior.identity()  # only what identifies it
    # restored with the prior passed again: continues as the plain loop
    again = NASSearch(bench.space, strategy="weaknas", prior=prior, **opts)
    again.restore(path)
    for i in range(9, 14):
        configs.append(again.suggest(f"t{i}"))
        again.on_trial_complete(f"t{i}", {"acc": bench(again.arch(configs[-1]))})
    assert [again.arch(c) for c in configs] == [t.arch for t in ref.trials]
    # without it: refused, saying to pass it again
    with pytest.raises(nasopt.CheckpointError, match="pass prior= again"):
        NASSearch(bench.space, strategy="weaknas", **opts).restore(path)
    # pickled (Tune's tuner.pkl): the prior never travels; "free" does, as the word
    blob = pickle.dumps(search)
    if prior == "free":
        assert pickle.loads(blob).optimizer._prior.identity() == ref._prior.identity()
    else:
        assert search.__getstate__()["prior"] is None
        with pytest.raises(nasopt.CheckpointError, match="pass prior= again"):
            pickle.loads(blob)
