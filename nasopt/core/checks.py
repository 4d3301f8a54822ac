"""Validation of user options, shared by strategies and drivers: each check returns the
normalised value or raises :class:`~nasopt.core.errors.ConfigurationError` naming the option."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from .errors import ConfigurationError


def check_int(name: str, value: Any, low: int) -> int:
    """``value`` as an ``int`` when it is an integer (not a bool) ``>= low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ConfigurationError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


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
