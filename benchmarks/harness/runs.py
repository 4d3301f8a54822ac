"""Run search strategies on a tabular benchmark: many seeds, side by side, in parallel.

A strategy spec is a label plus how to build it: a nasopt strategy name with options, the
outside peer ``"tpe"`` (Optuna's default ``TPESampler(seed=...)`` over one categorical
parameter per NAS-Bench-201 edge), or the prior-only baseline ``"prior-order"``
(:data:`PRIOR_ORDER`: every architecture in the order of a prior, no predictor). Every
strategy gets the same seeds. A run stops at the query budget or as soon as the benchmark's
optimum (the argmax of the search objective) has been queried: from then on the
best-by-validation architecture cannot change, so every reported metric is already final.

Queries are *distinct* architectures: nasopt strategies never repeat one; TPE may suggest an
architecture it has already evaluated, which is answered from a cache and not counted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasopt.benchmarks.tabular import TabularBenchmark
from nasopt.core.errors import ConfigurationError

from .threads import one_thread

#: TPE gives up after this many suggestions per counted query (a stuck sampler).
TPE_MAX_REPEATS = 50


@dataclass(frozen=True)
class StrategySpec:
    """How to build one compared strategy.

    Attributes:
        label: Name in tables and plots.
        name: A registered nasopt strategy (``"weaknas"``, ``"rea"``, ``"random"``...) or
            ``"tpe"`` for Optuna's TPE sampler.
        options: Constructor keyword arguments (JSON-able).
        ask_batch: Architectures asked per ``ask(n)`` call (``None``: the strategy's
            ``batch`` attribute when it has one, else 1).
    """

    label: str
    name: str
    options: dict = field(default_factory=dict)
    ask_batch: int | None = None

    def to_json(self) -> dict:
        return {"label": self.label, "name": self.name, "options": self.options,
                "ask_batch": self.ask_batch}


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_list(text: str) -> list[str]:
    """A comma-separated option (``"pixel3, raspi4,"``) → its non-empty words, stripped."""
    return [w.strip() for w in text.split(",") if w.strip()]


def parse_seeds(text: str) -> list[int]:
    """``"0-19"``, ``"0,3,5"`` or a mix (``"0-4,9"``) → list of seeds (ranges inclusive)."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-")
            out.extend(range(int(lo), int(hi) + 1))
        elif part:
            out.append(int(part))
    return out


def parse_spec(text: str, presets: dict[str, StrategySpec] | None = None) -> StrategySpec:
    """``"weaknas"``, ``"rea"``, a preset label, or ``"label=name:key=value,key=value"``
    (values parsed as JSON when they can be, e.g. ``ensemble=3``, ``surrogate_options={...}``
    is not supported on the command line: use presets)."""
    presets = presets or {}
    text = text.strip()
    if text in presets:
        return presets[text]
    label, _, rest = text.partition("=") if "=" in text.split(":")[0] else (None, "", text)
    name, _, opts = rest.partition(":")
    options: dict[str, Any] = {}
    if opts:
        for item in opts.split(","):
            k, sep, v = item.partition("=")
            if not sep:
                raise ConfigurationError(f"bad option {item!r} in strategy spec {text!r}")
            options[k.strip()] = _parse_value(v.strip())
    if name in presets and not options:
        base = presets[name]
        return StrategySpec(label or base.label, base.name, base.options, base.ask_batch)
    if name in presets:
        base = presets[name]
        return StrategySpec(label or text, base.name, {**base.options, **options}, base.ask_batch)
    return StrategySpec(label or text, name, options)


# ====================================================================== single runs
#: ``options["prior"]`` of a spec naming table columns: ``"table:params_M,flops_M"``.
TABLE_PRIOR = "table:"


#: ``options["prior"]`` of a spec naming zero-cost proxies of nasopt's NB201 proxy table
#: (``nasopt.proxies.load_nb201``): ``"proxies:synflow,params"``.
PROXY_PRIOR = "proxies:"


def proxy_prior(names: list[str]) -> np.ndarray:
    """``(15,625, k)`` array of the named proxies of every NB201 cell in index order
    (synflow as ``log``, as :class:`nasopt.proxies.ProxyPrior` scores it), from the table
    packaged with nasopt.

    Raises:
        ConfigurationError: a proxy is not in the table, or the table does not cover every
            cell for it (a prior must score every member).
    """
    from nasopt.proxies import load_nb201
    from nasopt.proxies.prior import log_scaled

    table = load_nb201()
    for name in names:
        if np.isnan(table[name]).any():
            raise ConfigurationError(
                f"prior proxies:{name}: the packaged table covers {table.coverage[name]} of "
                f"{len(table[name])} cells for {name}; complete it with benchmarks/nb201_proxies.py")
    return log_scaled(names, np.column_stack([table[name] for name in names]))


