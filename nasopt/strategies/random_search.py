"""Uniform random search without replacement: the baseline every method must beat."""

from __future__ import annotations

from ..core.optimizer import Optimizer
from ..core.registry import register_strategy


@register_strategy("random")
class RandomSearch(Optimizer):
    """Propose architectures uniformly at random among those not seen yet.

    On a finite space this is sampling without replacement, so the expected number of
    queries to reach any given architecture of an ``N``-member space is ``(N + 1) / 2``.
    """
