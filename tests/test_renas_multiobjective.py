"""ReNAS with several objectives and told constraints: one predictor per objective, the EA's
NSGA-II selection, the served top-k spread along the predicted front, Deb's rule on a
feasibility predictor (issue 21)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import nasopt
from nasopt.core.pareto import hypervolume, nondominated_mask
from nasopt.spaces import NB201Space
from nasopt.strategies.ea import evolve, pareto_ranking, spread_order
from nasopt.strategies.renas import feasibility_threshold

SPACE = NB201Space()
#: The EA path (no traversal) with a small, fast predictor.
EA = {"surrogate": "gbrt", "init": 20, "top_k": 10, "rounds": None, "traverse": False,
      "population": 32, "generations": 20, "surrogate_options": {"n_estimators": 20}}


def evaluate(arch) -> tuple[float, float]:
    """Two conflicting objectives (accuracy, latency), as in test_multiobjective.py:
    convolutions raise both, a 3x3 more than a 1x1, and a hash adds noise."""
    h = zlib.crc32(SPACE.key(arch).encode())
    c3, c1 = arch.count("nor_conv_3x3"), arch.count("nor_conv_1x1")
    acc = 0.12 * c3 + 0.07 * c1 + (h % 1000) / 10000
    return acc, 1.0 * c3 + 0.3 * c1 + ((h // 1000) % 100) / 200


def run(opt, n: int, constraint=None):
    while len(opt.completed) < n:
        for t in opt.ask(5):
            acc, lat = evaluate(t.arch)
            opt.tell(t, [acc, lat], constraints=None if constraint is None else [constraint(t.arch)])
    return opt


def front_hv(opt) -> float:
    """Hypervolume of the front found (accuracy up, latency down; reference: accuracy 0,
    latency 7, beyond any cell's)."""
    pts = np.array([[t.values[0], 7.0 - t.values[1]] for t in opt.pareto_front])
    return hypervolume(pts)


@pytest.mark.parametrize("name, options", [("renas-iter", {}), ("renas", EA)],
                         ids=["traverse", "ea"])
def test_multi_objective_renas_finds_a_better_front_than_random(name, options):
    seeds = range(5)
    renas = [front_hv(run(nasopt.create(name, SPACE, seed=s, objectives=["max", "min"],
                                        **options), 60)) for s in seeds]
    rnd = [front_hv(run(nasopt.create("random", SPACE, seed=s, objectives=["max", "min"]), 60))
           for s in seeds]
    assert np.mean(renas) > np.mean(rnd), (renas, rnd)
    assert sum(a > b for a, b in zip(renas, rnd)) >= 4, (renas, rnd)


def test_each_objective_gets_its_own_predictor_and_the_ranking_is_the_predicted_front():
    opt = run(nasopt.create("renas-iter", SPACE, seed=0, objectives=["max", "min"]), 20)
    served = opt.ask(10)
    scorer = opt.predictor_
    assert len(scorer.scorers) == 2 and all(s is not None for s in scorer.scorers)
    pred = scorer([t.arch for t in served])
    assert pred.shape == (10, 2)
    # the served top-k lie on the predicted first front of the unseen architectures
    unseen = [a for a in (SPACE[i] for i in range(len(SPACE)))
              if SPACE.key(a) not in {SPACE.key(t.arch) for t in opt.completed}]
    allpred = scorer(unseen)
    front = allpred[nondominated_mask(allpred)]
    on_front = [any(np.allclose(p, q) for q in front) for p in pred]
    assert sum(on_front) >= min(10, len(front)), (sum(on_front), len(front))


def test_the_served_top_k_spans_the_predicted_front_from_end_to_end():
    # a front of 50 points on a quarter circle: the first 5 served include both ends and
    # are spread (no two closer than a tenth of the front's length)
    t = np.linspace(0, np.pi / 2, 50)
    front = np.column_stack([np.cos(t), np.sin(t)])
    dominated = front * 0.5
    scores = np.concatenate([dominated, front])
    order = pareto_ranking(scores, limit=60)
    first = order[:5]
    assert set(first) >= {50, 99} and all(i >= 50 for i in first)
    gaps = np.linalg.norm(scores[first][:, None] - scores[first][None], axis=-1)
    assert gaps[~np.eye(5, dtype=bool)].min() > (np.pi / 2) / 10
    assert set(order[:50]) == set(range(50, 100)) and set(order[50:]) <= set(range(50))
    assert list(spread_order(front)[:2]) == [0, 49]  # the best on the first objective first


def test_pareto_ranking_puts_predicted_infeasible_candidates_last_by_violation():
    scores = np.array([[3.0, 3.0], [1.0, 1.0], [2.0, 0.0], [0.0, 2.0]])
    violation = np.array([2.0, 0.0, 1.0, 0.0])
    assert list(pareto_ranking(scores, violation)) == [1, 3, 2, 0]
    assert list(pareto_ranking(scores, violation, skip=lambda i: i == 3)) == [1, 2, 0]


def test_multi_objective_ea_keeps_the_nsga2_survivors_and_ranks_its_front_first():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(len(SPACE), 2))

    def fitness(archs):
        return table[[SPACE.index(a) for a in archs]]

    res = evolve(SPACE, fitness, np.random.default_rng(1), population=16, generations=10)
    assert res.scores.shape[1] == 2 and res.best_history.shape == (10, 2)
    assert np.all(np.diff(res.best_history, axis=0) >= 0)  # elitist on each objective
    top = res.ranking(limit=5)
    front = res.scores[nondominated_mask(res.scores)]
    for a in top[:min(5, len(front))]:
        assert any(np.allclose(table[SPACE.index(a)], q) for q in front)


