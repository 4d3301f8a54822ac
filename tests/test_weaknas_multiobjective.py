"""WeakNAS with several objectives and told constraints (issue 21): a predictor per objective,
batches drawn by Pareto rank or by ParEGO scalarizations, constraint predictors that steer
away from likely-infeasible cells, persistence, and the helpers of nasopt/strategies/_multi.py."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import nasopt
import nasopt.testing as nt
from nasopt.core.errors import ConfigurationError, SpaceExhaustedError
from nasopt.core.pareto import hypervolume, selection_order
from nasopt.persist import checkpoint as persistence
from nasopt.spaces import NB201Space
from nasopt.spaces.product import ProductSpace
from nasopt.strategies._multi import (
    after_repeats, chebyshev, class_means, class_representatives, normalise_columns, pareto_top,
    reference_gap, resolve_reference, with_reference,
)

SPACE = NB201Space()
#: Small predictors, so that a 60-query run takes a fraction of a second.
FAST = {"init": 20, "surrogate_options": {"epochs": 60, "hidden": [32]}}


def evaluate(arch) -> tuple[float, float]:
    """Accuracy-like and latency-like objectives that conflict: convolutions raise both, a
    3x3 more than a 1x1; a hash of the cell adds noise to both."""
    h = zlib.crc32(SPACE.key(arch).encode())
    c3, c1 = arch.count("nor_conv_3x3"), arch.count("nor_conv_1x1")
    acc = 0.12 * c3 + 0.07 * c1 + (h % 1000) / 10000
    return acc, 1.0 * c3 + 0.3 * c1 + ((h // 1000) % 100) / 200


def front_hv(opt) -> float:
    """Hypervolume of the feasible front found (accuracy up, latency down from 7)."""
    pts = np.array([[t.values[0], 7.0 - t.values[1]] for t in opt.pareto_front])
    return hypervolume(pts) if len(pts) else 0.0


def run(opt, n: int, constraint=None):
    while len(opt.completed) < n:
        for t in opt.ask(10):
            acc, lat = evaluate(t.arch)
            opt.tell(t, [acc, lat], constraints=None if constraint is None else [constraint(lat)])
    return opt


# ------------------------------------------------------------------ the search
@pytest.mark.parametrize("selection", ["pareto", "parego", "hvi"])
def test_multi_objective_weaknas_finds_a_better_front_than_random_on_every_seed_pair(selection):
    """60 queries, 5 seeds: the front WeakNAS finds has a larger hypervolume than random
    search's on average and on at least 4 of the 5 seeds."""
    wk = [front_hv(run(nasopt.create("weaknas", SPACE, seed=s, objectives=["max", "min"],
                                     mo_selection=selection, **FAST), 60)) for s in range(5)]
    rnd = [front_hv(run(nasopt.create("random", SPACE, seed=s, objectives=["max", "min"]), 60))
           for s in range(5)]
    assert np.mean(wk) > np.mean(rnd), (wk, rnd)
    assert sum(w > r for w, r in zip(wk, rnd)) >= 4, (wk, rnd)


@pytest.mark.parametrize("objectives", [["max", "min"], ["max"]], ids=["two", "one"])
def test_constraint_predictor_keeps_proposals_out_of_the_infeasible_region(objectives):
    """A cell needs at least two skip connections (told after evaluation; about two thirds
    of the cells violate it, and the accuracy-like objective prefers convolutions, so the
    best predicted cells are mostly infeasible). After the random start, WeakNAS proposes
    at most half as many infeasible cells as random search."""
    def violation(arch) -> float:
        return 2.0 - arch.count("skip_connect")

    def infeasible_share(name, **kw):
        shares = []
        for s in range(3):
            opt = nasopt.create(name, SPACE, seed=s, objectives=objectives, **kw)
            while len(opt.completed) < 60:
                for t in opt.ask(10):
                    acc, lat = evaluate(t.arch)
                    value = [acc, lat] if len(objectives) == 2 else acc
                    opt.tell(t, value, constraints=[violation(t.arch)])
            shares.append(np.mean([not t.feasible for t in opt.completed[20:]]))
        return float(np.mean(shares))

    weak, rnd = infeasible_share("weaknas", **FAST), infeasible_share("random")
    assert rnd > 0.5 and weak <= rnd / 2, (weak, rnd)


