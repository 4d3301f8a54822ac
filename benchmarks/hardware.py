"""Hardware-aware search on NAS-Bench-201, side by side on the same seeds: accuracy × cost
fronts (hypervolume regret) and accuracy under a latency constraint.

Example (the tables of docs/hardware.md)::

    nice -n 10 python benchmarks/hardware.py --datasets cifar10 \\
        --costs pixel3,raspi4,eyeriss,fpga,gold_6226,titan_rtx_1 --seeds 2000-2029 \\
        --jobs 2 --out results/hardware/cifar10

**Fronts.** Every method searches for the accuracy / cost trade-off (validation accuracy
maximized, the cost minimized: a device latency from ``nb201_hw_latency.npz``, the parameter
count or the FLOPs): nasopt's ``weaknas``, ``renas``, ``rea`` and ``random`` with
``objectives=["max", "min"]``, and Optuna's ``NSGAIISampler``, multi-objective
``TPESampler`` and ``RandomSampler`` (ask/tell with ``directions=["maximize",
"minimize"]``, one categorical parameter per cell edge). Queries are *distinct*
architectures: an Optuna suggestion of an architecture already evaluated is told its known
values and not counted (as in ``benchmarks/search.py``; ``optuna-tpe-pruned``: told
``TrialState.PRUNED`` instead, :data:`PRUNED_REPEATS`). The score of a run after ``n``
queries is its **hypervolume regret** ``1 - HV / HV*`` (:func:`hv_scores`): accuracy
normalised from the space's median (0) to its maximum (1), clipped at 0; the cost from its
maximum (0) to its minimum (1); reference point (0, 0); ``HV*`` the hypervolume of all
15,625 cells. Reported at 50, 100 and 200 queries (mean ± s.e.m. over seeds) with the
queries until the regret falls below 0.01 (censored at the budget).

**Constrained.** Maximize validation accuracy subject to latency ≤ the device's median
latency, until the constrained optimum (the most accurate feasible cell) is queried:
nasopt with the constraint known before evaluation (``constraints=[fn]``: infeasible cells
are never proposed, so never counted) and known after (``tell(trial, acc,
constraints=[latency - median])``: every evaluation counts), against Optuna's TPE with
the constraint (``Trial.set_constraint``, formerly ``constraints_func``). TPE after: every
distinct suggestion counts; before: an infeasible suggestion is told its constraint value
with a placeholder objective (TPE ranks infeasible trials by violation only) and is not
counted, since the latency lookup is free.

Writes ``<out>.json.gz`` (settings and every run: queried indices, CPU and wall seconds;
``elapsed_s`` summed over the invocations a ``--resume`` went on from),
``<out>.md`` (tables, the command above them) and ``<out>.png`` (the fronts of one seed at
100 queries against the true front). Finished runs are appended to ``<out>.runs.jsonl``
as they come; ``--resume`` skips those already there (a long run that was stopped goes on).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if not __package__:  # run as `python benchmarks/hardware.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.harness.jsonio import read_json, write_json  # noqa: E402
from benchmarks.harness.output import output_path  # noqa: E402
from benchmarks.harness.runs import parse_list, parse_seeds  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt.core.errors import ConfigurationError  # noqa: E402
from nasopt.core.pareto import hypervolume, nondominated_mask  # noqa: E402
from nasopt.proxies.table import AUTO_MULTI_PROXIES  # noqa: E402

#: Budgets (distinct queries) at which the hypervolume regret is reported.
BUDGETS: tuple[int, ...] = (50, 100, 200)
#: Further queries at which a run with a longer ``--budget`` is scored (below its budget; the
#: budget itself too), for the queries to regret 0.01 on pairs no method reaches in 200.
LONG_BUDGETS: tuple[int, ...] = (500, 1000)
#: An Optuna run stops after this many suggestions per query of its budget, distinct or not:
#: multi-objective TPE converges onto cells it has evaluated and re-suggests them (thousands
#: of suggestions for 200 distinct cells on the coarse eyeriss / fpga latency tables); a
#: stopped run keeps the regret of its last query.
MAX_SUGGESTIONS_PER_QUERY = 3
#: Optuna front methods allowed more suggestions per query of the budget than
#: :data:`MAX_SUGGESTIONS_PER_QUERY`, for TPE's queries to regret 0.01 where the usual cap
#: stops it first: ``optuna-tpe-patient`` is ``optuna-tpe`` (its repeats told their known
#: values) given 20, ``optuna-tpe-long`` the same given 500, run to each pair's own budget
#: (``--budget-past``). Every TPE front run keeps its past trials incrementally
#: (:class:`~benchmarks.harness.tpe_incremental.IncrementalMOTPESampler`: Optuna's
#: suggestions, without the per-suggestion cost that grows with the study).
SUGGESTION_CAPS: dict[str, int] = {"optuna-tpe-patient": 20, "optuna-tpe-long": 500}
#: Regret level whose first query is reported ("queries until regret < 0.01").
TARGET_REGRET = 0.01
#: The accurate end of the front: a run that has queried no cell above this normalised
#: accuracy (0: the median cell, 1: the best) by :data:`STUCK_AT` queries has not found the
#: region of the most accurate cells (the tables count such runs).
STUCK_ACCURACY = 0.95
#: The queries at which the runs stuck below :data:`STUCK_ACCURACY` are counted.
STUCK_AT: tuple[int, ...] = (100, 200)
DEVICES: tuple[str, ...] = ("pixel3", "raspi4", "eyeriss", "fpga", "gold_6226", "titan_rtx_1")
#: ``--costs`` words that are not devices, and the NB201 metric they name.
COST_METRICS = {"params": "params_M", "flops": "flops_M"}
DATASET_NAMES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "imagenet16": "ImageNet16-120"}
#: Front methods: label → (library, name). nasopt strategies get ``objectives=["max", "min"]``.
FRONT_METHODS: dict[str, tuple[str, str]] = {
    "weaknas": ("nasopt", "weaknas"), "renas": ("nasopt", "renas"),
    "rea": ("nasopt", "rea"), "random": ("nasopt", "random"),
    "optuna-nsga2": ("optuna", "NSGAIISampler"), "optuna-tpe": ("optuna", "TPESampler"),
    "optuna-random": ("optuna", "RandomSampler"), "optuna-tpe-pruned": ("optuna", "TPESampler"),
    "weaknas-noref": ("nasopt", "weaknas"), "renas-noref": ("nasopt", "renas"),
    "weaknas-nofunc": ("nasopt", "weaknas"), "weaknas-noqx": ("nasopt", "weaknas"),
    "weaknas-strict": ("nasopt", "weaknas"), "weaknas-proxies": ("nasopt", "weaknas"),
    "weaknas-noprior": ("nasopt", "weaknas"), "optuna-tpe-patient": ("optuna", "TPESampler"),
    "optuna-tpe-long": ("optuna", "TPESampler"),
}
#: Options of a front method other than its strategy's defaults, to show what a default
#: contributes: ``weaknas-strict`` without ``stall_repeats`` (no function asked twice while
#: a new one is left, even once the front stalls), and earlier defaults: ``weaknas-noprior``
#: without the automatic prior's predictor inputs (before ``prior="auto"`` fed the proxies
#: and the function features with several objectives), ``weaknas-noqx`` without the quality
#: share either (before ``quality_exploit``), ``weaknas-nofunc`` without function classes
#: either (before ``function_aware``), ``<strategy>-noref`` without a region of interest
#: either (before ``reference="auto"``); and ``weaknas-proxies``, the five zero-cost proxies
#: of the packaged table alone as predictor input (:func:`table_prior`; the candidate before
#: the function features joined them). Each gets a table of its per-seed differences to its
#: strategy's row when both ran.
FRONT_OPTIONS: dict[str, dict[str, Any]] = {
    "weaknas-noref": {"reference": None, "function_aware": False, "quality_exploit": 0.0,
                      "prior": None},
    "renas-noref": {"reference": None},
    "weaknas-nofunc": {"function_aware": False, "quality_exploit": 0.0, "prior": None},
    "weaknas-noqx": {"quality_exploit": 0.0, "stall_repeats": False, "prior": None},
    "weaknas-strict": {"stall_repeats": False, "prior": None},
    "weaknas-noprior": {"prior": None},
    "weaknas-proxies": {"prior": "proxies", "prior_init": 0},
}
#: The zero-cost proxies of the packaged NB201 table (``nasopt/proxies/data/nb201_proxies.npz``)
#: that a method's ``"prior": "proxies"`` stands for: those of the automatic prior with
#: several objectives.
PROXY_NAMES = AUTO_MULTI_PROXIES
#: The tables a method's or a variant's ``"prior"`` may name (:func:`table_prior`).
TABLE_PRIORS = ("synflow", "proxies", "function")
#: Optuna front methods that tell a repeated suggestion ``TrialState.PRUNED`` instead of its
#: known values (the other way Optuna users skip a repeat): TPE puts pruned trials with the
#: worse ones, so it is pushed off the cells it has evaluated rather than drawn back to them.
PRUNED_REPEATS: frozenset[str] = frozenset({"optuna-tpe-pruned"})
#: Constrained methods: label → (library, name); each runs with the constraint known before
#: and known after evaluation.
CONSTRAINED_METHODS: dict[str, tuple[str, str]] = {
    "weaknas": ("nasopt", "weaknas"), "rea": ("nasopt", "rea"), "random": ("nasopt", "random"),
    "optuna-tpe": ("optuna", "TPESampler"),
}
MODES = ("before", "after")
#: The nasopt default and Optuna's samplers, for the goal columns of the tables.
DEFAULT_METHOD = "weaknas"
OPTUNA_LABELS = tuple(k for k, (lib, _) in FRONT_METHODS.items() if lib == "optuna")
#: Reference numbers of issue 21 (CIFAR-10, 100 distinct queries, 10 seeds).
REFERENCE_REGRET_100 = {
    "pixel3": {"optuna-tpe": 0.113, "optuna-random": 0.193, "optuna-nsga2": 0.228},
    "raspi4": {"optuna-tpe": 0.136, "optuna-random": 0.177, "optuna-nsga2": 0.215},
}


# ====================================================================== problems
def cost_metric(cost: str) -> str:
    """The NB201 metric a ``--costs`` word names: ``latency:<device>``, ``params_M``, ``flops_M``."""
    return COST_METRICS.get(cost, cost if cost.startswith("latency:") else f"latency:{cost}")


@functools.lru_cache(maxsize=None)
def bench_of(dataset: str) -> Any:
    """The NB201 benchmark of ``dataset`` (loaded once per process)."""
    from nasopt.benchmarks.nb201 import NB201

    return NB201(dataset)


def cost_values(dataset: str, cost: str) -> np.ndarray:
    """The cost column (index order) of ``cost`` on ``dataset``'s table."""
    bench = bench_of(dataset)
    name = cost_metric(cost)
    metrics = bench.metrics
    if name not in metrics:
        raise ConfigurationError(f"unknown cost {cost!r}: use a device ({', '.join(bench.devices)}) "
                                 f"or one of {', '.join(COST_METRICS)}")
    return np.asarray(metrics[name], dtype=np.float64)