def test_a_learned_constraint_steers_single_objective_renas_to_feasible_architectures():
    """Maximise the number of 3x3 convolutions subject to at most two of them (told after
    evaluation): once infeasible results are in, the predicted top-k must be mostly feasible
    (the unconstrained ranking would serve the all-3x3 cells first)."""
    opt = nasopt.create("renas", SPACE, seed=0, **{**EA, "traverse": True})
    while len(opt.completed) < 20:
        for t in opt.ask(5):
            c3 = t.arch.count("nor_conv_3x3")
            opt.tell(t, c3 + zlib.crc32(t.key.encode()) % 100 / 1000, constraints=[c3 - 2.0])
    assert any(t.violation > 0 for t in opt.completed)
    served = opt.ask(10)
    count = sum(t.arch.count("nor_conv_3x3") <= 2 for t in served)
    assert count >= 8, [t.arch.count("nor_conv_3x3") for t in served]
    # among the feasible, the predictor still prefers more 3x3 convolutions
    assert np.mean([t.arch.count("nor_conv_3x3") for t in served]) > 1.2


@pytest.mark.parametrize("traverse", [True, False], ids=["traverse", "ea"])
def test_renas_serves_the_region_above_the_median_predicted_quality_by_default(traverse):
    """``reference="auto"``: after a fit, every served architecture is predicted at least
    as accurate as the space's median (the EA path sets its median from 1,000 uniform
    samples: a little slack); with ``reference=None`` the served spread below it too."""
    space = [SPACE[i] for i in range(len(SPACE))]

    def served_quantiles(reference, seed):
        opt = run(nasopt.create("renas", SPACE, seed=seed, objectives=["max", "min"],
                                reference=reference, **{**EA, "traverse": traverse}), 30)
        served = opt.ask(10)
        quality = opt.predictor_(space)[:, 0]
        mine = opt.predictor_([t.arch for t in served])[:, 0]
        return (quality[:, None] < mine[None, :]).mean(axis=0)  # each one's quantile

    floor = 0.5 if traverse else 0.45
    for seed in range(3):
        assert served_quantiles("auto", seed).min() >= floor - 1e-9
    assert min(served_quantiles(None, seed).min() for seed in range(3)) < 0.4


