"""Priors of WeakNAS and ReNAS (``prior=``): the initial sample, the extra predictor
features, lazy cached evaluation, errors, persistence (a runtime argument passed again, never
stored), and no change at all without a prior."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

import nasopt
from nasopt.core.errors import CheckpointError, ConfigurationError, PriorError
from nasopt.persist.checkpoint import state_dict
from nasopt.spaces import NB201Space, ProductSpace
from nasopt.strategies._prior import combined, standardize
from nasopt.strategies.renas import ReNAS
from nasopt.strategies.weaknas import WeakNAS
from nasopt.testing import StrategyFactory, check_options_round_trip

CHOICES = {f"p{k}": ["a", "b", "c", "d"] for k in range(5)}  # 1024 members
WEIGHTS = np.random.default_rng(7).normal(size=(5, 4))


def space(finite: bool = True) -> ProductSpace:
    return ProductSpace(CHOICES, max_enumerate=10**6 if finite else 0)


def objective(arch: dict) -> float:
    return float(sum(WEIGHTS[k, "abcd".index(arch[f"p{k}"])] for k in range(5)))


def two_scores(arch: dict) -> list[float]:
    """A prior of two columns: the objective plus noise, and the first choice's code."""
    return [objective(arch) + 0.1 * len(arch["p1"]), float("abcd".index(arch["p0"]))]


class Counting:
    """A prior that counts its calls per architecture."""

    def __init__(self) -> None:
        self.calls: Counter = Counter()

    def __call__(self, arch: dict) -> list[float]:
        self.calls[json.dumps(arch, sort_keys=True)] += 1
        return two_scores(arch)


def run(opt: WeakNAS, rounds: int, batch: int = 10) -> list[str]:
    keys = []
    for _ in range(rounds):
        trials = opt.ask(batch)
        for t in trials:
            opt.tell(t, objective(t.arch))
        keys += [opt.space.key(t.arch) for t in trials]
    return keys


def test_the_first_share_of_the_initial_sample_is_drawn_from_the_prior_top_n():
    sp = space()
    opt = WeakNAS(sp, seed=0, init=20, top_n=30, prior=two_scores, prior_init=0.5)
    trials = opt.ask(20)
    score = combined(np.array([two_scores(sp[i]) for i in range(len(sp))]))
    top = {sp.key_of_index(int(i)) for i in np.argsort(-score, kind="stable")[:30]}
    first, rest = [t.key for t in trials[:10]], [t.key for t in trials[10:]]
    assert set(first) <= top and len(set(first)) == 10
    # the other half is the uniform start: mostly outside the prior's top 30 of 1024
    assert len(set(rest) - top) >= 7
    # prior_init=0: the start of a run without a prior
    plain = [t.key for t in WeakNAS(sp, seed=0, init=20).ask(20)]
    assert [t.key for t in WeakNAS(sp, seed=0, init=20, prior=two_scores, prior_init=0).ask(20)] == plain
    # one trial at a time draws the same prior share
    one = WeakNAS(sp, seed=0, init=20, top_n=30, prior=two_scores, prior_init=0.5)
    assert all(one.ask().key in top for _ in range(10))


def test_the_prior_share_of_the_start_on_a_space_that_cannot_be_enumerated():
    sp = space(finite=False)
    # a pool as large as the space (1024 < pool_size 2000): the pool is what sampling finds
    opt = WeakNAS(sp, seed=0, init=10, prior=two_scores, prior_init=1.0)
    assert len({t.key for t in opt.ask(10)}) == 10
    opt = WeakNAS(sp, seed=0, init=10, top_n=10, pool_size=200, prior=two_scores, prior_init=1.0)
    archs = [t.arch for t in opt.ask(10)]
    plain = [t.arch for t in WeakNAS(sp, seed=0, init=10, top_n=10, pool_size=200).ask(10)]
    # the prior picks the best of a 200-sample pool: far above a uniform draw
    assert np.mean([objective(a) for a in archs]) > np.mean([objective(a) for a in plain]) + 1.0