def hv_scores(accuracy: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """``(n, 2)`` normalised scores, larger better on both, the reference point at (0, 0):
    accuracy from the space's median (0) to its maximum (1), clipped at 0; cost from its
    maximum (0) to its minimum (1)."""
    acc = np.asarray(accuracy, dtype=np.float64)
    c = np.asarray(cost, dtype=np.float64)
    med, top = np.median(acc), acc.max()
    a = np.clip((acc - med) / (top - med), 0.0, None)
    lo, hi = c.min(), c.max()
    return np.column_stack([a, (hi - c) / (hi - lo)])


@dataclass
class FrontProblem:
    """One (dataset, cost) pair: raw objectives, normalised scores and the true front's
    hypervolume."""

    dataset: str
    cost: str
    accuracy: np.ndarray
    cost_values: np.ndarray
    scores: np.ndarray
    hv_star: float


@functools.lru_cache(maxsize=None)
def front_problem(dataset: str, cost: str) -> FrontProblem:
    """The :class:`FrontProblem` of ``dataset`` × ``cost`` (built once per process)."""
    acc = bench_of(dataset).values
    c = cost_values(dataset, cost)
    scores = hv_scores(acc, c)
    return FrontProblem(dataset, cost, acc, c, scores, hypervolume(scores))


def _front_size(prob: FrontProblem) -> int:
    """Cells of the true front that add hypervolume (both normalised scores > 0)."""
    return int((nondominated_mask(prob.scores) & np.all(prob.scores > 0, axis=1)).sum())


def regret_curve(indices: Sequence[int], scores: np.ndarray, hv_star: float) -> np.ndarray:
    """Hypervolume regret ``1 - HV / HV*`` after each query of ``indices`` (the front is
    updated only when a query is not dominated by it)."""
    out = np.empty(len(indices))
    front = np.empty((0, scores.shape[1]))
    hv = 0.0
    for n, i in enumerate(indices):
        p = scores[int(i)]
        if not (len(front) and np.any(np.all(front >= p, axis=1))):
            front = np.vstack([front[~np.all(front <= p, axis=1)], p])
            hv = hypervolume(front)
        out[n] = 1.0 - hv / hv_star
    return out


def pruned_front_regret(prob: FrontProblem) -> float:
    """Regret of the front of the cells without dead edges (``nasopt.spaces.nb201.live_op_codes``
    leaves them unchanged): the best a search can reach that asks one cell per function,
    its cheapest, as ``function_aware`` WeakNAS does; it misses only the cells whose
    separately trained accuracy came out above their function's pruned cell's."""
    from nasopt.spaces.nb201 import live_op_codes

    codes = bench_of(prob.dataset).space.op_codes
    pruned = (live_op_codes(codes) == codes).all(axis=1)
    return 1.0 - hypervolume(prob.scores[pruned]) / prob.hv_star


def report_points(budget: int) -> tuple[int, ...]:
    """The queries at which a run of ``budget`` queries is scored: :data:`BUDGETS` (every one,
    so that runs of different budgets share them), then, for a budget beyond them, the
    :data:`LONG_BUDGETS` below it and the budget itself."""
    if budget <= max(BUDGETS):
        return BUDGETS
    return BUDGETS + tuple(b for b in LONG_BUDGETS if b < budget) + (budget,)


def first_below(curve: np.ndarray, level: float = TARGET_REGRET) -> int | None:
    """1-based query at which ``curve`` first falls below ``level``; ``None`` if never."""
    hit = np.flatnonzero(curve < level)
    return int(hit[0]) + 1 if len(hit) else None


# ====================================================================== Optuna driving
@functools.lru_cache(maxsize=None)
def _nb201_codes(dataset: str) -> tuple[Any, np.ndarray, np.ndarray]:
    """``(OPS, powers, by_code)``: a cell's six op choices → its table index."""
    from nasopt.spaces.nb201 import EDGES, OPS

    codes = np.asarray(bench_of(dataset).space.op_codes, dtype=np.int64)
    pw = len(OPS) ** np.arange(len(EDGES))
    by_code = np.empty(len(OPS) ** len(EDGES), dtype=np.int64)
    by_code[codes @ pw] = np.arange(len(codes))
    return OPS, pw, by_code


def _suggest_index(trial: Any, dataset: str) -> int:
    """The table index of the cell an Optuna trial suggests (one categorical per edge)."""
    ops, pw, by_code = _nb201_codes(dataset)
    c = [ops.index(trial.suggest_categorical(f"edge{e}", list(ops))) for e in range(len(pw))]
    return int(by_code[int(np.dot(c, pw))])


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def optuna_loop(study: Any, dataset: str, budget: int, tell: Callable[[Any, int], bool],
                stop: Callable[[list[int]], bool], prune_repeats: bool = False,
                per_query: int = MAX_SUGGESTIONS_PER_QUERY) -> tuple[list[int], int]:
    """Ask ``study`` for NB201 cells until ``budget`` distinct ones are queried or
    ``stop(queried)``; ``tell(trial, index)`` tells the trial its result and says whether it
    counts as a query (False for a suggestion rejected for free). A repeated query is told
    its known result by ``tell`` again, or ``TrialState.PRUNED`` with ``prune_repeats``, and
    not counted again; at most ``per_query * budget`` suggestions. Returns the queried
    indices in order and the number of suggestions."""
    seen: set[int] = set()
    queried: list[int] = []
    suggestions = 0
    pruned = _optuna().trial.TrialState.PRUNED if prune_repeats else None
    while len(queried) < budget and suggestions < per_query * budget:
        suggestions += 1
        trial = study.ask()
        i = _suggest_index(trial, dataset)
        if pruned is not None and i in seen:
            study.tell(trial, state=pruned)
            continue
        if not tell(trial, i) or i in seen:
            continue
        seen.add(i)
        queried.append(i)
        if stop(queried):
            break
    return queried, suggestions


def nasopt_loop(opt: Any, space: Any, budget: int, tell: Callable[[Any, int], None],
                stop: Callable[[list[int]], bool]) -> list[int]:
    """Ask a nasopt optimizer (in its ``batch`` when it has one) until ``budget`` cells are
    queried or ``stop(queried)``; ``tell(trial, index)`` tells each its result."""
    step = opt_step(opt)
    queried: list[int] = []
    while len(queried) < budget:
        trials = opt.ask(min(step, budget - len(queried)))
        idx = [int(i) for i in space.indices([t.arch for t in trials])]
        for t, i in zip(trials, idx):
            tell(t, i)
        queried.extend(idx)
        if stop(queried):
            break
    return queried


def optuna_front(sampler_name: str, dataset: str, cost: str, seed: int, budget: int,
                 stop: Callable[[list[int]], bool], prune_repeats: bool = False,
                 per_query: int = MAX_SUGGESTIONS_PER_QUERY) -> tuple[list[int], int]:
    """An Optuna sampler (``optuna.samplers.<sampler_name>(seed=seed)``; TPE as
    :class:`~benchmarks.harness.tpe_incremental.IncrementalMOTPESampler`, which suggests the
    same cells) on accuracy (maximized) × cost (minimized), by :func:`optuna_loop` (at most
    ``per_query`` suggestions per query of the budget). A repeated suggestion is told its
    known values, or ``TrialState.PRUNED`` with ``prune_repeats``."""
    optuna = _optuna()
    prob = front_problem(dataset, cost)
    if sampler_name == "TPESampler":  # the same suggestions as Optuna's, kept incrementally
        from benchmarks.harness.tpe_incremental import IncrementalMOTPESampler

        sampler = IncrementalMOTPESampler(seed=seed)
    else:
        sampler = getattr(optuna.samplers, sampler_name)(seed=seed)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)

    def tell(trial: Any, i: int) -> bool:
        study.tell(trial, [float(prob.accuracy[i]), float(prob.cost_values[i])])
        return True

    return optuna_loop(study, dataset, budget, tell, stop, prune_repeats, per_query)