@pytest.mark.parametrize("traverse", [True, False])
def test_multi_objective_renas_serves_mostly_feasible_architectures_under_a_told_constraint(traverse):
    """Latency at most 2 (accuracy and latency both grow with convolutions): after a fit,
    the served top-k are mostly predicted feasible, unlike the unconstrained front. Without a
    region of interest: the default's (6 of 10 feasible here) pulls them towards the
    feasible boundary, where the most accurate feasible cells are."""
    opt = nasopt.create("renas", SPACE, seed=1, objectives=["max", "min"], reference=None,
                        **{**EA, "traverse": traverse})
    run(opt, 30, constraint=lambda a: evaluate(a)[1] - 2.0)
    served = opt.ask(10)
    feasible = sum(evaluate(t.arch)[1] <= 2.0 for t in served)
    assert feasible >= 7, [evaluate(t.arch) for t in served]


def test_feasibility_threshold_separates_feasible_from_infeasible_scores():
    s = np.array([0.1, 0.5, 0.2, 0.9, 0.8, 0.3])
    ok = np.array([False, True, False, True, True, False])
    assert feasibility_threshold(s, ok) == pytest.approx(0.4)
    assert feasibility_threshold(s, np.ones(6, bool)) == pytest.approx(0.1)
    assert feasibility_threshold(s, np.zeros(6, bool)) == np.inf
    assert feasibility_threshold(np.array([1.0, 1.0, 2.0]), np.array([False, True, True])) == 1.5


@pytest.mark.parametrize("reference", [None, "auto"])
def test_multi_objective_renas_is_deterministic_and_persists(tmp_path, reference):
    kw = dict(seed=3, objectives=["max", "min"], reference=reference, **EA)
    a = run(nasopt.create("renas", SPACE, **kw), 30, constraint=lambda x: evaluate(x)[1] - 3.0)
    half = run(nasopt.create("renas", SPACE, **kw), 15, constraint=lambda x: evaluate(x)[1] - 3.0)
    half.save(str(tmp_path / "r.ckpt"))
    b = run(nasopt.load(str(tmp_path / "r.ckpt"), space=SPACE), 30,
            constraint=lambda x: evaluate(x)[1] - 3.0)
    assert [(t.arch, t.values) for t in a.trials] == [(t.arch, t.values) for t in b.trials]
    assert [t.arch for t in a.ask(10)] == [t.arch for t in b.ask(10)]


def test_pareto_ranking_skips_a_whole_front_of_seen_candidates():
    scores = np.array([[2.0, 2.0], [1.0, 1.0], [0.0, 0.0]])
    assert list(pareto_ranking(scores, skip=lambda i: i == 0)) == [1, 2]
    assert list(pareto_ranking(np.zeros((0, 2)))) == []
    assert list(spread_order(np.zeros((0, 2)))) == []


def test_front_order_first_serves_each_front_by_its_first_objective():
    t = np.linspace(0, np.pi / 2, 20)
    front = np.column_stack([np.cos(t), np.sin(t)])
    assert list(pareto_ranking(front, front_order="first")) == list(range(20))
    opt = nasopt.create("renas-iter", SPACE, seed=0, objectives=["max", "min"], front_order="first")
    run(opt, 20)
    served = opt.ask(10)
    pred = opt.predictor_([t.arch for t in served])
    assert np.all(np.diff(pred[:, 0]) <= 0), pred  # the predicted front, most accurate first
    with pytest.raises(nasopt.ConfigurationError, match="front_order must be one of"):
        nasopt.create("renas", SPACE, front_order="middle")


def test_a_single_column_fitness_is_one_objective_in_the_ea():
    rng = np.random.default_rng(0)
    table = rng.normal(size=len(SPACE))

    def flat(archs):
        return table[[SPACE.index(a) for a in archs]]

    def column(archs):
        return flat(archs)[:, None]

    a = evolve(SPACE, flat, np.random.default_rng(1), population=8, generations=5)
    b = evolve(SPACE, column, np.random.default_rng(1), population=8, generations=5)
    assert a.keys == b.keys and b.scores.ndim == 1 and a.ranking(limit=5) == b.ranking(limit=5)
    with pytest.raises(nasopt.ConfigurationError, match="front_order must be one of"):
        pareto_ranking(np.zeros((3, 2)), front_order="middle")
