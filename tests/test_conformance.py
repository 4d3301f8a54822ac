"""The strategy conformance suite (nasopt.testing) over every registered strategy and a toy
user strategy with an extra constructor option, plus tests of the suite itself (a check
must fail on a strategy that breaks its contract)."""

from __future__ import annotations

import sys
import unittest
from typing import Any

import pytest

import nasopt
import nasopt.testing as nt
from nasopt.core.registry import register_strategy, strategy_class, unregister_strategy
from nasopt.strategies import RandomSearch

TOY = "test-toy-greedy"


class GreedyRandom(RandomSearch):
    """A user's strategy: random search that, with probability ``greediness``, proposes a
    neighbour (a mutation) of the best result so far instead. ``greediness`` is a new
    constructor option, stored under its own name and nowhere listed by hand: save / load,
    journals and the adapters must bring it back through ``get_params()``."""

    def __init__(self, space: Any, *, greediness: float = 0.5, **kw: Any) -> None:
        super().__init__(space, **kw)
        if not 0.0 <= greediness <= 1.0:
            raise nasopt.ConfigurationError(f"greediness must be in [0, 1], got {greediness!r}")
        self.greediness = float(greediness)

    def _propose(self, n: int) -> list[Any]:
        front = self.pareto_front  # its first trial is `best` with one objective
        best = front[0] if front else None
        out: list[Any] = []
        keys: set[str] = set()
        for arch in self._random_unseen(n):
            if best is not None and self._rng.random() < self.greediness:
                cand = self.space.mutate(best.arch, self._rng)
                key = self.space.key(cand)
                if key not in keys and not self._is_seen(cand):
                    arch = cand
            keys.add(self.space.key(arch))
            out.append(arch)
        return out


@pytest.fixture(scope="module", autouse=True)
def _toy_registered():
    """GreedyRandom is registered under a test-only name for the tests of this module."""
    register_strategy(TOY)(GreedyRandom)
    yield
    unregister_strategy(TOY)


def _cases() -> list:
    """Every registered strategy, then the toy one with a non-default ``greediness``."""
    cases = nt.registered_strategies()
    register_strategy(TOY)(GreedyRandom)  # registered at collection too, to build its case
    try:
        return [*cases, nt.StrategyFactory(GreedyRandom, greediness=0.7)]
    finally:
        unregister_strategy(TOY)


@nt.parametrize_with_checks(_cases())
def test_strategy_conforms(strategy, check, tmp_path):
    check(strategy, tmp_path)


@nt.parametrize_with_checks(_cases())
def test_strategy_conforms_on_nb201(strategy, check, tmp_path, nb201_data, nb201_space):
    """The same checks on NAS-Bench-201 cells (string architectures, canonical hashes of
    isomorphic cells), with the op order of the real table."""
    check.func(strategy, nb201_space, tmp_path)


# ---------------------------------------------------------------- the suite itself
def test_nasopt_testing_imports_no_pytest_optuna_or_ray():
    import subprocess

    code = ("import sys, nasopt.testing; "
            "print(sorted(m for m in ('pytest', 'optuna', 'ray') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("check, modules", [
    (nt.check_optuna_resume, ("optuna", "nasopt.integrations.optuna")),
    (nt.check_ray_save_restore, ("ray", "ray.tune", "ray.tune.search", "nasopt.integrations.ray")),
])
def test_integration_checks_skip_when_the_package_is_missing(monkeypatch, tmp_path, check, modules):
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(unittest.SkipTest, match="nasopt"):
        check("random", None, tmp_path)
    assert nt.check_strategy("random", checks=[check])[check.__name__].startswith("skipped: ")


def test_unregister_strategy_removes_the_name():
    register_strategy("test-unregister")(GreedyRandom)
    assert unregister_strategy("test-unregister") is GreedyRandom
    with pytest.raises(nasopt.ConfigurationError, match="unknown strategy 'test-unregister'"):
        strategy_class("test-unregister")
    register_strategy(TOY)(GreedyRandom)  # restore the name the class carries


def test_factory_of_an_unregistered_class_says_to_register_it():
    class Unregistered(RandomSearch):
        pass

    with pytest.raises(nasopt.ConfigurationError, match="is not registered: decorate it"):
        nt.StrategyFactory(Unregistered)


class Forgetful(RandomSearch):
    """Breaks the contract: its proposals depend on a counter it does not persist."""

    def __init__(self, space: Any, **kw: Any) -> None:
        super().__init__(space, **kw)
        self._asks = 0

    def _propose(self, n: int) -> list[Any]:
        self._asks += 1  # proposals depend on a count the checkpoint lacks
        return self._random_unseen(n + self._asks % 3)[-n:]


def test_checks_catch_a_strategy_that_forgets_its_state(tmp_path):
    register_strategy("test-forgetful")(Forgetful)
    try:
        for check in (nt.check_save_load_continues, nt.check_journal_replay_continues,
                      nt.check_sigkill_resume):
            with pytest.raises(AssertionError, match="test-forgetful"):
                check("test-forgetful", None, tmp_path)
        report = nt.check_strategy("test-forgetful", checks=[nt.check_bad_input_leaves_state_unchanged])
        assert report == {"check_bad_input_leaves_state_unchanged": "passed"}
    finally:
        unregister_strategy("test-forgetful")


class Halving(GreedyRandom):
    """Breaks the convention that an option is stored as given: it keeps half of it, so a
    rebuilt optimizer (built from get_params()) halves it again."""

    def __init__(self, space: Any, *, greediness: float = 0.5, **kw: Any) -> None:
        super().__init__(space, greediness=greediness, **kw)
        self.greediness = greediness / 2


def test_check_strategy_reports_every_failure_and_the_changed_options():
    register_strategy("test-halving")(Halving)
    try:
        with pytest.raises(AssertionError, match=r"option 'greediness' .* came back as .* after save/load"):
            nt.check_strategy(nt.StrategyFactory("test-halving"), checks=[nt.check_options_round_trip])
    finally:
        unregister_strategy("test-halving")
    report = nt.check_strategy("rea", checks=[nt.check_options_round_trip])
    assert report["check_options_round_trip"].startswith(
        "passed: changed 3 option(s): allow_duplicates, population, tournament")
