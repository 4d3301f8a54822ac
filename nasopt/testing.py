"""Strategy conformance suite: checks every nasopt strategy must pass, for your own too.

In the spirit of scikit-learn's ``parametrize_with_checks`` and Optuna's sampler test cases,
each check is a plain function ``check_<behaviour>(strategy, space, tmp_path)`` that raises
:class:`AssertionError` with a message saying what broke (or :class:`unittest.SkipTest` when
an optional package it needs is missing). ``strategy`` is a :class:`StrategyFactory`: a
registered strategy name (or class) plus the options it is built with, called as
``strategy(space, seed=..., journal=...)``. The checks:

* :func:`check_save_load_continues`: ``opt.save`` / :func:`nasopt.load` at several points
  of a run rebuild it exactly, and the run continues as an uninterrupted one;
* :func:`check_journal_replay_continues`: the same with ``journal=`` (reopened by the
  constructor and by :func:`nasopt.load`);
* :func:`check_multi_objective_persists`: the same with two objectives and told constraint
  values (skipped for a strategy that refuses several objectives);
* :func:`check_sigkill_resume`: a journaled run in a forked child killed with ``SIGKILL``
  several times, resumed each time, ends exactly as an uninterrupted run (POSIX only);
* :func:`check_options_round_trip`: every constructor option, set to a value other than its
  default, survives ``save`` / ``load`` and a journal reopen;
* :func:`check_determinism_across_thread_counts`: same seed, same trajectory, whatever the
  BLAS / torch thread limits (and ``n_threads``, when the strategy has it);
* :func:`check_bad_input_leaves_state_unchanged`: bad ``ask`` / ``tell`` calls raise a
  nasopt error and the run then continues exactly as one that never saw them;
* :func:`check_threaded_ask_tell`: 8 threads asking and telling at once: unique ids, no
  architecture twice, no lost result, and the journal rebuilds the same run;
* :func:`check_optuna_resume`: a study driven by :class:`~nasopt.integrations.optuna.NASSampler`,
  stopped and resumed from its storage, proposes what an uninterrupted one does (needs optuna);
* :func:`check_ray_save_restore`: a :class:`~nasopt.integrations.ray.NASSearch` saved with
  trials in flight and restored into a fresh searcher continues identically (needs ray[tune]).

Run them on your strategy (registered with :func:`nasopt.core.registry.register_strategy`)::

    from nasopt.testing import parametrize_with_checks

    @parametrize_with_checks(["my-strategy"])
    def test_my_strategy_conforms(strategy, check, tmp_path):
        check(strategy, tmp_path)

or without pytest: ``nasopt.testing.check_strategy("my-strategy")``. See docs/testing.md.

This module imports neither pytest, optuna nor ray: each check imports what it needs.
"""

from __future__ import annotations

import inspect
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
import traceback
import unittest
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import nasopt

from .core.errors import ConfigurationError, NasoptError
from .core.optimizer import Optimizer, valid_options
from .core.registry import available_strategies, strategy_class
from .core.space import SearchSpace
from .spaces.product import ProductSpace

__all__ = [
    "StrategyFactory", "Check", "CHECKS", "FAST_OPTIONS", "default_space", "registered_strategies",
    "check_strategy", "parametrize_with_checks", "objective", "call_script", "apply_call",
    "check_save_load_continues", "check_journal_replay_continues", "check_sigkill_resume",
    "check_options_round_trip", "check_determinism_across_thread_counts",
    "check_bad_input_leaves_state_unchanged", "check_threaded_ask_tell", "check_optuna_resume",
    "check_ray_save_restore", "hammer", "assert_hammered_run_is_consistent",
]

#: Seed of every run the checks make.
SEED = 11

_FAST_RENAS: dict[str, Any] = {
    "surrogate": "gbrt", "init": 5, "top_k": 3, "population": 6, "generations": 2,
    "traverse": False, "surrogate_options": {"n_estimators": 5, "max_depth": 3}}

#: Small budgets for the built-in strategies, so that each check takes at most a second or
#: two: the predictors still train (few epochs, few trees), just on small data.
FAST_OPTIONS: dict[str, dict[str, Any]] = {
    "random": {},
    "rea": {"population": 4, "tournament": 2},
    "weaknas": {"surrogate": "nn", "init": 4, "batch": 3, "top_n": 8,
                "surrogate_options": {"epochs": 20, "hidden": [16]}},
    "renas": _FAST_RENAS,
    "renas-iter": _FAST_RENAS,
}


class StrategyFactory:
    """A strategy under test: a registered strategy and the options to build it with.

    ``StrategyFactory("rea", population=4)(space, seed=0)`` is
    ``nasopt.create("rea", space, population=4, seed=0)``. The strategy must be registered
    (:func:`~nasopt.core.registry.register_strategy`): checkpoints, journals and the
    Optuna / Ray adapters rebuild a strategy by its registered name.

    Args:
        strategy: A registered name, or a registered :class:`~nasopt.core.optimizer.Optimizer`
            subclass.
        **options: Constructor options used by every check (keep budgets small: each check
            runs a few dozen trials).
    """

    def __init__(self, strategy: str | type[Optimizer], **options: Any) -> None:
        if isinstance(strategy, type):
            if not issubclass(strategy, Optimizer):
                raise ConfigurationError(f"{strategy.__name__} is not a nasopt Optimizer subclass")
            name = strategy.name
            if not name or name not in available_strategies() or strategy_class(name) is not strategy:
                raise ConfigurationError(
                    f"{strategy.__name__} is not registered: decorate it with "
                    "@nasopt.core.registry.register_strategy('<name>') (checkpoints, journals "
                    "and the integrations rebuild strategies by name)"
                )
        elif isinstance(strategy, str):
            name = strategy
            strategy_class(name)  # a ConfigurationError naming the registered ones
        else:
            raise ConfigurationError(f"strategy must be a registered name or class, got {strategy!r}")
        self.name = name
        self.options = dict(options)

    @property
    def cls(self) -> type[Optimizer]:
        """The registered strategy class."""
        return strategy_class(self.name)

    def __call__(self, space: SearchSpace, **kw: Any) -> Optimizer:
        """Build the strategy on ``space``; ``kw`` (seed, journal, ...) add to the options."""
        return nasopt.create(self.name, space, **{**self.options, **kw})

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{self.name}({opts})"


