"""Surrogates (performance predictors): scikit-learn-style estimators with ``fit(X, y)``
returning ``self`` and ``predict(X)``.

=============  =========================  ============================================================
name           class                      notes
=============  =========================  ============================================================
``mlp``        :class:`MLP`               torch; ``loss`` mse / hinge / logistic / exponential
``gbrt``       :class:`GBRT`              XGBoost; ``loss`` mse / logistic (rank:pairwise)
``rf``         :class:`RandomForest`      scikit-learn; ``loss`` mse
``renas``      :class:`ReNASPredictor`    torch CNN on ReNAS tensors ``(N, C, H, W)``
``nn``         :class:`BatchedMLP`        numpy MLP ensemble (WeakNAS's default); ``loss`` as ``mlp``
``quadratic``  :class:`Quadratic`         numpy ridge on the encoding and pairwise products
=============  =========================  ============================================================

``make_surrogate("mlp", loss="hinge", random_state=0)`` builds one by name; every surrogate
takes ``device=`` (the numpy ones accept ``"cpu"`` only). :mod:`nasopt.surrogates.ensemble`
fits several of them with derived seeds and combines their predictions (WeakNAS and ReNAS).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..core.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from .batched_mlp import BatchedMLP
    from .cv import DEFAULT_GRID, kendall_tau, select_by_cv
    from .losses import LOSSES, RANKING_LOSSES
    from .mlp import MLP
    from .quadratic import Quadratic
    from .renas import ReNASPredictor
    from .trees import GBRT, RandomForest, default_pairs_per_sample

#: Public name -> submodule defining it. Most submodules import torch, scikit-learn, scipy or
#: XGBoost, so they are imported on first use (PEP 562), not by ``import nasopt``; the numpy
#: ones (``BatchedMLP``, ``Quadratic``) follow the same rule.
_LAZY: dict[str, str] = {
    "MLP": "mlp", "ReNASPredictor": "renas", "GBRT": "trees", "RandomForest": "trees",
    "default_pairs_per_sample": "trees", "select_by_cv": "cv", "kendall_tau": "cv",
    "DEFAULT_GRID": "cv", "LOSSES": "losses", "RANKING_LOSSES": "losses",
    "BatchedMLP": "batched_mlp", "Quadratic": "quadratic",
}

#: Surrogate name -> its class, or the public name of a class still to import (``_LAZY``).
_SURROGATES: dict[str, type | str] = {"mlp": "MLP", "gbrt": "GBRT", "rf": "RandomForest",
                                      "renas": "ReNASPredictor", "nn": "BatchedMLP",
                                      "quadratic": "Quadratic"}


def __getattr__(name: str) -> Any:
    """Import a public name's submodule on first access (``nasopt.surrogates.MLP``)."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later accesses skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def available_surrogates() -> list[str]:
    """Names accepted by :func:`make_surrogate`."""
    return sorted(_SURROGATES)


def make_surrogate(name: str, **options: Any) -> Any:
    """A new, unfitted surrogate registered as ``name`` with constructor ``options``
    (unknown options raise :class:`~nasopt.core.errors.ConfigurationError`)."""
    try:
        cls = _SURROGATES[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown surrogate {name!r}; available: {', '.join(available_surrogates())}"
        ) from None
    if isinstance(cls, str):
        cls = __getattr__(cls)
    valid = cls().get_params()
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ConfigurationError(
            f"surrogate {name!r} has no option(s) {', '.join(unknown)}; options: {', '.join(sorted(valid))}"
        )
    return cls(**options)


__all__ = [
    "MLP", "GBRT", "RandomForest", "ReNASPredictor", "BatchedMLP", "Quadratic",
    "make_surrogate", "available_surrogates",
    "select_by_cv", "kendall_tau", "DEFAULT_GRID", "LOSSES", "RANKING_LOSSES",
    "default_pairs_per_sample",
]
