"""Optional dependencies of the integrations, with an install hint when one is missing."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or raise an :class:`ImportError` saying which nasopt extra
    provides it (``pip install "nasopt[extra]"``)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{feature} needs the optional dependency {module!r}, which is not installed: "
            f'pip install "nasopt[{extra}]"'
        ) from exc


def create_strategy(name: str, space: Any, **options: Any) -> Any:
    """:func:`nasopt.create`, importing ``nasopt.strategies.<name>`` first when that
    strategy is not registered yet (strategies register themselves on import)."""
    from ..core.registry import available_strategies, create

    if name not in available_strategies():
        try:
            importlib.import_module(f"nasopt.strategies.{name}")
        except ImportError:
            pass  # create() reports the unknown name with the available ones
    return create(name, space, **options)
