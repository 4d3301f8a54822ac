"""Name → strategy class registry behind :func:`nasopt.create` and :func:`nasopt.load`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from .optimizer import Optimizer

_STRATEGIES: dict[str, type["Optimizer"]] = {}


def register_strategy(name: str) -> Callable[[type["Optimizer"]], type["Optimizer"]]:
    """Class decorator registering an :class:`Optimizer` subclass under ``name``."""

    def deco(cls: type["Optimizer"]) -> type["Optimizer"]:
        cls.name = name
        _STRATEGIES[name] = cls
        return cls

    return deco


def strategy_class(name: str) -> type["Optimizer"]:
    """The strategy class registered under ``name``."""
    try:
        return _STRATEGIES[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown strategy {name!r}; available: {', '.join(sorted(_STRATEGIES))}"
        ) from None


def available_strategies() -> list[str]:
    """Names accepted by :func:`create`."""
    return sorted(_STRATEGIES)


def create(name: str, space: Any, **options: Any) -> "Optimizer":
    """Build the strategy registered as ``name`` (``"random"``, ``"rea"``, ``"weaknas"``,
    ``"renas"``, ...) on ``space`` with keyword ``options``."""
    return strategy_class(name)(space, **options)


def unregister_strategy(name: str) -> type["Optimizer"]:
    """Remove the strategy registered under ``name`` (e.g. one a test registered) and
    return its class; :class:`ConfigurationError` when no strategy has that name."""
    cls = strategy_class(name)
    del _STRATEGIES[name]
    return cls
