"""WeakNAS in the ask/tell loop: basics, asynchrony, failures, options, persistence,
determinism and the candidate-pool path for spaces that cannot be enumerated."""

from __future__ import annotations

import numpy as np
import pytest

import nasopt
from nasopt.core.errors import ConfigurationError
from nasopt.persist.checkpoint import state_dict
from nasopt.spaces import ProductSpace
from nasopt.strategies.weaknas import PAPER_OPTIONS, VECTOR_CHECK, WeakNAS

CHOICES = {f"p{k}": ["a", "b", "c", "d"] for k in range(6)}  # 4096 members
WEIGHTS = np.random.default_rng(123).normal(size=(6, 4))


def product_space(finite: bool = True) -> ProductSpace:
    return ProductSpace(CHOICES, max_enumerate=10**6 if finite else 0)


def objective(arch: dict) -> float:
    """Additive score with one interaction: a smooth landscape with a unique optimum."""
    codes = ["abcd".index(arch[f"p{k}"]) for k in range(6)]
    v = sum(WEIGHTS[k, c] for k, c in enumerate(codes))
    return float(v + 0.5 * (codes[0] == codes[1]))


def run(opt, rounds: int, batch: int = 10) -> list:
    seen = []
    for _ in range(rounds):
        trials = opt.ask(batch)
        for t in trials:
            opt.tell(t, objective(t.arch))
        seen += [opt.space.key(t.arch) for t in trials]
    return seen


@pytest.fixture(scope="module")
def nb201_space(nb201_data):
    return nasopt.spaces.NB201Space(path=str(nb201_data))


@pytest.fixture(scope="module")
def nb201_bench(nb201_data):
    from nasopt.benchmarks import NB201

    return NB201("cifar100", path=str(nb201_data))


def test_weaknas_is_registered_with_tuned_defaults_and_the_paper_settings_on_request(nb201_space):
    opt = nasopt.create("weaknas", nb201_space, seed=0)
    assert isinstance(opt, WeakNAS)
    # default configuration on NB201: a larger random start and the hinge ranking loss
    assert (opt._init, opt._batch, opt._top_n, opt._loss) == (30, 10, 100, "hinge")
    # the paper's loop takes SPEC's M0 = 10, M = 10, N = 100 and MSE
    paper = WeakNAS(nb201_space, **PAPER_OPTIONS)
    assert (paper._init, paper._batch, paper._top_n, paper._loss) == (10, 10, 100, "mse")
    # spaces without tuned settings keep the paper's generic M0; non-neural predictors MSE
    generic = WeakNAS(product_space(), surrogate="gbrt")
    assert (generic._init, generic._loss) == (10, "mse")


def test_predicted_batches_beat_random_sampling_on_nb201(nb201_bench):
    opt = WeakNAS(nb201_bench.space, seed=0)
    values = []
    for _ in range(6):
        trials = opt.ask(10)
        v = [nb201_bench(t.arch) for t in trials]
        for t, x in zip(trials, v):
            opt.tell(t, x)
        values.append(np.mean(v))
    keys = [t.key for t in opt.trials]
    assert len(keys) == len(set(keys)) == 60
    # the first batch is random; predictor-driven batches are far better than the space mean
    assert np.mean(values[3:]) > np.percentile(nb201_bench.values, 95)
    assert opt.best.value == max(t.value for t in opt.completed)


def test_results_told_in_any_order_and_pending_archs_are_never_reproposed():
    space = product_space()
    opt = WeakNAS(space, seed=1, init=8, batch=6, top_n=20)
    first = opt.ask(8)
    for t in reversed(first[2:]):
        opt.tell(t, objective(t.arch))
    second = opt.ask(6)  # the predictor is fit on the 6 results in; 2 trials still pending
    pending_keys = {t.key for t in first[:2]}
    assert not pending_keys & {t.key for t in second}
    for t in [second[3], first[0], second[0], second[5], second[1], first[1], second[2], second[4]]:
        opt.tell(t, objective(t.arch))
    third = opt.ask(6)
    assert not {t.key for t in third} & {t.key for t in first + second}
    assert len(opt.pending) == 6 and len(opt.completed) == 14