@pytest.mark.parametrize("finite", [True, False])
def test_standardized_prior_scores_are_appended_to_the_predictor_input(monkeypatch, finite):
    sp = space(finite)
    seen = {}
    original = WeakNAS._fit_predict

    def spy(self, X, y, Xc):
        seen["X"], seen["Xc"] = X, Xc
        return original(self, X, y, Xc)

    monkeypatch.setattr(WeakNAS, "_fit_predict", spy)
    opt = WeakNAS(sp, seed=1, init=10, pool_size=200, prior=two_scores)
    run(opt, 2)
    width = np.asarray(sp.encode([sp.sample(np.random.default_rng(0))])).reshape(1, -1).shape[1]
    X, Xc = seen["X"], seen["Xc"]
    assert X.shape[1] == Xc.shape[1] == width + 2
    archs, _ = opt._history()
    archs = archs[: len(X)]
    if finite:  # standardized over the whole space
        F = standardize(np.array([two_scores(sp[i]) for i in range(len(sp))]))
        np.testing.assert_allclose(X[:, width:], F[sp.indices(archs)], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(Xc[:, width:], F, rtol=1e-5, atol=1e-5)
    else:  # standardized over the history and the candidate pool together
        both = np.vstack([X[:, width:], Xc[:, width:]])
        np.testing.assert_allclose(both.mean(0), 0, atol=1e-5)
        np.testing.assert_allclose(both.std(0), 1, atol=1e-4)
        raw = np.array([two_scores(a) for a in archs])  # an affine map of the raw scores
        slope = np.polyfit(raw[:, 0], X[:, width], 1)[0]
        np.testing.assert_allclose(np.polyval(np.polyfit(raw[:, 0], X[:, width], 1), raw[:, 0]),
                                   X[:, width], atol=1e-4)
        assert slope > 0
    # prior_features=False: the encoding alone
    monkeypatch.setattr(WeakNAS, "_fit_predict", spy)
    run(WeakNAS(sp, seed=1, init=10, pool_size=200, prior=two_scores, prior_features=False), 2)
    assert seen["X"].shape[1] == width


def test_the_prior_is_evaluated_lazily_once_per_architecture_and_timed():
    sp = space(finite=False)
    prior = Counting()
    opt = WeakNAS(sp, seed=2, init=10, pool_size=100, prior=prior)
    assert not prior.calls and opt.prior_seconds == 0.0  # nothing before it is needed
    run(opt, 5)
    assert prior.calls and max(prior.calls.values()) == 1  # cached by architecture
    assert len(prior.calls) < len(CHOICES["p0"]) ** 5  # only what was looked at
    assert opt.prior_seconds > 0.0
    # a finite space computes the whole table once, on first use, and never again
    finite = Counting()
    opt = WeakNAS(space(), seed=2, init=10, prior=finite, prior_init=0.0)
    opt.ask(5)
    assert not finite.calls  # the random start needs no prior; features come at the first fit
    run(opt, 4)
    assert len(finite.calls) == len(opt.space) and set(finite.calls.values()) == {1}


@pytest.mark.parametrize("prior, message", [
    (lambda arch: 1 / 0, r"raised ZeroDivisionError: division by zero for architecture \{'p0'"),
    (lambda arch: float("nan"), r"returned non-finite scores \[nan\] for architecture \{'p0'"),
    (lambda arch: "high", r"returned 'high', not a number or a sequence of numbers for architecture"),
    (lambda arch: [1.0] * (1 + (arch["p0"] == "b")),
     r"returned 2 score\(s\), earlier architectures 1 for architecture \{'p0': 'b'"),
])
def test_a_failing_prior_names_the_architecture_and_leaves_the_optimizer_unchanged(prior, message):
    sp = space()
    opt = WeakNAS(sp, seed=3, init=10, prior=prior, prior_init=0.0)
    run(opt, 1)  # the random start needs no prior
    before = state_dict(opt)
    with pytest.raises(PriorError, match=message):
        opt.ask(10)  # the first fit computes the prior features
    assert state_dict(opt) == before
    with pytest.raises(PriorError, match=message):  # and again: nothing half-done was kept
        opt.ask(10)
    assert state_dict(opt) == before


def test_bad_prior_tables_are_refused_at_construction():
    sp = space()
    with pytest.raises(ConfigurationError, match=r"prior table row 3 \(architecture \{.*\}\) is not finite"):
        WeakNAS(sp, prior=np.where(np.arange(len(sp)) == 3, np.inf, 1.0))
    with pytest.raises(ConfigurationError, match="an array prior needs a finite space"):
        WeakNAS(space(finite=False), prior=np.ones(len(sp)))
    with pytest.raises(ConfigurationError, match="prior must be a callable"):
        WeakNAS(sp, prior="params")
    missing = {sp.key_of_index(i): 1.0 for i in range(len(sp) - 1)}
    opt = WeakNAS(sp, seed=0, init=10, prior=missing)
    with pytest.raises(PriorError, match=r"prior 'dict' has no entry \(key .*\) for architecture"):
        run(opt, 2)


def test_dict_and_array_priors_give_the_run_of_the_same_callable():
    sp = space()
    table = np.array([two_scores(sp[i]) for i in range(len(sp))])
    as_dict = {sp.key_of_index(i): table[i] for i in range(len(sp))}
    ref = run(WeakNAS(sp, seed=4, init=10, prior=two_scores), 4)
    assert run(WeakNAS(sp, seed=4, init=10, prior=table), 4) == ref
    assert run(WeakNAS(sp, seed=4, init=10, prior=as_dict), 4) == ref


def test_without_a_prior_the_run_and_the_configuration_are_unchanged():
    sp = space()
    ref = run(WeakNAS(sp, seed=5, init=10), 4)
    assert run(WeakNAS(sp, seed=5, init=10, prior=None, prior_init=0.2, prior_features=False), 4) == ref
    opt = WeakNAS(sp, seed=5, prior=two_scores)
    assert "prior" not in opt.get_params()  # a runtime argument, not an option
    assert "prior" not in state_dict(WeakNAS(sp, seed=5))  # files of runs without one: as before


@pytest.mark.parametrize("finite", [True, False])
def test_save_load_with_the_prior_passed_again_continues_identically(tmp_path, finite):
    sp = space(finite)
    ref = WeakNAS(sp, seed=6, init=10, pool_size=200, prior=two_scores)
    run(ref, 2)
    path = str(tmp_path / "run.ckpt")
    ref.save(path)
    data = json.loads(open(path).read())
    assert data["prior"] == {"kind": "callable", "name": f"{__name__}:two_scores"}
    loaded = nasopt.load(path, space=sp, prior=two_scores)
    assert run(loaded, 3) == run(ref, 3)
    with pytest.raises(CheckpointError, match=r"prior: the file has .*two_scores.*, this optimizer "
                                              r"None \(a prior is not stored in files: pass prior="):
        nasopt.load(path, space=sp)
    plain = WeakNAS(sp, seed=6, init=10, pool_size=200)
    run(plain, 1)
    plain.save(path)
    with pytest.raises(CheckpointError, match="prior: the file has None"):
        nasopt.load(path, space=sp, prior=two_scores)


def test_a_table_prior_is_identified_by_its_digest(tmp_path):
    sp = space()
    table = np.array([two_scores(sp[i]) for i in range(len(sp))])
    opt = WeakNAS(sp, seed=7, init=10, prior=table)
    run(opt, 2)
    path = str(tmp_path / "run.ckpt")
    opt.save(path)
    assert run(nasopt.load(path, space=sp, prior=table.copy()), 2) == run(opt, 2)
    with pytest.raises(CheckpointError, match="prior: the file has .*sha256"):
        nasopt.load(path, space=sp, prior=table[:, ::-1].copy())


def test_journal_reopened_with_the_prior_continues_identically(tmp_path):
    sp = space()
    path = str(tmp_path / "run.jsonl")
    ref = WeakNAS(sp, seed=8, init=10, prior=two_scores)
    run(ref, 3)
    with WeakNAS(sp, seed=8, init=10, prior=two_scores, journal=path) as opt:
        run(opt, 2)
    with pytest.raises(CheckpointError, match="prior: journal has .*two_scores.*this optimizer None"):
        WeakNAS(sp, seed=8, init=10, journal=path)
    with pytest.raises(CheckpointError, match="prior: the file has|prior: journal has"):
        nasopt.load(path, space=sp)
    with WeakNAS(sp, seed=8, init=10, prior=two_scores, journal=path) as opt:
        run(opt, 1)
    reopened = nasopt.load(path, space=sp, prior=two_scores)
    try:
        assert run(reopened, 2) == run(ref, 2)
    finally:
        reopened.close()


def test_the_option_round_trip_treats_the_prior_as_a_runtime_argument(tmp_path):
    assert "prior" in WeakNAS.runtime_arguments
    note = check_options_round_trip("weaknas", space(), tmp_path)
    assert "prior_init" in note and "prior_features" in note and "prior," not in note


# ------------------------------------------------------------------ ReNAS (the same priors)
#: A fast ReNAS for the prior tests (boosted trees, a short EA where it does not traverse).
RENAS = {"surrogate": "gbrt", "init": 10, "top_k": 5, "rounds": None, "population": 16,
         "generations": 5, "surrogate_options": {"n_estimators": 10}}


def run_renas(opt: ReNAS, rounds: int) -> list[str]:
    return run(opt, rounds, batch=5)


def test_renas_draws_the_first_share_of_its_start_from_the_prior_top():
    sp = space()
    score = combined(np.array([two_scores(sp[i]) for i in range(len(sp))]))
    top = {sp.key_of_index(int(i)) for i in np.argsort(-score, kind="stable")[:100]}
    opt = ReNAS(sp, seed=0, prior=two_scores, prior_init=0.6, **RENAS)
    keys = run_renas(opt, 2)  # the 10 of init
    assert all(k in top for k in keys[:6])
    assert sum(k in top for k in keys[6:]) <= 2  # the rest uniform (100 of 1024 are "top")
    plain = run_renas(ReNAS(sp, seed=0, **RENAS), 2)
    assert sum(k in top for k in plain) <= 3


@pytest.mark.parametrize("finite", [True, False])
def test_renas_appends_standardized_prior_scores_to_the_predictor_input(finite):
    sp = space(finite)
    opt = ReNAS(sp, seed=1, prior=two_scores, prior_init=0.0, **RENAS)
    run_renas(opt, 3)  # init, then one fit
    archs = [t.arch for t in opt.completed]
    width = np.asarray(sp.encode(archs, opt._encoding)).reshape(len(archs), -1).shape[1]
    X = opt._featurize(archs)
    assert X.shape == (len(archs), width + 2)
    F = np.array([two_scores(a) for a in archs])
    if finite:  # z-scored over the whole space
        Z = standardize(np.array([two_scores(sp[i]) for i in range(len(sp))]))[sp.indices(archs)]
    else:  # z-scored over the training set of the fit
        done = sorted(opt.completed, key=lambda t: t.id)[:10]  # the one fit saw the start
        T = np.array([two_scores(t.arch) for t in done])
        Z = (F - T.mean(0)) / T.std(0)
    np.testing.assert_allclose(X[:, width:], Z, rtol=1e-5, atol=1e-6)
    assert opt._featurize(archs).shape[1] == width + 2
    no_features = ReNAS(sp, seed=1, prior=two_scores, prior_features=False, **RENAS)
    run_renas(no_features, 3)
    assert no_features._featurize(archs).shape[1] == width


def test_renas_evaluates_the_prior_lazily_once_per_architecture_and_times_it():
    sp = space(finite=False)
    prior = Counting()
    opt = ReNAS(sp, seed=2, prior=prior, prior_init=0.0, **RENAS)
    assert not prior.calls and opt.prior_seconds == 0.0
    run_renas(opt, 2)  # the random start needs no prior
    assert not prior.calls
    run_renas(opt, 3)
    assert prior.calls and max(prior.calls.values()) == 1
    assert len(prior.calls) < 4 ** 5  # only what was looked at
    assert opt.prior_seconds > 0.0


@pytest.mark.parametrize("prior, message", [
    (lambda arch: 1 / 0, r"raised ZeroDivisionError: division by zero for architecture \{'p0'"),
    (lambda arch: float("nan"), r"returned non-finite scores \[nan\] for architecture \{'p0'"),
    (lambda arch: [1.0] * (1 + (arch["p0"] == "b")),
     r"returned 2 score\(s\), earlier architectures 1 for architecture \{'p0': 'b'"),
])
def test_a_failing_prior_of_renas_names_the_architecture_and_changes_nothing(prior, message):
    opt = ReNAS(space(), seed=3, prior=prior, prior_init=0.0, **RENAS)
    run_renas(opt, 2)  # the random start needs no prior
    before = state_dict(opt)
    with pytest.raises(PriorError, match=message):
        opt.ask(5)  # the first fit computes the prior features
    assert state_dict(opt) == before
    with pytest.raises(PriorError, match=message):
        opt.ask(5)
    assert state_dict(opt) == before
    # and in the start, where the prior chooses
    opt = ReNAS(space(), seed=3, prior=prior, **RENAS)
    before = state_dict(opt)
    with pytest.raises(PriorError, match=message):
        opt.ask(5)
    assert state_dict(opt) == before


def test_renas_runs_the_same_with_a_dict_an_array_or_the_callable_prior():
    sp = space()
    table = np.array([two_scores(sp[i]) for i in range(len(sp))])
    as_dict = {sp.key_of_index(i): table[i] for i in range(len(sp))}
    ref = run_renas(ReNAS(sp, seed=4, prior=two_scores, **RENAS), 4)
    assert run_renas(ReNAS(sp, seed=4, prior=table, **RENAS), 4) == ref
    assert run_renas(ReNAS(sp, seed=4, prior=as_dict, **RENAS), 4) == ref


def test_renas_without_a_prior_runs_and_stores_exactly_as_before():
    sp = space()
    ref = run_renas(ReNAS(sp, seed=5, **RENAS), 4)
    assert run_renas(ReNAS(sp, seed=5, prior=None, prior_init=0.2, prior_features=False, **RENAS), 4) == ref
    opt = ReNAS(sp, seed=5, prior=two_scores, **RENAS)
    assert "prior" not in opt.get_params() and "prior" in ReNAS.runtime_arguments
    assert "prior" not in state_dict(ReNAS(sp, seed=5, **RENAS))


@pytest.mark.parametrize("finite", [True, False])
def test_renas_saved_and_loaded_with_the_prior_again_continues_identically(tmp_path, finite):
    sp = space(finite)
    ref = ReNAS(sp, seed=6, prior=two_scores, **RENAS)
    run_renas(ref, 3)
    path = str(tmp_path / "run.ckpt")
    ref.save(path)
    assert json.loads(open(path).read())["prior"] == {"kind": "callable",
                                                      "name": f"{__name__}:two_scores"}
    loaded = nasopt.load(path, space=sp, prior=two_scores)
    assert run_renas(loaded, 3) == run_renas(ref, 3)
    with pytest.raises(CheckpointError, match="prior: the file has .*two_scores.*pass prior="):
        nasopt.load(path, space=sp)


def test_renas_journal_reopened_with_the_prior_continues_identically(tmp_path):
    sp = space()
    path = str(tmp_path / "run.jsonl")
    ref = ReNAS(sp, seed=8, prior=two_scores, **RENAS)
    run_renas(ref, 4)
    with ReNAS(sp, seed=8, prior=two_scores, journal=path, **RENAS) as opt:
        run_renas(opt, 2)
    with pytest.raises(CheckpointError, match="prior: journal has .*two_scores.*this optimizer None"):
        ReNAS(sp, seed=8, journal=path, **RENAS)
    reopened = nasopt.load(path, space=sp, prior=two_scores)
    try:
        assert run_renas(reopened, 2) == [sp.key(t.arch) for t in ref.trials][10:20]
    finally:
        reopened.close()


def test_renas_option_round_trip_treats_the_prior_as_a_runtime_argument(tmp_path):
    note = check_options_round_trip(StrategyFactory("renas", **RENAS), space(), tmp_path)
    assert "prior_init" in note and "prior_features" in note and "prior," not in note


def test_multi_objective_renas_takes_a_prior():
    opt = ReNAS(space(), seed=9, objectives=["max", "min"], prior=two_scores, **RENAS)
    for _ in range(4):
        for t in opt.ask(5):
            opt.tell(t, [objective(t.arch), float("abcd".index(t.arch["p2"]))])
    assert len(opt.completed) == 20 and opt.pareto_front


# ------------------------------------------------------------------ prior="free"
class CostedSpace(ProductSpace):
    """A product space with two free features (vectorised; counts its calls)."""

    free_feature_names = ("size", "first")

    def __init__(self, finite: bool = True, broken: str = "") -> None:
        super().__init__(CHOICES, max_enumerate=10**6 if finite else 0)
        self.batches: list[int] = []
        self.broken = broken

    def free_features(self, archs):
        self.batches.append(len(archs))
        codes = np.array([self.codes(a) for a in archs]).reshape(len(archs), len(self.names))
        out = np.column_stack([codes.sum(axis=1), codes[:, 0]]).astype(np.float64)
        if self.broken == "nan":
            out[codes[:, 0] == 3, 1] = np.nan
        if self.broken == "raise" and (codes[:, 0] == 3).any():
            raise KeyError("no cost table for d")
        return out[:, :1] if self.broken == "shape" else out


def free_of(sp: CostedSpace):
    """The same scores as a plain callable prior."""
    return lambda arch: sp.free_features([arch])[0]


@pytest.mark.parametrize("finite", [True, False])
def test_the_free_prior_is_the_space_free_features_computed_in_batches(finite):
    sp = CostedSpace(finite)
    opt = WeakNAS(sp, seed=3, init=10, pool_size=200, prior="free")
    keys = run(opt, 4)
    assert keys == run(WeakNAS(sp, seed=3, init=10, pool_size=200, prior=free_of(CostedSpace(finite))), 4)
    if finite:  # every member at once, when the optimizer is built
        assert sp.batches == [len(sp)]
    else:  # one vectorised call per batch of new architectures, each computed once
        assert len(sp.batches) <= 8 and sum(sp.batches) == len(opt._prior._cache)
    assert opt.prior_seconds > 0 and "prior" not in opt.get_params()


def test_the_free_prior_of_nb201_ranks_as_the_table_params_and_flops(nb201_data):
    from nasopt.benchmarks import NB201
    from nasopt.strategies._prior import Prior

    bench = NB201("cifar10", path=nb201_data)
    table = np.column_stack([bench.metrics["params_M"], bench.metrics["flops_M"]])
    free = Prior("free", bench.space)
    assert free.name == "free:params,flops" and free.all_scores().shape == (15625, 2)
    assert np.array_equal(np.argsort(-combined(free.all_scores()), kind="stable"),
                          np.argsort(-combined(table), kind="stable"))
    np.testing.assert_allclose(standardize(free.all_scores()), standardize(table), atol=1e-5)
    a = WeakNAS(bench.space, seed=1, prior="free").ask(15)  # the prior share of init=30
    b = WeakNAS(bench.space, seed=1, prior=table).ask(15)
    assert [t.arch for t in a] == [t.arch for t in b]


def test_the_free_prior_on_a_space_without_free_features_names_the_space():
    with pytest.raises(ConfigurationError, match=r"prior='free': ProductSpace\(\{p0: 4.*\}\) has no "
                                                 r"free features"):
        WeakNAS(space(), seed=0, prior="free")
    with pytest.raises(ConfigurationError, match=r"prior must be .* or 'auto' .*got 'best'"):
        WeakNAS(space(), seed=0, prior="best")


def test_broken_free_features_are_refused_naming_the_space_or_the_architecture():
    with pytest.raises(ConfigurationError, match=r"free_features returned shape \(1024, 1\)"):
        WeakNAS(CostedSpace(broken="shape"), seed=0, prior="free")
    with pytest.raises(ConfigurationError, match=r"free feature \(size, first\) row \d+ \(architecture "
                                                 r"\{'p0': 'd'.*\) is not finite"):
        WeakNAS(CostedSpace(broken="nan"), seed=0, prior="free")
    opt = WeakNAS(CostedSpace(finite=False, broken="nan"), seed=0, init=10, prior="free", prior_init=1.0)
    with pytest.raises(PriorError, match=r"prior 'free:size,first' returned non-finite scores .* for "
                                         r"architecture \{'p0': 'd'"):
        opt.ask()
    assert opt.trials == []
    opt = WeakNAS(CostedSpace(finite=False, broken="raise"), seed=0, init=10, prior="free", prior_init=1.0)
    with pytest.raises(PriorError, match=r"prior 'free:size,first' raised KeyError: 'no cost table for "
                                         r"d' \(in CostedSpace.free_features of \d+ architecture\(s\), "
                                         r"the first\) for architecture \{'p0'"):
        opt.ask()
    assert opt.trials == []


def test_save_load_with_the_free_prior_resolved_again_continues_identically(tmp_path):
    sp = CostedSpace()
    ref = WeakNAS(sp, seed=9, init=10, prior="free")
    run(ref, 2)
    path = str(tmp_path / "run.ckpt")
    ref.save(path)
    recorded = json.loads(open(path).read())["prior"]
    assert recorded["kind"] == "free" and recorded["names"] == ["size", "first"]
    assert len(recorded["sha256"]) == 64
    loaded = nasopt.load(path, space=CostedSpace(), prior="free")
    assert run(loaded, 3) == run(ref, 3)
    with pytest.raises(CheckpointError, match="prior: the file has .*'free'.*this optimizer None"):
        nasopt.load(path, space=sp)
    with pytest.raises(CheckpointError, match="prior: the file has .*'free'.*'kind': 'array'"):
        nasopt.load(path, space=sp, prior=loaded._prior.all_scores().copy())


def test_renas_resolves_the_free_prior_of_the_space_as_weaknas_does():
    sp = NB201Space()
    w = nasopt.create("weaknas", sp, seed=0, prior="free")
    r = nasopt.create("renas-iter", sp, seed=0, prior="free")
    assert r._runtime_identity() == w._runtime_identity()
    first = [t.arch for t in r.ask(10)]
    assert len({sp.key(a) for a in first}) == 10


# ------------------------------------------------------------------ prior="auto" (the default)
def test_the_default_prior_on_nb201_is_the_packaged_log_synflow_with_shortened_refits(nb201_data):
    from nasopt.proxies import load_nb201

    sp = NB201Space()
    opt = WeakNAS(sp, seed=2)
    ident = opt._runtime_identity()["prior"]
    assert ident["kind"] == "array" and ident["auto"] is True and ident["shape"] == [len(sp), 1]
    synflow = load_nb201().values("synflow", [sp[i] for i in range(0, len(sp), 97)])
    floor = np.finfo(float).tiny  # synflow is 0 for cells whose output ignores the input
    np.testing.assert_array_equal(opt._prior.all_scores()[::97, 0], np.log(np.maximum(synflow, floor)))
    assert opt._surrogate_options == {"full_epochs_rows": 64} and opt.get_params()["surrogate_options"] is None
    # the same run as that table passed explicitly with the same refits (the measured preset)
    table = opt._prior.all_scores().copy()
    explicit = WeakNAS(sp, seed=2, prior=table, surrogate_options={"full_epochs_rows": 64})

    def cells(o: WeakNAS) -> list[str]:
        out = []
        for _ in range(60):  # past the 30 random start: four refits
            t = o.ask()
            o.tell(t, 2.0 * t.arch.count("3x3") + t.arch.count("1x1") - t.arch.count("none"))
            out.append(t.arch)
        return out

    assert cells(opt) == cells(explicit)
    # an explicit predictor setting wins over the preset's
    assert WeakNAS(sp, seed=2, surrogate_options={"full_epochs_rows": None})._surrogate_options == {
        "full_epochs_rows": None}


def test_the_default_prior_is_the_free_features_else_none():
    opt = WeakNAS(CostedSpace(), seed=3, init=10)
    assert opt._runtime_identity()["prior"]["kind"] == "free" and opt._prior.auto
    assert run(opt, 3) == run(WeakNAS(CostedSpace(), seed=3, init=10, prior="free",
                                      surrogate_options={"full_epochs_rows": 64}), 3)
    # a space without free features: no prior at all, files and runs as with prior=None
    sp = space()
    plain = WeakNAS(sp, seed=3, init=10)
    assert plain._prior is None and "prior" not in state_dict(plain)
    assert plain._surrogate_options == {}
    assert run(plain, 3) == run(WeakNAS(sp, seed=3, init=10, prior=None), 3)
    # several objectives: predictor inputs only, and only on NB201 (a single "more promising"
    # score has no direction between accuracy and cost): none here
    assert WeakNAS(CostedSpace(), seed=3, objectives=["max", "min"])._prior is None
    # ReNAS keeps no prior by default; "auto" is there on request
    assert ReNAS(CostedSpace(), seed=3, **RENAS)._prior is None
    assert ReNAS(CostedSpace(), seed=3, prior="auto", **RENAS)._prior.auto


class BuildingSpace(ProductSpace):
    """A product space that can build a (torch) network per member, with no free features:
    the hidden width grows with the choice codes; counts its builds."""

    def __init__(self, choices: dict = CHOICES, finite: bool = True) -> None:
        super().__init__(choices, max_enumerate=10**6 if finite else 0)
        self.builds = 0
        self.built: list[dict] = []

    def build(self, arch, **kw):
        import torch

        self.builds += 1
        self.built.append(arch)
        width = 1 + sum(self.codes(arch))
        return torch.nn.Sequential(torch.nn.Linear(3, width), torch.nn.ReLU(), torch.nn.Linear(width, 2))


def built_params(sp: BuildingSpace) -> np.ndarray:
    """The parameter counts of ``sp``'s networks in index order, counted here by formula:
    ``3w + w`` and ``2w + 2`` for hidden width ``w``."""
    w = 1.0 + np.array([sum(sp.codes(sp[i])) for i in range(len(sp))])
    return 4 * w + 2 * w + 2


def test_the_default_prior_of_a_space_that_builds_models_is_their_parameter_count(tmp_path):
    pytest.importorskip("torch")
    sp = BuildingSpace()
    opt = WeakNAS(sp, seed=5, init=10)
    ident = opt._runtime_identity()["prior"]
    assert ident == {"kind": "callable", "name": "auto:nasopt.proxies.prior:BuiltParams",
                     "auto": True}
    assert opt._surrogate_options == {"full_epochs_rows": 64}
    keys = run(opt, 3)
    np.testing.assert_array_equal(opt._prior.all_scores()[:, 0], built_params(sp))
    assert sp.builds == len(sp) and opt.prior_seconds > 0  # each network built once, timed apart
    # the same run as the counts passed as a table with the same refits
    table = WeakNAS(BuildingSpace(), seed=5, init=10, prior=built_params(sp),
                    surrogate_options={"full_epochs_rows": 64})
    assert run(table, 3) == keys
    # reopened from a checkpoint without naming the prior: chosen again, the run goes on
    path = str(tmp_path / "run.ckpt")
    opt.save(path)
    assert run(nasopt.load(path, space=BuildingSpace()), 2) == run(opt, 2)


@pytest.mark.parametrize("finite", [True, False])
def test_on_a_large_space_that_builds_the_default_prior_ranks_only_the_start_in_a_pool(
        monkeypatch, tmp_path, finite):
    pytest.importorskip("torch")
    import nasopt.strategies._prior as prior_module

    monkeypatch.setattr(prior_module, "AUTO_BUILD_LIMIT", 100)  # 1,024 members: "large"
    monkeypatch.setattr(prior_module, "AUTO_BUILD_POOL", 40)
    sp = BuildingSpace(finite=finite)
    opt = WeakNAS(sp, seed=6, init=10, top_n=10)
    assert opt._runtime_identity()["prior"]["start_pool"] == 40 and opt._prior.auto
    first = opt.ask(10)
    prior_picks = {sp.key(t.arch) for t in first[:5]}  # prior_init 0.5 of the 10-cell start
    assert sp.builds == len(set(sp.keys(sp.built))) == 40  # the pool, each network built once
    width = {sp.key(a): sum(sp.codes(a)) for a in sp.built}
    tenth = sorted(width.values(), reverse=True)[9]
    assert all(width[k] >= tenth for k in prior_picks)  # from the pool's top_n by parameters
    for t in first:
        opt.tell(t, objective(t.arch))
    run(opt, 3)
    assert sp.builds == 40  # after the start, no network is built
    # no predictor features: the encodings are those of a run without a prior
    assert opt._prior_as_features is False
    # the same identity when reopened without naming the prior; the run goes on alike
    path = str(tmp_path / "run.ckpt")
    opt.save(path)
    again = nasopt.load(path, space=BuildingSpace(finite=finite))
    assert again._runtime_identity() == opt._runtime_identity()
    assert run(again, 2) == run(opt, 2)


def test_renas_with_the_automatic_prior_on_a_large_space_builds_only_its_start_pool(monkeypatch):
    pytest.importorskip("torch")
    import nasopt.strategies._prior as prior_module

    monkeypatch.setattr(prior_module, "AUTO_BUILD_LIMIT", 100)
    monkeypatch.setattr(prior_module, "AUTO_BUILD_POOL", 30)
    sp = BuildingSpace()
    opt = ReNAS(sp, seed=2, prior="auto", **RENAS)
    assert opt._prior.start_pool == 30 and not opt._prior_as_features
    for _ in range(3):
        trials = opt.ask(10)
        for t in trials:
            opt.tell(t, objective(t.arch))
    assert sp.builds == 30  # the start's pool only; the predictor's inputs build nothing


def test_a_space_with_free_features_keeps_them_as_its_default_prior_even_if_it_builds():
    assert WeakNAS(CostedSpace(), seed=3, init=10)._prior.kind == "free"



def test_nb201_proxy_scores_follow_the_space_index_order_whatever_it_is(nb201_data, monkeypatch):
    from nasopt.proxies import load_nb201
    from nasopt.proxies.table import nb201_space_scores

    table = load_nb201()
    sp = NB201Space()
    shuffled = np.random.default_rng(0).permutation(len(sp))
    codes = sp.op_codes[shuffled]
    monkeypatch.setattr(NB201Space, "op_codes", property(lambda self: codes))
    scores = nb201_space_scores(NB201Space())[:, 0]
    picks = [0, 1, 777, 15624]
    synflow = table.values("synflow", [sp[int(shuffled[i])] for i in picks])
    expect = np.log(np.maximum(synflow, np.finfo(float).tiny))
    np.testing.assert_array_equal(scores[picks], expect)
    assert nb201_space_scores(space()) is None


def test_a_run_with_the_default_prior_reopens_without_naming_it(tmp_path):
    sp = CostedSpace()
    ref = WeakNAS(sp, seed=4, init=10)
    run(ref, 2)
    path = str(tmp_path / "run.ckpt")
    ref.save(path)
    assert json.loads(open(path).read())["prior"]["auto"] is True
    assert run(nasopt.load(path, space=CostedSpace()), 3) == run(ref, 3)
    # a run made without a prior reopens without one (files written before the default changed)
    plain = WeakNAS(sp, seed=4, init=10, prior=None)
    run(plain, 2)
    plain.save(path)
    assert "prior" not in json.loads(open(path).read())
    assert run(nasopt.load(path, space=CostedSpace()), 3) == run(plain, 3)
    jpath = str(tmp_path / "run.jsonl")
    with WeakNAS(sp, seed=4, init=10, prior=None, journal=jpath) as opt:
        run(opt, 1)
    with pytest.raises(CheckpointError, match=r"made without a prior, and prior='auto' \(the default\) "
                                              r"chose one for this space: pass prior=None"):
        WeakNAS(sp, seed=4, init=10, journal=jpath)
    reopened = nasopt.load(jpath, space=CostedSpace())
    reopened.close()
