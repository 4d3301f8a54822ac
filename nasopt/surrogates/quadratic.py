"""Ridge regression on an encoding and its pairwise products (surrogate ``"quadratic"``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import ConfigurationError
from ._numpy import NumpySurrogate


class Quadratic(NumpySurrogate):
    """Ridge regression on ``[x, x_i * x_j (i < j)]``, solved in the dual when there are
    fewer samples than features (numpy only; deterministic, so it has no seed).

    Parameters
    ----------
    alpha : ridge penalty (1.0) on the centred features.
    loss : ``"mse"`` only (a least-squares model); accepted for a uniform interface.
    device : ``"cpu"`` only (numpy); anything else raises
        :class:`~nasopt.core.errors.ConfigurationError`.

    Learned attributes: ``coef_``, ``mean_`` (feature means), ``bias_`` (target mean),
    ``n_features_in_``.
    """

    _allow_nd = True  # inputs are flattened per sample

    def __init__(self, alpha: float = 1.0, loss: str = "mse", device: str = "cpu") -> None:
        self.alpha = alpha
        self.loss = loss
        self.device = device

    @staticmethod
    def _features(X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        i, j = np.triu_indices(X.shape[1], k=1)
        return np.hstack([X, X[:, i] * X[:, j]])

    def fit(self, X: Any, y: Any) -> "Quadratic":
        """Fit on ``X`` ``(N, ...)`` (flattened per sample) and ``y`` ``(N,)``; returns
        ``self``."""
        if self.loss != "mse":
            raise ConfigurationError(f"Quadratic only supports loss='mse', got {self.loss!r}")
        if not isinstance(self.alpha, (int, float, np.integer, np.floating)) or not self.alpha >= 0:
            raise ConfigurationError(f"alpha must be a number >= 0, got {self.alpha!r}")
        self.check_device()
        X, y = self._validate_fit(X, y)
        alpha = float(self.alpha)
        F = self._features(X)
        self.mean_ = F.mean(0)
        F = F - self.mean_
        self.bias_ = float(np.mean(y))
        yc = np.asarray(y, dtype=np.float64) - self.bias_
        n, p = F.shape
        if n < p:
            K = F @ F.T + alpha * np.eye(n)
            self.coef_ = F.T @ np.linalg.solve(K, yc)
        else:
            self.coef_ = np.linalg.solve(F.T @ F + alpha * np.eye(p), F.T @ yc)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, shape ``(len(X),)`` (float64)."""
        self._check_fitted("coef_")
        return (self._features(self._validate_predict(X)) - self.mean_) @ self.coef_ + self.bias_
