"""Ensembles of surrogates: the one mechanism WeakNAS and ReNAS fit several predictors with.

An ensemble of ``k`` members is fitted in three steps, each here once:

1. :func:`member_seeds` derives the members' seeds from the strategy's RNG (one draw of ``k``
   31-bit integers, so the strategy's RNG advances the same way whatever the surrogate);
2. :func:`new_surrogate` builds one unfitted member, by registered name or as a clone of an
   estimator object, with its ``random_state`` set to the member's seed;
3. :func:`fit_ensemble` fits the members (optionally each on a bootstrap resample drawn from
   its seed) and returns an :class:`Ensemble`, which combines their predictions.

A surrogate that trains several networks at once (:class:`~nasopt.surrogates.BatchedMLP`
with ``members > 1``, which has ``predict_members``) counts as that many members.

The strategies differ only in the parameters: WeakNAS bootstraps when it fits more than one
model and combines the members' raw predictions (their spread feeds its EI / UCB
acquisitions; with the default ``"nn"`` one batched model holds every member); ReNAS fits
every member on the whole training set and averages *standardised* predictions (each
member's scores centred and scaled by their mean and spread on the training set, so ranking
losses with arbitrary output scales can be averaged). Changing either default would change
the strategy's recorded trajectories (``tests/data/trajectories/``), so both are kept.

This module imports numpy only; scikit-learn is imported to clone an estimator object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..core.errors import ConfigurationError

#: Members' seeds are drawn below this bound (31-bit, valid for every library's seed).
SEED_BOUND = 2**31 - 1


def member_seeds(rng: np.random.Generator, k: int) -> list[int]:
    """``k`` member seeds drawn from ``rng`` in one call."""
    return [int(s) for s in rng.integers(SEED_BOUND, size=k)]


def new_surrogate(surrogate: Any, seed: int, /, **options: Any) -> Any:
    """A new unfitted member: ``make_surrogate(surrogate, **options)`` for a registered name,
    else a clone of the estimator ``surrogate`` with ``options`` set; its ``random_state``
    (when it has one) is ``seed``. The seed belongs to the ensemble: a ``random_state``
    among ``options`` is a :class:`~nasopt.core.errors.ConfigurationError`."""
    if "random_state" in options:
        raise ConfigurationError(
            "random_state is set per ensemble member from the strategy's seed; remove it "
            "from the surrogate options"
        )
    if isinstance(surrogate, str):
        from . import make_surrogate

        model = make_surrogate(surrogate, **options)
    else:
        from sklearn.base import clone

        model = clone(surrogate)
        if options:
            model.set_params(**options)
    if "random_state" in model.get_params():
        model.set_params(random_state=seed)
    return model


def _member_predictions(model: Any, X: Any) -> list[np.ndarray]:
    """One float64 row of predictions per member the fitted ``model`` holds."""
    if hasattr(model, "predict_members"):
        return list(np.asarray(model.predict_members(X), dtype=np.float64))
    return [np.asarray(model.predict(X), dtype=np.float64).reshape(-1)]


class Ensemble:
    """Fitted members whose predictions are combined (made by :func:`fit_ensemble`).

    Attributes:
        models: The fitted surrogates (a batched one holds several members).
        centres: Per member, the mean of its predictions on the training set when the
            ensemble standardises (``None`` otherwise).
        scales: Per member, their standard deviation (1 when constant), or ``None``.
    """

    def __init__(self, models: list[Any], centres: list[float] | None = None,
                 scales: list[float] | None = None) -> None:
        self.models = models
        self.centres = centres
        self.scales = scales

    def _rows(self, X: Any) -> list[np.ndarray]:
        rows = [r for m in self.models for r in _member_predictions(m, X)]
        if self.centres is None:
            return rows
        return [(r - c) / s for r, c, s in zip(rows, self.centres, self.scales)]

    def predict_members(self, X: Any) -> np.ndarray:
        """Each member's predictions (standardised when the ensemble is), shape
        ``(members, len(X))``."""
        return np.stack(self._rows(X))

    def predict(self, X: Any) -> np.ndarray:
        """The members' mean prediction, shape ``(len(X),)``."""
        rows = self._rows(X)
        out = np.zeros(len(rows[0]), dtype=np.float64)
        for r in rows:
            out += r
        return out / len(rows)


def fit_ensemble(
    build: Callable[[int], Any], X: Any, y: np.ndarray, seeds: Sequence[int], *,
    bootstrap: bool = False, standardize: bool = False,
) -> Ensemble:
    """Fit one member per seed: ``build(seed)`` (e.g. a :func:`new_surrogate` call), fitted
    on ``(X, y)`` or, with ``bootstrap``, on ``len(X)`` rows drawn with replacement by
    ``numpy.random.default_rng(seed)``. With ``standardize`` each member's predictions are
    later centred and scaled by their mean and standard deviation on ``X`` (scale 1 when
    they are constant)."""
    models: list[Any] = []
    centres: list[float] = []
    scales: list[float] = []
    for seed in seeds:
        Xk, yk = X, y
        if bootstrap:
            idx = np.random.default_rng(int(seed)).integers(len(X), size=len(X))
            Xk, yk = X[idx], y[idx]
        model = build(int(seed))
        model.fit(Xk, yk)
        models.append(model)
        if standardize:
            for p in _member_predictions(model, X):
                s = float(p.std())
                centres.append(float(p.mean()))
                scales.append(s if s > 0 else 1.0)
    if standardize:
        return Ensemble(models, centres, scales)
    return Ensemble(models)
