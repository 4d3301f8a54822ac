"""Validation of user options, shared by strategies and drivers: each check returns the
normalised value or raises :class:`~nasopt.core.errors.ConfigurationError` naming the option."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import ConfigurationError


def check_int(name: str, value: Any, low: int) -> int:
    """``value`` as an ``int`` when it is an integer (not a bool) ``>= low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ConfigurationError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a ``bool`` when it is ``True`` or ``False`` (numpy's included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigurationError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_fraction(name: str, value: Any) -> float:
    """``value`` as a ``float`` when it is a real number (not a bool) in ``[0, 1]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ConfigurationError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` when it is one of ``choices``."""
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def scaled_init(default: int, space: Any, budget: int | None, share: float) -> int:
    """A strategy's default number of random architectures to start with, scaled down to
    small budgets: at most ``share`` of the query budget, where the budget is the ``budget``
    hint and, on a finite space, the space's size (never more can be queried); at least 1,
    and below the size of a finite space (something must be left to predict).

    ``default`` is returned unchanged when neither limit bites (no hint on a large space).
    """
    limit = budget
    if space.is_finite:
        limit = len(space) if limit is None else min(limit, len(space))
    init = default if limit is None else min(default, max(1, int(share * limit)))
    if space.is_finite:
        init = min(init, max(1, len(space) - 1))
    return init


def check_budget(budget: Any) -> int | None:
    """The ``budget=`` hint of a strategy: ``None`` or an integer >= 1."""
    return None if budget is None else check_int("budget", budget, 1)


def check_init_fits(init: int, space: Any, budget: int | None) -> int:
    """``init`` (random architectures before a predictor) given by the user, when it leaves
    something to predict: smaller than a finite space and than the ``budget`` hint."""
    if space.is_finite and init >= len(space):
        raise ConfigurationError(f"init ({init}) must be smaller than the space ({len(space)})")
    if budget is not None and init >= budget:
        raise ConfigurationError(
            f"init ({init}) must be smaller than budget ({budget}): the whole run would be "
            "random search"
        )
    return init
