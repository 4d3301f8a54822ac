"""Choosing the ranking-loss margin ``a`` and the triplet weight ``λ`` by cross-validation.

Procedure (training set only — test architectures are never seen): split the training set
into ``cv`` shuffled folds (K-fold, seeded by ``random_state``); for every point of the grid,
fit a clone of the estimator on ``cv − 1`` folds and compute Kendall τ between predictions
and targets on the held-out fold; keep the grid point with the highest mean τ (earliest in
grid order on ties).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from scipy.stats import kendalltau
from sklearn.base import clone
from sklearn.model_selection import KFold, ParameterGrid

from ..core.errors import ConfigurationError
from ._common import seed_from

#: Grid searched when ``margin="cv"`` / ``lam="cv"`` (margin in z-scored target units).
DEFAULT_GRID: dict[str, tuple[float, ...]] = {"margin": (0.1, 0.5, 1.0, 2.0), "lam": (0.0, 0.1, 0.5, 1.0)}

#: Values used for ``"cv"`` options when the training set is too small to split into folds
#: (fewer than ``2 * cv_folds`` samples); they are also the estimators' defaults.
FALLBACK: dict[str, float] = {"margin": 1.0, "lam": 0.5}


def kendall_tau(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Kendall τ-b; 0 when either side is constant."""
    tau = kendalltau(np.asarray(y_true), np.asarray(y_pred)).statistic
    return 0.0 if not np.isfinite(tau) else float(tau)


def select_by_cv(
    estimator: Any, X: np.ndarray, y: np.ndarray, grid: Mapping[str, Sequence[Any]],
    cv: int = 3, random_state: object = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Grid-search ``grid`` (``{param: values}``) by ``cv``-fold Kendall τ on ``(X, y)``.

    Returns ``(best_params, results)`` with ``results`` one dict per grid point:
    ``{"params": ..., "tau": mean τ, "taus": per-fold τ}``.
    """
    X = np.asarray(X)
    y = np.asarray(y, dtype=np.float64)
    n = X.shape[0]
    if cv < 2:
        raise ConfigurationError(f"cv must be >= 2, got {cv}")
    if n < 2 * cv:
        raise ConfigurationError(f"cross-validation with {cv} folds needs at least {2 * cv} samples, got {n}")
    folds = list(KFold(cv, shuffle=True, random_state=seed_from(random_state)).split(np.arange(n)))
    results: list[dict[str, Any]] = []
    for params in ParameterGrid({k: list(v) for k, v in grid.items()}):
        taus = []
        for tr, te in folds:
            est = clone(estimator).set_params(**params)
            est.fit(X[tr], y[tr])
            taus.append(kendall_tau(y[te], est.predict(X[te])))
        results.append({"params": params, "tau": float(np.mean(taus)), "taus": taus})
    best = max(range(len(results)), key=lambda i: (results[i]["tau"], -i))
    return dict(results[best]["params"]), results