def test_ask_one_at_a_time_serves_the_batch_queue_and_refits_once_per_batch():
    opt = WeakNAS(product_space(), seed=2, init=10, batch=5, top_n=20)
    for _ in range(10):
        t = opt.ask()
        opt.tell(t, objective(t.arch))
    for _ in range(15):
        t = opt.ask()
        opt.tell(t, objective(t.arch))
    assert opt._fits == 3  # 15 model-driven proposals, 5 per fit


def test_failed_trials_are_not_reproposed_and_not_trained_on():
    opt = WeakNAS(product_space(), seed=3, init=10, batch=5, top_n=20)
    failed = set()
    for r in range(6):
        for i, t in enumerate(opt.ask(5 if r else 10)):
            if i % 2 == 0:
                opt.tell(t, failed=True, error="out of memory")
                failed.add(t.key)
            else:
                opt.tell(t, objective(t.arch))
    keys = [t.key for t in opt.trials]
    assert len(keys) == len(set(keys))
    archs, scores = opt._history()
    assert len(archs) == len(opt.completed) and not failed & set(opt.space.keys(archs))


def test_everything_pending_or_failed_falls_back_to_random_proposals():
    opt = WeakNAS(product_space(), seed=4, init=4, batch=4, top_n=8)
    a = opt.ask(4)
    for t in a:
        opt.tell(t, failed=True)
    b = opt.ask(4)  # nothing to learn from: random, but still unseen
    assert not {t.key for t in a} & {t.key for t in b}
    assert opt._fits == 0


@pytest.mark.parametrize(
    "kw",
    [
        {"top_n": 5, "batch": 10},
        {"init": 0},
        {"batch": -1},
        {"top_n": 0},
        {"sampling": "softmax"},
        {"surrogate": "svm"},
        {"acquisition": "ei", "ensemble": 1},  # needs an ensemble
        {"acquisition": "pi", "ensemble": 3},
        {"ensemble": 0},
        {"exploit": 1.5},
        {"exploit": -0.1},
        {"target": "log"},
        {"loss": "hinge", "surrogate": "rf"},
        {"warm_start": True, "surrogate": "gbrt"},
        {"kappa": -1.0, "ensemble": 2, "acquisition": "ucb"},
        {"surrogate_options": [1, 2]},
        {"init": 2.5},
        {"init": "spec"},
        {"patience": -1},
        {"patience": 1.5},
        {"patience": True},
        {"widen_sampling": "greedy"},
        {"widen_sampling": "softmax"},
    ],
)
def test_invalid_options_raise_configuration_error(kw):
    with pytest.raises(ConfigurationError):
        WeakNAS(product_space(), **kw)


def test_pool_smaller_than_top_n_is_rejected_on_non_enumerable_spaces():
    with pytest.raises(ConfigurationError, match="pool_size"):
        WeakNAS(product_space(finite=False), pool_size=50, top_n=100)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"sampling": "uniform", "exploit": 0.0},
        {"ensemble": 3, "acquisition": "ei", "warm_start": True},
        {"loss": "hinge", "sampling": "exp"},
        {"patience": 1, "widen_sampling": "exp"},
        {"patience": 0},
    ],
)
def test_save_and_load_mid_run_continues_identically(tmp_path, kw):
    space = product_space()
    opt = WeakNAS(space, seed=5, init=10, batch=5, top_n=20, **kw)
    run(opt, 3, batch=5)
    half = opt.ask(2)  # leave the batch queue half served and two trials pending
    path = tmp_path / "ckpt.json"
    opt.save(str(path))
    clone = nasopt.load(str(path))
    assert isinstance(clone, WeakNAS) and clone.get_params() == opt.get_params()
    for o in (opt, clone):
        for t in o.pending:
            o.tell(t, objective(t.arch))
    assert run(opt, 4, batch=5) == run(clone, 4, batch=5)
    assert [t.key for t in half] == [t.key for t in clone.trials[15:17]]


def test_same_seed_gives_the_same_first_30_proposals():
    a, b = WeakNAS(product_space(), seed=6), WeakNAS(product_space(), seed=6)
    assert run(a, 3) == run(b, 3)
    c = WeakNAS(product_space(), seed=7)
    assert run(c, 3) != run(WeakNAS(product_space(), seed=6), 3)