def test_a_single_objective_run_without_told_constraints_never_fits_a_constraint_predictor():
    opt = nasopt.create("weaknas", SPACE, seed=0, **FAST)
    fits = []
    original = opt._fit_predict
    opt._fit_predict = lambda *a, **k: fits.append(k.get("loss")) or original(*a, **k)
    for _ in range(3):
        for t in opt.ask(10):
            opt.tell(t, evaluate(t.arch)[0], constraints=[-1.0])  # always feasible
    assert fits and set(fits) == {None}


@pytest.mark.parametrize("selection", ["pareto", "parego"])
def test_known_before_constraints_filter_every_multi_objective_proposal(selection):
    def few_convs(arch) -> float:
        return arch.count("conv") - 2.0

    opt = nasopt.create("weaknas", SPACE, seed=1, objectives=["max", "min"], mo_selection=selection,
                        constraints=[few_convs], **FAST)
    run(opt, 50)
    assert all(few_convs(t.arch) <= 0 for t in opt.trials)


def _few_3x3(arch) -> float:
    """Feasible with at most two 3x3 convolutions: 90 % of NB201's cells, but few of the
    best predicted ones (the accuracy-like objective rewards 3x3 convolutions most)."""
    return arch.count("nor_conv_3x3") - 2.0


@pytest.mark.parametrize("objectives", [["max"], ["max", "min"]], ids=["one", "two"])
def test_known_before_constraints_cost_weaknas_no_extra_refits(objectives):
    """100 single asks under a known-before constraint that rejects most of the predicted
    top: the batch queue holds feasible cells only, so WeakNAS refits once per batch, as
    without the constraint ((100 - init) / batch = 8 refits), proposes only feasible cells
    and runs the constraint function at most once per cell (cached across asks)."""
    calls: dict[str, int] = {}

    def counted(arch) -> float:
        calls[arch] = calls.get(arch, 0) + 1
        return _few_3x3(arch)

    opt = nasopt.create("weaknas", SPACE, seed=0, objectives=objectives, constraints=[counted],
                        batch=10, **FAST)
    for _ in range(100):
        t = opt.ask()
        acc, lat = evaluate(t.arch)
        opt.tell(t, [acc, lat] if len(objectives) == 2 else acc)
    assert opt._fits == -(-(100 - FAST["init"]) // 10)
    assert all(_few_3x3(t.arch) <= 0 for t in opt.trials)
    assert max(calls.values()) == 1


def test_a_small_space_with_nothing_feasible_left_stops_weaknas_with_a_clear_error():
    """4 of the 12 cells are feasible: WeakNAS proposes those 4 (random start, then from
    its predictor), then says that nothing feasible is left and stays unchanged."""
    space = ProductSpace({"a": [0, 1, 2, 3, 4, 5], "b": ["x", "y"]})
    opt = nasopt.create("weaknas", space, seed=0, init=2, batch=2, top_n=4,
                        constraints=[lambda arch: arch["a"] - 1.5],
                        surrogate_options={"epochs": 20, "hidden": [16]})
    for _ in range(4):
        t = opt.ask()
        opt.tell(t, float(t.arch["a"]) + (t.arch["b"] == "y"))
    assert sorted((t.arch["a"], t.arch["b"]) for t in opt.trials) == [
        (0, "x"), (0, "y"), (1, "x"), (1, "y")]
    before = persistence.state_dict(opt)
    with pytest.raises(SpaceExhaustedError, match=r"no feasible architecture left: 0 of 1 found"):
        opt.ask()
    assert persistence.state_dict(opt) == before


def test_reassigned_constraints_take_effect_on_a_loaded_weaknas_run(tmp_path):
    """Constraint functions are not saved: the optimizer nasopt.load returns takes new ones
    from ``opt.constraints``, which hold for the cells already queued and the cached
    feasibility of the old ones is forgotten (on the same optimizer, too)."""
    def stricter(arch) -> float:
        return arch.count("nor_conv_3x3") - 1.0

    opt = nasopt.create("weaknas", SPACE, seed=0, constraints=[_few_3x3], batch=10, **FAST)
    for _ in range(25):  # past the random start: a batch is queued
        t = opt.ask()
        opt.tell(t, evaluate(t.arch)[0])
    assert opt._queue and any(stricter(a) > 0 for a in opt._queue)
    opt.save(tmp_path / "run.ckpt")
    back = nasopt.load(tmp_path / "run.ckpt")
    back.constraints = [stricter]
    opt.constraints = [stricter]
    for o in (back, opt):
        for _ in range(15):
            t = o.ask()
            assert stricter(t.arch) <= 0, t.arch
            o.tell(t, evaluate(t.arch)[0])


@pytest.mark.parametrize("options", [
    {"mo_selection": "parego"}, {"acquisition": "ucb"}, {"acquisition": "ei"},
    {"sampling": "linear", "patience": 1}, {"surrogate": "quadratic", "surrogate_options": {}},
], ids=["parego", "ucb", "ei", "linear-patience", "quadratic"])
def test_a_multi_objective_batch_holds_distinct_unseen_cells(options):
    """Every acquisition (applied per objective), sampling, the stagnation widening and a
    predictor fitted per objective (not batched) give distinct, unseen proposals."""
    opt = run(nasopt.create("weaknas", SPACE, seed=2, objectives=["max", "min"],
                            **{**FAST, **options}), 40)
    keys = [t.key for t in opt.trials]
    assert len(keys) == len(set(keys)) == 40


@pytest.mark.parametrize("selection", ["pareto", "parego", "hvi"])
def test_a_space_that_cannot_be_enumerated_is_searched_on_a_pool_with_several_objectives(selection):
    """The pool path (uniform samples plus mutations of the front): distinct proposals, told
    constraints steering too, and a front that beats random search's."""
    from nasopt.spaces.product import ProductSpace

    space = ProductSpace({"a": list(range(8)), "b": list(range(8)), "c": list(range(8))},
                         max_enumerate=10)
    assert not space.is_finite

    def values(arch):  # a front between a + b large and c + a small, with a kink
        return float(arch["a"] + arch["b"]), float(arch["c"] + 0.5 * arch["a"])

    def hv(opt):
        pts = np.array([[v[0], 20.0 - v[1]] for v in (t.values for t in opt.pareto_front)])
        return hypervolume(pts)

    hvs = {}
    for name, kw in (("weaknas", {"mo_selection": selection, "pool_size": 200, "top_n": 50,
                                  **FAST, "init": 10}), ("random", {})):
        runs = []
        for seed in range(3):
            opt = nasopt.create(name, space, seed=seed, objectives=["max", "min"], **kw)
            while len(opt.completed) < 40:
                for t in opt.ask(10):
                    opt.tell(t, values(t.arch), constraints=[t.arch["b"] - 6.0])
            assert len({t.key for t in opt.trials}) == 40
            runs.append(hv(opt))
        hvs[name] = np.mean(runs)
    assert hvs["weaknas"] > hvs["random"], hvs


@pytest.mark.parametrize("selection", ["pareto", "parego"])
def test_three_objectives_are_learned_and_searched(selection):
    """A third objective (fewer parameters: fewer convolutions) is a third predictor; the
    front found beats random search's hypervolume over the whole range (``reference=None``:
    the default reference leaves the region below the median accuracy, which this
    hypervolume counts, to the random start)."""
    def three(arch):
        acc, lat = evaluate(arch)
        return acc, lat, float(arch.count("conv"))

    def hv3(opt):
        pts = np.array([[v[0], 7.0 - v[1], 7.0 - v[2]] for v in (t.values for t in opt.pareto_front)])
        return hypervolume(pts)

    out = {}
    for name, kw in (("weaknas", {"mo_selection": selection, "reference": None, **FAST}),
                     ("random", {})):
        runs = []
        for seed in range(3):
            opt = nasopt.create(name, SPACE, seed=seed, objectives=["max", "min", "min"], **kw)
            while len(opt.completed) < 50:
                for t in opt.ask(10):
                    opt.tell(t, three(t.arch))
            runs.append(hv3(opt))
        out[name] = np.mean(runs)
    assert out["weaknas"] > out["random"], out


def test_multi_objective_nn_refits_are_shortened_above_64_results_by_default(monkeypatch):
    """With several objectives the "nn" predictor runs fewer Adam steps once the results
    exceed MULTI_FULL_EPOCHS_ROWS (measured: the same regret at 2/3 of the CPU); an
    explicit option wins, it is not a parameter of the run, and one objective without a
    prior keeps the full refits."""
    from nasopt.surrogates.batched_mlp import BatchedMLP
    from nasopt.strategies.weaknas import MULTI_FULL_EPOCHS_ROWS

    fits = []  # (training rows, Adam steps) of every fit
    fit = BatchedMLP.fit

    def counted(self, X, *args, **kw):
        out = fit(self, X, *args, **kw)
        fits.append((len(X), self.n_steps_))
        return out

    monkeypatch.setattr(BatchedMLP, "fit", counted)
    two = nasopt.create("weaknas", SPACE, seed=0, objectives=["max", "min"], **FAST)
    assert two._surrogate_options["full_epochs_rows"] == MULTI_FULL_EPOCHS_ROWS == 64
    assert two.get_params()["surrogate_options"] == FAST["surrogate_options"]
    run(two, 100)
    epochs = FAST["surrogate_options"]["epochs"]
    assert all(steps == epochs for rows, steps in fits if rows <= 64), fits
    assert any(rows > 64 for rows, _ in fits), fits
    assert all(steps < epochs for rows, steps in fits if rows > 64), fits
    explicit = nasopt.create("weaknas", SPACE, objectives=["max", "min"],
                             surrogate_options={"full_epochs_rows": None})
    assert explicit._surrogate_options == {"full_epochs_rows": None}
    assert nasopt.create("weaknas", SPACE, prior=None)._surrogate_options == {}


def test_hvi_selection_refuses_more_than_two_objectives():
    with pytest.raises(ConfigurationError, match="hvi.*two objectives"):
        nasopt.create("weaknas", SPACE, objectives=["max", "min", "min"], mo_selection="hvi")


def test_unknown_mo_selection_is_a_configuration_error_naming_the_choices():
    with pytest.raises(ConfigurationError, match="mo_selection.*pareto.*parego"):
        nasopt.create("weaknas", SPACE, objectives=["max", "min"], mo_selection="nsga")


def test_a_prior_guides_the_random_start_of_a_multi_objective_run():
    """With a prior and several objectives, the prior's share of the start comes from the
    cells it ranks highest (here: the most 3x3 convolutions), and the search goes on."""
    opt = nasopt.create("weaknas", SPACE, seed=0, objectives=["max", "min"],
                        prior=lambda arch: float(arch.count("nor_conv_3x3")), prior_init=1.0,
                        **{**FAST, "init": 10})
    first = opt.ask(10)
    assert min(t.arch.count("nor_conv_3x3") for t in first) >= 4
    for t in first:
        opt.tell(t, evaluate(t.arch))
    run(opt, 30)
    assert len(opt.pareto_front) >= 1


def test_the_automatic_prior_with_several_objectives_is_predictor_input_only():
    """On NB201 with several objectives, ``prior="auto"`` (the default) feeds the packaged
    proxies and the cells' function features to the predictors, and leaves the random start
    to chance: the start is that of ``prior=None``, the run goes on differently, and the
    files mark the prior as chosen automatically, for inputs only."""
    from nasopt.proxies.table import AUTO_MULTI_PROXIES
    from nasopt.spaces.nb201 import FUNCTION_FEATURE_NAMES, function_features

    auto = nasopt.create("weaknas", SPACE, seed=4, objectives=["max", "min"], **FAST)
    plain = nasopt.create("weaknas", SPACE, seed=4, objectives=["max", "min"], prior=None, **FAST)
    inputs = auto._prior.scores([SPACE[i] for i in range(len(SPACE))])
    assert inputs.shape == (len(SPACE), len(AUTO_MULTI_PROXIES) + len(FUNCTION_FEATURE_NAMES))
    assert np.isfinite(inputs).all()
    assert np.array_equal(inputs[:, len(AUTO_MULTI_PROXIES):], function_features(SPACE.op_codes))
    identity = auto._runtime_identity()["prior"]
    assert identity["auto"] and identity["inputs_only"] and auto._prior_as_features
    start = [t.arch for t in auto.ask(FAST["init"])]
    assert start == [t.arch for t in plain.ask(FAST["init"])]
    for opt in (auto, plain):
        for t in opt.trials:
            opt.tell(t, evaluate(t.arch))
    assert [t.arch for t in auto.ask(10)] != [t.arch for t in plain.ask(10)]
    # one objective keeps the log-synflow prior of the start
    assert nasopt.create("weaknas", SPACE, seed=4)._prior.ranks_start


def _share_below_median_quality(reference, seeds=range(3)) -> list[float]:
    """Per seed: the share of the proposals after the random start (60 queries) whose
    accuracy-like objective is below the median cell's (not function-aware: the toy's
    accuracy counts the convolutions on dead edges too)."""
    median = np.median([evaluate(SPACE[i])[0] for i in range(len(SPACE))])
    out = []
    for s in seeds:
        opt = run(nasopt.create("weaknas", SPACE, seed=s, objectives=["max", "min"],
                                reference=reference, function_aware=False, **FAST), 60)
        out.append(float(np.mean([t.values[0] < median for t in opt.trials[FAST["init"]:]])))
    return out


def test_the_default_reference_spends_fewer_queries_below_the_median_quality():
    """``reference="auto"`` (the median on the first objective) ranks the candidates
    predicted below the median cell after the others: fewer such proposals than without a
    reference, on every seed (measured: 13-18 % against 30-35 %)."""
    auto, none = _share_below_median_quality("auto"), _share_below_median_quality(None)
    assert all(a < n for a, n in zip(auto, none)), (auto, none)
    assert max(auto) < 0.25, auto


def _function_repeats(opt, n: int) -> int:
    """Run ``opt`` to ``n`` results on a toy whose objectives are functions of the cell's
    live edges (accuracy) and of all its edges (latency: dead edges are built too); the
    proposals after the random start whose function class was asked before."""
    classes = SPACE.function_classes()
    while len(opt.completed) < n:
        for t in opt.ask(10):
            live = SPACE.op_codes[SPACE.index(t.arch)].copy()
            live_arch = nasopt.spaces.nb201.ops_to_string(
                nasopt.spaces.nb201.live_op_codes(live[None])[0])
            acc, _ = evaluate(live_arch)
            opt.tell(t, [acc, evaluate(t.arch)[1]])
    labels = classes[SPACE.indices([t.arch for t in opt.trials])]
    return sum(labels[k] in set(labels[:k]) for k in range(FAST["init"], len(labels)))


@pytest.mark.parametrize("selection", ["pareto", "parego", "hvi"])
def test_a_function_aware_search_never_asks_a_function_twice(selection):
    """Cells that differ only in dead edges (or mirror images) compute one function: after
    the random start, the default run asks no function class twice; without
    ``function_aware`` (and the quality share, whose few neighbours vary by run) and without
    the automatic prior (whose function features are equal within a class) some are (their
    predicted accuracies differ)."""
    repeats = [_function_repeats(nasopt.create(
        "weaknas", SPACE, seed=s, objectives=["max", "min"], mo_selection=selection, **FAST), 60)
        for s in range(3)]
    assert repeats == [0, 0, 0]
    plain = [_function_repeats(nasopt.create(
        "weaknas", SPACE, seed=s, objectives=["max", "min"], mo_selection=selection,
        function_aware=False, quality_exploit=0.0, prior=None, **FAST), 60) for s in range(3)]
    assert sum(plain) > 0, plain


def test_after_the_front_stalls_a_function_is_asked_again_unless_stall_repeats_is_off():
    """With ``patience=1`` the toy's front stalls once in 200 queries: after it a cell of a
    function asked before may be asked (the chance of its training may extend the front);
    with ``stall_repeats=False`` none is, the quality share included."""
    def repeats(stall_repeats):
        return _function_repeats(nasopt.create(
            "weaknas", SPACE, seed=0, objectives=["max", "min"], patience=1,
            stall_repeats=stall_repeats, **FAST), 200)

    assert repeats(False) == 0
    assert repeats(True) > 0


@pytest.mark.parametrize("aware, inputs", [(True, ("onehot-live", "onehot")), (False, ("onehot",))])
def test_the_quality_predictor_of_a_function_aware_run_reads_the_function_encoding(
        monkeypatch, aware, inputs):
    """Function-aware: one batched fit in which the accuracy networks read the cells'
    ``onehot-live`` encoding (dead edges as none) and the latency networks the full
    ``onehot``; without it every network reads ``onehot``. Each encoding is followed by the
    automatic prior's inputs (standardized over the space)."""
    from nasopt.strategies._prior import standardize

    from nasopt.surrogates.batched_mlp import BatchedMLP

    seen = []
    fit = BatchedMLP.fit

    def spy(self, X, y):
        seen.append((np.asarray(X).copy(), self.input_groups))
        return fit(self, X, y)

    monkeypatch.setattr(BatchedMLP, "fit", spy)
    opt = run(nasopt.create("weaknas", SPACE, seed=0, objectives=["max", "min"],
                            function_aware=aware, **FAST), 30)
    X, groups = seen[-1]
    assert groups == len(inputs)
    rows = SPACE.indices([t.arch for t in opt.trials])[:len(X)]
    Z = standardize(opt._prior.all_scores()).astype(np.float32)[rows]
    expected = np.hstack([np.hstack([SPACE.encode_indices(rows, name), Z]) for name in inputs])
    assert np.array_equal(X, expected)


def _batches_near_the_most_accurate(options: dict, seed: int) -> list[int]:
    """Per batch after the random start, how many proposals are one-step mutations of the
    most accurate result told before the batch was asked."""
    opt = nasopt.create("weaknas", SPACE, seed=seed, objectives=["max", "min"],
                        **{**FAST, **options})
    near = []
    while len(opt.completed) < 70:
        done = opt.completed
        batch = opt.ask(10)
        if len(done) >= FAST["init"]:
            best = max(done, key=lambda t: t.values[0]).arch
            codes = SPACE.op_codes[SPACE.indices([t.arch for t in batch] + [best])]
            near.append(int(((codes[:-1] != codes[-1]).sum(axis=1) == 1).sum()))
        for t in batch:
            opt.tell(t, list(evaluate(t.arch)))
    return near


def test_the_quality_share_asks_neighbours_of_the_most_accurate_result():
    """``quality_exploit`` (default 0.2 of a batch of 10): at least two proposals of every
    batch after the random start are one-step mutations of the most accurate result so far;
    with ``quality_exploit=0`` the Pareto batches hold fewer such cells."""
    for seed in range(2):
        assert min(_batches_near_the_most_accurate({}, seed)) >= 2
    off = [n for seed in range(2)
           for n in _batches_near_the_most_accurate({"quality_exploit": 0.0}, seed)]
    assert min(off) < 2, off


def _single_objective_trajectory(seed: int, n: int, **options) -> list:
    opt = nasopt.create("weaknas", SPACE, seed=seed, **FAST, **options)
    while len(opt.completed) < n:
        for t in opt.ask(10):
            opt.tell(t, evaluate(t.arch)[0])
    return [t.arch for t in opt.trials]


@pytest.mark.parametrize("option, values, seed, n", [
    ("function_aware", [True, False], 3, 40),
    ("quality_exploit", [None, 0.0, 1.0], 3, 40),
    ("stall_repeats", [True, False], 3, 40),
    ("reference", ["auto", None, [0.9]], 1, 30),
])
def test_options_of_several_objectives_change_nothing_with_one_objective(option, values, seed, n):
    first, *others = [_single_objective_trajectory(seed, n, **{option: v}) for v in values]
    assert all(t == first for t in others)


@pytest.mark.parametrize("reference, match", [
    ([0.5], "1 entries for 2 objective"),
    ([0.5, None, None], "3 entries for 2 objective"),
    ([1.0, None], "quantiles in \\[0, 1\\)"),
    ([-0.1, None], "quantiles in"),
    ([True, None], "quantiles in"),
    (["median", None], "quantiles in"),
    ("median", "'auto', None or one quantile"),
    (0.5, "'auto', None or one quantile"),
])
def test_a_bad_reference_is_a_configuration_error(reference, match):
    with pytest.raises(ConfigurationError, match=match):
        nasopt.create("weaknas", SPACE, objectives=["max", "min"], reference=reference)


def test_reference_quantiles_resolve_per_objective():
    assert resolve_reference("auto", 2) == (0.5, 0.0)
    assert resolve_reference("auto", 3) == (0.5, 0.0, 0.0)
    assert resolve_reference([None, 0.25], 2) == (0.0, 0.25)
    assert resolve_reference([None, 0.0], 2) is None  # no limit anywhere
    assert resolve_reference(None, 2) is None and resolve_reference("auto", 1) is None


def test_candidates_outside_the_reference_rank_after_inside_and_before_infeasible():
    """Deb's rule on the folded violations: inside the region of interest and feasible
    first (however dominated), then outside by their shortfall, then the predicted
    infeasible ones by their violation."""
    P = np.array([[0.0, 9.0],   # far below the median quality, cheapest
                  [0.4, 1.0],   # just below it
                  [0.6, 0.0],   # above it, dominated by the next two
                  [0.8, 5.0],
                  [1.0, 2.0],   # above it, but predicted infeasible
                  [0.9, 3.0],
                  [0.1, 8.0]])  # the median quality is 0.6
    gap = reference_gap(P, resolve_reference("auto", 2))
    assert gap[[2, 3, 4, 5]].tolist() == [0, 0, 0, 0] and 0 < gap[1] < gap[6] < gap[0]
    viol = with_reference(np.array([0, 0, 0, 0, 2.0, 0, 0]), gap)
    assert pareto_top(P, 7, viol).tolist() == [3, 5, 2, 1, 6, 0, 4]
    assert with_reference(None, gap) is gap and with_reference(viol, None) is viol


def test_the_reference_is_the_quantile_of_the_predicted_feasible_candidates():
    """Once a constraint is predicted violated somewhere, the median is that of the
    predicted-feasible rows: the region of interest stays inside the feasible set."""
    P = np.column_stack([np.arange(10.0), np.zeros(10)])
    violation = np.where(np.arange(10) >= 4, 1.0, -1.0)  # rows 0-3 feasible: median 1.5
    gap = reference_gap(P, (0.5, 0.0), violation)
    assert (gap[[2, 3]] == 0).all() and (gap[[0, 1]] > 0).all()
    assert (reference_gap(P, (0.5, 0.0)) > 0).sum() == 5  # over all rows: median 4.5


# ------------------------------------------------------------------ persistence
@pytest.mark.parametrize("options", [
    {"mo_selection": "pareto"},
    {"mo_selection": "parego"},
    {"mo_selection": "hvi"},
    {"mo_selection": "pareto", "sampling": "uniform", "exploit": 0.0},
    {"warm_start": True},
    {"reference": [0.3, 0.2]},
], ids=["pareto", "parego", "hvi", "pareto-uniform", "warm-start", "reference"])
def test_a_multi_objective_weaknas_run_saved_or_journaled_continues_identically(tmp_path, options):
    factory = nt.StrategyFactory("weaknas", **{**nt.FAST_OPTIONS["weaknas"], **options})
    nt.check_multi_objective_persists(factory, None, tmp_path)


def test_multi_objective_runs_are_deterministic_per_seed():
    def asks(seed):
        return [t.arch for t in run(nasopt.create("weaknas", SPACE, seed=seed,
                                                  objectives=["max", "min"], **FAST), 40).trials]
    assert asks(3) == asks(3) and asks(3) != asks(4)


# ------------------------------------------------------------------ ranking helpers
@pytest.mark.parametrize("m", [1, 2, 3])
def test_pareto_top_is_the_head_of_nsga2s_full_order(m):
    """Peeling only the fronts that ``k`` needs gives the same first ``k`` as ranking every
    point (ties, infeasible points and a truncated last front included)."""
    rng = np.random.default_rng(m)
    for _ in range(20):
        n = int(rng.integers(1, 60))
        scores = rng.integers(0, 6, size=(n, m)).astype(float)
        violation = np.where(rng.random(n) < 0.3, rng.integers(1, 4, n), 0).astype(float)
        full = np.argsort(selection_order(scores, violation), kind="stable")
        for k in (1, 5, n):
            top = pareto_top(scores, k, violation)
            # the same members, fronts and infeasible order; within a truncated front the
            # crowding is computed on the whole front in both
            assert list(top) == list(full[:k]), (scores, violation, k)


def test_chebyshev_prefers_the_point_closest_to_the_ideal_under_the_weights():
    pts = normalise_columns(np.array([[0.0, 10.0], [5.0, 5.0], [10.0, 0.0], [4.0, 4.0]]))
    assert np.allclose(pts[1], [0.5, 0.5])
    assert int(np.argmax(chebyshev(pts, np.array([0.5, 0.5])))) == 1
    assert int(np.argmax(chebyshev(pts, np.array([0.9, 0.1])))) == 2
    assert int(np.argmax(chebyshev(pts, np.array([0.1, 0.9])))) == 0


def test_class_means_give_every_member_of_a_class_its_mean():
    values = np.array([1.0, 3.0, 10.0, 5.0])
    assert class_means(values, np.array([0, 0, 1, 0])).tolist() == [3.0, 3.0, 10.0, 3.0]


def test_one_representative_per_class_the_predicted_cheapest_among_the_eligible():
    """Equal quality within a class (column 0): the row with the best cost (column 1) is its
    representative; rows that are not eligible are never chosen."""
    scores = np.array([[0.5, -3.0], [0.5, -1.0], [0.9, -2.0], [0.9, -5.0], [0.2, 0.0]])
    classes = np.array([0, 0, 1, 1, 2])
    eligible = np.array([True, True, False, True, True])
    assert np.flatnonzero(class_representatives(scores, classes, eligible)).tolist() == [1, 3, 4]


def test_repeats_rank_after_every_other_candidate_and_before_the_infeasible():
    gap = np.array([0.0, 0.2, 0.0, 0.0])
    repeated = np.array([False, False, True, False])
    violation = np.array([0.0, 0.0, 0.0, 0.5])
    folded = with_reference(violation, after_repeats(gap, repeated))
    order = np.argsort(folded, kind="stable")
    assert order.tolist() == [0, 1, 2, 3]
    assert after_repeats(None, np.zeros(3, dtype=bool)) is None