def table_prior(options: dict[str, Any], space: Any) -> dict[str, Any]:
    """``options`` with a ``"prior"`` that names tables of NB201 cells replaced by their columns
    for every cell of ``space`` (JSON-able names for the options of a method or a variant):
    one of :data:`TABLE_PRIORS` or several joined by ``+`` (side by side, in that order):
    ``"synflow"``, log synflow of the packaged proxy table (what ``prior="auto"`` takes with
    one objective); ``"proxies"``, its :data:`PROXY_NAMES`, each entry the table holds no
    finite value for (naswot, jacob_cov on a few cells) set to its column's minimum;
    ``"function"``, the cells' :func:`~nasopt.spaces.nb201.function_features`. So
    ``"proxies+function"`` is the table of ``prior="auto"`` with several objectives. Other
    options pass through unchanged."""
    name = options.get("prior")
    if not isinstance(name, str) or not set(name.split("+")) <= set(TABLE_PRIORS):
        return options
    from nasopt.proxies.table import lowest_for_non_finite, nb201_space_scores
    from nasopt.spaces.nb201 import NB201Space, function_features

    columns = []
    for part in name.split("+"):
        if part == "function":
            if not isinstance(space, NB201Space):
                raise ConfigurationError(f"prior {name!r} needs an NB201 space")
            columns.append(function_features(space.op_codes))
            continue
        table = nb201_space_scores(space, ("synflow",) if part == "synflow" else PROXY_NAMES)
        if table is None:
            raise ConfigurationError(f"prior {name!r} needs an NB201 space and the packaged proxy table")
        columns.append(lowest_for_non_finite(table))
    return {**options, "prior": np.hstack(columns)}


def nasopt_front(name: str, dataset: str, cost: str, seed: int, budget: int,
                 stop: Callable[[list[int]], bool], options: dict[str, Any] | None = None) -> list[int]:
    """A nasopt strategy with ``objectives=["max", "min"]`` (and ``options``) told
    ``[accuracy, cost]``, by :func:`nasopt_loop`."""
    from nasopt.core.registry import create

    prob = front_problem(dataset, cost)
    space = bench_of(dataset).space
    opt = create(name, space, seed=seed, objectives=["max", "min"], **table_prior(options or {}, space))
    return nasopt_loop(opt, space, budget,
                       lambda t, i: opt.tell(t, [float(prob.accuracy[i]), float(prob.cost_values[i])]),
                       stop)


