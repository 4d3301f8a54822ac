"""Numeric safety of the predictor-guided strategies: results may be any finite float."""

from __future__ import annotations

import math

import numpy as np


def overflow_safe(y: np.ndarray) -> np.ndarray:
    """``y`` (float64) itself when its mean, spread and range are finite, as they are for
    any ordinary results (so trajectories do not change); else ``y`` times the power of two
    that brings its largest magnitude below 1. That scaling is exact (barring underflow of
    values ~1e-308 times smaller than the largest) and keeps the order and the z-scores, so
    values near ±1.8e308 can be standardised, ranked and fitted without overflow."""
    y = np.asarray(y, dtype=np.float64)
    if len(y) == 0:
        return y
    with np.errstate(over="ignore", invalid="ignore"):
        finite = bool(np.isfinite(y.mean()) and np.isfinite(y.std()) and np.isfinite(np.ptp(y)))
    if finite:
        return y
    with np.errstate(under="ignore"):
        return np.ldexp(y, -math.frexp(float(np.abs(y).max()))[1])


def non_finite_message(what: str, values: np.ndarray, targets: np.ndarray) -> str:
    """The message of a :class:`~nasopt.core.errors.NumericalError` for non-finite
    predictor scores."""
    bad = int((~np.isfinite(values)).sum())
    lo, hi = (float(targets.min()), float(targets.max())) if len(targets) else (0.0, 0.0)
    return (
        f"{what} gave non-finite scores for {bad} of {values.size} candidates (trained on "
        f"{len(targets)} results, targets from {lo:.6g} to {hi:.6g}); this is a numeric "
        "failure of the predictor, not an exhausted space: try another predictor or target"
    )