StrategyLike = str | type[Optimizer] | StrategyFactory


def as_factory(strategy: StrategyLike) -> StrategyFactory:
    """``strategy`` as a :class:`StrategyFactory` (a name or class gets :data:`FAST_OPTIONS`
    when it is a built-in strategy, no options otherwise)."""
    if isinstance(strategy, StrategyFactory):
        return strategy
    name = strategy.name if isinstance(strategy, type) else strategy
    return StrategyFactory(strategy, **FAST_OPTIONS.get(name, {}))


def registered_strategies() -> list[StrategyFactory]:
    """Every registered strategy, built-ins with their :data:`FAST_OPTIONS`."""
    return [as_factory(name) for name in available_strategies()]


def default_space() -> ProductSpace:
    """The space the checks use unless given another: 3,888 architectures mixing strings,
    integers and floats, finite (so sampling without replacement is exercised) and needing
    no benchmark data."""
    return ProductSpace({
        "act": ["relu", "gelu", "tanh"],
        "width": [16, 32, 64, 128],
        "depth": [1, 2, 3, 4],
        "dropout": [0.0, 0.1, 0.3],
        "k1": [1, 3, 5],
        "k2": [1, 3, 5],
        "k3": [1, 3, 5],
    })


def objective(space: SearchSpace, arch: Any) -> float:
    """A cheap deterministic objective for any space (a hash of the architecture's data)."""
    data = json.dumps(space.to_data(arch), sort_keys=True, default=str)
    return (zlib.crc32(data.encode()) % 10_000) / 100


# ================================================================ scripted runs
def call_script(seed: int, n: int, space: SearchSpace) -> list[tuple[str, Any]]:
    """A random but fixed script of ``n`` calls: ``("ask", k)``, ``("tell", i)`` (the i-th
    pending trial, modulo their number), ``("fail", i)`` and ``("warm", x)`` (tell an
    architecture the optimizer did not propose). Calls are resolved against the optimizer's
    state by :func:`apply_call`, so the same script on two optimizers in the same state
    makes the same calls."""
    rnd = random.Random(seed)
    ops: list[tuple[str, Any]] = []
    for _ in range(n):
        r = rnd.random()
        if r < 0.35:
            ops.append(("ask", rnd.choice([1, 1, 2, 3])))
        elif r < 0.75:
            ops.append(("tell", rnd.randrange(4)))
        elif r < 0.85:
            ops.append(("fail", rnd.randrange(4)))
        else:
            ops.append(("warm", rnd.randrange(len(space)) if space.is_finite else rnd.random()))
    return ops


def apply_call(opt: Optimizer, op: tuple[str, Any]) -> None:
    """Make the call ``op`` of :func:`call_script` on ``opt``."""
    kind, arg = op
    if kind == "ask":
        opt.ask(arg)
    elif kind in ("tell", "fail"):
        pending = opt.pending
        if not pending:
            return
        t = pending[arg % len(pending)]
        if kind == "tell":
            opt.tell(t, objective(opt.space, t.arch))
        else:
            opt.tell(t, failed=True, error=f"boom {t.id}")
    else:
        if opt.space.is_finite:
            arch = opt.space[arg]
        else:
            arch = opt.space.sample(np.random.default_rng(int(arg * 1e9)))
        if opt.space.key(arch) not in {opt.space.key(t.arch) for t in opt.trials}:
            opt.tell(arch, objective(opt.space, arch))


def _observe(opt: Optimizer) -> dict[str, Any]:
    """Everything the public interface shows about a run (times and the run token aside)."""
    space = opt.space
    return {
        "trials": [(t.id, space.key(t.arch), t.state.value, t.value, t.error, dict(t.user_attrs),
                    t.values, t.constraints) for t in opt.trials],
        "tell order": [t.id for t in opt.completed],
        "pending": [t.id for t in opt.pending],
        "best": ([t.id for t in opt.pareto_front] if opt.n_objectives > 1
                 else None if opt.best is None else opt.best.id),
        "seed": opt.seed,
        "maximize": opt.maximize,
    }


def _difference(got: dict[str, Any], want: dict[str, Any]) -> str:
    """Where two :func:`_observe` results first differ, in words."""
    for field in want:
        a, b = got.get(field), want[field]
        if a == b:
            continue
        if isinstance(a, list) and isinstance(b, list):
            i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            return (f"{field} differ at position {i}: got {a[i] if i < len(a) else '(nothing)'}, "
                    f"expected {b[i] if i < len(b) else '(nothing)'} ({len(a)} vs {len(b)} entries)")
        return f"{field}: got {a!r}, expected {b!r}"
    return "no difference"


def _assert_same(got: Optimizer, want: Optimizer | dict, what: str) -> None:
    want_obs = want if isinstance(want, dict) else _observe(want)
    got_obs = _observe(got)
    assert got_obs == want_obs, f"{what}: {_difference(got_obs, want_obs)}"


