"""The ReNAS strategy: ask sequence, traverse vs EA, iterative rounds, persistence, options."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import nasopt
from benchmarks.harness.jsonio import read_json, write_json
from nasopt.core.errors import ConfigurationError
from nasopt.core.registry import create
from nasopt.spaces import NB201Space, ProductSpace
from nasopt.strategies.renas import ReNAS

#: A fast predictor for the protocol tests (the CNN is exercised separately).
FAST = {"surrogate": "gbrt", "encoding": "onehot", "surrogate_options": {"n_estimators": 30}}


@pytest.fixture(scope="module")
def space():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # without data the space uses base-5 order
        s = NB201Space()
        s.op_codes
    return s


@pytest.fixture(scope="module")
def objective(space):
    """A synthetic NB201 objective: additive per-edge effects plus an interaction."""
    rng = np.random.default_rng(42)
    table = rng.normal(size=(6, 5))
    codes = space.op_codes.astype(int)
    values = table[np.arange(6), codes].sum(axis=1) + 0.5 * (codes[:, 0] == codes[:, 5])
    return lambda arch: float(values[space.index(arch)])


def run(opt, objective, n_asks):
    """Ask/tell in batches given by n_asks; returns the proposed architectures."""
    out = []
    for n in n_asks:
        trials = opt.ask(n)
        for t in trials:
            opt.tell(t, objective(t.arch))
        out += [t.arch for t in trials]
    return out


def test_first_asks_are_random_then_the_predicted_top_k(space, objective):
    opt = ReNAS(space, init=30, top_k=5, seed=0, **FAST)
    first = run(opt, objective, [10, 20])
    assert opt.predictor_ is None and opt._fits == 0  # no fit during the random sample
    assert first == ReNAS(space, init=30, seed=0, **FAST)._random_unseen(30)
    top = opt.ask(5)
    assert opt._fits == 1 and opt.rankings_ == ["traverse"]
    # exactly the predictor's 5 best unseen architectures
    scores = opt.predictor_(list(space[i] for i in range(len(space))))
    seen = {space.key(a) for a in first}
    order = [i for i in np.argsort(-scores, kind="stable") if space.key_of_index(int(i)) not in seen]
    assert [space.index(t.arch) for t in top] == [int(i) for i in order[:5]]
    # the predicted top is better than the random sample on this objective
    assert max(objective(t.arch) for t in top) > np.median([objective(a) for a in first])


def test_renas_is_registered_and_checkpoint_options_are_json(space):
    opt = create("renas", space, seed=1, **FAST)
    assert isinstance(opt, ReNAS) and opt._init == 90 and opt.top_k == 10
    json.dumps(opt.get_params())
    assert opt.uses_traversal


def test_traverse_and_ea_agree_on_the_top_architecture(space, objective):
    kw = dict(init=40, top_k=3, seed=5, **FAST)
    trav = ReNAS(space, traverse=True, **kw)
    ea = ReNAS(space, traverse=False, generations=150, **kw)
    a = run(trav, objective, [40, 3])
    b = run(ea, objective, [40, 3])
    assert a[:40] == b[:40]  # same sample, same predictor seed
    assert trav.rankings_ == ["traverse"] and ea.rankings_ == ["ea"]
    # the EA finds an architecture with the predictor's best score among the unseen
    # (tree predictors have ties: traversal then takes the lowest index)
    s_t, s_e = trav.predictor_(a[40:]), ea.predictor_(b[40:])
    assert s_e[0] == pytest.approx(s_t[0])
    assert np.all(np.diff(s_e) <= 1e-12) and np.all(np.diff(s_t) <= 1e-12)


def test_iterative_rounds_refit_then_keep_serving_the_last_ranking(space, objective):
    opt = ReNAS(space, init=20, top_k=5, rounds=3, seed=2, **FAST)
    run(opt, objective, [20, 5])
    assert opt._fits == 1
    run(opt, objective, [5, 5])
    assert opt._fits == 3
    run(opt, objective, [5, 7])  # rounds are spent: the last ranking continues
    assert opt._fits == 3
    assert len({space.key(t.arch) for t in opt.trials}) == 47
    endless = ReNAS(space, init=20, top_k=5, rounds=None, seed=2, **FAST)
    run(endless, objective, [20] + [5] * 5)
    assert endless._fits == 5


def test_iterative_mode_improves_on_the_single_round(space, objective, tmp_path):
    from sklearn.linear_model import Ridge

    kw = dict(init=20, top_k=10, seed=3, surrogate=Ridge(alpha=1.0), encoding="onehot")
    single = ReNAS(space, rounds=1, **kw)
    iterative = ReNAS(space, rounds=4, **kw)
    run(single, objective, [20, 10, 10, 10, 10])
    run(iterative, objective, [20, 10, 10, 10, 10])
    best = max(objective(space[i]) for i in range(len(space)))
    assert iterative.best.value > single.best.value
    assert iterative.best.value == pytest.approx(best)
    with pytest.raises(ConfigurationError, match="cannot be saved"):
        iterative.save(str(tmp_path / "ckpt.json"))


def test_pending_failed_and_out_of_order_results(space, objective):
    opt = ReNAS(space, init=12, top_k=4, seed=4, **FAST)
    trials = opt.ask(12)
    extra = opt.ask(2)  # nothing told yet: served at random, no fit
    assert opt._fits == 0 and len({t.arch for t in trials + extra}) == 14
    for i, t in enumerate(reversed(trials)):
        if i % 4 == 0:
            opt.tell(t, failed=True)
        else:
            opt.tell(t, objective(t.arch))
    top = opt.ask(4)  # fitted on the 9 completed results while 2 are still pending
    assert opt._fits == 1
    keys = {space.key(t.arch) for t in trials + extra + top}
    assert len(keys) == 18
    # the tell order does not matter: the training set is taken in trial order
    other = ReNAS(space, init=12, top_k=4, seed=4, **FAST)
    t2 = other.ask(12)
    other.ask(2)
    for i, t in enumerate(t2):
        if (11 - i) % 4 == 0:
            other.tell(t, failed=True)
        else:
            other.tell(t, objective(t.arch))
    assert [t.arch for t in other.ask(4)] == [t.arch for t in top]


def test_too_few_results_fall_back_to_random(space, objective):
    opt = ReNAS(space, init=3, top_k=2, seed=0, **FAST)
    t = opt.ask(3)
    opt.tell(t[0], 1.0)
    opt.tell(t[1], 1.0)  # a single distinct value: nothing to rank
    assert len(opt.ask(2)) == 2 and opt._fits == 0


@pytest.mark.parametrize("ea", [False, True])
def test_save_load_mid_run_continues_identically(space, objective, tmp_path, ea):
    kw = dict(init=15, top_k=4, rounds=3, seed=9, traverse=not ea, generations=30, **FAST)
    opt = ReNAS(space, **kw)
    run(opt, objective, [15, 4, 2])  # mid-round, with the queue half served
    pending = opt.ask(1)[0]
    path = tmp_path / "renas.json"
    opt.save(str(path))
    loaded = nasopt.load(str(path))
    assert isinstance(loaded, ReNAS) and loaded._queue == opt._queue
    for o in (opt, loaded):
        p = next(t for t in o.pending if t.id == pending.id)
        o.tell(p, objective(p.arch))
    a = run(opt, objective, [3, 4, 4])
    b = run(loaded, objective, [3, 4, 4])
    assert a == b and opt._fits == loaded._fits == 3


def test_same_seed_same_trajectory_other_seed_differs(space, objective):
    a = run(ReNAS(space, init=10, top_k=3, rounds=2, seed=11, **FAST), objective, [10, 3, 3])
    b = run(ReNAS(space, init=10, top_k=3, rounds=2, seed=11, **FAST), objective, [10, 3, 3])
    c = run(ReNAS(space, init=10, top_k=3, rounds=2, seed=12, **FAST), objective, [10, 3, 3])
    assert a == b and a != c


def test_minimize_direction(space, objective):
    neg = lambda a: -objective(a)  # noqa: E731
    hi = ReNAS(space, init=20, top_k=5, seed=1, **FAST)
    lo = ReNAS(space, init=20, top_k=5, seed=1, maximize=False, **FAST)
    assert run(hi, objective, [20, 5]) == run(lo, neg, [20, 5])


def test_product_space_uses_the_ea_or_traversal_through_the_protocol():
    space = ProductSpace({f"p{i}": list(range(4)) for i in range(5)},
                         valid=lambda d: d["p0"] != d["p1"])
    f = lambda a: float(sum(a.values()) - 3 * (a["p2"] == 0))  # noqa: E731
    for traverse in (True, False):
        opt = ReNAS(space, init=25, top_k=5, traverse=traverse, generations=40, population=16,
                    seed=0, surrogate="rf", surrogate_options={"n_estimators": 20})
        run(opt, f, [25, 5])
        assert opt.rankings_ == ["traverse" if traverse else "ea"]
        assert all(space.is_valid(t.arch) for t in opt.trials)
        assert opt.best.value >= 10.0


@pytest.mark.parametrize("surrogate, options", [
    ("nn", {"epochs": 100}), ("nn", {"members": 3, "epochs": 100}), ("quadratic", {}),
])
def test_weaknas_numpy_predictors_serve_renas_too(space, objective, surrogate, options):
    from nasopt.surrogates import BatchedMLP, Quadratic

    opt = ReNAS(space, surrogate=surrogate, init=30, top_k=10, ensemble=2, seed=0,
                surrogate_options=options)
    run(opt, objective, [30, 10])
    cls = BatchedMLP if surrogate == "nn" else Quadratic
    assert [type(m) for m in opt.predictor_.models] == [cls, cls]
    assert opt.rankings_ == ["traverse"]
    random_part = [t.value for t in opt.trials[:30]]
    predicted = [t.value for t in opt.trials[30:]]
    assert np.mean(predicted) > np.mean(random_part) + np.std(random_part)
    # every member (a batched model holds several) is standardised on the training set
    members = options.get("members", 1) * 2
    X = opt._featurize([t.arch for t in opt.trials[:30]])
    rows = opt.predictor_.ensemble.predict_members(X)
    assert rows.shape == (members, 30)
    np.testing.assert_allclose(rows.mean(1), 0.0, atol=1e-9)
    np.testing.assert_allclose(rows.std(1), 1.0, rtol=1e-9)
    with pytest.raises(ConfigurationError, match=r"runs on the CPU only \(numpy\)"):
        ReNAS(space, surrogate=surrogate, surrogate_options={"device": "cuda"})


def test_surrogate_seed_belongs_to_the_strategy(space):
    with pytest.raises(ConfigurationError, match="random_state is set per ensemble member"):
        ReNAS(space, surrogate="mlp", encoding="onehot", surrogate_options={"random_state": 3})


@pytest.mark.slow
def test_renas_cnn_default_runs_end_to_end_on_nb201(space, objective):
    """The default (CNN on the 35×4×4 one-hot-type tensors, traversal) and the paper's
    31×4×4 tensor, with few epochs: both fit once and serve the predicted top."""
    opt = ReNAS(space, init=20, top_k=3, seed=0, surrogate_options={"epochs": 3})
    assert opt._encoding == "renas-onehot" and opt.surrogate == "renas"
    run(opt, objective, [20, 3])
    assert opt._fits == 1 and len(opt.completed) == 23
    assert opt.predictor_.models[0].x_mean_.shape == (35, 4, 4)
    paper = ReNAS(space, init=20, top_k=3, seed=0, encoding="renas", surrogate_options={"epochs": 3})
    run(paper, objective, [20, 3])
    assert paper.predictor_.models[0].x_mean_.shape == (31, 4, 4)


@pytest.mark.parametrize("kw", [
    {"top_k": 0}, {"init": 0}, {"init": 15625}, {"rounds": 0}, {"population": 1},
    {"generations": -1}, {"p_select": 1.0}, {"p_crossover": 0, "p_mutation": 0},
    {"traverse": "yes"}, {"ensemble": 0}, {"seed_population": 2.0}, {"surrogate": "nope"},
    {"surrogate": 3}, {"encoding": "nope"}, {"loss": "l1"}, {"surrogate_options": [1]},
    {"surrogate_options": {"no_such_option": 1}},
])
def test_options_are_validated(space, kw):
    with pytest.raises(ConfigurationError):
        ReNAS(space, **kw)


def test_traverse_true_needs_a_finite_space_and_tensors_need_nb_spaces():
    big = ProductSpace({f"p{i}": [0, 1, 2] for i in range(4)}, max_enumerate=10)
    assert not big.is_finite
    with pytest.raises(ConfigurationError, match="finite"):
        ReNAS(big, traverse=True)
    with pytest.raises(ConfigurationError, match="ReNAS tensors"):
        ReNAS(big, encoding="renas")
    opt = ReNAS(big, init=10)  # the CNN falls back to the space's vector encoding
    assert opt._encoding is None and not opt.uses_traversal


def test_data_backed_paper_protocol_beats_random_sample(nb201_cifar100):
    """On the real CIFAR-100 table, the predicted top-10 after 90 random samples contains
    an architecture better than the best of the 90 in most seeds (fast predictor)."""
    bench = nb201_cifar100
    wins = 0
    for seed in range(5):
        opt = ReNAS(bench.space, seed=seed, **FAST)
        sample = run(opt, bench, [90])
        top = run(opt, bench, [10])
        wins += max(bench(a) for a in top) > max(bench(a) for a in sample)
    assert wins >= 3


def test_nb101_space_uses_the_ea_on_renas_tensors():
    """NB101 (not enumerable): the EA searches the CNN on 23×7×7 one-hot-type tensors; every
    proposal is a valid, distinct cell."""
    from nasopt.spaces import nb101

    space = nb101.NB101Space()

    def f(cell):
        return float(sum(o == "conv3x3-bn-relu" for o in cell.ops) - 0.1 * cell.matrix.sum())

    opt = ReNAS(space, init=20, top_k=4, seed=0, population=16, generations=15,
                surrogate_options={"epochs": 3})
    assert opt._encoding == "renas-onehot" and not opt.uses_traversal and opt._init == 20
    assert ReNAS(space, **FAST | {"encoding": None})._init == 424
    run(opt, f, [20, 4])
    assert opt.rankings_ == ["ea"]
    assert all(space.is_valid(t.arch) for t in opt.trials)
    assert len({space.key(t.arch) for t in opt.trials}) == 24


def test_benchmark_writes_its_table(nb201_data, tmp_path):
    from benchmarks import renas as renas_bench

    out = tmp_path / "r"
    renas_bench.main(["--datasets", "cifar100", "--methods", "random", "tpe", "renas-iter",
                      "--seeds", "0-1", "--workers", "1", "--data", str(nb201_data),
                      "--iter", json.dumps({"init": 20, "top_k": 10, "rounds": 2, **FAST}),
                      "--out", str(out)])
    res = read_json(out.with_suffix(".json.gz"))
    assert {r["method"] for r in res["runs"]} == {"random", "tpe", "renas-iter"}
    assert all(r["queries"] == 100 and len(set(r["queried"])) == 100 for r in res["runs"])
    assert "ReNAS (paper)" in out.with_suffix(".md").read_text()
    # reuse: identical runs are taken from the earlier output, not recomputed
    renas_bench.main(["--datasets", "cifar100", "--methods", "random", "--seeds", "0-1",
                      "--workers", "1", "--data", str(nb201_data), "--out", str(out) + "2",
                      "--reuse", str(out.with_suffix(".json.gz"))])
    res2 = read_json(tmp_path / "r2.json.gz")
    assert res2["reused_runs"] == 2
    # runs reused from files older than the "rank" field get it back, and the summary its rate
    old = read_json(out.with_suffix(".json.gz"))
    ranks = {r["seed"]: r.pop("rank") for r in old["runs"] if r["method"] == "random"}
    (tmp_path / "old.json").write_text(json.dumps(old))
    renas_bench.main(["--datasets", "cifar100", "--methods", "random", "--seeds", "0-1",
                      "--workers", "1", "--data", str(nb201_data), "--out", str(out) + "4",
                      "--reuse", str(tmp_path / "old.json")])
    res4 = read_json(tmp_path / "r4.json.gz")
    assert res4["reused_runs"] == 2 and {r["seed"]: r["rank"] for r in res4["runs"]} == ranks
    assert res4["summary"]["random"]["cifar100"]["found_optimum"] == np.mean([k == 0 for k in ranks.values()])
    # --fresh: a method whose defaults changed is rerun even when reusable runs exist
    renas_bench.main(["--datasets", "cifar100", "--methods", "random", "--seeds", "0-1",
                      "--workers", "1", "--data", str(nb201_data), "--out", str(out) + "3",
                      "--reuse", str(out.with_suffix(".json.gz")), "--fresh", "random"])
    assert read_json(tmp_path / "r3.json.gz")["reused_runs"] == 0


def test_reuse_warns_when_two_files_disagree_on_a_run(tmp_path, capsys):
    """Runs are deterministic given their seed: two reuse files that queried different
    architectures for the same run mean the code changed between them. The later file wins,
    and the user is told (a silent pick once brought back runs of an older default)."""
    from benchmarks.renas import _load_reusable

    def output(name: str, queried: dict[int, list[int]]) -> str:
        runs = [{"method": "random", "options": {}, "dataset": "cifar100", "seed": seed,
                 "queried": q} for seed, q in queried.items()]
        path = tmp_path / name
        path.write_text(json.dumps({"space": "nb201", "budget": 100, "runs": runs}))
        return str(path)

    old = output("old.json", {0: [1, 2], 1: [3, 4], 2: [5, 6]})
    new = output("new.json", {0: [1, 2], 1: [7, 8], 2: [9, 10]})
    runs = _load_reusable([old, new])
    assert capsys.readouterr().err == (
        f"warning: 2 run(s) in {new} queried other architectures than the same run(s) in "
        f"{old}; using {new} (a later --reuse file wins)\n")
    assert sorted(r["queried"] for r in runs.values()) == [[1, 2], [7, 8], [9, 10]]
    _load_reusable([old, old])  # the same runs twice: nothing to warn about
    assert capsys.readouterr().err == ""


def test_reuse_reads_a_gzipped_output_like_its_plain_json(tmp_path):
    from benchmarks.renas import _load_reusable

    res = {"space": "nb201", "budget": 100, "runs": [
        {"method": "random", "options": {}, "dataset": "cifar100", "seed": s, "queried": [s, 7]}
        for s in range(3)]}
    write_json(tmp_path / "plain.json", res)
    write_json(tmp_path / "packed.json.gz", res)
    plain = _load_reusable([str(tmp_path / "plain.json")])
    packed = _load_reusable([str(tmp_path / "packed.json.gz")])
    assert plain == packed and len(packed) == 3


def test_objective_rank_counts_the_table_entries_better_than_the_best_queried():
    from benchmarks.renas import objective_rank

    values = np.array([3.0, 1.0, 2.0, 3.0, 0.5])
    assert objective_rank(values, [1, 2]) == 2  # best queried 2.0; 3.0 twice above it
    assert objective_rank(values, [4, 3]) == 0  # a tie with the optimum counts as found
    assert objective_rank(values, [4]) == 4


def test_benchmark_keeps_several_paper_protocol_configurations_apart(nb201_data, tmp_path):
    """Repeated --renas options give one row each, labelled with their options."""
    from benchmarks import renas as renas_bench

    fast = {**FAST, "surrogate_options": {"n_estimators": 10}}
    configs = [fast, {**fast, "init": 80}]
    args = ["--datasets", "cifar100", "--methods", "renas", "--seeds", "0-1", "--workers", "1",
            "--agreement-runs", "0", "--data", str(nb201_data), "--out", str(tmp_path / "p")]
    for c in configs:
        args += ["--renas", json.dumps(c)]
    renas_bench.main(args)
    res = read_json(tmp_path / "p.json.gz")
    assert res["renas_configurations"] == configs
    assert sorted(json.dumps(r["options"], sort_keys=True) for r in res["runs"]) == sorted(
        json.dumps(c, sort_keys=True) for c in configs for _ in range(2))
    assert len(res["summary"]) == 2
    text = (tmp_path / "p.md").read_text()
    for c in configs:
        assert "ReNAS (paper protocol: 90 + top-10, traverse) " + json.dumps(c, sort_keys=True) in text


def test_benchmark_can_search_on_test_accuracy_and_keeps_those_runs_apart(nb201_data, tmp_path):
    from benchmarks import renas as renas_bench
    from nasopt.benchmarks import NB201

    args = ["--datasets", "cifar100", "--methods", "random", "--seeds", "0-1", "--workers", "1",
            "--data", str(nb201_data)]
    renas_bench.main(args + ["--out", str(tmp_path / "valid")])
    renas_bench.main(args + ["--metric", "test", "--out", str(tmp_path / "test"),
                             "--reuse", str(tmp_path / "valid.json.gz")])
    res = read_json(tmp_path / "test.json.gz")
    assert res["metric"] == "test" and res["reused_runs"] == 0  # validation runs are not reused
    assert "search on test accuracy" in (tmp_path / "test.md").read_text()
    bench = NB201("cifar100", path=str(nb201_data))
    for r in res["runs"]:
        queried = np.asarray(r["queried"])
        best = int(queried[np.argmax(bench.test_values[queried])])  # chosen by test accuracy
        assert r["test"] == pytest.approx(bench.test_values[best])
        assert r["valid"] == pytest.approx(bench.values[best])  # reported: its validation accuracy


def test_benchmark_nb101_without_the_table_exits_with_a_message(tmp_path, capsys):
    from benchmarks import renas as renas_bench

    assert renas_bench.main(["--space", "nb101", "--data", str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err


def test_iterative_preset_refits_every_round_and_beats_random_on_an_additive_objective(space, objective):
    """ITERATIVE_OPTIONS (GBRT stumps, 20 random + 8 rounds of 10) fits 8 times in 100 asks
    and, on an objective that is mostly additive over the edges, ends far above random."""
    from nasopt.strategies.renas import ITERATIVE_OPTIONS

    opt = ReNAS(space, seed=3, **ITERATIVE_OPTIONS)
    assert (opt._init, opt.top_k, opt.rounds) == (20, 10, 8)
    archs = run(opt, objective, [20] + [10] * 8)
    assert opt._fits == 8 and opt.rankings_ == ["traverse"] * 8
    values = np.array([objective(space[i]) for i in range(len(space))])
    best = max(objective(a) for a in archs)
    random_best = max(objective(a) for a in archs[:20])
    assert best > random_best
    assert (values > best).sum() <= 10  # within the top 10 of 15,625


# ---------------------------------------------------------------- defaults on small spaces / budgets
SMALL = {"depth": [2, 4, 6, 8], "width": [32, 64, 128, 256], "kernel": [3, 5, 7]}  # 48 members


def small_objective(arch: dict) -> float:
    return arch["depth"] * 0.1 + np.log2(arch["width"]) * 0.2 - abs(arch["kernel"] - 5) * 0.3


@pytest.mark.parametrize("name", ["renas", "renas-iter"])
def test_default_init_is_capped_on_a_small_space(name):
    """The documented cap: the defaults work on a 48-member space (the paper's 90 did not),
    and the run is not random search for its whole length."""
    opt = create(name, ProductSpace(SMALL), seed=0)
    assert 1 <= opt._init < 48 and opt._init == int(opt.init_share * 48)
    archs = run(opt, small_objective, [opt._init, 10])
    assert opt._fits == 1 and len({opt.space.key(a) for a in archs}) == len(archs)


def test_tiny_spaces_still_work_with_the_defaults():
    opt = create("renas", ProductSpace({"a": [0, 1]}), seed=0, **FAST)
    assert opt._init == 1
    assert len(run(opt, lambda a: float(a["a"]), [1, 1])) == 2


def test_explicit_init_that_leaves_nothing_to_predict_is_refused():
    with pytest.raises(ConfigurationError, match=r"init \(48\) must be smaller than the space \(48\)"):
        create("renas", ProductSpace(SMALL), init=48)
    with pytest.raises(ConfigurationError, match=r"init \(60\) must be smaller than budget \(50\)"):
        create("renas", NB201Space(), init=60, budget=50, **FAST)


def test_budget_hint_scales_the_default_init(space):
    assert create("renas", space, seed=0, **FAST)._init == 90  # no hint: the paper's 90
    assert create("renas", space, seed=0, budget=50, **FAST)._init == 30
    assert create("renas", space, seed=0, budget=1000, **FAST)._init == 90
    assert create("renas", space, seed=0, budget=50, init=30, **FAST)._init == 30
    assert create("renas-iter", space, seed=0, budget=30)._init == 12
    with pytest.raises(ConfigurationError, match=r"budget must be an integer >= 1, got 0"):
        create("renas", space, budget=0, **FAST)


@pytest.mark.parametrize("options", [
    {"surrogate_options": {"device": "cuda"}},  # the ReNAS CNN
    {"surrogate": "mlp", "encoding": "onehot", "surrogate_options": {"device": "cuda:0"}},
    {"surrogate": "gbrt", "encoding": "onehot", "surrogate_options": {"device": "cuda"}},
])
def test_cuda_without_cuda_fails_when_the_optimizer_is_built(space, monkeypatch, options):
    from nasopt.surrogates import _common

    monkeypatch.setattr(_common, "cuda_available", lambda: False)
    with pytest.raises(ConfigurationError, match=r"device='cuda(:0)?' was requested but CUDA is not available"):
        ReNAS(space, seed=0, **options)


# ---------------------------------------------------------------- the "renas-iter" recipe
def test_renas_iter_is_the_iterative_recipe_by_name(space, objective):
    from nasopt.strategies.renas import ITERATIVE_OPTIONS, IterativeReNAS

    assert "renas-iter" in nasopt.available_strategies()
    by_name = create("renas-iter", space, seed=4)
    by_hand = ReNAS(space, seed=4, **ITERATIVE_OPTIONS)
    assert isinstance(by_name, IterativeReNAS) and by_name.name == "renas-iter"
    # the same configuration: the recipe's options, and its init as the default
    assert {**by_name.get_params(), "init": by_name._init} == {**by_hand.get_params(), "init": by_hand._init}
    assert run(by_name, objective, [20, 10, 10]) == run(by_hand, objective, [20, 10, 10])
    assert create("renas-iter", space, seed=4, rounds=3, top_k=5).rounds == 3  # options override


def test_renas_iter_round_trips_through_a_checkpoint_and_a_journal(space, objective, tmp_path):
    from nasopt.strategies.renas import IterativeReNAS

    opt = create("renas-iter", space, seed=7)
    run(opt, objective, [20, 5])
    opt.save(str(tmp_path / "run.json"))
    assert json.loads((tmp_path / "run.json").read_text())["strategy"] == "renas-iter"
    loaded = nasopt.load(str(tmp_path / "run.json"))
    assert isinstance(loaded, IterativeReNAS)
    assert run(loaded, objective, [5, 10]) == run(opt, objective, [5, 10])

    journal = str(tmp_path / "run.jsonl")
    with create("renas-iter", space, seed=7, journal=journal) as j:
        first = run(j, objective, [20, 5])
    with nasopt.load(journal) as again:
        assert isinstance(again, IterativeReNAS) and [t.arch for t in again.trials] == first


def test_renas_iter_from_the_cli_and_the_optuna_and_ray_adapters(nb201_data, capsys):
    from nasopt.cli import main

    assert main(["search", "--strategy", "renas-iter", "--budget", "25", "--batch", "5",
                 "--data", str(nb201_data), "--quiet"]) == 0
    assert main(["strategies"]) == 0 and "renas-iter" in capsys.readouterr().out
    space = NB201Space()
    optuna = pytest.importorskip("optuna")
    from nasopt.integrations.optuna import NASSampler

    sampler = NASSampler(space, "renas-iter", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda trial: float(sampler.suggest_arch(trial).count("conv_3x3")), n_trials=3)
    assert type(sampler.optimizer(study)).name == "renas-iter"
    pytest.importorskip("ray")
    from nasopt.integrations.ray import NASSearch

    assert NASSearch(space, "renas-iter", mode="max", seed=0).optimizer.name == "renas-iter"


@pytest.mark.parametrize("surrogate", ["gbrt", "mlp", "rf"])
def test_finite_values_near_the_float64_limit_keep_asks_working(surrogate):
    """±1e308 among ordinary results: the targets are rescaled (exactly, by a power of two)
    before the fit instead of overflowing (XGBoost refused the labels; the others ranked NaNs)."""
    space = ProductSpace({f"p{i}": list(range(4)) for i in range(6)})
    opt = ReNAS(space, seed=0, surrogate=surrogate, init=8, top_k=4, rounds=None,
                surrogate_options={"n_estimators": 20} if surrogate != "mlp" else {"epochs": 20})
    extreme = [1e308, -1e308, 1.7976931348623157e308, -1.7976931348623157e308]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow in the targets
        for r in range(5):
            for k, t in enumerate(opt.ask(4)):
                opt.tell(t, extreme[(r + k) % 4] if k % 2 == 0 else float(sum(t.arch.values())))
    assert len(opt.trials) == 20 and opt.best.value == extreme[2] and opt._fits >= 2


def test_a_predictor_giving_non_finite_scores_is_a_numeric_error(monkeypatch):
    from nasopt.core.errors import NumericalError
    from nasopt.surrogates.trees import GBRT

    space = ProductSpace({f"p{i}": list(range(4)) for i in range(6)})
    opt = ReNAS(space, seed=0, init=8, top_k=4, **{k: v for k, v in FAST.items() if k != "encoding"})
    for t in opt.ask(8):
        opt.tell(t, float(sum(t.arch.values())))
    monkeypatch.setattr(GBRT, "predict", lambda self, X: np.full(len(X), np.nan))
    with pytest.raises(NumericalError, match="non-finite scores"):
        opt.ask()
    assert len(opt.trials) == 8