def same_search(method: str) -> str:
    """The first front method (in :data:`FRONT_METHODS` order) that runs the same search as
    ``method``: the same sampler or strategy, options and handling of repeats, at most
    another cap on suggestions (:data:`SUGGESTION_CAPS`). On one seed the runs of such methods
    are prefixes of each other (``optuna-tpe-long`` runs on where ``optuna-tpe`` stopped)."""
    def settings(m: str) -> tuple:
        return FRONT_METHODS[m], m in PRUNED_REPEATS, FRONT_OPTIONS.get(m)

    return next(m for m in FRONT_METHODS if settings(m) == settings(method))


def run_front(method: str, dataset: str, cost: str, seed: int, budget: int) -> dict:
    """One front search; stops early once the regret is 0 (the whole front's hypervolume
    found: every later value is 0 too)."""
    lib, name = FRONT_METHODS[method]
    prob = front_problem(dataset, cost)
    done = _front_done(prob)
    t0, c0 = time.perf_counter(), time.process_time()
    suggestions = None
    if lib == "optuna":
        queried, suggestions = optuna_front(
            name, dataset, cost, seed, budget, done, method in PRUNED_REPEATS,
            SUGGESTION_CAPS.get(method, MAX_SUGGESTIONS_PER_QUERY))
    else:
        queried = nasopt_front(name, dataset, cost, seed, budget, done, FRONT_OPTIONS.get(method))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    curve = regret_curve(queried, prob.scores, prob.hv_star)
    return {"indices": queried, "cpu_s": cpu, "wall_s": wall, "suggestions": suggestions,
            "regret": {str(b): float(curve[min(b, len(curve)) - 1]) for b in report_points(budget)
                       if len(curve)},
            "queries_to_target": first_below(curve),
            "complete": bool(len(curve) and curve[-1] <= 0.0)}


def _front_done(prob: FrontProblem) -> Callable[[list[int]], bool]:
    """``stop(queried)``: True once the queried cells hold every point of the true front
    that adds hypervolume (the regret is then 0)."""
    on_front = nondominated_mask(prob.scores) & np.all(prob.scores > 0, axis=1)
    key = {tuple(p) for p in prob.scores[on_front]}  # the points that add hypervolume

    def stop(queried: list[int]) -> bool:
        hit = {tuple(prob.scores[i]) for i in queried[-16:]} & key
        if not hit:
            return False
        return key <= {tuple(prob.scores[i]) for i in queried}

    return stop


# ====================================================================== constrained
@dataclass
class ConstrainedProblem:
    """Maximize accuracy subject to latency ≤ the median latency on one device."""

    dataset: str
    device: str
    accuracy: np.ndarray
    latency: np.ndarray
    bound: float
    optimum_value: float

    def violation(self, i: int) -> float:
        """``latency - bound`` of cell ``i`` (``<= 0`` feasible)."""
        return float(self.latency[i] - self.bound)

    def is_optimum(self, i: int) -> bool:
        """Whether cell ``i`` is feasible with the constrained optimum's accuracy."""
        return self.latency[i] <= self.bound and self.accuracy[i] >= self.optimum_value


@functools.lru_cache(maxsize=None)
def constrained_problem(dataset: str, device: str) -> ConstrainedProblem:
    """The :class:`ConstrainedProblem` of ``dataset`` on ``device`` (built once per process)."""
    acc = bench_of(dataset).values
    lat = cost_values(dataset, device)
    bound = float(np.median(lat))
    return ConstrainedProblem(dataset, device, acc, lat, bound, float(acc[lat <= bound].max()))


def _set_constraint(trial: Any, violation: float) -> None:
    """Attach ``violation`` (``<= 0`` feasible) to an Optuna trial: ``set_constraint`` where
    it exists (Optuna >= 5), else a user attribute read by a ``constraints_func``."""
    if hasattr(trial, "set_constraint"):
        trial.set_constraint("latency", violation)
    else:
        trial.set_user_attr("constraint", [violation])


def _tpe_with_constraints(optuna: Any, seed: int) -> Any:
    if hasattr(optuna.trial.Trial, "set_constraint"):
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, constraints_func=lambda t: t.user_attrs["constraint"])


def nasopt_constrained(name: str, prob: ConstrainedProblem, mode: str, seed: int,
                       budget: int) -> list[int]:
    """A nasopt strategy maximizing accuracy under the latency bound, the constraint known
    ``before`` (a function of the architecture) or ``after`` evaluation (told)."""
    from nasopt.core.registry import create

    space = bench_of(prob.dataset).space
    if mode == "before":
        def within_latency(arch: Any) -> float:
            return prob.violation(space.index(arch))

        opt = create(name, space, seed=seed, constraints=[within_latency])
    else:
        opt = create(name, space, seed=seed)

    def tell(t: Any, i: int) -> None:
        opt.tell(t, float(prob.accuracy[i]),
                 constraints=None if mode == "before" else [prob.violation(i)])

    return nasopt_loop(opt, space, budget, tell, lambda q: any(map(prob.is_optimum, q[-opt_step(opt):])))


def opt_step(opt: Any) -> int:
    """Cells a nasopt optimizer is asked for at once (its ``batch``, else 1)."""
    return int(getattr(opt, "batch", 1) or 1)


def optuna_constrained(prob: ConstrainedProblem, mode: str, seed: int,
                       budget: int) -> tuple[list[int], int]:
    """Optuna's TPE with the latency constraint (``Trial.set_constraint``, Optuna 5's
    successor of ``constraints_func``; the same split of feasible and infeasible trials).
    ``after``: every distinct suggestion is evaluated and counted; ``before``: an infeasible
    suggestion is told its violation and a placeholder value (TPE ranks infeasible trials by
    violation only) and not counted."""
    optuna = _optuna()
    study = optuna.create_study(direction="maximize", sampler=_tpe_with_constraints(optuna, seed))

    def tell(trial: Any, i: int) -> bool:
        v = prob.violation(i)
        _set_constraint(trial, v)
        free = mode == "before" and v > 0
        study.tell(trial, 0.0 if free else float(prob.accuracy[i]))
        return not free

    return optuna_loop(study, prob.dataset, budget, tell, lambda q: prob.is_optimum(q[-1]))


def run_constrained(method: str, mode: str, dataset: str, device: str, seed: int,
                    budget: int) -> dict:
    """One constrained search until the constrained optimum is queried (or the budget)."""
    lib, name = CONSTRAINED_METHODS[method]
    prob = constrained_problem(dataset, device)
    t0, c0 = time.perf_counter(), time.process_time()
    suggestions = None
    if lib == "optuna":
        queried, suggestions = optuna_constrained(prob, mode, seed, budget)
    else:
        queried = nasopt_constrained(name, prob, mode, seed, budget)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    found = next((n for n, i in enumerate(queried, 1) if prob.is_optimum(i)), None)
    return {"indices": queried, "cpu_s": cpu, "wall_s": wall, "suggestions": suggestions,
            "queries_to_optimum": found,
            "infeasible_queries": int(sum(prob.latency[i] > prob.bound for i in queried))}


# ====================================================================== jobs
def job_key(job: dict) -> str:
    """Identity of a run in ``<out>.runs.jsonl`` (``--resume``)."""
    return json.dumps([job[k] for k in ("kind", "dataset", "target", "mode", "method", "seed", "budget")])


def run_job(job: dict) -> dict:
    """Run one job (a dict of :func:`make_jobs`); returns the job with its result."""
    if job["kind"] == "front":
        res = run_front(job["method"], job["dataset"], job["target"], job["seed"], job["budget"])
    else:
        res = run_constrained(job["method"], job["mode"], job["dataset"], job["target"],
                              job["seed"], job["budget"])
    return {**job, **res}


