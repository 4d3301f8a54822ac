"""Several objectives, constraints and the Pareto front (issue 21's foundation): the API of
the Optimizer base, the non-dominated sort of nasopt/core/pareto.py, persistence (checkpoint,
journal, SIGKILL) and the multi-objective REA."""

from __future__ import annotations

import os
import signal
import zlib

import numpy as np
import pytest

import nasopt
from nasopt.core.errors import ConfigurationError, SpaceExhaustedError, TrialError
from nasopt.core.pareto import (
    constrained_ranks, crowding_distance, nondominated_mask, nondominated_ranks, selection_order,
)
from nasopt.persist import checkpoint as persistence
from nasopt.spaces import NB201Space
from nasopt.spaces.product import ProductSpace
from nasopt.testing import registered_strategies

SPACE = NB201Space()
OBJ = {"acc": "max", "latency": "min"}
#: Each registered strategy with the conformance suite's small budgets.
SMALL = {f.name: f.options for f in registered_strategies()}


def evaluate(arch) -> tuple[float, float]:
    """Two conflicting objectives (accuracy, latency): convolutions raise both, a 3x3 more
    than a 1x1, and a hash of the architecture adds noise."""
    h = zlib.crc32(SPACE.key(arch).encode())
    c3, c1 = arch.count("nor_conv_3x3"), arch.count("nor_conv_1x1")
    acc = 0.12 * c3 + 0.07 * c1 + (h % 1000) / 10000
    return acc, 1.0 * c3 + 0.3 * c1 + ((h // 1000) % 100) / 200


def brute_front(points: np.ndarray) -> np.ndarray:
    dom = np.all(points[:, None] >= points[None], -1) & np.any(points[:, None] > points[None], -1)
    return ~dom.any(axis=0)


def records(opt) -> list[tuple]:
    """What a run recorded, without the run token and the timestamps."""
    return [(t.id, t.arch, t.state, t.values, t.constraints) for t in opt.trials]


def run(opt, n: int, batch: int = 1, constrained: bool = False):
    while sum(t.is_complete for t in opt.trials) < n:
        for t in opt.ask(batch):
            acc, lat = evaluate(t.arch)
            opt.tell(t, [acc, lat], constraints=[lat - 4.0] if constrained else None)
    return opt


# ------------------------------------------------------------------ pareto module
@pytest.mark.parametrize("m", [1, 2, 3])
def test_nondominated_mask_and_ranks_match_brute_force(m):
    rng = np.random.default_rng(m)
    pts = np.round(rng.random((300, m)), 1)  # rounding makes ties and duplicates
    assert (nondominated_mask(pts) == brute_front(pts)).all()
    ranks = nondominated_ranks(pts)
    left = np.ones(len(pts), bool)
    for front in range(ranks.max() + 1):
        idx = np.flatnonzero(left)
        expected = idx[brute_front(pts[idx])]
        assert set(np.flatnonzero(ranks == front)) == set(expected)
        left[expected] = False
    assert not left.any()


def test_crowding_distance_is_infinite_at_the_extremes_and_ranks_spacing():
    pts = np.array([[0.0, 4.0], [1.0, 3.0], [1.2, 2.8], [3.0, 1.0], [4.0, 0.0]])
    ranks = nondominated_ranks(pts)
    assert (ranks == 0).all()
    d = crowding_distance(pts, ranks)
    assert np.isinf(d[0]) and np.isinf(d[4])
    assert d[3] > d[1] > 0 and d[3] > d[2]  # the lonely point is the least crowded


def test_constrained_ranks_put_every_infeasible_point_behind_the_feasible_ones():
    pts = np.array([[1.0, 1.0], [0.0, 0.0], [5.0, 5.0], [6.0, 6.0]])
    violation = np.array([0.0, 0.0, 2.0, 1.0])
    ranks = constrained_ranks(pts, violation)
    assert list(ranks) == [0, 1, 3, 2]
    assert list(selection_order(pts, violation)) == [0, 1, 3, 2]


# ------------------------------------------------------------------ options
@pytest.mark.parametrize("objectives", [["max", "min"], ("maximize", "minimize"), OBJ])
def test_objectives_option_is_accepted_by_every_baseline_and_kept_unchanged(objectives):
    for name in ("random", "rea"):
        opt = nasopt.create(name, SPACE, seed=0, objectives=objectives)
        assert opt.n_objectives == 2
        assert opt.get_params()["objectives"] == objectives
        assert opt.maximize is None and opt.direction is None


def test_one_objective_given_by_objectives_is_the_plain_direction():
    a = nasopt.create("rea", SPACE, seed=4, objectives=["min"], population=4, tournament=2)
    b = nasopt.create("rea", SPACE, seed=4, maximize=False, population=4, tournament=2)
    for _ in range(20):
        ta, tb = a.ask(), b.ask()
        assert ta.arch == tb.arch
        a.tell(ta, evaluate(ta.arch)[1])
        b.tell(tb, evaluate(tb.arch)[1])
    assert a.best.id == b.best.id and a.best.value == min(t.value for t in a.trials)
    assert a.best.values == (a.best.value,)
    front = a.pareto_front  # every trial tied with the best
    assert front[0].id == a.best.id and {t.value for t in front} == {a.best.value}


# ------------------------------------------------------------------ tell and the front
def test_tell_takes_a_sequence_an_array_or_a_dict_by_name():
    opt = nasopt.create("random", SPACE, seed=0, objectives=OBJ)
    t1, t2, t3 = opt.ask(3)
    d1 = opt.tell(t1, [0.9, 3.0])
    d2 = opt.tell(t2, np.array([0.8, 2.0]))
    d3 = opt.tell(t3, {"latency": 1.0, "acc": np.float32(0.5)})
    assert (d1.values, d2.values, d3.values) == ((0.9, 3.0), (0.8, 2.0), (0.5, 1.0))
    assert d1.value is None and d1.is_complete and d1.feasible


def test_pareto_front_is_the_non_dominated_feasible_trials():
    opt = run(nasopt.create("random", SPACE, seed=2, objectives=OBJ), 120, constrained=True)
    done = opt.completed
    feasible = [t for t in done if t.feasible]
    assert 0 < len(feasible) < len(done)  # the constraint bites
    pts = np.array([[t.values[0], -t.values[1]] for t in feasible])
    expected = [t.id for t, keep in zip(feasible, brute_front(pts)) if keep]
    assert [t.id for t in opt.pareto_front] == expected
    assert all(t.feasible for t in opt.pareto_front)
    with pytest.raises(ConfigurationError, match="use opt.pareto_front"):
        opt.best


def test_an_infeasible_result_is_recorded_but_never_best():
    opt = nasopt.create("random", SPACE, seed=0)
    good, better = opt.ask(2)
    opt.tell(good, 0.5, constraints=[-1.0, 0.0])
    done = opt.tell(better, 0.9, constraints=[0.5, -1.0])
    assert done.constraints == (0.5, -1.0) and not done.feasible and done.violation == 0.5
    assert opt.best.id == good.id
    assert [t.id for t in opt.pareto_front] == [good.id]


def test_an_optimizer_whose_results_all_violate_has_no_best_and_an_empty_front():
    opt = nasopt.create("random", SPACE, seed=0, objectives=["max", "min"])
    opt.tell(opt.ask(), [1.0, 1.0], constraints=[1.0])
    assert opt.pareto_front == []


# ------------------------------------------------------------------ constraints before evaluation
def _small_params(arch) -> float:
    """Feasible when the cell has at most 2 convolutions (a parameter budget)."""
    return arch.count("conv") - 2.0


@pytest.mark.parametrize("name", sorted(SMALL))
def test_no_strategy_proposes_an_infeasible_architecture(name):
    opt = nasopt.create(name, SPACE, seed=1, constraints=[_small_params], **SMALL[name])
    for _ in range(8):
        for t in opt.ask(4):
            assert _small_params(t.arch) <= 0, t.arch
            opt.tell(t, evaluate(t.arch)[0])


@pytest.mark.parametrize("name", sorted(SMALL))
def test_a_constraint_function_runs_once_per_architecture_across_asks(name):
    """Known-before feasibility is cached per canonical key for the whole run: a strategy
    that proposes an infeasible cell again (a mutation, a refit's top) costs no second
    call. Reassigning ``opt.constraints`` forgets the cache: the new function is asked."""
    calls: dict[str, int] = {}

    def counted(arch) -> float:
        calls[arch] = calls.get(arch, 0) + 1
        return _small_params(arch)

    opt = nasopt.create(name, SPACE, seed=1, constraints=[counted], **SMALL[name])
    for _ in range(12):
        for t in opt.ask(4):
            opt.tell(t, evaluate(t.arch)[0])
    most = max(calls.items(), key=lambda kv: kv[1])
    assert most[1] == 1, f"{most[0]} checked {most[1]} times"
    opt.constraints = [lambda arch: -1.0 if arch.count("conv") <= 1 else 1.0]
    assert all(t.arch.count("conv") <= 1 for t in opt.ask(4))


def test_a_finite_space_says_when_nothing_feasible_is_left_and_stays_unchanged():
    space = ProductSpace({"a": [0, 1, 2, 3], "b": ["x", "y"]})
    opt = nasopt.create("random", space, seed=0, constraints=[lambda arch: arch["a"] - 1.5])
    got = [t.arch for t in opt.ask(4)]
    assert sorted((x["a"], x["b"]) for x in got) == [(0, "x"), (0, "y"), (1, "x"), (1, "y")]
    before = persistence.state_dict(opt)
    with pytest.raises(SpaceExhaustedError, match="no feasible architecture left"):
        opt.ask()
    assert persistence.state_dict(opt) == before


def test_constraint_filtering_is_deterministic_per_seed():
    runs = [[t.arch for t in run(nasopt.create("rea", SPACE, seed=7, population=5,
                                               objectives=["max", "min"],
                                               constraints=[_small_params]), 40).trials]
            for _ in range(2)]
    assert runs[0] == runs[1]


# ------------------------------------------------------------------ persistence
def test_checkpoint_keeps_values_constraints_and_objectives(tmp_path):
    opt = run(nasopt.create("rea", SPACE, seed=3, objectives=OBJ, population=5), 30,
              constrained=True)
    opt.ask(2)
    path = tmp_path / "run.ckpt"
    opt.save(path)
    back = nasopt.load(path)
    assert records(back) == records(opt) and back.objectives == OBJ
    assert [t.id for t in back.pareto_front] == [t.id for t in opt.pareto_front]
    for a, b in zip(back.ask(4), opt.ask(4)):
        assert a.arch == b.arch


def test_journal_reopened_continues_a_constrained_multi_objective_run(tmp_path):
    path = tmp_path / "run.jsonl"
    opts = dict(seed=5, objectives=OBJ, population=5, constraints=[_small_params])
    with nasopt.create("rea", SPACE, journal=path, **opts) as opt:
        run(opt, 20, batch=3, constrained=True)
        pending = [t.arch for t in opt.ask(2)]
    ref = run(nasopt.create("rea", SPACE, **opts), 20, batch=3, constrained=True)
    assert [t.arch for t in ref.ask(2)] == pending
    with nasopt.create("rea", SPACE, journal=path, **opts) as back:
        assert records(back) == records(ref)
        for t in back.pending:
            ref_t = next(r for r in ref.pending if r.id == t.id)
            acc, lat = evaluate(t.arch)
            back.tell(t, [acc, lat], constraints=[lat - 4.0])
            ref.tell(ref_t, [acc, lat], constraints=[lat - 4.0])
        assert [t.arch for t in back.ask(3)] == [t.arch for t in ref.ask(3)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks and sends SIGKILL (POSIX only)")
def test_multi_objective_journal_survives_sigkill_and_resumes_identically(tmp_path):
    path = str(tmp_path / "killed.jsonl")
    opts = dict(seed=11, objectives=OBJ, population=5)

    def loop(opt, stop_after=None):
        calls = 0
        while sum(not t.is_pending for t in opt.trials) < 30:
            pending = opt.pending or opt.ask(3)
            calls += 1
            for t in pending:
                if calls == stop_after:
                    os.kill(os.getpid(), signal.SIGKILL)
                acc, lat = evaluate(t.arch)
                opt.tell(t, [acc, lat], constraints=[lat - 4.0])
                calls += 1

    for stop in (2, 9, 17, None):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                opt = nasopt.create("rea", SPACE, journal=path, **opts)
                loop(opt, stop)
                opt.close()
            except BaseException:  # noqa: BLE001
                code = 3
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        if stop is None:
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        else:
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    resumed = nasopt.load(path, space=SPACE)
    ref = nasopt.create("rea", SPACE, **opts)
    loop(ref)
    assert records(resumed) == records(ref)
    assert [t.id for t in resumed.pareto_front] == [t.id for t in ref.pareto_front]
    resumed.close()


# ------------------------------------------------------------------ REA selection
def test_multi_objective_rea_breeds_from_the_nsga2_winner():
    """With the tournament as large as the population, every parent is the member first in
    NSGA-II's order, so every child is one mutation away from it."""
    opt = nasopt.create("rea", SPACE, seed=0, objectives=["max", "min"], population=4,
                        tournament=4)
    for t in opt.ask(4):
        opt.tell(t, evaluate(t.arch))
    pop = opt.completed
    scores = np.array([[t.values[0], -t.values[1]] for t in pop])
    winner = pop[int(np.argmin(selection_order(scores)))]
    edges = winner.arch.replace("+", "").strip("|").split("|")
    for child in opt.ask(5):
        diff = sum(a != b for a, b in zip(edges, child.arch.replace("+", "").strip("|").split("|")))
        assert diff == 1, (winner.arch, child.arch)


def test_multi_objective_rea_finds_a_better_front_than_random():
    """Hypervolume (reference: accuracy 0, latency 7, beyond any cell's) of the front after 150 queries, mean
    over 6 seeds: REA's selection by rank and crowding must beat uniform sampling."""
    def hv(opt):
        pts = sorted((t.values for t in opt.pareto_front), key=lambda v: v[1])
        area, best_acc = 0.0, 0.0
        for (acc, lat), nxt in zip(pts, [p[1] for p in pts[1:]] + [7.0]):
            best_acc = max(best_acc, acc)
            area += best_acc * (nxt - lat)
        return area

    rea = np.mean([hv(run(nasopt.create("rea", SPACE, seed=s, objectives=["max", "min"]), 150))
                   for s in range(6)])
    rnd = np.mean([hv(run(nasopt.create("random", SPACE, seed=s, objectives=["max", "min"]),
                          150)) for s in range(6)])
    assert rea > rnd, (rea, rnd)


def test_optimize_drives_a_multi_objective_run():
    opt = nasopt.create("rea", SPACE, seed=0, objectives=["max", "min"], population=4)
    nasopt.optimize(evaluate, opt, n_trials=12, n_parallel=2)
    assert len(opt.completed) == 12 and all(len(t.values) == 2 for t in opt.completed)
    assert opt.pareto_front


def test_the_table_has_a_column_per_objective_and_constraint(tmp_path):
    import csv

    opt = nasopt.create("random", SPACE, seed=0, objectives=OBJ)
    opt.tell(opt.ask(), [0.9, 3.0], constraints=[-1.0])
    opt.tell(opt.ask(), failed=True)
    path = tmp_path / "run.csv"
    opt.to_csv(path)
    rows = list(csv.DictReader(open(path)))
    assert (rows[0]["value"], rows[0]["values_acc"], rows[0]["values_latency"],
            rows[0]["constraints_0"]) == ("", "0.9", "3.0", "-1.0")
    assert rows[1]["values_acc"] == ""
    assert "values=(0.9, 3.0)" in repr(opt.trials[0])
    plain = nasopt.create("random", SPACE, seed=0)
    assert "values" not in repr(plain.tell(plain.ask(), 1.0))


def test_single_objective_rea_never_breeds_from_an_infeasible_result_when_a_feasible_one_exists():
    opt = nasopt.create("rea", SPACE, seed=0, population=4, tournament=4)
    trials = opt.ask(4)
    for i, t in enumerate(trials):  # the two best values violate the constraint
        opt.tell(t, float(i), constraints=[1.0 if i >= 2 else -1.0])
    assert opt.best.id == trials[1].id
    parent = trials[1].arch.replace("+", "").strip("|").split("|")
    for child in opt.ask(4):
        edges = child.arch.replace("+", "").strip("|").split("|")
        assert sum(a != b for a, b in zip(parent, edges)) == 1


@pytest.mark.parametrize("name", sorted(SMALL))
def test_a_journaled_run_with_constraint_functions_continues_identically(tmp_path, name):
    """The proposals an ask() filtered out are not state: a reopened journal proposes what
    the uninterrupted run proposes."""
    path = tmp_path / "run.jsonl"
    opts = dict(seed=2, constraints=[_small_params], **SMALL[name])

    def step(opt, rounds):
        for _ in range(rounds):
            for t in opt.ask(3):
                opt.tell(t, evaluate(t.arch)[0])

    with nasopt.create(name, SPACE, journal=path, **opts) as opt:
        step(opt, 4)
    ref = nasopt.create(name, SPACE, **opts)
    step(ref, 4)
    with nasopt.create(name, SPACE, journal=path, **opts) as back:
        step(back, 2)
        step(ref, 2)
        assert records(back) == records(ref)
        assert all(_small_params(t.arch) <= 0 for t in back.trials)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_a_constraint_function_that_raises_leaves_every_strategy_unchanged(name):
    calls = []

    def flaky(arch):  # fine for a while, then the lookup table lacks an entry
        calls.append(arch)
        if len(calls) > 12:
            raise KeyError("no latency measured")
        return -1.0

    opt = nasopt.create(name, SPACE, seed=0, constraints=[flaky], **SMALL[name])
    for t in opt.ask(3) + opt.ask(3):
        opt.tell(t, evaluate(t.arch)[0])
    before = persistence.state_dict(opt)
    with pytest.raises(ConfigurationError, match=r"constraint function .*flaky raised KeyError: "
                                                 r"'no latency measured' on architecture '\|"):
        for _ in range(10):
            opt.ask(3)
            before = persistence.state_dict(opt)
    assert persistence.state_dict(opt) == before


# ------------------------------------------------------------------ hypervolume
def test_hypervolume_of_a_2d_staircase_is_the_union_of_its_boxes():
    from nasopt.core.pareto import hypervolume
    pts = np.array([[3.0, 1.0], [2.0, 2.0], [1.0, 3.0], [1.5, 1.5]])  # the last is dominated
    # boxes [0,3]x[0,1] ∪ [0,2]x[0,2] ∪ [0,1]x[0,3] = 3 + 2*1 + 1*1
    assert hypervolume(pts) == pytest.approx(6.0)
    assert hypervolume(pts, reference=[1.0, 1.0]) == pytest.approx(1.0)  # only [1,2]x[1,2]
    assert hypervolume(np.empty((0, 2))) == 0.0
    assert hypervolume(np.array([[-1.0, 5.0]])) == 0.0  # does not dominate the reference


def test_hypervolume_in_3d_matches_a_monte_carlo_count():
    from nasopt.core.pareto import hypervolume
    rng = np.random.default_rng(3)
    pts = rng.random((12, 3))
    grid = rng.random((200_000, 3))
    covered = np.zeros(len(grid), dtype=bool)
    for p in pts:
        covered |= np.all(grid <= p, axis=1)
    assert hypervolume(pts) == pytest.approx(covered.mean(), abs=5e-3)
    # 2d through the general path: slicing a 2d front by its last objective
    pts2 = rng.random((20, 2))
    cover2 = np.zeros(len(grid), dtype=bool)
    for p in pts2:
        cover2 |= np.all(grid[:, :2] <= p, axis=1)
    assert hypervolume(pts2) == pytest.approx(cover2.mean(), abs=5e-3)
