"""Surrogates (performance predictors): scikit-learn-style estimators with ``fit(X, y)``
returning ``self`` and ``predict(X)``.

=========  ==========================  ============================================
name       class                       notes
=========  ==========================  ============================================
``mlp``    :class:`MLP`                torch; ``loss`` mse / hinge / logistic / exponential
``gbrt``   :class:`GBRT`               XGBoost; ``loss`` mse / logistic (rank:pairwise)
``rf``     :class:`RandomForest`       scikit-learn; ``loss`` mse
``renas``  :class:`ReNASPredictor`     torch CNN on ReNAS tensors ``(N, C, H, W)``
=========  ==========================  ============================================

``make_surrogate("mlp", loss="hinge", random_state=0)`` builds one by name.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import ConfigurationError
from .cv import DEFAULT_GRID, kendall_tau, select_by_cv
from .losses import LOSSES, RANKING_LOSSES
from .mlp import MLP
from .renas import ReNASPredictor
from .trees import GBRT, RandomForest, default_pairs_per_sample

_SURROGATES: dict[str, type] = {"mlp": MLP, "gbrt": GBRT, "rf": RandomForest, "renas": ReNASPredictor}


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
    valid = cls().get_params()
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ConfigurationError(
            f"surrogate {name!r} has no option(s) {', '.join(unknown)}; options: {', '.join(sorted(valid))}"
        )
    return cls(**options)


__all__ = [
    "MLP", "GBRT", "RandomForest", "ReNASPredictor", "make_surrogate", "available_surrogates",
    "select_by_cv", "kendall_tau", "DEFAULT_GRID", "LOSSES", "RANKING_LOSSES",
    "default_pairs_per_sample",
]