def _safe_job(job: dict) -> dict:
    try:
        return run_job(job)
    except ConfigurationError as exc:  # e.g. a strategy without several objectives yet
        return {**job, "error": f"{type(exc).__name__}: {exc}"}


def make_jobs(datasets: Iterable[str], costs: Iterable[str], methods: Iterable[str],
              cdatasets: Iterable[str], cdevices: Iterable[str], cmethods: Iterable[str],
              seeds: Sequence[int], budget: int, cbudget: int,
              pair_budget: dict[tuple[str, str], int] | None = None) -> list[dict]:
    """Every run, seed by seed (a run stopped by ``--time-limit`` keeps whole seeds of every
    table): for each seed the fronts by dataset, cost, method, then the constrained runs by
    dataset, device, method, mode. A front's budget is ``pair_budget[(dataset, cost)]``
    where that has one, else ``budget``."""
    pair_budget = pair_budget or {}
    jobs = []
    for s in seeds:
        for d in datasets:
            for c in costs:
                for m in methods:
                    jobs.append({"kind": "front", "dataset": d, "target": c, "mode": None,
                                 "method": m, "seed": int(s),
                                 "budget": pair_budget.get((d, c), budget)})
        for d in cdatasets:
            for dev in cdevices:
                for m in cmethods:
                    for mode in MODES:
                        jobs.append({"kind": "constrained", "dataset": d, "target": dev,
                                     "mode": mode, "method": m, "seed": int(s), "budget": cbudget})
    return jobs


def budgets_past(spec: str, datasets: Sequence[str], costs: Sequence[str]) -> dict[tuple[str, str], int]:
    """``--budget-past FILE:METHOD``: for each (dataset, cost) pair, one query more than
    METHOD's median queries to regret :data:`TARGET_REGRET` in the results FILE (a
    ``.json.gz`` of this benchmark) — a run that has not got there by then needs more
    queries than that median. Pairs where FILE has no such median are left out."""
    path, sep, method = spec.rpartition(":")
    if not sep or not path or not method:
        raise ConfigurationError(f"--budget-past wants FILE:METHOD, got {spec!r}")
    if not os.path.exists(path):
        raise ConfigurationError(f"--budget-past: no file {path!r}")
    front = read_json(path)["summary"]["front"]
    out = {}
    for d in datasets:
        for c in costs:
            median = front.get(d, {}).get(c, {}).get(method, {}).get("queries_to_target", {}).get("median")
            if median is not None:
                out[(d, c)] = int(np.floor(median)) + 1
    return out