@pytest.mark.slow
def test_proposals_do_not_depend_on_the_torch_thread_count():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    out = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for surrogate, opts in (("nn", {}), ("mlp", {"hidden_layer_sizes": [32], "epochs": 5})):
                opt = WeakNAS(product_space(), seed=8, surrogate=surrogate, surrogate_options=opts)
                out.append(run(opt, 3))
    finally:
        torch.set_num_threads(before)
    assert out[0] == out[2] and out[1] == out[3]


def test_non_enumerable_space_is_searched_on_a_pool_of_samples_and_mutations():
    space = product_space(finite=False)
    assert not space.is_finite
    opt = WeakNAS(space, seed=9, init=10, batch=10, top_n=50, pool_size=300, exploit=0.3)
    keys = run(opt, 8)
    assert len(keys) == len(set(keys)) == 80
    finite = product_space()
    best = max(objective(finite[i]) for i in range(len(finite)))
    rand = np.mean([objective(finite[i]) for i in range(len(finite))])
    assert opt.best.value > rand + 0.8 * (best - rand)


@pytest.mark.parametrize(
    "kw",
    [
        {"surrogate": "gbrt", "surrogate_options": {"n_estimators": 20}},
        {"surrogate": "rf", "surrogate_options": {"n_estimators": 10}, "ensemble": 2, "acquisition": "ucb"},
        {"surrogate": "quadratic", "target": "rank"},
        {"surrogate": "nn", "loss": "logistic", "target": "raw", "sampling": "linear", "top_n_unseen": True},
    ],
)
def test_other_predictors_and_acquisitions_run_and_beat_the_space_mean(kw):
    opt = WeakNAS(product_space(), seed=10, init=10, batch=10, top_n=30, **kw)
    run(opt, 4)
    finite = product_space()
    space_mean = np.mean([objective(finite[i]) for i in range(len(finite))])
    late = [t.value for t in opt.trials[20:]]
    assert np.mean(late) > space_mean


def test_minimization_searches_for_low_values():
    opt = WeakNAS(product_space(), seed=11, maximize=False, init=10, batch=10, top_n=30)
    run(opt, 5)
    finite = product_space()
    assert opt.best.value < np.percentile([objective(finite[i]) for i in range(len(finite))], 5)


# ====================================================================== stagnation
SMALL = {f"p{k}": ["a", "b", "c", "d"] for k in range(4)}  # 256 members
NEEDLE = {"p0": "d", "p1": "d", "p2": "d", "p3": "d"}


def trap(arch: dict) -> float:
    """A smooth basin around "aaaa" (the best 'ordinary' arch) and an isolated needle at
    "dddd", the global optimum, whose neighbours are the worst of the space: a predictor
    fit on the basin ranks it last, so greedy + exploit never go there."""
    codes = ["abcd".index(arch[f"p{k}"]) for k in range(4)]
    if all(c == 3 for c in codes):
        return 100.0
    return -float(sum(codes)) - 5.0 * sum(c == 3 for c in codes)


def run_until(opt, objective_fn, target: float, budget: int) -> int:
    """Queries until ``target`` is reached (or ``budget``+1 when it is not)."""
    n = 0
    while n < budget:
        for t in opt.ask(5):
            v = objective_fn(t.arch)
            opt.tell(t, v)
            n += 1
            if v >= target:
                return n
    return budget + 1


def test_stagnation_counter_grows_without_improvement_and_resets_on_improvement():
    opt = WeakNAS(product_space(), seed=12, init=10, batch=5, top_n=10, patience=2)
    assert opt.stagnation_level == 0
    opt._update_stagnation(1.0)
    assert (opt._best, opt._stall, opt.stagnation_level) == (1.0, 0, 0)
    for k in range(1, 6):
        opt._update_stagnation(1.0)  # no improvement
        assert opt._stall == k and opt.stagnation_level == k // 2
    opt._update_stagnation(1.5)
    assert (opt._best, opt._stall, opt.stagnation_level) == (1.5, 0, 0)
    assert WeakNAS(product_space(), patience=0).stagnation_level == 0


