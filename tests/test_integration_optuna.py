"""Optuna integration: NASSampler passes Optuna's own sampler conformance tests, proposes
architectures of nasopt spaces, handles pending / failed trials, and survives a resume."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

optuna = pytest.importorskip("optuna", reason="optuna not installed (pip install 'nasopt[optuna]')")

from optuna.testing.pytest_samplers import (  # noqa: E402
    BasicSamplerTestCase, MultiObjectiveSamplerTestCase, RelativeSamplerTestCase,
)

import nasopt  # noqa: E402
from nasopt.integrations.optuna import ARCH_ATTR, NASSampler, keep_errors, make_codec, suggest_arch  # noqa: E402
from nasopt.spaces import NB201Space  # noqa: E402
from nasopt.testing import FAST_OPTIONS, registered_strategies  # noqa: E402
from prior_fixture import OPTIONS, params_prior, weaknas_run  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

#: Every registered strategy with the conformance suite's small budgets.
STRATEGIES = [(f.name, f.options) for f in registered_strategies()]


def _nb201_random():
    return NASSampler(NB201Space(), strategy="random", seed=0)


def _nb201_rea_tpe():
    return NASSampler(NB201Space(), strategy="rea", seed=0,
                      fallback=optuna.samplers.TPESampler(seed=0, multivariate=True, n_startup_trials=2))


# ------------------------------------------------------------------ Optuna's conformance suites
class TestBasicConformance(BasicSamplerTestCase):
    @pytest.fixture(params=[_nb201_random, _nb201_rea_tpe], ids=["random-fallback", "tpe-fallback"])
    def sampler(self, request):
        return request.param


class TestRelativeConformance(RelativeSamplerTestCase):
    @pytest.fixture(params=[_nb201_random, _nb201_rea_tpe], ids=["random-fallback", "tpe-fallback"])
    def sampler(self, request):
        return request.param


def _nb201_weaknas():
    return NASSampler(NB201Space(), strategy="weaknas", seed=0, **FAST_OPTIONS["weaknas"])


class TestMultiObjectiveConformance(MultiObjectiveSamplerTestCase):
    @pytest.fixture(params=[_nb201_random, _nb201_rea_tpe, _nb201_weaknas],
                    ids=["random-fallback", "tpe-fallback", "weaknas"])
    def sampler(self, request):
        return request.param


def _two_objectives(sampler):
    """Accuracy-like (more convolutions) against latency-like (their cost) on NB201; the
    latency is also kept as a user attribute, for ``constraints_func``."""
    def objective(trial):
        arch = sampler.suggest_arch(trial)
        c3, c1 = arch.count("nor_conv_3x3"), arch.count("nor_conv_1x1")
        latency = 1.0 * c3 + 0.3 * c1 + len(arch) / 1000
        trial.set_user_attr("latency", latency)
        return 0.12 * c3 + 0.07 * c1, latency
    return objective


def test_a_multi_objective_study_with_constraints_func_runs_rea_on_its_front():
    def constraints(frozen):
        return [frozen.user_attrs["latency"] - 4.0]  # latency at most 4

    sampler = NASSampler(NB201Space(), strategy="rea", seed=0, population=5,
                         constraints_func=constraints)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.optimize(_two_objectives(sampler), n_trials=30)
    opt = sampler.optimizer(study)
    assert opt.n_objectives == 2 and opt.objectives == ["max", "min"]
    assert len(opt.completed) == 30
    assert any(not t.feasible for t in opt.completed)
    assert all(t.constraints[0] == t.values[1] - 4.0 for t in opt.completed)
    # the strategy's front is Optuna's (which also leaves the infeasible trials out)
    assert sorted(t.values for t in opt.pareto_front) == sorted(
        tuple(t.values) for t in study.best_trials)


def test_a_multi_objective_study_resumes_with_the_same_proposals(tmp_path):
    url = f"sqlite:///{tmp_path}/mo.db"
    def run(n):
        sampler = NASSampler(NB201Space(), strategy="rea", seed=3, population=4)
        study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler,
                                    storage=url, study_name="mo", load_if_exists=True)
        study.optimize(_two_objectives(sampler), n_trials=n)
        return study
    run(10)
    resumed = [t.params for t in run(10).trials]
    ref_sampler = NASSampler(NB201Space(), strategy="rea", seed=3, population=4)
    ref = optuna.create_study(directions=["maximize", "minimize"], sampler=ref_sampler)
    ref.optimize(_two_objectives(ref_sampler), n_trials=20)
    assert resumed == [t.params for t in ref.trials]


# ------------------------------------------------------------------ architecture search
@pytest.fixture(scope="module")
def bench(nb201_cifar10):
    return nb201_cifar10


def nb201_objective(bench, sampler):
    def objective(trial):
        arch = sampler.suggest_arch(trial)
        trial.suggest_float("lr", 1e-3, 1e-1, log=True)  # a non-architecture parameter
        return bench(arch)
    return objective


@pytest.mark.parametrize("strategy,opts", STRATEGIES, ids=[s for s, _ in STRATEGIES])
def test_study_searches_nb201_and_matches_the_plain_loop(bench, strategy, opts):
    sampler = NASSampler(bench.space, strategy=strategy, seed=5, **opts)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(nb201_objective(bench, sampler), n_trials=16)
    archs = [t.user_attrs[ARCH_ATTR] for t in study.trials]
    assert len(set(archs)) == 16
    assert all(set(t.params) == set(sampler.codec.distributions) | {"lr"} for t in study.trials)
    # the same strategy and seed in a plain ask/tell loop proposes the same architectures
    opt = nasopt.create(strategy, bench.space, seed=5, **opts)
    for _ in range(16):
        t = opt.ask()
        opt.tell(t, bench(t.arch))
    assert archs == [t.arch for t in opt.trials]
    synced = sampler.optimizer(study)
    assert synced.best.arch == study.best_trial.user_attrs[ARCH_ATTR]
    assert synced.best.value == study.best_value


def test_minimize_study_is_followed(bench):
    sampler = NASSampler(bench.space, strategy="rea", seed=1)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.optimize(lambda t: -bench(sampler.suggest_arch(t)), n_trials=15)
    opt = sampler.optimizer(study)
    assert not opt.maximize and opt.best.value == study.best_value


@pytest.mark.parametrize("strategy,opts", STRATEGIES, ids=[s for s, _ in STRATEGIES])
def test_study_with_two_jobs_keeps_running_trials_pending_and_loses_nothing(bench, strategy, opts):
    sampler = NASSampler(bench.space, strategy=strategy, seed=2, **opts)
    study = optuna.create_study(direction="maximize", sampler=sampler)

    @keep_errors
    def objective(trial):
        arch = sampler.suggest_arch(trial)
        if trial.number % 7 == 3:
            raise RuntimeError("out of memory")
        return bench(arch)

    study.optimize(objective, n_trials=20, n_jobs=2, catch=(RuntimeError,))
    archs = [t.user_attrs[ARCH_ATTR] for t in study.trials]
    assert len(set(archs)) == 20  # no architecture proposed twice, even while one was running
    opt = sampler.optimizer(study)
    assert not opt.pending and len(opt.trials) == 20
    failed = {t.arch: t.error for t in opt.trials if t.is_failed}
    assert {a: e.split(" (at ")[0] for a, e in failed.items()} == {
        t.user_attrs[ARCH_ATTR]: "RuntimeError: out of memory" for t in study.trials
                      if t.state == optuna.trial.TrialState.FAIL} and failed
    assert {t.arch: t.value for t in opt.completed} == {
        t.user_attrs[ARCH_ATTR]: t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE}


def _storage(kind, tmp_path):
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'study.db'}"
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(tmp_path / "study.log")))


@pytest.mark.slow
def test_resumed_sqlite_study_continues_exactly_as_an_uninterrupted_one(bench, tmp_path):
    """With an SQL storage (the conformance suite's check_optuna_resume covers every
    strategy with a journal storage)."""
    strategy, opts, kind = "rea", {}, "sqlite"
    full = NASSampler(bench.space, strategy=strategy, seed=9, **opts)
    ref = optuna.create_study(direction="maximize", sampler=full)
    ref.optimize(nb201_objective(bench, full), n_trials=16)

    first = NASSampler(bench.space, strategy=strategy, seed=9, **opts)
    study = optuna.create_study(direction="maximize", sampler=first, storage=_storage(kind, tmp_path),
                                study_name="s")
    study.optimize(nb201_objective(bench, first), n_trials=9)
    del study, first  # the process ends
    second = NASSampler(bench.space, strategy=strategy, **opts)  # seed read back from the study
    resumed = optuna.load_study(study_name="s", storage=_storage(kind, tmp_path), sampler=second)
    resumed.optimize(nb201_objective(bench, second), n_trials=7)
    assert [t.user_attrs[ARCH_ATTR] for t in resumed.trials] == [t.user_attrs[ARCH_ATTR] for t in ref.trials]
    assert second.optimizer(resumed).seed == 9
    assert second.optimizer(resumed).best.value == ref.best_value


@pytest.mark.parametrize("old_log", [False, True], ids=["ask-records", "log-of-an-older-release"])
def test_resume_rebuilds_from_the_logged_ask_records_without_rerunning_the_strategy(
        bench, tmp_path, monkeypatch, old_log):
    """A resumed sampler applies each logged ask record (proposal, random and strategy
    state, through nasopt.persist) instead of asking the strategy again; logs written
    before the records existed (no "ask" entry) are still replayed by asking again."""
    from nasopt.integrations.optuna import ASK_ATTR
    from nasopt.strategies.weaknas import WeakNAS

    opts = {"surrogate": "quadratic", "init": 6, "batch": 4}
    storage = _storage("journal", tmp_path)
    first = NASSampler(bench.space, strategy="weaknas", seed=2, **opts)
    study = optuna.create_study(direction="maximize", sampler=first, storage=storage, study_name="w")
    if old_log:  # the sampler of an older release logged no ask record
        write = study._storage.set_trial_system_attr

        def old_write(trial_id, key, value):
            if key == ASK_ATTR:
                value = {k: v for k, v in value.items() if k != "ask"}
            write(trial_id, key, value)

        monkeypatch.setattr(study._storage, "set_trial_system_attr", old_write)
    study.optimize(nb201_objective(bench, first), n_trials=14)
    live = first.optimizer(study)
    assert all(("ask" in t.system_attrs[ASK_ATTR]) != old_log for t in study.trials)
    calls = []
    real = WeakNAS._propose
    monkeypatch.setattr(WeakNAS, "_propose", lambda self, n: calls.append(n) or real(self, n))
    second = NASSampler(bench.space, strategy="weaknas", **opts)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no divergence warning
        rebuilt = second.optimizer(optuna.load_study(study_name="w", storage=storage, sampler=second))
    assert len(calls) == (14 if old_log else 0)
    assert [(t.arch, t.value) for t in rebuilt.trials] == [(t.arch, t.value) for t in live.trials]
    assert rebuilt._get_state() == live._get_state()
    assert rebuilt.ask(3) and [t.arch for t in rebuilt.trials[-3:]] == [t.arch for t in live.ask(3)]


def test_parallel_study_log_replays_to_the_same_optimizer(bench, tmp_path):
    storage = _storage("journal", tmp_path)
    first = NASSampler(bench.space, strategy="rea", seed=4, population=5, tournament=2)
    study = optuna.create_study(direction="maximize", sampler=first, storage=storage, study_name="p")
    study.optimize(nb201_objective(bench, first), n_trials=16, n_jobs=2)
    live = first.optimizer(study)
    second = NASSampler(bench.space, strategy="rea", population=5, tournament=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no divergence warning
        rebuilt = second.optimizer(optuna.load_study(study_name="p", storage=storage, sampler=second))
    assert [(t.arch, t.value) for t in rebuilt.trials] == [(t.arch, t.value) for t in live.trials]
    assert [t.id for t in rebuilt.completed] == [t.id for t in live.completed]
    assert rebuilt.ask().arch == live.ask().arch  # and it continues the same way


def test_enqueued_and_pruned_trials(bench):
    sampler = NASSampler(bench.space, strategy="rea", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    best = bench.optimum.arch
    study.enqueue_trial(sampler.codec.to_params(best))

    def objective(trial):
        arch = sampler.suggest_arch(trial)
        if trial.number == 2:
            raise optuna.TrialPruned()
        return bench(arch)

    study.optimize(objective, n_trials=6)
    opt = sampler.optimizer(study)
    assert opt.best.arch == best  # the user's enqueued architecture is a warm-start result
    pruned = [t for t in opt.trials if t.is_failed]
    assert len(pruned) == 1 and pruned[0].error.startswith("pruned")
    assert len(opt.trials) == 6 and not opt.pending


def test_trial_that_ignores_the_architecture_is_failed_not_lost():
    sampler = NASSampler(NB201Space(), strategy="random", seed=0)
    study = optuna.create_study(sampler=sampler)
    # asks one edge only, so the proposal is never evaluated
    study.optimize(lambda t: float(len(t.suggest_categorical("arch:0->1", make_codec(NB201Space()).distributions["arch:0->1"].choices))), n_trials=2)
    opt = sampler.optimizer(study)
    assert len(opt.trials) == 2 and all(t.is_failed and "did not use" in t.error for t in opt.trials)


def test_product_space_with_a_validity_rule():
    from nasopt.spaces.product import ProductSpace

    space = ProductSpace({"depth": [1, 2, 3], "width": [16, 32, 64], "act": ["relu", "gelu"]},
                         valid=lambda a: a["depth"] * a["width"] <= 96)
    sampler = NASSampler(space, strategy="rea", seed=0, population=4, tournament=2)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: float(sum(sampler.suggest_arch(t)[k] for k in ("depth", "width"))), n_trials=8)
    assert all(space.is_valid(t.user_attrs[ARCH_ATTR]) for t in study.trials)
    assert set(study.trials[0].params) == {"arch:depth", "arch:width", "arch:act"}
    # with a sampler that ignores the rule, invalid combinations are pruned, not evaluated
    plain = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    plain.optimize(lambda t: float(suggest_arch(t, space)["depth"]), n_trials=30)
    states = {t.state for t in plain.trials}
    assert optuna.trial.TrialState.PRUNED in states
    for t in plain.trials:
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert space.is_valid(t.user_attrs[ARCH_ATTR])


def test_open_space_architecture_lives_in_a_user_attribute():
    from nasopt.spaces import nb101

    space = nb101.NB101Space()
    assert make_codec(space) is None
    sampler = NASSampler(space, strategy="random", seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: float(len(space.key(sampler.suggest_arch(t)))), n_trials=4)
    assert all(t.params == {} and ARCH_ATTR in t.user_attrs for t in study.trials)
    assert len(sampler.optimizer(study).completed) == 4
    with pytest.raises(nasopt.ConfigurationError, match="NASSampler"):
        optuna.create_study().optimize(lambda t: suggest_arch(t, space), n_trials=1, catch=())


def test_finite_space_is_exposed_by_index():
    from nasopt.integrations.optuna import _IndexCodec
    from nasopt.spaces.product import ProductSpace

    class Listed(ProductSpace):  # any finite space that is neither NB201 nor a ProductSpace codec
        pass

    codec = _IndexCodec(Listed({"a": [1, 2, 3]}), "arch")
    assert codec.from_params(codec.to_params({"a": 2})) == {"a": 2}


def test_a_user_space_with_a_categorical_form_is_exposed_by_its_parameters():
    # the adapter reads the form from the space protocol, not from the space's class
    from nasopt.spaces.product import ProductSpace

    class Pairs(ProductSpace):  # the enumeration index as a (tens, units) pair
        def categorical_params(self):
            return {"tens": tuple(range(3)), "units": tuple(range(10))}

        def to_categorical(self, arch):
            return {"tens": arch["n"] // 10, "units": arch["n"] % 10}

        def from_categorical(self, params):
            return {"n": 10 * params["tens"] + params["units"]}

    space = Pairs({"n": list(range(30))})
    codec = make_codec(space)
    assert set(codec.distributions) == {"arch:tens", "arch:units"}
    assert codec.to_params({"n": 17}) == {"arch:tens": 1, "arch:units": 7}
    sampler = NASSampler(space, strategy="random", seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: float(sampler.suggest_arch(t)["n"]), n_trials=5)
    assert all(t.params == codec.to_params(t.user_attrs[ARCH_ATTR]) for t in study.trials)
    assert len({t.user_attrs[ARCH_ATTR]["n"] for t in study.trials}) == 5


def test_bad_strategy_options_fail_at_construction():
    with pytest.raises(nasopt.ConfigurationError):
        NASSampler(NB201Space(), strategy="rea", population=1)
    with pytest.raises(nasopt.ConfigurationError):
        NASSampler(NB201Space(), strategy="no-such-strategy")


def test_missing_optuna_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    monkeypatch.delitem(sys.modules, "nasopt.integrations.optuna", raising=False)
    with pytest.raises(ImportError, match=r'pip install "nasopt\[optuna\]"'):
        importlib.import_module("nasopt.integrations.optuna")


def test_nasopt_imports_without_any_integration_dependency():
    # a fresh interpreter where optuna, ray and dask cannot be imported
    code = (
        "import sys\n"
        "for m in ('optuna', 'ray', 'distributed', 'dask'): sys.modules[m] = None\n"
        "import nasopt, nasopt.driver, nasopt.integrations\n"
        "for name, extra in (('optuna', 'optuna'), ('ray', 'ray'), ('dask', 'dask')):\n"
        "    try:\n"
        "        __import__('nasopt.integrations.' + name)\n"
        "    except ImportError as exc:\n"
        "        assert f'pip install \"nasopt[{extra}]\"' in str(exc), exc\n"
        "    else:\n"
        "        raise AssertionError(name + ' imported without its dependency')\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_suggest_arch_with_a_fixed_trial_reads_the_given_architecture():
    space = NB201Space()
    arch = space[123]
    params = make_codec(space).to_params(arch)
    assert suggest_arch(optuna.trial.FixedTrial(params), space) == arch


def test_retried_failed_trial_reaches_the_strategy(tmp_path):
    """Optuna's RetryFailedTrialCallback re-enqueues a failed trial with the same parameters;
    its result must be told to the optimizer (not dropped as a duplicate of the failure), and
    a sampler meeting the study again rebuilds the same optimizer."""
    import optuna.storages as storages

    # Optuna >= 4.9 renamed RetryFailedTrialCallback (same behaviour)
    Retry = getattr(storages, "RetryHeartbeatStaleTrialCallback", None) or storages.RetryFailedTrialCallback
    space = NB201Space()
    storage = _storage("journal", tmp_path)
    sampler = NASSampler(space, strategy="rea", seed=3, population=4, tournament=2)
    study = optuna.create_study(direction="maximize", sampler=sampler, storage=storage, study_name="r")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = Retry(max_retry=1)
    attempts: dict[str, int] = {}

    @keep_errors
    def objective(trial):
        arch = sampler.suggest_arch(trial)
        attempts[arch] = attempts.get(arch, 0) + 1
        if trial.number == 2 and attempts[arch] == 1:
            raise RuntimeError("node lost")
        return 99.0 if attempts[arch] == 2 else 1.0

    def retry_failed(study, trial):
        if trial.state == optuna.trial.TrialState.FAIL:
            retry(study, trial)

    study.optimize(objective, n_trials=8, catch=(RuntimeError,), callbacks=[retry_failed])
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == 2]
    assert len(retried) == 1 and retried[0].value == 99.0 and study.best_value == 99.0
    arch = study.trials[2].user_attrs[ARCH_ATTR]
    opt = sampler.optimizer(study)
    assert opt.best.value == 99.0 and opt.best.arch == arch
    first_try = [t for t in opt.trials if t.arch == arch]
    assert [t.state.value for t in first_try] == ["failed", "complete"]
    assert first_try[0].error.startswith("RuntimeError: node lost")
    assert len(opt.trials) == len(study.trials) == 8 and not opt.pending
    again = NASSampler(space, strategy="rea", population=4, tournament=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the copied proposal log does not diverge
        rebuilt = again.optimizer(optuna.load_study(study_name="r", storage=storage, sampler=again))
    assert [(t.arch, t.state, t.value) for t in rebuilt.trials] == [(t.arch, t.state, t.value) for t in opt.trials]
    assert rebuilt.ask().arch == opt.ask().arch


def test_non_finite_constraint_values_make_a_failed_trial_not_a_silent_drop():
    sampler = NASSampler(NB201Space(), strategy="random", seed=0,
                         constraints_func=lambda frozen: [float("inf")])
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.optimize(_two_objectives(sampler), n_trials=3)
    opt = sampler.optimizer(study)
    assert len(opt.trials) == 3 and all(t.is_failed for t in opt.trials)
    assert "constraints_func gave constraint value 0: value must be finite" in opt.trials[0].error


# ------------------------------------------------------------------ a prior (runtime argument)

@pytest.mark.parametrize("prior", ["free", params_prior], ids=["free", "callable"])
def test_a_prior_reaches_the_strategy_and_a_resumed_study_needs_it_again(bench, tmp_path, prior):
    from nasopt.integrations.optuna import CONFIG_ATTR

    opts = OPTIONS
    ref = weaknas_run(bench, 4, prior, 14)
    storage = _storage("journal", tmp_path)
    first = NASSampler(bench.space, strategy="weaknas", seed=4, prior=prior, **opts)
    study = optuna.create_study(direction="maximize", sampler=first, storage=storage, study_name="p")
    study.optimize(nb201_objective(bench, first), n_trials=9)
    assert [t.user_attrs[ARCH_ATTR] for t in study.trials] == [t.arch for t in ref.trials[:9]]
    recorded = study._storage.get_study_system_attrs(study._study_id)[CONFIG_ATTR]
    assert recorded["prior"] == ref._prior.identity() and "prior" not in recorded["options"]
    # resumed with the prior passed again ("free": computed again): no warning, same run
    second = NASSampler(bench.space, strategy="weaknas", prior=prior, **opts)
    resumed = optuna.load_study(study_name="p", storage=storage, sampler=second)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        resumed.optimize(nb201_objective(bench, second), n_trials=5)
    assert [t.user_attrs[ARCH_ATTR] for t in resumed.trials] == [t.arch for t in ref.trials]
    assert second.optimizer(resumed)._prior.identity() == ref._prior.identity()
    # without it: the study says which prior it was run with, and to pass it again
    third = NASSampler(bench.space, strategy="weaknas", **opts)
    with warnings.catch_warnings(), \
            pytest.warns(RuntimeWarning, match=r"'prior': \{'kind': .*pass prior= again, the same one"):
        warnings.filterwarnings("ignore", message="NASSampler: the study's proposal log diverges")
        third.optimizer(optuna.load_study(study_name="p", storage=storage, sampler=third))


def test_a_study_without_a_prior_records_no_prior(bench):
    from nasopt.integrations.optuna import CONFIG_ATTR

    sampler = NASSampler(bench.space, strategy="weaknas", seed=1, surrogate="quadratic", init=4,
                         prior=None)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(nb201_objective(bench, sampler), n_trials=2)
    assert set(study._storage.get_study_system_attrs(study._study_id)[CONFIG_ATTR]) == {
        "strategy", "seed", "options"}
    # by default the strategy's own prior: WeakNAS's "auto" (recorded as such), ReNAS none
    default = NASSampler(bench.space, strategy="weaknas", seed=1, surrogate="quadratic", init=4)
    study = optuna.create_study(direction="maximize", sampler=default)
    study.optimize(nb201_objective(bench, default), n_trials=2)
    assert study._storage.get_study_system_attrs(study._study_id)[CONFIG_ATTR]["prior"]["auto"] is True
    assert NASSampler(bench.space, strategy="renas-iter").optimizer(
        optuna.create_study(direction="maximize"))._prior is None
    with pytest.raises(nasopt.ConfigurationError, match="has no option|unknown option|prior"):
        NASSampler(bench.space, strategy="rea", prior="free")