def table_prior(options: dict, bench: TabularBenchmark) -> dict:
    """``options`` with a ``"prior": "table:<metric>,..."`` replaced by the array of those
    cost columns of the benchmark (``bench.metrics``, index order): a prior that costs
    nothing, kept JSON-able in the spec; ``"proxies:<name>,..."`` by the zero-cost proxies
    of the packaged NB201 table (:func:`proxy_prior`)."""
    prior = options.get("prior")
    if isinstance(prior, str) and prior.startswith(PROXY_PRIOR):
        names = [m.strip() for m in prior[len(PROXY_PRIOR):].split(",") if m.strip()]
        return {**options, "prior": proxy_prior(names)}
    if not (isinstance(prior, str) and prior.startswith(TABLE_PRIOR)):
        return options
    names = [m.strip() for m in prior[len(TABLE_PRIOR):].split(",") if m.strip()]
    metrics = bench.metrics
    missing = [m for m in names if m not in metrics]
    if missing or not names:
        raise ConfigurationError(f"prior {prior!r}: unknown table metric(s) {missing}; "
                                 f"available: {', '.join(sorted(metrics))}")
    return {**options, "prior": np.column_stack([metrics[m] for m in names])}


def _run_nasopt(spec: StrategySpec, bench: TabularBenchmark, seed: int, budget: int,
                optimum: int, stop_at_optimum: bool) -> list[int]:
    from nasopt.core.registry import create
    from nasopt.strategies import weaknas  # noqa: F401  (registers "weaknas")

    opt = create(spec.name, bench.space, seed=seed, **table_prior(spec.options, bench))
    step = spec.ask_batch or int(getattr(opt, "batch", 1) or 1)
    space, values = bench.space, bench.values
    queried: list[int] = []
    while len(queried) < budget:
        k = min(step, budget - len(queried))
        trials = opt.ask(k)
        idx = space.indices([t.arch for t in trials])
        for t, i in zip(trials, idx):
            opt.tell(t, float(values[i]))
        queried.extend(int(i) for i in idx)
        if stop_at_optimum and optimum in set(int(i) for i in idx):
            break
    return queried


#: Strategy name of the prior-only baseline: the architectures in the prior's order.
PRIOR_ORDER = "prior-order"


def prior_order(bench: TabularBenchmark, prior: Any, seed: int) -> np.ndarray:
    """Every index of the benchmark's (finite) space, best first by ``prior``: the mean of
    its standardized columns (``nasopt.strategies._prior.combined``, the ranking the start
    of WeakNAS and ReNAS draws from), ties in a random order drawn from ``seed``.

    ``prior`` is what a strategy's ``prior=`` takes (``"free"``, an array in index order...)
    or ``"table:<metric>,..."`` (:func:`table_prior`).

    Raises:
        ConfigurationError: the space is not finite, or the prior is refused by nasopt.
    """
    from nasopt.strategies._prior import Prior, combined

    if not bench.space.is_finite:
        raise ConfigurationError("the prior-only baseline needs a finite space (it ranks every member)")
    source = table_prior({"prior": prior}, bench)["prior"]
    score = combined(Prior(source, bench.space).all_scores())
    tie = np.random.default_rng(seed).permutation(len(score))
    return np.lexsort((tie, -score))  # by score descending, then by the seed's permutation


def _run_prior_order(spec: StrategySpec, bench: TabularBenchmark, seed: int, budget: int,
                     optimum: int, stop_at_optimum: bool) -> list[int]:
    unknown = sorted(set(spec.options) - {"prior"})
    if unknown:
        raise ConfigurationError(f"{PRIOR_ORDER!r} takes the option 'prior' only, got {unknown}")
    order = prior_order(bench, spec.options.get("prior", "free"), seed)[:budget]
    if stop_at_optimum:
        hit = np.flatnonzero(order == optimum)
        if hit.size:
            order = order[: hit[0] + 1]
    return [int(i) for i in order]


def _run_tpe(spec: StrategySpec, bench: TabularBenchmark, seed: int, budget: int,
             optimum: int, stop_at_optimum: bool) -> list[int]:
    return tpe_queries(bench, seed, budget, optimum if stop_at_optimum else None, **spec.options)