def test_constant_objective_widens_the_pool_every_patience_refits():
    opt = WeakNAS(product_space(), seed=13, init=10, batch=5, top_n=10, patience=2)
    levels = []
    for _ in range(12):
        for t in opt.ask(5):
            opt.tell(t, 1.0)
        levels.append(opt.stagnation_level)
    # first refit sets the best; then one more level every 2 refits without improvement
    assert levels == sorted(levels) and levels[-1] == (opt._fits - 1) // 2 >= 4
    keys = [t.key for t in opt.trials]
    assert len(keys) == len(set(keys))


@pytest.mark.slow  # 4 searches of up to 250 queries: ~25 s on a loaded 2-core machine
def test_stagnation_widening_escapes_a_trap_that_greedy_exploit_never_leaves():
    space = ProductSpace(SMALL)
    budget = 250  # of 256 members
    seeds = (1, 2)
    stuck = [run_until(WeakNAS(space, seed=s, init=10, batch=10, top_n=10, patience=0),
                       trap, 100.0, budget) for s in seeds]
    found = [run_until(WeakNAS(space, seed=s, init=10, batch=10, top_n=10, patience=2),
                       trap, 100.0, budget) for s in seeds]
    # without the mechanism the needle is among the very last proposals (or never)
    assert all(q > 240 for q in stuck), stuck
    assert all(q <= 200 for q in found), found


def test_stagnation_state_survives_save_and_load(tmp_path):
    opt = WeakNAS(product_space(), seed=14, init=10, batch=5, top_n=10, patience=1)
    for _ in range(6):
        for t in opt.ask(5):
            opt.tell(t, 1.0)  # constant: every refit stagnates
    assert opt.stagnation_level >= 3
    path = tmp_path / "ckpt.json"
    opt.save(str(path))
    clone = nasopt.load(str(path))
    assert (clone._best, clone._stall, clone.stagnation_level) == (
        opt._best, opt._stall, opt.stagnation_level)
    assert clone.get_params()["patience"] == 1 and clone.get_params()["widen_sampling"] == "uniform"
    assert run(opt, 3, batch=5) == run(clone, 3, batch=5)


# ---------------------------------------------------------------- defaults on small spaces / budgets
def test_default_init_is_scaled_to_a_budget_hint_and_small_spaces(nb201_space):
    assert WeakNAS(nb201_space, seed=0)._init == 30  # no hint: NB201's tuned 30
    assert WeakNAS(nb201_space, seed=0, budget=50)._init == 20
    assert WeakNAS(nb201_space, seed=0, budget=1000)._init == 30
    assert WeakNAS(product_space(), seed=0)._init == 10
    assert WeakNAS(product_space(), seed=0, budget=20)._init == 8
    tiny = ProductSpace({"a": [0, 1, 2], "b": [0, 1]})  # 6 members: 2 random, then predicted
    opt = WeakNAS(tiny, seed=0)
    assert opt._init == 2
    for n in (2, 4):
        for t in opt.ask(n):
            opt.tell(t, float(t.arch["a"] + t.arch["b"]))
    assert opt._fits == 1 and len(opt.completed) == 6


def test_explicit_init_that_leaves_nothing_to_learn_is_refused():
    with pytest.raises(ConfigurationError, match=r"init \(4096\) must be smaller than the space \(4096\)"):
        WeakNAS(product_space(), init=4096)
    with pytest.raises(ConfigurationError, match=r"init \(50\) must be smaller than budget \(50\)"):
        WeakNAS(product_space(), init=50, budget=50)


@pytest.mark.parametrize("options, message", [
    ({"surrogate_options": {"device": "cuda"}},
     r"BatchedMLP runs on the CPU only \(numpy\), got device='cuda'; use device='cpu'"),
    ({"surrogate_options": {"widht": 3}},
     r"surrogate 'nn' has no option\(s\) widht; options: device, epochs, full_epochs_rows, hidden, "
     r"lr, margin, pairs, warm_epochs, weight_decay$"),
    ({"surrogate_options": {"members": 3}}, r"surrogate 'nn' has no option\(s\) members"),
    ({"surrogate": "quadratic", "surrogate_options": {"device": "cuda"}},
     r"Quadratic runs on the CPU only \(numpy\)"),
    ({"surrogate": "quadratic", "surrogate_options": {"beta": 1}}, r"surrogate 'quadratic' has no option\(s\) beta"),
    ({"surrogate": "mlp", "surrogate_options": {"device": "cuda"}},
     r"device='cuda' was requested but CUDA is not available"),
    ({"surrogate": "gbrt", "surrogate_options": {"device": "cuda"}},
     r"device='cuda' was requested but CUDA is not available"),
    ({"surrogate": "mlp", "surrogate_options": {"widht": 3}}, r"surrogate 'mlp' has no option\(s\) widht"),
])
def test_predictor_options_and_device_are_checked_when_the_optimizer_is_built(monkeypatch, options, message):
    from nasopt.surrogates import _common

    monkeypatch.setattr(_common, "cuda_available", lambda: False)
    with pytest.raises(ConfigurationError, match=message):
        WeakNAS(product_space(), seed=0, **options)


