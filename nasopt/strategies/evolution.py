"""Regularized (aging) evolution, Real et al. 2019."""

from __future__ import annotations

import numbers
from typing import Any

from ..core.errors import ConfigurationError
from ..core.optimizer import Optimizer
from ..core.pareto import selection_order
from ..core.registry import register_strategy
from ..core.space import SearchSpace

#: Mutation attempts per child before falling back to a random unseen architecture.
MUTATION_TRIES = 50


@register_strategy("rea")
class RegularizedEvolution(Optimizer):
    """Aging evolution: the population holds the most recent results; each child is a
    mutation of the best of a random tournament drawn from it, and the oldest member dies
    when a new result arrives (sizes: ``population`` and ``tournament``).

    Until ``population`` results are in, architectures are drawn uniformly at random.
    Defaults (population 10, tournament 3) are the NAS-Bench-201 authors' REA settings;
    the NAS-Bench-101 paper used population 100, tournament 10 on its larger space.

    Works asynchronously: ``ask(n)`` breeds ``n`` children from the current population,
    whatever is still pending.

    With several objectives (``objectives=``), or when the population holds results that
    violate told constraints, the tournament winner is the member first in NSGA-II's order
    (:func:`nasopt.core.pareto.selection_order`): lowest constrained non-dominated rank,
    then largest crowding distance. Aging is unchanged (the oldest result dies): that is
    what regularizes the search. A single-objective run without constraint values selects
    by score exactly as before.
    """

    def __init__(self, space: SearchSpace, *, population: int = 10, tournament: int = 3, **kw: Any) -> None:
        super().__init__(space, **kw)
        for name, value in (("population", population), ("tournament", tournament)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ConfigurationError(f"{name} must be an integer, got {value!r}")
        if population < 2:
            raise ConfigurationError(f"population must be >= 2, got {population}")
        if not 1 <= tournament <= population:
            raise ConfigurationError(
                f"tournament must be between 1 and population ({population}), got {tournament}"
            )
        self.population = population
        self.tournament = tournament

    def _propose(self, n: int) -> list[Any]:
        # the population only: an ask costs the same at 1k and at 100k results
        if self.n_objectives > 1 or self._n_constraints:
            archs, matrix, violation = self._recent_history_multi(self.population)
            if len(archs) < self.population:
                return self._random_unseen(n)
            # smaller position is better: negate so that argmax picks the preferred member
            scores = -selection_order(matrix, violation).astype(float)
        else:
            archs, scores = self._recent_history(self.population)
            if len(archs) < self.population:
                return self._random_unseen(n)
        out: list[Any] = []
        batch: set[str] = set()
        for _ in range(n):
            child = None
            for _ in range(MUTATION_TRIES):
                picks = self._rng.choice(self.population, size=self.tournament, replace=False)
                parent = archs[int(picks[scores[picks].argmax()])]
                cand = self.space.mutate(parent, self._rng)
                key = self.space.key(cand)
                if self._available(key, batch):
                    child = cand
                    break
            if child is None:  # the neighbourhood is used up: explore instead
                child = self._random_unseen_excluding(batch)
            batch.add(self.space.key(child))
            out.append(child)
        return out

    def _random_unseen_excluding(self, batch: set[str]) -> Any:
        while True:
            (arch,) = self._random_unseen(1)
            if self.space.key(arch) not in batch:
                return arch
