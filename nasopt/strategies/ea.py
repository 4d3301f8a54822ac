"""Predictor-guided evolutionary algorithm (the search half of ReNAS).

The EA never queries the real objective: its fitness is a *predictor* that scores a batch
of architectures at once. Each generation is scored with one call on the architectures not
scored before (scores are cached by canonical key), so the cost is dominated by one
vectorised predictor call per generation.

Operators come from the search-space protocol only (``sample``, ``mutate``, ``crossover``,
``key``, ``is_valid``), so the EA runs on every space, user-defined ones included.

The ReNAS paper gives "selection, crossover and mutation probabilities 0.5, 0.3 and 0.2"
without further detail. They are read here as the make-up of each new generation:

* selection: the best ``round(p_select * population)`` members survive (truncation
  selection, so the best predicted architecture is never lost);
* the other slots are filled with offspring of survivors drawn uniformly at random; each
  offspring is a crossover child with probability ``p_crossover / (p_crossover +
  p_mutation)`` and a mutant otherwise (with the paper's values: 32 survivors, about 19
  crossover children and 13 mutants per generation of 64).

Offspring that are invalid (``space.is_valid`` is false: a repair by the space's own
operators failed) are rejected, as are duplicates of a member of the new generation; after
``max_tries`` rejected attempts per free slot, the remaining slots are filled with random
architectures (immigrants), so a population that has converged keeps exploring.

With several objectives the fitness returns one row of predicted scores per architecture
(an ``(n, m)`` array, larger is better on each objective), optionally with a predicted
constraint violation per architecture (``violation``; ``<= 0`` feasible). Selection then
keeps the members first in NSGA-II's order (:func:`nasopt.core.pareto.selection_order`:
constrained non-dominated rank, then crowding distance), and :meth:`EAResult.ranking`
spreads its top along the predicted front (:func:`pareto_ranking`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.errors import ConfigurationError
from ..core.pareto import nondominated_mask, selection_order
from ..core.space import SearchSpace

#: Fitness: architectures -> predicted scores (larger is better), one float per architecture
#: (or one row per architecture with several objectives).
Fitness = Callable[[Sequence[Any]], np.ndarray]


def spread_order(points: np.ndarray, k: int | None = None) -> np.ndarray:
    """An order of ``points`` (``(f, m)``, one front) whose every prefix is spread along it:
    the best point on the first objective, then each time the point farthest (Euclidean,
    each objective scaled to the points' range) from those already taken; equal points come
    last. Returns the first ``k`` positions (all by default)."""
    pts = np.asarray(points, dtype=float)
    f = len(pts)
    k = f if k is None else max(0, min(int(k), f))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    pts = pts.reshape(f, -1)
    lo = pts.min(axis=0)
    span = pts.max(axis=0) - lo
    z = (pts - lo) / np.where(span > 0, span, 1.0)
    first = int(np.argmax(z[:, 0]))
    order = [first]
    dist = np.sqrt(((z - z[first]) ** 2).sum(axis=1))
    dist[first] = -1.0
    for _ in range(k - 1):
        nxt = int(np.argmax(dist))
        order.append(nxt)
        dist = np.minimum(dist, np.sqrt(((z - z[nxt]) ** 2).sum(axis=1)))
        dist[order] = -1.0
    return np.asarray(order, dtype=np.int64)


#: How :func:`pareto_ranking` orders the points of one front: ``"spread"``
#: (:func:`spread_order`) or ``"first"`` (by the first objective, best first).
FRONT_ORDERS = ("spread", "first")


def pareto_ranking(scores: np.ndarray, violation: np.ndarray | None = None,
                   limit: int | None = None,
                   skip: Callable[[int], bool] | None = None,
                   front_order: str = "spread") -> np.ndarray:
    """Positions of the points from most to least preferred, for serving the predicted top
    of a multi-objective ranking: the (predicted) feasible points front by front (Deb's
    constrained domination), each front in :func:`spread_order` so that the first ones
    served lie along the whole front (or, with ``front_order="first"``, by the first
    objective, best first), then the infeasible points by increasing violation.

    Args:
        scores: ``(n, m)`` predicted scores, larger is better on each objective (a vector is
            one objective).
        violation: Predicted total constraint violation per point (``<= 0`` feasible);
            ``None``: every point is feasible.
        limit: At most this many positions (all by default). Fronts are only peeled until
            ``limit`` points are taken, so a short ranking of a large set stays cheap.
        skip: Positions for which it returns true are left out (seen architectures).
        front_order: One of :data:`FRONT_ORDERS`.
    """
    if front_order not in FRONT_ORDERS:
        raise ConfigurationError(f"front_order must be one of {FRONT_ORDERS}, got {front_order!r}")
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:
        scores = scores[:, None]
    n = len(scores)
    limit = n if limit is None else int(limit)
    feasible = np.ones(n, dtype=bool) if violation is None else np.asarray(violation) <= 0
    out: list[int] = []
    left = np.flatnonzero(feasible)
    while len(left) and len(out) < limit:
        mask = nondominated_mask(scores[left])
        front, left = left[mask], left[~mask]
        if skip is not None:
            front = front[np.fromiter((not skip(int(i)) for i in front), dtype=bool, count=len(front))]
        if front_order == "first":
            within = np.argsort(-scores[front, 0], kind="stable")[: limit - len(out)]
        else:
            within = spread_order(scores[front], limit - len(out))
        out.extend(int(i) for i in front[within])
    if len(out) < limit and violation is not None:
        bad = np.flatnonzero(~feasible)
        for i in bad[np.argsort(np.asarray(violation, dtype=float)[bad], kind="stable")]:
            if skip is not None and skip(int(i)):
                continue
            out.append(int(i))
            if len(out) >= limit:
                break
    return np.asarray(out, dtype=np.int64)


@dataclass
class EAResult:
    """Everything the EA scored.

    Attributes:
        archs: Every distinct architecture scored, in the order it was first met.
        keys: Their canonical keys.
        scores: Their predicted scores (larger is better): a vector, or an ``(n, m)`` array
            with several objectives.
        population: Keys of the final population.
        best_history: Best predicted score after each generation (non-decreasing); with
            several objectives, the best on each objective (``(generations, m)``).
        fitness_calls: Number of fitness calls (one per generation with new members).
        n_invalid: Offspring rejected as invalid.
    """

    archs: list[Any]
    keys: list[str]
    scores: np.ndarray
    population: list[str]
    best_history: np.ndarray
    fitness_calls: int = 0
    n_invalid: int = 0
    extras: dict = field(default_factory=dict)
    #: Predicted constraint violation of each architecture (``None``: not constrained).
    violations: np.ndarray | None = None

    @property
    def multi(self) -> bool:
        """Whether the scores are ranked by Pareto fronts (several objectives or a predicted
        violation)."""
        return self.scores.ndim == 2 or self.violations is not None

    @property
    def best(self) -> Any:
        """The architecture with the highest predicted score (first found on ties); with
        several objectives, the first of :meth:`ranking`."""
        if self.multi:
            return self.archs[int(pareto_ranking(self.scores, self.violations, 1)[0])]
        return self.archs[int(np.argmax(self.scores))]

    def ranking(self, exclude: set[str] | frozenset[str] = frozenset(), limit: int | None = None,
                front_order: str = "spread") -> list[Any]:
        """Scored architectures from best to worst predicted, skipping keys in ``exclude``
        (ties keep the order of discovery), at most ``limit`` of them. With several
        objectives (or predicted violations), :func:`pareto_ranking`: front by front, each
        in ``front_order``."""
        if self.multi:
            keys = self.keys
            idx = pareto_ranking(self.scores, self.violations, limit, lambda i: keys[i] in exclude,
                                 front_order)
            return [self.archs[int(i)] for i in idx]
        order = np.argsort(-self.scores, kind="stable")
        out: list[Any] = []
        for i in order:
            if self.keys[i] in exclude:
                continue
            out.append(self.archs[i])
            if limit is not None and len(out) >= limit:
                break
        return out


def check_ea_options(population: int, generations: int, p_select: float, p_crossover: float,
                     p_mutation: float) -> None:
    """Raise :class:`ConfigurationError` on EA settings that cannot work."""
    if isinstance(population, bool) or not isinstance(population, (int, np.integer)) or population < 2:
        raise ConfigurationError(f"population must be an integer >= 2, got {population!r}")
    if isinstance(generations, bool) or not isinstance(generations, (int, np.integer)) or generations < 0:
        raise ConfigurationError(f"generations must be an integer >= 0, got {generations!r}")
    for name, p in (("p_select", p_select), ("p_crossover", p_crossover), ("p_mutation", p_mutation)):
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
            raise ConfigurationError(f"{name} must be a probability in [0, 1], got {p!r}")
    if not 0 < p_select < 1:
        raise ConfigurationError(f"p_select must be strictly between 0 and 1, got {p_select!r}")
    if p_crossover + p_mutation <= 0:
        raise ConfigurationError("p_crossover + p_mutation must be > 0: offspring need an operator")


def evolve(
    space: SearchSpace,
    fitness: Fitness,
    rng: np.random.Generator,
    *,
    population: int = 64,
    generations: int = 500,
    p_select: float = 0.5,
    p_crossover: float = 0.3,
    p_mutation: float = 0.2,
    seeds: Sequence[Any] = (),
    max_tries: int = 20,
    violation: Fitness | None = None,
) -> EAResult:
    """Run the predictor-guided EA and return everything it scored.

    Args:
        space: The search space (its protocol operators build the offspring).
        fitness: Scores a list of architectures at once (larger is better): one float per
            architecture, or one row of ``m`` scores with several objectives.
        rng: The only source of randomness.
        population: Members per generation.
        generations: Number of generations after the initial population.
        p_select, p_crossover, p_mutation: See the module docstring.
        seeds: Architectures put in the initial population first (e.g. the best evaluated
            ones); the rest is drawn at random.
        max_tries: Rejected offspring attempts tolerated per free slot before immigrants.
        violation: Optional predicted constraint violation of a list of architectures (one
            float each, ``<= 0`` feasible). With it, or with rows of scores, survivors are
            chosen in NSGA-II's order (constrained rank, then crowding distance).
    """
    check_ea_options(population, generations, p_select, p_crossover, p_mutation)
    archs: list[Any] = []
    keys: list[str] = []
    score_list: list[Any] = []  # floats, or rows of scores with several objectives
    viol_list: list[float] = []
    where: dict[str, int] = {}
    multi = violation is not None
    calls = 0
    n_invalid = 0

    def score_new(cands: list[Any], cand_keys: list[str]) -> None:
        fresh = [(a, k) for a, k in zip(cands, cand_keys) if k not in where]
        if not fresh:
            return
        nonlocal calls, multi
        batch = [a for a, _ in fresh]
        values = np.asarray(fitness(batch), dtype=np.float64)
        if values.ndim == 2 and values.shape[1] > 1:  # one column is one objective
            multi = True
        values = values.reshape(len(values), -1) if multi else values.reshape(-1)
        if len(values) != len(fresh):
            raise ValueError(f"fitness returned {len(values)} scores for {len(fresh)} architectures")
        if violation is not None:
            viol = np.asarray(violation(batch), dtype=np.float64).reshape(-1)
            if len(viol) != len(fresh):
                raise ValueError(f"violation returned {len(viol)} values for {len(fresh)} architectures")
            viol_list.extend(np.where(np.isfinite(viol), viol, math.inf).tolist())
        calls += 1
        for (a, k), v in zip(fresh, values):
            where[k] = len(archs)
            archs.append(a)
            keys.append(k)
            if multi:
                score_list.append(np.where(np.isfinite(v), v, -math.inf))
            else:
                score_list.append(float(v) if math.isfinite(v) else -math.inf)

    def immigrants(n: int, taken: set[str]) -> tuple[list[Any], list[str]]:
        out, out_keys = [], []
        for _ in range(max(n, 1) * max_tries):
            if len(out) >= n:
                break
            a = space.sample(rng)
            k = space.key(a)
            if k not in taken:
                taken.add(k)
                out.append(a)
                out_keys.append(k)
        return out, out_keys

    # ---- initial population: seeds first, then random members
    pop: list[Any] = []
    pop_keys: list[str] = []
    taken: set[str] = set()
    for a in seeds:
        if len(pop) >= population:
            break
        if not space.is_valid(a):
            continue
        k = space.key(a)
        if k not in taken:
            taken.add(k)
            pop.append(a)
            pop_keys.append(k)
    extra, extra_keys = immigrants(population - len(pop), taken)
    pop += extra
    pop_keys += extra_keys
    score_new(pop, pop_keys)

    n_keep = min(population - 1, max(1, int(round(p_select * population))))
    p_cx = p_crossover / (p_crossover + p_mutation)
    best_hist = np.empty((generations, len(score_list[0])) if multi else generations, dtype=np.float64)
    for g in range(generations):
        fit = np.array([score_list[where[k]] for k in pop_keys])
        if multi:
            vio = None if violation is None else np.array([viol_list[where[k]] for k in pop_keys])
            order = np.argsort(selection_order(fit, vio), kind="stable")[: min(n_keep, len(pop))]
        else:
            order = np.argsort(-fit, kind="stable")[: min(n_keep, len(pop))]
        parents = [pop[i] for i in order]
        parent_keys = [pop_keys[i] for i in order]
        new, new_keys = list(parents), list(parent_keys)
        taken = set(parent_keys)
        need = population - len(new)
        tries = 0
        while need > 0 and tries < need * max_tries:
            tries += 1
            a = parents[int(rng.integers(len(parents)))]
            if len(parents) > 1 and rng.random() < p_cx:
                b = parents[int(rng.integers(len(parents)))]
                child = space.crossover(a, b, rng)
            else:
                child = space.mutate(a, rng)
            if not space.is_valid(child):
                n_invalid += 1
                continue
            k = space.key(child)
            if k in taken:
                continue
            taken.add(k)
            new.append(child)
            new_keys.append(k)
            need -= 1
        if need > 0:
            extra, extra_keys = immigrants(need, taken)
            new += extra
            new_keys += extra_keys
        score_new(new, new_keys)
        pop, pop_keys = new, new_keys
        if multi:
            best_hist[g] = np.max([score_list[where[k]] for k in pop_keys], axis=0)
        else:
            best_hist[g] = max(score_list[where[k]] for k in pop_keys)

    return EAResult(
        archs=archs, keys=keys, scores=np.asarray(score_list, dtype=np.float64),
        population=list(pop_keys), best_history=best_hist, fitness_calls=calls,
        n_invalid=n_invalid,
        violations=None if violation is None else np.asarray(viol_list, dtype=np.float64),
    )