EXTREME = [1e308, -1e308, 1.7976931348623157e308, -1.7976931348623157e308]


@pytest.mark.parametrize("options", [
    {}, {"target": "raw"}, {"target": "rank"}, {"surrogate": "quadratic", "acquisition": "ucb"},
], ids=["default", "raw", "rank", "quadratic-ucb"])
def test_finite_values_near_the_float64_limit_keep_asks_working(options):
    """Values of ±1e308 mixed with ordinary ones used to overflow the target z-score, and every
    later ask said the space was exhausted; any finite value must work."""
    opt = WeakNAS(product_space(), seed=0, init=6, batch=4, **options)
    with np.errstate(over="raise", invalid="raise"):  # no overflow anywhere
        for r in range(6):
            for k, t in enumerate(opt.ask(4)):
                opt.tell(t, EXTREME[(r + k) % 4] if k % 2 == 0 else objective(t.arch))
    assert len(opt.trials) == 24 and opt.best.value == EXTREME[2]


def test_targets_of_ordinary_results_are_bit_identical_to_the_plain_zscore():
    opt = WeakNAS(product_space(), seed=0)
    scores = np.random.default_rng(0).normal(90.0, 5.0, size=50)
    assert np.array_equal(opt._targets(scores), (scores - scores.mean()) / scores.std())
    huge = np.array([1e308, -1e308, 1.0, 2.0])
    z = opt._targets(huge)
    assert np.isfinite(z).all() and np.allclose(z, (huge / 1e300 - (huge / 1e300).mean()) / (huge / 1e300).std())


def test_a_predictor_giving_non_finite_scores_is_a_numeric_error_not_an_exhausted_space(monkeypatch):
    from nasopt.core.errors import NumericalError

    opt = WeakNAS(product_space(), seed=0, init=6, batch=4)
    run(opt, 2, batch=4)
    before = state_dict(opt)
    monkeypatch.setattr(WeakNAS, "_fit_predict", lambda self, X, y, Xc: np.full((1, len(Xc)), np.nan))
    with pytest.raises(NumericalError, match="non-finite scores for 4096 of 4096 candidates"):
        opt.ask(4)
    assert state_dict(opt) == before


def _fit_steps(monkeypatch) -> list[tuple[int, int]]:
    """Records ``(training rows, Adam steps)`` of every BatchedMLP fit from now on."""
    from nasopt.surrogates.batched_mlp import BatchedMLP

    fits: list[tuple[int, int]] = []
    original = BatchedMLP.fit

    def spy(self, X, y):
        out = original(self, X, y)
        fits.append((len(X), out.n_steps_))
        return out

    monkeypatch.setattr(BatchedMLP, "fit", spy)
    return fits


def test_full_epochs_rows_cuts_the_predictor_steps_once_many_results_are_known(monkeypatch):
    fits = _fit_steps(monkeypatch)
    opt = WeakNAS(product_space(), seed=0, init=10, batch=10,
                  surrogate_options={"epochs": 40, "full_epochs_rows": 20})
    run(opt, 6)
    assert [n for n, _ in fits] == [10, 20, 30, 40, 50]
    # every step up to 20 results, then 40 * 20 / n
    assert [s for _, s in fits] == [40, 40, 27, 20, 16]
    assert opt.get_params()["surrogate_options"] == {"epochs": 40, "full_epochs_rows": 20}


def test_warm_epochs_shortens_the_refits_of_a_warm_started_predictor(monkeypatch):
    fits = _fit_steps(monkeypatch)
    opt = WeakNAS(product_space(), seed=0, init=10, batch=10, warm_start=True,
                  surrogate_options={"epochs": 40, "warm_epochs": 5})
    run(opt, 4)
    assert [s for _, s in fits] == [40, 5, 5]  # a random start, then warm refits