def tpe_queries(bench: TabularBenchmark, seed: int, budget: int, stop_at: int | None = None,
                **tpe_options: Any) -> list[int]:
    """Optuna's TPE sampler (``TPESampler(seed=seed, **tpe_options)``) on NAS-Bench-201 as
    six categorical parameters: the table indices of the distinct architectures it queries,
    in order, until ``budget`` of them (or the index ``stop_at``) are queried. Repeated
    suggestions are told their known value and not counted (at most ``TPE_MAX_REPEATS``
    suggestions per query)."""
    import optuna

    space = bench.space
    if not hasattr(space, "op_codes"):
        raise ConfigurationError("the TPE peer is defined on NAS-Bench-201 (op_codes) only")
    from nasopt.spaces.nb201 import EDGES, OPS

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, **tpe_options)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    codes = np.asarray(space.op_codes, dtype=np.int64)
    by_code = np.empty(len(OPS) ** len(EDGES), dtype=np.int64)
    by_code[codes @ (len(OPS) ** np.arange(len(EDGES)))] = np.arange(len(codes))
    pw = len(OPS) ** np.arange(len(EDGES))
    cache: dict[int, float] = {}
    queried: list[int] = []
    suggestions = 0
    while len(queried) < budget and suggestions < TPE_MAX_REPEATS * budget:
        suggestions += 1
        trial = study.ask()
        c = [OPS.index(trial.suggest_categorical(f"edge{e}", list(OPS))) for e in range(len(EDGES))]
        i = int(by_code[int(np.dot(c, pw))])
        if i not in cache:
            cache[i] = float(bench.values[i])
            queried.append(i)
        study.tell(trial, cache[i])
        if i == stop_at:
            break
    return queried


def run_one(spec: StrategySpec, bench: TabularBenchmark, seed: int, budget: int,
            stop_at_optimum: bool = True) -> dict:
    """One search: the queried indices (distinct, in order), their values, timings."""
    optimum = bench.optimum.index
    t0, c0 = time.perf_counter(), time.process_time()
    runner = {"tpe": _run_tpe, PRIOR_ORDER: _run_prior_order}.get(spec.name, _run_nasopt)
    queried = runner(spec, bench, seed, budget, optimum, stop_at_optimum)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "seed": int(seed),
        "indices": queried,
        "values": [round(float(bench.values[i]), 6) for i in queried],
        "stopped_at_optimum": stop_at_optimum and optimum in queried,
        "wall_s": wall,
        "cpu_s": cpu,
    }


# ====================================================================== parallel driver
_BENCH_CACHE: dict[tuple, TabularBenchmark] = {}


def _bench(kind: str, dataset: str, metric: str) -> TabularBenchmark:
    key = (kind, dataset, metric)
    if key not in _BENCH_CACHE:
        if kind == "macro":  # one objective: the mean accuracy of the 3 trainings
            from nasopt.benchmarks.macro import Macro

            _BENCH_CACHE[key] = Macro()
        elif kind == "nb201":
            from nasopt.benchmarks.nb201 import NB201

            _BENCH_CACHE[key] = NB201(dataset=dataset, metric=metric)
        else:
            raise ConfigurationError(f"unknown benchmark {kind!r}")
    return _BENCH_CACHE[key]


def _job(args: tuple) -> tuple[int, int, dict]:
    si, seed, spec_json, kind, dataset, metric, budget, stop = args
    spec = StrategySpec(**spec_json)
    bench = _bench(kind, dataset, metric)
    return si, seed, run_one(spec, bench, seed, budget, stop)


def run_many(
    specs: Sequence[StrategySpec],
    dataset: str = "cifar10",
    seeds: Sequence[int] = range(10),
    budget: int = 1000,
    workers: int = 1,
    metric: str = "valid",
    benchmark: str = "nb201",
    stop_at_optimum: bool = True,
    progress: bool = False,
    max_runs: dict[str, int] | None = None,
) -> dict[str, list[dict]]:
    """Every strategy on every seed; returns ``{label: [run, ...]}`` in seed order.

    ``max_runs`` caps the number of runs of some strategies (by label; they get the first
    seeds). Runs go to ``workers`` processes (one thread each: :func:`one_thread`);
    ``workers=1`` runs in-process.
    """
    max_runs = max_runs or {}
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise ConfigurationError(f"strategy labels must be distinct, got {labels}")
    seeds = [int(s) for s in seeds]
    seeds_of = {s.label: seeds[: max_runs.get(s.label, len(seeds))] for s in specs}
    jobs = [(si, seed, s.to_json(), benchmark, dataset, metric, budget, stop_at_optimum)
            for k, seed in enumerate(seeds) for si, s in enumerate(specs) if k < len(seeds_of[s.label])]
    results: dict[tuple[int, int], dict] = {}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc=f"{benchmark}/{dataset}", leave=False)
    if workers <= 1:
        for job in jobs:
            si, seed, rec = _job(job)
            results[(si, seed)] = rec
            if bar is not None:
                bar.update()
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        with ctx.Pool(workers, initializer=one_thread) as pool:
            for si, seed, rec in pool.imap_unordered(_job, jobs):
                results[(si, seed)] = rec
                if bar is not None:
                    bar.update()
    if bar is not None:
        bar.close()
    return {s.label: [results[(si, seed)] for seed in seeds_of[s.label]] for si, s in enumerate(specs)}