def _run(strategy: StrategyFactory, space: SearchSpace, ops: Sequence[tuple], **kw: Any) -> Optimizer:
    opt = strategy(space, seed=SEED, **kw)
    for op in ops:
        apply_call(opt, op)
    return opt


def _n_calls(strategy: StrategyFactory, light: int = 60, heavy: int = 36) -> int:
    """Script length: shorter for strategies that fit a predictor on their asks."""
    return light if strategy.name in ("random", "rea") else heavy


# ================================================================ checks: persistence
def check_save_load_continues(strategy: StrategyLike, space: SearchSpace | None, tmp_path: Path) -> None:
    """``save`` / :func:`nasopt.load` at several points of a scripted run (asks, tells,
    failures, warm starts) rebuild the optimizer exactly, and the reloaded run ends as the
    uninterrupted one (same proposals, so the same random and strategy state)."""
    strategy, space = as_factory(strategy), space or default_space()
    ops = call_script(1, _n_calls(strategy), space)
    ref = _run(strategy, space, ops)
    opt = strategy(space, seed=SEED)
    pos = 0
    for cut in (0, len(ops) // 4, len(ops) // 2, len(ops)):
        for op in ops[pos:cut]:
            apply_call(opt, op)
        pos = cut
        before = _observe(opt)
        path = Path(tmp_path) / f"run-{cut}.ckpt"
        opt.save(str(path))
        opt = nasopt.load(str(path), space=space)
        assert type(opt) is strategy.cls, f"load rebuilt a {type(opt).__name__}, not a {strategy.cls.__name__}"
        _assert_same(opt, before, f"{strategy!r}: save/load after {cut} calls changed the run")
    _assert_same(opt, ref, f"{strategy!r}: a run saved and loaded 4 times diverged from the uninterrupted run")
    _assert_same(_continue(opt), _continue(ref), f"{strategy!r}: after save/load the next proposals differ")


def _continue(opt: Optimizer, rounds: int = 2) -> Optimizer:
    """Ask and tell a few more batches (the next proposals show the random and strategy state)."""
    for _ in range(rounds):
        for t in opt.ask(3):
            opt.tell(t, objective(opt.space, t.arch))
    return opt


def check_multi_objective_persists(strategy: StrategyLike, space: SearchSpace | None,
                                   tmp_path: Path) -> None:
    """With two objectives (``objectives=["max", "min"]``) and constraint values told with
    each result, a run saved and loaded halfway, and a journaled run closed and reopened
    halfway, end exactly as the uninterrupted run (same values, constraint values, front and
    next proposals). Skipped for a strategy that refuses several objectives with a
    :class:`~nasopt.core.errors.ConfigurationError` saying so."""
    strategy, space = as_factory(strategy), space or default_space()
    kw: dict[str, Any] = {"objectives": ["max", "min"]}
    try:
        strategy(space, seed=SEED, **kw)
    except ConfigurationError as exc:
        if "several objectives" in str(exc):
            raise unittest.SkipTest(str(exc)) from None
        raise

    def step(opt: Optimizer, rounds: int) -> Optimizer:
        for _ in range(rounds):
            for t in opt.ask(3):
                if zlib.crc32(space.key(t.arch).encode()) % 7 == 0:
                    opt.tell(t, failed=True, error="simulated failure")
                    continue
                a = objective(space, t.arch)
                b = (a * 37) % 100  # a second objective, unrelated to the first
                opt.tell(t, [a, b], constraints=[b - 80.0])
        return opt

    rounds = 8 if strategy.name in ("random", "rea") else 5
    half = rounds // 2
    try:
        ref = step(strategy(space, seed=SEED, **kw), rounds)
    except ConfigurationError as exc:
        if "pareto_front" not in str(exc):
            raise
        raise AssertionError(
            f"{strategy!r} reads opt.best, which a run with several objectives does not have "
            f"({exc}): use pareto_front, or refuse several objectives in __init__ with a "
            "ConfigurationError saying the strategy 'does not support several objectives'"
        ) from None
    opt = step(strategy(space, seed=SEED, **kw), half)
    path = str(Path(tmp_path) / "mo.ckpt")
    opt.save(path)
    opt = step(nasopt.load(path, space=space), rounds - half)
    _assert_same(opt, ref, f"{strategy!r}: a multi-objective run saved and loaded diverged")
    journal = str(Path(tmp_path) / "mo.jsonl")
    with strategy(space, seed=SEED, journal=journal, **kw) as first:
        step(first, half)
    with strategy(space, seed=SEED, journal=journal, **kw) as again:
        step(again, rounds - half)
        _assert_same(again, ref, f"{strategy!r}: a multi-objective journaled run reopened diverged")


def check_journal_replay_continues(strategy: StrategyLike, space: SearchSpace | None, tmp_path: Path) -> None:
    """A journaled run closed and reopened at several points (by the constructor with the
    same arguments, and by :func:`nasopt.load`) is rebuilt exactly and ends as the
    uninterrupted run."""
    strategy, space = as_factory(strategy), space or default_space()
    ops = call_script(2, _n_calls(strategy), space)
    ref = _run(strategy, space, ops)
    path = str(Path(tmp_path) / "run.jsonl")
    opt = strategy(space, seed=SEED, journal=path)
    pos = 0
    try:
        for i, cut in enumerate((0, len(ops) // 4, len(ops) // 2, len(ops))):
            for op in ops[pos:cut]:
                apply_call(opt, op)
            pos = cut
            before = _observe(opt)
            opt.close()
            how = "nasopt.load" if i % 2 else "the constructor"
            opt = nasopt.load(path, space=space) if i % 2 else strategy(space, seed=SEED, journal=path)
            _assert_same(opt, before, f"{strategy!r}: journal reopened by {how} after {cut} calls")
        _assert_same(opt, ref, f"{strategy!r}: a journaled run reopened 4 times diverged from the uninterrupted run")
        _assert_same(_continue(opt), _continue(ref), f"{strategy!r}: after a journal reopen the next proposals differ")
    finally:
        opt.close()


def _resumable_loop(opt: Optimizer, total: int, batch: int, warm: Sequence[Any],
                    after_call: Callable[[str, list], None] = lambda kind, trials: None) -> None:
    """Warm-start results, then ask a batch and tell it (one in seven fails), until ``total``
    results. Restarted on an optimizer rebuilt from a journal, it continues the call sequence
    of an uninterrupted run: warm starts not recorded yet first, then what was asked but not
    told, then new batches. ``after_call("ask" | "tell", trials)`` runs after each call
    returns, with the trials it returned."""
    space = opt.space
    told = {space.key(t.arch) for t in opt.trials if not t.is_pending}
    for arch in warm:
        if space.key(arch) not in told:
            after_call("tell", [opt.tell(arch, objective(space, arch))])
    while sum(not t.is_pending for t in opt.trials) < total:
        pending = opt.pending
        if not pending:
            after_call("ask", opt.ask(batch))
            continue
        for t in pending:
            if zlib.crc32(space.key(t.arch).encode()) % 7 == 0:
                done = opt.tell(t, failed=True, error="simulated failure")
            else:
                done = opt.tell(t, objective(space, t.arch))
            after_call("tell", [done])


def check_sigkill_resume(strategy: StrategyLike, space: SearchSpace | None, tmp_path: Path) -> None:
    """A journaled run in a forked child kills itself with ``SIGKILL`` (no cleanup, no
    flush) right after an ``ask`` or ``tell`` returned, 4 times at different points; resumed
    each time from the journal, the run ends exactly as an uninterrupted one, and no result
    whose ``tell`` returned is lost. (Kills at random moments, inside a write, are
    ``tests/test_crash.py``'s job.) POSIX only: skipped where ``os.fork`` is missing."""
    if not hasattr(os, "fork") or not hasattr(signal, "SIGKILL"):
        raise unittest.SkipTest("check_sigkill_resume forks and sends SIGKILL (POSIX only)")
    strategy, space = as_factory(strategy), space or default_space()
    total, batch = (30, 3) if strategy.name in ("random", "rea") else (20, 3)
    rng = np.random.default_rng(3)
    warm = [space.sample(rng) for _ in range(2)]
    journal = str(Path(tmp_path) / "killed.jsonl")
    errfile, ackfile = Path(tmp_path) / "child-error.txt", Path(tmp_path) / "acks.txt"
    lives = (1, 4, 7, 2)  # calls each life makes before its SIGKILL; the last life finishes
    for life, calls in enumerate((*lives, None)):
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # child: never returns into the caller
            code = 0
            try:
                count = [0]
                fd = os.open(ackfile, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

                def after_call(kind: str, trials: list) -> None:
                    # acknowledge what the call returned, then maybe die
                    os.write(fd, "".join(f"{kind} {t.id} {t.state.value} {t.value!r}\n"
                                         for t in trials).encode())
                    count[0] += 1
                    if calls is not None and count[0] >= calls:
                        os.kill(os.getpid(), signal.SIGKILL)

                opt = strategy(space, seed=SEED, journal=journal)
                _resumable_loop(opt, total, batch, warm, after_call)
                opt.close()
            except BaseException:  # noqa: BLE001 - reported by the parent
                errfile.write_text(traceback.format_exc())
                code = 3
            finally:
                os._exit(code)
        status = _wait_child(pid, timeout=120.0)
        if errfile.exists():
            raise AssertionError(f"{strategy!r}: life {life + 1} of the killed run failed:\n"
                                 f"{errfile.read_text()[-3000:]}")
        if calls is None:
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, \
                f"{strategy!r}: the last life ended with status {status}"
        else:
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, \
                f"{strategy!r}: life {life + 1} was not killed (status {status}): the run ended too early"
        _assert_acks_kept(strategy, space, journal, ackfile, life)
    resumed = nasopt.load(journal, space=space)
    try:
        ref = strategy(space, seed=SEED)
        _resumable_loop(ref, total, batch, warm)
        _assert_same(resumed, ref, f"{strategy!r}: a run SIGKILLed {len(lives)} times and resumed from "
                                   "its journal diverged from the uninterrupted run")
    finally:
        resumed.close()


def _assert_acks_kept(strategy: StrategyFactory, space: SearchSpace, journal: str, ackfile: Path,
                      life: int) -> None:
    """Every trial an ``ask`` returned is in the journal, and every result a ``tell``
    acknowledged is there with its state and value."""
    opt = nasopt.load(journal, space=space)
    try:
        trials = {t.id: t for t in opt.trials}
    finally:
        opt.close()
    for line in ackfile.read_text().splitlines() if ackfile.exists() else []:
        kind, tid, state, value = line.split(" ", 3)
        t = trials.get(int(tid))
        assert t is not None, f"{strategy!r}: trial #{tid} returned by {kind} is not in the journal " \
                              f"after SIGKILL #{life + 1}"
        if kind == "tell":
            assert (t.state.value, repr(t.value)) == (state, value), (
                f"{strategy!r}: the acknowledged result of trial #{tid} ({state} {value}) is "
                f"{t.state.value} {t.value!r} in the journal after SIGKILL #{life + 1}")


def _wait_child(pid: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"the forked run did not end within {timeout:.0f} s (killed)")
        time.sleep(0.005)


# ================================================================ checks: configuration
def _options_of(opt: Optimizer) -> dict[str, Any]:
    """The strategy's configuration: ``get_params()`` (scikit-learn's convention)."""
    return dict(opt.get_params())


#: Options every check sets itself (or that are not configuration).
_NOT_OPTIONS = ("space", "journal", "seed", "maximize", "direction")


def _option_defaults(cls: type[Optimizer]) -> dict[str, Any]:
    """Each constructor option of ``cls`` (:func:`valid_options`) and its default, from the
    first ``__init__`` along the MRO that names it (``inspect.Parameter.empty`` if none)."""
    out: dict[str, Any] = {}
    for name in valid_options(cls):
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            params = inspect.signature(init).parameters if init is not None else {}
            if name in params:
                out[name] = params[name].default
                break
    return out


def _non_default(value: Any) -> Any:
    """A value other than the default ``value``, or ``inspect.Parameter.empty`` when none
    can be derived (strings, ``None``, containers)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 0.5 if value else 0.5
    return inspect.Parameter.empty


def _buildable(strategy: StrategyFactory, space: SearchSpace, options: dict) -> bool:
    try:
        strategy(space, seed=SEED, **options)
    except ConfigurationError:
        return False
    return True


def check_options_round_trip(strategy: StrategyLike, space: SearchSpace | None, tmp_path: Path) -> str:
    """Every constructor option, set to a value other than its default (a bool negated, an
    int plus one, a float halved; strings, ``None`` and containers are left as given),
    survives ``save`` / :func:`nasopt.load` and a journal reopened by :func:`nasopt.load`
    (runtime arguments such as ``journal`` and ``prior``,
    :attr:`~nasopt.core.optimizer.Optimizer.runtime_arguments`, are not options: never
    stored, passed again on reopening, and left out here):
    each option attribute and the strategy's configuration (``get_params()``, or the options
    its checkpoint records) come back equal. Options whose changed value the constructor
    refuses (:class:`~nasopt.core.errors.ConfigurationError`) are skipped; the returned note
    names them."""
    strategy, space = as_factory(strategy), space or default_space()
    changed: dict[str, Any] = {}
    skipped: list[str] = []
    for name, default in _option_defaults(strategy.cls).items():
        value = _non_default(default)
        if (name in _NOT_OPTIONS or name in strategy.cls.runtime_arguments
                or value is inspect.Parameter.empty):
            continue
        if _buildable(strategy, space, {name: value}):
            changed[name] = value
        else:
            skipped.append(name)
    groups = [changed] if _buildable(strategy, space, changed) else [{k: v} for k, v in changed.items()]
    for group in groups:
        opt = strategy(space, seed=SEED + 1, maximize=False, **group)
        _continue(opt, rounds=1)
        path = Path(tmp_path) / "options.ckpt"
        opt.save(str(path))
        _assert_same_options(nasopt.load(str(path), space=space), opt, group, "save/load")
        jpath = str(Path(tmp_path) / f"options-{len(os.listdir(tmp_path))}.jsonl")
        journaled = strategy(space, seed=SEED + 1, maximize=False, journal=jpath, **group)
        _continue(journaled, rounds=1)
        journaled.close()
        reopened = nasopt.load(jpath, space=space)
        try:
            _assert_same_options(reopened, journaled, group, "a journal reopened by nasopt.load")
        finally:
            reopened.close()
    note = f"changed {len(changed)} option(s): {', '.join(changed) or 'none'}"
    if skipped:
        note += f"; skipped (refused on their own): {', '.join(skipped)}"
    return note


def _assert_same_options(got: Optimizer, want: Optimizer, changed: dict, how: str) -> None:
    label = f"{want.name!r} built with {changed}"
    for name in ("seed", "maximize", *valid_options(type(want))):
        if name == "space" or name in want.runtime_arguments or not hasattr(want, name):
            continue
        a, b = getattr(got, name, "(missing)"), getattr(want, name)
        assert _equal(a, b), (f"{label}: option {name!r} = {b!r} came back as {a!r} after {how} "
                              "(is it part of the strategy's saved configuration?)")
    a, b = _options_of(got), _options_of(want)
    assert _equal(a, b), f"{label}: configuration {b!r} came back as {a!r} after {how}"


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except ValueError:  # arrays
        return bool(np.array_equal(a, b))


# ================================================================ checks: determinism
def check_determinism_across_thread_counts(strategy: StrategyLike, space: SearchSpace | None,
                                           tmp_path: Path) -> None:
    """Two runs with the same seed propose the same architectures, also with the BLAS /
    OpenMP / torch thread limits at 1 and at 2, and (when the strategy has ``n_threads``)
    with ``n_threads=2`` and ``n_threads=None`` (no limit)."""
    strategy, space = as_factory(strategy), space or default_space()
    ops = call_script(3, _n_calls(strategy), space)
    ref = _observe(_run(strategy, space, ops))
    _assert_same(_run(strategy, space, ops), ref, f"{strategy!r}: two runs with seed {SEED}")
    try:
        from .core.threads import thread_limit

        import threadpoolctl  # noqa: F401 - thread_limit needs it
    except ImportError:
        thread_limit = None
    if thread_limit is not None:
        for n in (1, 2):
            with thread_limit(n):
                got = _run(strategy, space, ops)
            _assert_same(got, ref, f"{strategy!r}: run under a limit of {n} BLAS/torch thread(s)")
    if "n_threads" in valid_options(strategy.cls):
        for n in (2, None):
            got = _run(strategy, space, ops, n_threads=n)
            _assert_same(got, ref, f"{strategy!r}: run with n_threads={n}")


# ================================================================ checks: bad input
def _bad_calls(opt: Optimizer, other: Optimizer) -> list[tuple[str, Callable[[], Any]]]:
    """Calls every optimizer must refuse, made on a run with completed, failed and pending
    trials (``other`` is another run of the same strategy)."""
    done = opt.completed[0]
    failed = next(t for t in opt.trials if t.is_failed)
    pending = opt.pending[0]
    stranger = other.ask()
    return [
        ("ask(0)", lambda: opt.ask(0)),
        ("ask(-3)", lambda: opt.ask(-3)),
        ("ask(2.5)", lambda: opt.ask(2.5)),
        ("ask(True)", lambda: opt.ask(True)),
        ("ask('2')", lambda: opt.ask("2")),
        ("tell(pending, nan)", lambda: opt.tell(pending, float("nan"))),
        ("tell(pending, inf)", lambda: opt.tell(pending, float("inf"))),
        ("tell(pending, '0.9')", lambda: opt.tell(pending, "0.9")),
        ("tell(pending, [0.9])", lambda: opt.tell(pending, [0.9])),
        ("tell(pending, True)", lambda: opt.tell(pending, True)),
        ("tell(pending) without a value", lambda: opt.tell(pending)),
        ("tell(pending, 0.5, failed=True)", lambda: opt.tell(pending, 0.5, failed=True)),
        ("tell(pending, 0.5, user_attrs={'x': {1}})", lambda: opt.tell(pending, 0.5, user_attrs={"x": {1}})),
        ("set_user_attr(pending, 3, 'x')", lambda: opt.set_user_attr(pending, 3, "x")),
        ("tell of a completed trial", lambda: opt.tell(done, 2.0)),
        ("tell of a failed trial", lambda: opt.tell(failed, 2.0)),
        ("tell of another run's trial", lambda: opt.tell(stranger, 1.0)),
        ("warm start of an evaluated architecture", lambda: opt.tell(done.arch, 2.0)),
        ("tell of an object that is no architecture", lambda: opt.tell(object(), 1.0)),
    ]


def check_bad_input_leaves_state_unchanged(strategy: StrategyLike, space: SearchSpace | None,
                                           tmp_path: Path) -> None:
    """Each bad ``ask`` / ``tell`` / ``set_user_attr`` call raises a
    :class:`~nasopt.core.errors.NasoptError` (never another exception, never accepted),
    leaves the visible state as it was, and the run then continues exactly as a twin run
    that never saw the bad calls (so the random and strategy state did not move either)."""
    strategy, space = as_factory(strategy), space or default_space()
    setup = [("ask", 3), ("tell", 0), ("fail", 0), ("ask", 2)]
    ops = call_script(4, _n_calls(strategy, 30, 20), space)
    opt, twin = _run(strategy, space, setup), _run(strategy, space, setup)
    other = strategy(space, seed=SEED + 1)
    for label, call in _bad_calls(opt, other):
        before = _observe(opt)
        try:
            call()
        except NasoptError:
            pass
        except Exception as exc:  # noqa: BLE001 - the check reports it
            raise AssertionError(f"{strategy!r}: {label} raised {type(exc).__name__}: {exc} "
                                 "(expected a nasopt error: NasoptError subclass)") from exc
        else:
            raise AssertionError(f"{strategy!r}: {label} was accepted")
        _assert_same(opt, before, f"{strategy!r}: the refused {label} changed the optimizer")
    for op in ops:
        apply_call(opt, op)
        apply_call(twin, op)
    _assert_same(opt, twin, f"{strategy!r}: after refused bad calls the run diverged from one without them")


# ================================================================ checks: threads
def hammer(opt: Optimizer, threads: int, per_thread: int, batch: int = 1, fail_every: int = 0,
           readers: int = 1, save_path: str | os.PathLike | None = None
           ) -> tuple[list, list, list[BaseException]]:
    """Run ``threads`` workers that ask (``batch`` at a time) and tell ``per_thread``
    trials each (every ``fail_every``-th id failed), with ``readers`` threads reading
    ``best``, ``trials``, ``pending`` (and saving to ``save_path``) meanwhile; returns
    (asked trials, told trials, exceptions raised in any thread)."""
    asked: list[list] = [[] for _ in range(threads)]
    told: list[list] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads + readers)
    stop = threading.Event()

    def worker(k: int) -> None:
        try:
            start.wait()
            n = 0
            while n < per_thread:
                trials = opt.ask(min(batch, per_thread - n)) if batch > 1 else [opt.ask()]
                asked[k].extend(trials)
                for t in trials:
                    if fail_every and t.id % fail_every == 0:
                        done = opt.tell(t, failed=True)
                    else:
                        done = opt.tell(t, objective(opt.space, t.arch))
                    told[k].append(done)
                n += len(trials)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    def reader() -> None:
        try:
            start.wait()
            i = 0
            while not stop.is_set():
                best, trials = opt.best, opt.trials
                if best is not None:
                    assert best.is_complete and best.id < len(trials) + threads * batch
                _ = opt.pending, opt.completed, len(opt)
                if save_path is not None and i % 200 == 0:
                    opt.save(str(save_path))
                i += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: more interleavings
    try:
        workers = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
        others = [threading.Thread(target=reader) for _ in range(readers)]
        for th in workers + others:
            th.start()
        for th in workers:
            th.join()
        stop.set()
        for th in others:
            th.join()
    finally:
        sys.setswitchinterval(old)
    return [t for a in asked for t in a], [t for a in told for t in a], errors


def assert_hammered_run_is_consistent(opt: Optimizer, asked: list, told: list,
                                      errors: list[BaseException], n_total: int) -> None:
    """After :func:`hammer`: no thread failed, ids are unique and without gaps, no
    architecture was proposed twice, no result was lost, and the history and ``best`` are
    exactly what the threads told."""
    assert not errors, f"threads raised: {errors[:3]!r}"
    ids = [t.id for t in asked]
    assert len(ids) == n_total and sorted(ids) == list(range(n_total)), \
        f"trial ids are not unique and without gaps: {sorted(ids)[:20]}..."
    keys = [opt.space.key(t.arch) for t in asked]
    assert len(set(keys)) == n_total, f"{n_total - len(set(keys))} architecture(s) proposed twice"
    assert len(told) == n_total and not opt.pending, f"lost tells: {len(opt.pending)} trial(s) still pending"
    history = {(t.id, t.state, t.value) for t in opt.trials}
    assert history == {(t.id, t.state, t.value) for t in told}, "the history is not the set of tells"
    told_ok = {t.id for t in told if t.is_complete}
    assert {t.id for t in opt.completed} == told_ok and len(opt.completed) == len(told_ok), \
        "completed trials differ from the successful tells"
    if told_ok:
        best_value = (max if opt.maximize else min)(t.value for t in told if t.is_complete)
        first_best = next(t for t in opt.completed if t.value == best_value)  # earliest on ties
        assert opt.best.id == first_best.id and opt.best.value == best_value, \
            f"best is trial #{opt.best.id}, expected #{first_best.id}"


def check_threaded_ask_tell(strategy: StrategyLike, space: SearchSpace | None, tmp_path: Path) -> None:
    """8 threads ask (in batches of 2) and tell at once, one result in five a failure, while
    another thread reads ``best`` / ``trials`` and saves checkpoints, on a journaled
    optimizer: unique ids, no architecture twice, no lost result, a consistent ``best``;
    the journal and the last checkpoint rebuild the run."""
    strategy, space = as_factory(strategy), space or default_space()
    threads, per_thread = 8, 8 if strategy.name in ("random", "rea") else 4
    path, ckpt = str(Path(tmp_path) / "threads.jsonl"), Path(tmp_path) / "threads.ckpt"
    opt = strategy(space, seed=SEED, journal=path)
    try:
        asked, told, errors = hammer(opt, threads, per_thread, batch=2, fail_every=5, save_path=ckpt)
        assert_hammered_run_is_consistent(opt, asked, told, errors, threads * per_thread)
        before = _observe(opt)
    finally:
        opt.close()
    again = strategy(space, seed=SEED, journal=path)
    try:
        _assert_same(again, before, f"{strategy!r}: the journal of a run with {threads} threads")
    finally:
        again.close()
    saved = nasopt.load(str(ckpt), space=space)  # saved mid-run: a consistent prefix
    assert {t.id for t in saved.trials} <= {t.id for t in opt.trials}, \
        f"{strategy!r}: a checkpoint saved during the threaded run holds trials the run never had"


# ================================================================ checks: integrations
def check_optuna_resume(strategy: StrategyLike, space: SearchSpace | None, tmp_path: Path) -> None:
    """An Optuna study driven by :class:`~nasopt.integrations.optuna.NASSampler`, stopped
    after 6 trials and resumed from its journal storage by a new sampler (seed read back
    from the study), proposes the same architectures as an uninterrupted study, and the
    sampler's optimizer ends equal. Skipped without optuna."""
    try:
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend
    except ImportError as exc:
        raise unittest.SkipTest(f"optuna not installed ({exc}): pip install 'nasopt[optuna]'") from None
    from .integrations.optuna import NASSampler

    strategy, space = as_factory(strategy), space or default_space()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n_first, n_second = 6, 6

    def study_objective(sampler: NASSampler) -> Callable[[Any], float]:
        return lambda trial: objective(space, sampler.suggest_arch(trial))

    full = NASSampler(space, strategy=strategy.name, seed=SEED, **strategy.options)
    ref = optuna.create_study(direction="maximize", sampler=full)
    ref.optimize(study_objective(full), n_trials=n_first + n_second)

    log = str(Path(tmp_path) / "study.log")
    first = NASSampler(space, strategy=strategy.name, seed=SEED, **strategy.options)
    study = optuna.create_study(direction="maximize", sampler=first, study_name="s",
                                storage=JournalStorage(JournalFileBackend(log)))
    study.optimize(study_objective(first), n_trials=n_first)
    del study, first  # the process ends
    second = NASSampler(space, strategy=strategy.name, **strategy.options)
    resumed = optuna.load_study(study_name="s", sampler=second,
                                storage=JournalStorage(JournalFileBackend(log)))
    resumed.optimize(study_objective(second), n_trials=n_second)
    got = second.optimizer(resumed)
    assert got.seed == SEED, f"{strategy!r}: the resumed sampler took seed {got.seed}, not the study's {SEED}"
    _assert_same(got, full.optimizer(ref), f"{strategy!r}: an Optuna study resumed from its storage")


def check_ray_save_restore(strategy: StrategyLike, space: SearchSpace | None, tmp_path: Path) -> None:
    """A :class:`~nasopt.integrations.ray.NASSearch` driven like Tune (3 trials at a time,
    completions shuffled), saved with trials in flight and restored into a fresh searcher,
    continues exactly as the searcher that was saved. Skipped without ray[tune]."""
    try:
        from .integrations.ray import NASSearch
    except ImportError as exc:  # names the extra to install
        raise unittest.SkipTest(str(exc)) from None

    strategy, space = as_factory(strategy), space or default_space()
    total, running_max = 18, 3

    def drive(search: Any, running: dict, n: int, stop: int, rnd: random.Random) -> int:
        """Suggest (at most 3 running) and complete shuffled trials until ``stop`` suggested."""
        while n < stop:
            while len(running) < running_max and n < stop:
                config = search.suggest(f"t{n}")
                if config is None:
                    break
                running[f"t{n}"] = config
                n += 1
            tid = rnd.choice(sorted(running))
            search.on_trial_complete(tid, {"score": objective(space, search.arch(running.pop(tid)))})
        return n

    for batch_size in (None, 3):
        search = NASSearch(space, strategy=strategy.name, metric="score", mode="max", seed=SEED,
                           batch_size=batch_size, **strategy.options)
        rnd, running = random.Random(0), {}
        n = drive(search, running, 0, total // 2, rnd)
        path = str(Path(tmp_path) / f"searcher-{batch_size}.json")
        search.save(path)
        restored = NASSearch(space, strategy=strategy.name, **strategy.options)
        restored.restore(path)
        label = f"{strategy!r}: NASSearch(batch_size={batch_size}) restored"
        _assert_same(restored.optimizer, search.optimizer, label)
        state = rnd.getstate()
        for s, r in ((search, dict(running)), (restored, dict(running))):
            rnd.setstate(state)
            drive(s, r, n, total, rnd)
        _assert_same(restored.optimizer, search.optimizer, f"{label} then continued")


# ================================================================ running the suite
#: Every check, in the order :func:`check_strategy` runs them.
CHECKS: tuple[Callable[..., Any], ...] = (
    check_save_load_continues,
    check_journal_replay_continues,
    check_multi_objective_persists,
    check_sigkill_resume,
    check_options_round_trip,
    check_determinism_across_thread_counts,
    check_bad_input_leaves_state_unchanged,
    check_threaded_ask_tell,
    check_optuna_resume,
    check_ray_save_restore,
)

class Check:
    """One check bound to a search space, as :func:`parametrize_with_checks` yields it:
    call it as ``check(strategy, tmp_path)``."""

    def __init__(self, func: Callable[..., Any], space: SearchSpace | None = None) -> None:
        self.func, self.space = func, space
        self.__name__ = func.__name__

    def __call__(self, strategy: StrategyLike, tmp_path: str | os.PathLike) -> Any:
        return self.func(strategy, self.space, Path(tmp_path))

    def __repr__(self) -> str:
        return self.__name__


def check_strategy(strategy: StrategyLike, space: SearchSpace | None = None,
                   checks: Iterable[Callable[..., Any]] | None = None) -> dict[str, str]:
    """Run every check (or ``checks``) on ``strategy`` in a temporary directory.

    Args:
        strategy: A registered name or class, or a :class:`StrategyFactory` with options.
        space: The search space (default :func:`default_space`).
        checks: The checks to run (default :data:`CHECKS`).

    Returns:
        ``{check name: "passed" | "passed: <note>" | "skipped: <reason>"}``.

    Raises:
        AssertionError: one or more checks failed; the message lists each failure.
    """
    factory = as_factory(strategy)
    report: dict[str, str] = {}
    failures: list[str] = []
    for check in checks or CHECKS:
        with tempfile.TemporaryDirectory(prefix="nasopt-check-") as tmp:
            try:
                note = check(factory, space, Path(tmp))
            except unittest.SkipTest as exc:
                report[check.__name__] = f"skipped: {exc}"
            except AssertionError as exc:
                report[check.__name__] = f"FAILED: {exc}"
                failures.append(f"{check.__name__}: {exc}")
            else:
                report[check.__name__] = "passed" + (f": {note}" if note else "")
    if failures:
        raise AssertionError(f"{factory!r} fails {len(failures)} check(s):\n" + "\n".join(failures))
    return report


def parametrize_with_checks(strategies: Iterable[StrategyLike], *, space: SearchSpace | None = None,
                            checks: Iterable[Callable[..., Any]] | None = None,
                            expected_failures: Mapping[str, Mapping[str, str]] | None = None) -> Any:
    """A ``pytest.mark.parametrize`` over (strategy, check) pairs, like scikit-learn's::

        @parametrize_with_checks(["my-strategy", StrategyFactory("rea", population=4)])
        def test_conformance(strategy, check, tmp_path):
            check(strategy, tmp_path)

    Args:
        strategies: Registered names or classes, or :class:`StrategyFactory` objects.
        space: The search space of every check (default :func:`default_space`).
        checks: The checks (default :data:`CHECKS`).
        expected_failures: ``{strategy name: {check name: reason}}``: those pairs are
            marked ``xfail(strict=True)`` (they must fail, so a fix is noticed).
    """
    import pytest

    expected = {k: dict(v) for k, v in (expected_failures or {}).items()}
    params = []
    for strategy in strategies:
        factory = as_factory(strategy)
        for func in checks or CHECKS:
            marks = []
            reason = expected.get(factory.name, {}).get(func.__name__)
            if reason is not None:
                marks.append(pytest.mark.xfail(strict=True, reason=reason, raises=AssertionError))
            params.append(pytest.param(factory, Check(func, space), marks=marks,
                                       id=f"{factory.name}-{func.__name__}"))
    return pytest.mark.parametrize("strategy, check", params)