def test_step_options_that_never_apply_leave_the_trajectory_unchanged():
    default = run(WeakNAS(product_space(), seed=3), 6)
    # more rows than the run ever has, and warm_epochs without warm_start: the same run
    same = run(WeakNAS(product_space(), seed=3,
                       surrogate_options={"full_epochs_rows": 1000, "warm_epochs": 5}), 6)
    assert same == default
    shorter = run(WeakNAS(product_space(), seed=3, surrogate_options={"full_epochs_rows": 10}), 6)
    assert shorter[:20] == default[:20]  # the random start and the first fit (10 rows)
    assert shorter != default  # later fits are shorter: other proposals


@pytest.mark.parametrize("allow_duplicates", [False, True])
@pytest.mark.parametrize("one_position_per_key", [True, False])
def test_long_candidate_lists_are_checked_at_once_as_one_at_a_time(allow_duplicates,
                                                                   one_position_per_key):
    # the wide draws of a stagnating search check hundreds of candidates: at once, from a
    # mask of the refused positions, with the very answers of the one-at-a-time check
    space = product_space()
    opt = WeakNAS(space, seed=3, allow_duplicates=allow_duplicates)
    run(opt, 4)
    opt.ask(3)  # pending: seen, not completed
    if not one_position_per_key:
        opt._positions = False  # as on a space where a key has several positions
    rng = np.random.default_rng(0)
    free = [i for i in range(len(space)) if opt._available(space.key_of_index(i), set())]
    exclude = {space.key_of_index(int(i)) for i in rng.choice(free, 5, replace=False)}
    opt._excluded = {space.key_of_index(int(rng.choice(free)))}
    taken, key_ok, _ = opt._candidates(len(space), exclude, None)
    idx = rng.permutation(len(space))
    one_by_one = [key_ok(int(i)) for i in idx]
    # no key -> position map (a look-up per member) until the checks made add up to as many
    assert key_ok.many(idx[:300]).tolist() == one_by_one[:300]
    assert opt._positions is (None if one_position_per_key else False)
    assert key_ok.many(idx).tolist() == one_by_one
    assert opt._positions is False or len(opt._positions) == len(space)
    assert not all(one_by_one)
    acq = rng.normal(size=len(space))
    k = VECTOR_CHECK + 50
    want = [int(i) for i in np.argsort(-acq) if not taken[i] and key_ok(int(i))][:k]
    assert opt._ranked_available(acq, taken, key_ok, k) == want
    opt._excluded = set()


@pytest.mark.parametrize("journal", [False, True])
def test_a_failed_ask_leaves_weaknas_unchanged_from_the_queue_or_a_refit(tmp_path, journal):
    # without a journal the state is kept for the rollback by reference (_quick_state), not
    # encoded: a failed ask, whether its proposal came from the queue or from a refit (the
    # warm-started weights, the fit count and the stagnation counter changed), must still
    # leave the optimizer as it was, and the run continue as one without the failures
    fail = [False]
    kw = dict(seed=4, warm_start=True, init=10, batch=5, top_n=20)
    opt = WeakNAS(product_space(), **kw, journal=str(tmp_path / "run.jsonl") if journal else None)
    ref = WeakNAS(product_space(), **kw)
    register = opt._register_proposals

    def flaky(archs, k):  # the ask fails after the strategy proposed (and refitted)
        if fail[0]:
            raise KeyError("no measurement")
        return register(archs, k)

    opt._register_proposals = flaky
    kinds = set()
    for _ in range(32):
        before = state_dict(opt)
        fail[0] = True
        with pytest.raises(KeyError, match="no measurement"):
            opt.ask()
        fail[0] = False
        assert state_dict(opt) == before
        kinds.add("queue" if opt._queue else "refit" if len(opt.completed) >= 10 else "init")
        t, r = opt.ask(), ref.ask()
        assert opt.space.key(t.arch) == ref.space.key(r.arch)
        opt.tell(t, objective(t.arch))
        ref.tell(r, objective(r.arch))
    assert kinds == {"init", "queue", "refit"}
    assert opt._warm is not None and opt._fits == ref._fits > 2