def execute(jobs: list[dict], workers: int, log_path: str | None, resume: bool,
            time_limit_s: float | None = None, progress: bool = True, run: bool = True) -> list[dict]:
    """Run ``jobs`` on ``workers`` processes (one thread each), appending each finished run
    to ``log_path`` (JSON lines); with ``resume`` the runs already there are not rerun.
    After ``time_limit_s`` seconds no run is waited for any more (the workers are
    stopped); with ``run`` False nothing is run. Returns the finished runs, in the order of
    ``jobs``."""
    done: dict[str, dict] = {}
    if resume and log_path and os.path.exists(log_path):
        with open(log_path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rec = json.loads(line)
                    if "error" not in rec:  # a run that could not start is tried again
                        done[job_key(rec)] = rec
    todo = [j for j in jobs if job_key(j) not in done] if run else []
    log = open(log_path, "a" if resume else "w", encoding="utf-8") if log_path else None
    t0 = time.time()

    def record(rec: dict) -> bool:
        done[job_key(rec)] = rec
        if log is not None:
            log.write(json.dumps(rec) + "\n")
            log.flush()
        if progress:
            print(f"\r{len(done)}/{len(jobs)} runs, {time.time() - t0:.0f} s", end="", file=sys.stderr)
        return time_limit_s is not None and time.time() - t0 > time_limit_s

    try:
        if workers <= 1:
            for j in todo:
                if record(_safe_job(j)):
                    break
        else:
            import multiprocessing as mp

            with mp.get_context("fork").Pool(workers, initializer=one_thread) as pool:
                for rec in pool.imap_unordered(_safe_job, todo):
                    if record(rec):
                        break  # leaving the block terminates the workers
    finally:
        if log is not None:
            log.close()
        if progress:
            print(file=sys.stderr)
    return [done[job_key(j)] for j in jobs if job_key(j) in done]


# ====================================================================== tables
def _sem(x: Sequence[float]) -> tuple[float, float]:
    a = np.asarray(x, dtype=np.float64)
    if a.size == 0:
        return float("nan"), float("nan")
    return float(a.mean()), float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else 0.0


def _fmt(ms: tuple[float, float], digits: int = 3) -> str:
    m, s = ms
    return "–" if not np.isfinite(m) else f"{m:.{digits}f} ± {s:.{digits}f}"


def summarize_queries(q: Sequence[int | None], budget: int) -> dict:
    """Queries until a target, censored at ``budget``: found rate, median (``None`` when
    half or more missed), mean over found runs, mean with misses counted as ``budget``."""
    arr = np.array([np.inf if x is None else x for x in q], dtype=np.float64)
    found = arr[np.isfinite(arr)]
    med = float(np.median(arr)) if len(arr) else float("nan")
    return {"runs": len(arr), "found": int(len(found)),
            "median": med if np.isfinite(med) else None,
            "mean_found": float(found.mean()) if len(found) else None,
            "mean_censored": float(np.where(np.isfinite(arr), arr, budget).mean()) if len(arr) else None}


def _fmt_queries(s: dict) -> str:
    med = "–" if s["median"] is None else f"{s['median']:.0f}"
    return f"{med} ({s['found']}/{s['runs']})"


def summarize(records: list[dict],
              accuracy: Callable[[str, str], np.ndarray] | None = None) -> dict:
    """Per-table summaries: ``front[dataset][cost][method]`` and
    ``constrained[dataset][device][method][mode]``, plus ``errors`` (methods that could not
    run). Each (dataset, cost or device) is summarized over the seeds that every method (and
    mode) of it finished, so the methods are compared on the same seeds. ``accuracy(dataset,
    cost)``: the normalised accuracy of every cell, for the count of the runs stuck below
    the accurate end (:func:`stuck_runs`; none without it)."""
    out: dict[str, Any] = {"front": {}, "constrained": {}, "errors": {}, "paired": {}}
    tables: dict[tuple, dict[tuple, dict[int, dict]]] = {}
    for r in records:
        if "error" in r:
            out["errors"].setdefault(f"{r['kind']}/{r['method']}", r["error"])
            continue
        cell = tables.setdefault((r["kind"], r["dataset"], r["target"]), {})
        cell.setdefault((r["method"], r["mode"]), {})[r["seed"]] = r
    for (kind, d, t), by_method in tables.items():
        common = set.intersection(*(set(v) for v in by_method.values()))
        for (m, mode), by_seed in by_method.items():
            runs = [by_seed[s] for s in sorted(common)]
            if not runs:
                continue
            budget = runs[0]["budget"]
            cpu = _sem([r["cpu_s"] for r in runs])
            if kind == "front":
                short = sum(len(r["indices"]) < budget and not r["complete"] for r in runs)
                rec = {"runs": len(runs), "cpu_s": cpu, "short": short, "budget": budget,
                       "regret": {str(b): _sem([r["regret"][str(b)] for r in runs])
                                  for b in report_points(budget) if b <= budget},
                       "queries_to_target": summarize_queries([r["queries_to_target"] for r in runs], budget)}
                if accuracy is not None:
                    rec["stuck"] = stuck_runs(runs, accuracy(d, t))
                out["front"].setdefault(d, {}).setdefault(t, {})[m] = rec
                plain = FRONT_METHODS[m][1] if m in FRONT_OPTIONS else None
                if plain is not None and (plain, None) in by_method:
                    base = by_method[(plain, None)]
                    out["paired"].setdefault(d, {}).setdefault(m, {})[t] = {
                        str(b): [base[s]["regret"][str(b)] - by_seed[s]["regret"][str(b)]
                                 for s in sorted(common)] for b in report_points(budget) if b <= budget}
            else:
                short = sum(len(r["indices"]) < budget and r["queries_to_optimum"] is None for r in runs)
                rec = {"runs": len(runs), "cpu_s": cpu, "short": short,
                       "queries_to_optimum": summarize_queries([r["queries_to_optimum"] for r in runs], budget),
                       "infeasible_queries": _sem([r["infeasible_queries"] for r in runs])}
                out["constrained"].setdefault(d, {}).setdefault(t, {}).setdefault(m, {})[mode] = rec
    return out


def stuck_runs(runs: list[dict], accuracy: np.ndarray) -> dict[str, int]:
    """Per point of :data:`STUCK_AT` within the runs' budget: how many of ``runs`` had queried
    no cell above :data:`STUCK_ACCURACY` on the normalised ``accuracy`` scale by then."""
    best = [np.maximum.accumulate(accuracy[np.asarray(r["indices"], dtype=int)]) for r in runs]
    return {str(q): int(sum(len(b) and b[min(q, len(b)) - 1] < STUCK_ACCURACY for b in best))
            for q in STUCK_AT if q <= runs[0]["budget"]}


def cost_label(cost: str) -> str:
    """How a table names ``cost``: a device as it is, ``params`` and ``FLOPs``."""
    return {"params": "params", "flops": "FLOPs"}.get(cost, cost)


def markdown(summary: dict, command: str, budget: int, cbudget: int, seeds: Sequence[int]) -> str:
    """The tables of one run, the command above them."""
    lines = [f"`{command}`", "", f"Seeds {seeds[0]}–{seeds[-1]} ({len(seeds)}); every method on the "
             "same seeds (*n*: the seeds that every method of a row finished). Queries count "
             "distinct architectures.", ""]
    for d, by_cost in summary["front"].items():
        methods = list(next(iter(by_cost.values())))
        name = DATASET_NAMES.get(d, d)
        for b in report_points(budget):
            scored = all(str(b) in v["regret"] for by_m in by_cost.values() for v in by_m.values())
            if b > budget or not scored:
                continue
            lines += [f"**{name}: hypervolume regret at {b} queries** (mean ± s.e.m.; lower is better)", "",
                      "| cost | n | " + " | ".join(methods) + " |", "| --- | --- |" + " --- |" * len(methods)]
            for cost, by_m in by_cost.items():
                vals = {m: by_m[m]["regret"].get(str(b), (float("nan"),) * 2) for m in methods if m in by_m}
                best = min(v[0] for v in vals.values())
                cells = []
                for m in methods:
                    v = vals.get(m)
                    cell = "–" if v is None else _fmt(v)
                    cells.append(f"**{cell}**" if v is not None and v[0] == best else cell)
                lines.append(f"| {cost_label(cost)} | {_n(by_m)} | " + " | ".join(cells) + " |")
            lines.append("")
        pair_budgets = {c: max(v.get("budget", budget) for v in by_m.values()) for c, by_m in by_cost.items()}
        varied = len(set(pair_budgets.values())) > 1
        within = "the pair's budget *b*" if varied else f"{budget} queries"
        lines += [f"**{name}: queries until the regret is below {TARGET_REGRET}** — median "
                  f"(runs that got there within {within})", "",
                  "| cost | n |" + (" b |" if varied else "") + " " + " | ".join(methods) + " |",
                  "| --- | --- |" + (" --- |" if varied else "") + " --- |" * len(methods)]
        for cost, by_m in by_cost.items():
            cells = [_fmt_queries(by_m[m]["queries_to_target"]) if m in by_m else "–" for m in methods]
            lines.append(f"| {cost_label(cost)} | {_n(by_m)} |"
                         + (f" {pair_budgets[cost]} |" if varied else "") + " " + " | ".join(cells) + " |")
        lines.append("")
        at = [q for q in STUCK_AT if q <= budget]
        if at and all("stuck" in v for by_m in by_cost.values() for v in by_m.values()):
            lines += [f"**{name}: runs stuck below the accurate end** — runs that had queried no "
                      f"cell above {STUCK_ACCURACY} on the normalised accuracy scale by "
                      + " / ".join(str(q) for q in at) + " queries", "",
                      "| cost | n | " + " | ".join(methods) + " |", "| --- | --- |" + " --- |" * len(methods)]
            for cost, by_m in by_cost.items():
                cells = [" / ".join(str(by_m[m]["stuck"][str(q)]) for q in at) if m in by_m else "–"
                         for m in methods]
                lines.append(f"| {cost_label(cost)} | {_n(by_m)} | " + " | ".join(cells) + " |")
            lines.append("")
        lines += [f"**{name}: regret of the front of the cells without dead edges** (one cell "
                  "per function, the cheapest: the floor of a function-aware search)", "",
                  "| cost | regret |", "| --- | --- |"]
        lines += [f"| {cost_label(cost)} | {pruned_front_regret(front_problem(d, cost)):.4f} |"
                  for cost in by_cost]
        lines.append("")
        ref = [(c, m, v) for c, by_m in REFERENCE_REGRET_100.items() if d == "cifar10" and c in by_cost
               for m, v in by_m.items() if m in by_cost[c] and "100" in by_cost[c][m]["regret"]]
        if ref:
            lines += ["**Issue 21's reference** (CIFAR-10, 100 queries, 10 other seeds) beside this run", "",
                      "| cost | method | reference | this run (mean ± s.e.m.) | n |", "| --- | --- | --- | --- | --- |"]
            for c, m, v in ref:
                lines.append(f"| {c} | {m} | {v:.3f} | {_fmt(by_cost[c][m]['regret']['100'])} | "
                             f"{by_cost[c][m]['runs']} |")
            lines.append("")
        goal = goal_rows(by_cost)
        if goal:
            lines += [f"**{name}: {DEFAULT_METHOD} against the best Optuna sampler at 100 queries**", "",
                      "| cost | best Optuna | its regret | " + DEFAULT_METHOD + " | ratio | ≤ ½ |",
                      "| --- | --- | --- | --- | --- | --- |"]
            for cost, g in goal.items():
                lines.append(f"| {cost_label(cost)} | {g['best_optuna']} | {g['optuna_regret']:.3f} | "
                             f"{g['default_regret']:.3f} | {g['ratio']:.2f} | {'yes' if g['ratio'] <= 0.5 else 'no'} |")
            lines.append("")
        for variant, by_t in summary.get("paired", {}).get(d, {}).items():
            at = [b for b in report_points(budget) if b <= budget]
            plain = FRONT_METHODS[variant][1]
            lines += [f"**{name}: {plain} minus {variant}, paired by seed** (hypervolume "
                      "regret, mean ± s.e.m. of the per-seed differences; negative: "
                      f"{plain} lower)", "",
                      "| cost | n | " + " | ".join(f"{b} queries" for b in at) + " |",
                      "| --- | --- |" + " --- |" * len(at)]
            pooled: dict[str, list[float]] = {str(b): [] for b in at}
            for cost, diffs in by_t.items():
                for b in at:
                    pooled[str(b)] += diffs[str(b)]
                lines.append(f"| {cost_label(cost)} | {len(diffs[str(at[0])])} | "
                             + " | ".join(_fmt(_sem(diffs[str(b)])) for b in at) + " |")
            lines.append(f"| all | {len(pooled[str(at[0])])} | "
                         + " | ".join(_fmt(_sem(pooled[str(b)])) for b in at) + " |")
            lines.append("")
        lines += [f"**{name}: CPU seconds per search** (process time of the whole search, "
                  f"mean over the runs; a run stops before {budget} queries only at regret 0)", "",
                  "| cost | n | " + " | ".join(methods) + " |", "| --- | --- |" + " --- |" * len(methods)]
        for cost, by_m in by_cost.items():
            cells = [f"{by_m[m]['cpu_s'][0]:.2f}" if m in by_m else "–" for m in methods]
            lines.append(f"| {cost_label(cost)} | {_n(by_m)} | " + " | ".join(cells) + " |")
        lines.append("")
    for d, by_dev in summary["constrained"].items():
        name = DATASET_NAMES.get(d, d)
        cols = [(m, mode) for m in next(iter(by_dev.values())) for mode in MODES]
        lines += [f"**{name}: queries until the most accurate cell with latency ≤ the device's median "
                  f"is found** — median (runs that found it within {cbudget} queries); mean with a miss "
                  f"counted as {cbudget} (a lower bound); mean CPU s per search in brackets", "",
                  "| device | n | " + " | ".join(f"{m} ({mode})" for m, mode in cols) + " |",
                  "| --- | --- |" + " --- |" * len(cols)]
        for dev, by_m in by_dev.items():
            cells = []
            for m, mode in cols:
                s = by_m.get(m, {}).get(mode)
                q = None if s is None else s["queries_to_optimum"]
                cells.append("–" if s is None else
                             f"{_fmt_queries(q)}; {q['mean_censored']:.0f} [{s['cpu_s'][0]:.1f}]")
            n = max((s["runs"] for v in by_m.values() for s in v.values()), default=0)
            lines.append(f"| {dev} | {n} | " + " | ".join(cells) + " |")
        lines.append("")
    stopped = [(m, f"{d}/{t}/{m}" + (f" ({mode})" if mode else "") + f": {rec['short']} of {rec['runs']}")
               for kind in ("front", "constrained") for d, by_t in summary[kind].items()
               for t, by_m in by_t.items() for m, v in by_m.items()
               for mode, rec in (v.items() if kind == "constrained" else [(None, v)]) if rec["short"]]
    short = [label for _, label in stopped]
    if short:
        capped = {m for m, _ in stopped}
        caps = "".join(f" ({k}: {v})" for k, v in SUGGESTION_CAPS.items() if k in capped)
        lines += [f"Runs stopped by the cap of {MAX_SUGGESTIONS_PER_QUERY} suggestions per query of the "
                  f"budget{caps} before their last query (scored with their last query; a constrained one "
                  "counts as not found): " + "; ".join(short) + ".", ""]
    for what, err in summary["errors"].items():
        lines += [f"Not run: {what}: {err}", ""]
    return "\n".join(lines)


def _n(by_method: dict) -> int:
    return max((s["runs"] for s in by_method.values()), default=0)


def goal_rows(by_cost: dict) -> dict:
    """Per cost: the best Optuna sampler at 100 queries, its mean regret, the nasopt default's,
    and their ratio (empty when either is missing)."""
    out = {}
    for cost, by_m in by_cost.items():
        opt = {m: by_m[m]["regret"]["100"][0] for m in OPTUNA_LABELS if m in by_m and "100" in by_m[m]["regret"]}
        if not opt or DEFAULT_METHOD not in by_m or "100" not in by_m[DEFAULT_METHOD]["regret"]:
            continue
        best = min(opt, key=opt.get)
        mine = by_m[DEFAULT_METHOD]["regret"]["100"][0]
        out[cost] = {"best_optuna": best, "optuna_regret": opt[best], "default_regret": mine,
                     "ratio": mine / opt[best] if opt[best] > 0 else float("inf")}
    return out


# ====================================================================== plot
def plot_fronts(records: list[dict], dataset: str, costs: Sequence[str], seed: int, at: int,
                path: str) -> bool:
    """Fronts found by each method after ``at`` queries (seed ``seed``) against the true
    front, one panel per cost; False when no run of that seed is there."""
    panels = [c for c in costs if any(r["kind"] == "front" and r["dataset"] == dataset and r["target"] == c
                                      and r["seed"] == seed and "error" not in r for r in records)]
    if not panels:
        return False
    from nasopt.integrations._deps import require

    matplotlib = require("matplotlib", "bench", "the fronts plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.6), squeeze=False)
    for ax, cost in zip(axes[0], panels):
        prob = front_problem(dataset, cost)
        acc, c = prob.accuracy, prob.cost_values
        med = float(np.median(acc))
        ax.scatter(c, acc, s=2, color="0.85", label="all cells", rasterized=True)
        true = np.flatnonzero(nondominated_mask(np.column_stack([acc, -c])))
        o = true[np.argsort(c[true])]
        ax.step(c[o], acc[o], where="post", color="k", lw=1.4, label="true front")
        runs = [r for r in records if r["kind"] == "front" and r["dataset"] == dataset
                and r["target"] == cost and r["seed"] == seed and "error" not in r]
        colours = plt.get_cmap("tab10" if len(runs) <= 10 else "tab20").colors
        for k, r in enumerate(runs):
            idx = np.asarray(r["indices"][:at], dtype=np.int64)
            f = idx[nondominated_mask(np.column_stack([acc[idx], -c[idx]]))]
            f = f[np.argsort(c[f])]
            reg = regret_curve(r["indices"][:at], prob.scores, prob.hv_star)[-1]
            ax.step(c[f], acc[f], where="post", lw=1.1, marker="o", ms=3,
                    color=colours[k % len(colours)], label=f"{r['method']} (regret {reg:.3f})",
                    zorder=3 + k)
        ax.axhline(med, color="0.5", ls=":", lw=1, label="median accuracy (normalised 0)")
        ax.set_ylim(med - 0.5, acc.max() + 0.3)
        unit = " (ms)" if cost_metric(cost).startswith("latency:") else ""
        ax.set_xlabel(f"{cost_label(cost)}{unit}")
        ax.set_ylabel(f"{DATASET_NAMES.get(dataset, dataset)} validation accuracy (%)")
        ax.set_title(f"{cost_label(cost)}: fronts after {at} queries, seed {seed}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ====================================================================== entry point
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python benchmarks/hardware.py",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="cifar10", help="front datasets (cifar10,cifar100,imagenet16)")
    p.add_argument("--costs", default=",".join(DEVICES),
                   help="front costs: devices of NB201(...).devices, 'params', 'flops' ('' for none)")
    p.add_argument("--methods", default=",".join(FRONT_METHODS),
                   help="front methods (" + ", ".join(FRONT_METHODS) + ")")
    p.add_argument("--budget", type=int, default=max(BUDGETS), help="distinct queries per front search")
    p.add_argument("--budget-past", default=None, metavar="FILE:METHOD",
                   help="each pair's front budget: one query past METHOD's median queries to "
                        "regret 0.01 in the results FILE (.json.gz); --budget where it has none")
    p.add_argument("--constrained-datasets", default="cifar10", help="datasets of the constrained runs ('' for none)")
    p.add_argument("--constrained-devices", default=",".join(DEVICES), help="devices of the constrained runs")
    p.add_argument("--constrained-methods", default=",".join(CONSTRAINED_METHODS),
                   help="constrained methods (" + ", ".join(CONSTRAINED_METHODS) + ")")
    p.add_argument("--constrained-budget", type=int, default=300, help="distinct queries per constrained search")
    p.add_argument("--seeds", default="2000-2029",
                   help="seeds, e.g. '2000-2029' or '2000,2001' (0-9 were used for tuning)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (one thread each)")
    p.add_argument("--out", default=None, help="output prefix (default nasopt-bench-out/hardware)")
    p.add_argument("--resume", action="store_true", help="skip the runs already in <out>.runs.jsonl")
    p.add_argument("--tables-only", action="store_true",
                   help="run nothing: the tables of the runs already in <out>.runs.jsonl (implies --resume)")
    p.add_argument("--time-limit", type=float, default=None, metavar="MIN",
                   help="stop after MIN minutes and tabulate the seeds every method finished")
    p.add_argument("--plot-seed", type=int, default=None, help="seed of the fronts plot (default: the first)")
    p.add_argument("--plot-costs", default="pixel3,raspi4", help="panels of the fronts plot (CIFAR-10 or the first dataset)")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--quiet", action="store_true")
    return p


def earlier_elapsed(out: str, resumed: bool) -> float:
    """The wall seconds ``<out>.json.gz`` records when ``resumed`` goes on from its runs log
    (``<out>.runs.jsonl`` there too), else 0: a resumed benchmark's ``elapsed_s`` is the sum
    over the invocations that ran its runs, not the last one's."""
    if not (resumed and os.path.exists(out + ".runs.jsonl") and os.path.exists(out + ".json.gz")):
        return 0.0
    return float(read_json(out + ".json.gz").get("elapsed_s", 0.0))


def run(argv: Sequence[str] | None = None) -> dict:
    """Run the benchmark with command-line ``argv``; returns the JSON-able result it wrote."""
    args = build_parser().parse_args(argv)
    datasets, costs, methods = parse_list(args.datasets), parse_list(args.costs), parse_list(args.methods)
    cdatasets, cdevices = parse_list(args.constrained_datasets), parse_list(args.constrained_devices)
    cmethods = parse_list(args.constrained_methods)
    for m in methods:
        if m not in FRONT_METHODS:
            raise ConfigurationError(f"unknown front method {m!r}; choose from {', '.join(FRONT_METHODS)}")
    for m in cmethods:
        if m not in CONSTRAINED_METHODS:
            raise ConfigurationError(f"unknown constrained method {m!r}; choose from "
                                     f"{', '.join(CONSTRAINED_METHODS)}")
    for d in datasets + cdatasets:
        if d not in DATASET_NAMES:
            raise ConfigurationError(f"unknown dataset {d!r}; choose from {', '.join(DATASET_NAMES)}")
    for d in datasets[:1] + cdatasets[:1]:
        for c in (costs if d in datasets else []) + (cdevices if d in cdatasets else []):
            cost_values(d, c)  # an unknown cost fails now, not in a worker
    if args.budget < 1 or args.constrained_budget < 1:
        raise ConfigurationError("budgets must be >= 1")
    seeds = parse_seeds(args.seeds)
    out = output_path(args.out, "hardware", "benchmarks/hardware.py")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    pair_budget = budgets_past(args.budget_past, datasets, costs) if args.budget_past else {}
    jobs = make_jobs(datasets, costs, methods, cdatasets, cdevices, cmethods, seeds,
                     args.budget, args.constrained_budget, pair_budget)
    resumed = args.resume or args.tables_only
    earlier_s = earlier_elapsed(out, resumed)
    t0 = time.time()
    limit = None if args.time_limit is None else 60.0 * args.time_limit
    records = execute(jobs, args.jobs, out + ".runs.jsonl", resumed, limit,
                      progress=not args.quiet, run=not args.tables_only)
    elapsed = time.time() - t0
    summary = summarize(records, lambda d, cost: front_problem(d, cost).scores[:, 0])
    command = "python benchmarks/hardware.py " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    problems = {f"{d}/{c}": {"hv_star": front_problem(d, c).hv_star,
                             "accuracy_median": float(np.median(front_problem(d, c).accuracy)),
                             "accuracy_max": float(front_problem(d, c).accuracy.max()),
                             "cost_min": float(front_problem(d, c).cost_values.min()),
                             "cost_max": float(front_problem(d, c).cost_values.max()),
                             "front_size": _front_size(front_problem(d, c))}
                for d in datasets for c in costs}
    cons = {f"{d}/{dev}": {"latency_bound_ms": constrained_problem(d, dev).bound,
                           "optimum_accuracy": constrained_problem(d, dev).optimum_value}
            for d in cdatasets for dev in cdevices}
    data = {
        "benchmark": "nb201", "command": command, "seeds": seeds, "budget": args.budget,
        "constrained_budget": args.constrained_budget, "budgets": list(report_points(args.budget)),
        "target_regret": TARGET_REGRET, "front_problems": problems, "constrained_problems": cons,
        "summary": summary, "runs": records, "elapsed_s": earlier_s + elapsed, "jobs": args.jobs,
        "reference_regret_100": REFERENCE_REGRET_100,
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "note": "accuracy normalised from the median (0) to the max (1), clipped at 0; cost from "
                "its max (0) to its min (1); reference (0, 0); HV* of all 15,625 cells",
    }
    write_json(out + ".json.gz", data)
    md = markdown(summary, command, args.budget, args.constrained_budget, seeds)
    with open(out + ".md", "w", encoding="utf-8") as fh:
        fh.write(md + "\n")
    plotted = False
    if not args.no_plot and datasets and costs:
        dataset = "cifar10" if "cifar10" in datasets else datasets[0]
        plot_costs = [c for c in parse_list(args.plot_costs) if c in costs] or costs[:2]
        seed = seeds[0] if args.plot_seed is None else args.plot_seed
        plotted = plot_fronts(records, dataset, plot_costs, seed, 100, out + ".png")
    if not args.quiet:
        print(md)
        print(f"wrote {out}.json.gz, {out}.md" + (f", {out}.png" if plotted else "")
              + f" in {elapsed:.0f} s")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python benchmarks/hardware.py``); returns the exit status."""
    run(argv)
    return 0


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    sys.exit(main())
