"""Ranking candidates on several predicted objectives, for the predictor-guided strategies.

Scores are ``(n, m)`` arrays where **larger is better** on every objective, as in
:mod:`nasopt.core.pareto`; an optional ``violation`` array holds each candidate's (predicted)
total constraint violation, ``<= 0`` meaning feasible (Deb's rule: every feasible candidate
before every infeasible one, the infeasible ones by increasing violation), as in
:func:`nasopt.core.pareto.selection_order`.

* :func:`pareto_top`: the first ``k`` candidates in NSGA-II's order (non-dominated rank, then
  decreasing crowding distance), peeling only as many fronts as ``k`` needs, so that ranking
  the 15,625 cells of NAS-Bench-201 costs a few fronts, not all ~340 of them (seconds).
* :func:`normalise_columns` and :func:`chebyshev`: ParEGO's augmented Chebyshev
  scalarization (Knowles 2006) of normalised scores under one weight vector.
* :func:`resolve_reference`, :func:`reference_cut`, :func:`gap_below` and
  :func:`reference_gap`: the reference point of a search as quantiles of the predicted
  objectives over the candidates (the region of interest), and how far each candidate's
  predictions fall outside it; :func:`with_reference` folds that into the predicted
  violations, so that Deb's rule ranks such candidates after the others.
* :func:`class_means`, :func:`class_representatives` and :func:`after_repeats`:
  architectures known to compute the same function
  (:meth:`~nasopt.core.space.SearchSpace.function_classes`) share one predicted quality,
  and only one of each function not asked yet ranks among the new candidates.
"""

from __future__ import annotations

import numpy as np

from collections.abc import Sequence
from numbers import Real
from typing import Any

from ..core.errors import ConfigurationError
from ..core.pareto import crowding_distance, front_mask_sorted_2d, nondominated_mask

#: ParEGO's augmentation weight: the weighted sum's share of the Chebyshev scalarization
#: (it breaks the ties of the max term, so that weakly dominated points lose).
PAREGO_RHO = 0.05
#: ``reference="auto"``: the median architecture on the first objective (the quality measure,
#: e.g. accuracy), no limit on the others (costs such as latency): the front of interest is
#: that of the architectures better than the typical one, as in the hypervolume regret of
#: ``benchmarks/hardware.py`` (accuracy normalised from the space's median).
AUTO_REFERENCE_QUANTILE = 0.5


def pareto_top(scores: np.ndarray, k: int, violation: np.ndarray | None = None) -> np.ndarray:
    """Positions of the ``k`` rows first in NSGA-II's order of preference, in that order:
    lowest constrained non-dominated rank, then largest crowding distance within the front,
    then lowest position. Fronts are peeled one at a time until ``k`` rows are ranked, so the
    cost grows with the fronts that ``k`` reaches, not with every front."""
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    k = min(int(k), n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if violation is None:
        left = np.arange(n)
        infeasible = np.zeros(0, dtype=np.int64)
    else:
        violation = np.asarray(violation, dtype=float)
        left = np.flatnonzero(violation <= 0)
        infeasible = np.flatnonzero(violation > 0)
    parts: list[np.ndarray] = []
    count = 0
    if scores.shape[1] == 2 and len(left):  # kept sorted by (x, y) falling: O(n) per front
        left = left[np.lexsort((-scores[left, 1], -scores[left, 0]))]
    while count < k and len(left):
        pts = scores[left]
        mask = front_mask_sorted_2d(pts) if pts.shape[1] == 2 else nondominated_mask(pts)
        front, left = left[mask], left[~mask]
        crowd = crowding_distance(scores[front], np.zeros(len(front), dtype=np.int64))
        front = front[np.lexsort((front, -crowd))]
        parts.append(front)
        count += len(front)
    if count < k and len(infeasible):  # by violation, equal ones by crowding as a front
        _, dense = np.unique(violation[infeasible], return_inverse=True)
        crowd = crowding_distance(scores[infeasible], dense.reshape(-1))
        parts.append(infeasible[np.lexsort((infeasible, -crowd, violation[infeasible]))])
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(parts)[:k].astype(np.int64)


def normalise_columns(scores: np.ndarray) -> np.ndarray:
    """Each column mapped linearly onto [0, 1] over the rows (0 the worst, 1 the best); a
    constant column becomes 0."""
    scores = np.asarray(scores, dtype=float)
    lo, hi = scores.min(axis=0), scores.max(axis=0)
    span = hi - lo
    return (scores - lo) / np.where(span > 0, span, 1.0) * (span > 0)


def chebyshev(normalised: np.ndarray, weights: np.ndarray, rho: float = PAREGO_RHO) -> np.ndarray:
    """ParEGO's augmented Chebyshev scalarization of scores in [0, 1] (larger is better),
    returned so that **larger is better**: ``-(max_j w_j d_j + rho * sum_j w_j d_j)`` with
    ``d = 1 - normalised`` the distance to the ideal point."""
    d = (1.0 - np.asarray(normalised, dtype=float)) * np.asarray(weights, dtype=float)
    return -(d.max(axis=1) + rho * d.sum(axis=1))


def hv_improvement_2d(front: np.ndarray, points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Hypervolume (two objectives, larger is better, above ``reference``) that each row of
    ``points`` would add to the region ``front`` dominates; vectorised over the points:
    ``O(len(points) * len(front))``."""
    ref = np.asarray(reference, dtype=float).reshape(2)
    F = np.asarray(front, dtype=float).reshape(-1, 2)
    F = F[np.all(F > ref, axis=1)]
    if len(F):
        F = F[nondominated_mask(F)]
        F = F[np.argsort(-F[:, 0], kind="stable")]  # x falling, so y rising
    # the dominated region is a staircase: above x in (b[k+1], b[k]] it reaches height h[k]
    b = np.concatenate(([np.inf], F[:, 0], [ref[0]]))
    h = np.concatenate(([ref[1]], F[:, 1]))
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    width = np.clip(np.minimum(p[:, :1], b[None, :-1]) - b[None, 1:], 0.0, None)
    height = np.clip(p[:, 1:] - h[None, :], 0.0, None)
    return (width * height).sum(axis=1)


def resolve_reference(reference: Any, n_objectives: int) -> tuple[float, ...] | None:
    """The quantile of each objective's reference (``0.0``: no limit) of a strategy's
    ``reference=`` argument, or ``None`` for no region of interest (``None``, no limit on
    any objective, or a single objective). ``"auto"``: :data:`AUTO_REFERENCE_QUANTILE` on
    the first objective, no limit on the others.

    Raises:
        ConfigurationError: not ``"auto"``, ``None`` or a sequence of ``n_objectives``
            entries, each ``None`` or a number in ``[0, 1)``.
    """
    if reference is None:
        return None
    if isinstance(reference, str) and reference == "auto":
        quantiles = (AUTO_REFERENCE_QUANTILE,) + (0.0,) * (n_objectives - 1)
    elif isinstance(reference, Sequence) and not isinstance(reference, str):
        if len(reference) != n_objectives:
            raise ConfigurationError(
                f"reference has {len(reference)} entries for {n_objectives} objective(s): "
                "give one quantile (or None) per objective")
        for q in reference:
            if q is not None and (isinstance(q, bool) or not isinstance(q, Real)
                                  or not 0.0 <= float(q) < 1.0):
                raise ConfigurationError(
                    f"reference entries are quantiles in [0, 1) or None, got {q!r} in "
                    f"{list(reference)!r}")
        quantiles = tuple(0.0 if q is None else float(q) for q in reference)
    else:
        raise ConfigurationError(
            f"reference must be 'auto', None or one quantile (or None) per objective, got "
            f"{reference!r}")
    return quantiles if n_objectives > 1 and any(quantiles) else None


def reference_cut(scores: np.ndarray, quantiles: tuple[float, ...],
                  violation: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The reference point of predicted ``scores`` (``(n, m)``, larger is better): per
    objective the ``q``-quantile of its column (``-inf`` where ``q`` is 0: no limit), and the
    column's range (1 where it is 0), by which shortfalls are measured — over the
    predicted-feasible rows (``violation <= 0``) when some are, so that a constraint does not
    move the region of interest outside the feasible set."""
    scores = np.asarray(scores, dtype=float)
    if violation is not None and (np.asarray(violation) <= 0).any():
        scores = scores[np.asarray(violation) <= 0]
    cut = np.array([np.quantile(scores[:, j], q) if q > 0 else -np.inf
                    for j, q in enumerate(quantiles)])
    span = np.ptp(scores, axis=0)
    return cut, np.where(span > 0, span, 1.0)


def gap_below(scores: np.ndarray, cut: np.ndarray, span: np.ndarray) -> np.ndarray:
    """How far each row of ``scores`` falls below ``cut``, in units of ``span``, summed over
    the objectives (0: inside the region of interest)."""
    short = np.maximum(cut - np.asarray(scores, dtype=float), 0.0)  # 0 where cut is -inf
    return (short / span).sum(axis=1)


def reference_gap(scores: np.ndarray, quantiles: tuple[float, ...] | None,
                  violation: np.ndarray | None = None) -> np.ndarray | None:
    """How far each row of predicted ``scores`` (``(n, m)``, larger is better) falls below
    the reference point of the rows themselves (:func:`reference_cut` with ``violation``,
    :func:`gap_below`); ``None`` without a reference."""
    if quantiles is None or not len(scores):
        return None
    return gap_below(scores, *reference_cut(scores, quantiles, violation))


def with_reference(violation: np.ndarray | None, gap: np.ndarray | None) -> np.ndarray | None:
    """Predicted violations that rank, by Deb's rule, the candidates inside the region of
    interest (``gap == 0``) and feasible first, then those outside it by their ``gap``, then
    the predicted-infeasible ones by their ``violation``."""
    if gap is None or violation is None:
        return violation if gap is None else gap
    return np.where(violation > 0, gap.max() + 1.0 + violation, gap)


def class_means(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each entry of ``values`` replaced by the mean over the entries of its class
    (``classes``: a dense label per entry, ``0 .. n_classes - 1``)."""
    sums = np.bincount(classes, weights=values)
    return (sums / np.bincount(classes, minlength=len(sums)))[classes]


def class_representatives(scores: np.ndarray, classes: np.ndarray,
                          eligible: np.ndarray) -> np.ndarray:
    """A mask of one ``eligible`` row per class (dense labels ``classes``): the one with the
    largest sum of its normalised ``scores`` (``(n, m)``, larger is better; the lowest
    position among ties); with a quality shared by the class (:func:`class_means`), the
    predicted cheapest."""
    total = normalise_columns(np.asarray(scores, dtype=float)).sum(axis=1)
    rows = np.flatnonzero(eligible)
    order = rows[np.lexsort((rows, -total[rows], classes[rows]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = classes[order[1:]] != classes[order[:-1]]
    mask = np.zeros(len(classes), dtype=bool)
    mask[order[first]] = True
    return mask


def after_repeats(gap: np.ndarray | None, repeated: np.ndarray) -> np.ndarray | None:
    """Shortfalls (:func:`reference_gap`, ``None``: every candidate inside) under which the
    ``repeated`` candidates rank after every other one, in the same order among themselves
    (for :func:`with_reference`); ``None`` when nothing is repeated and there is no gap."""
    if not repeated.any():
        return gap
    base = np.zeros(len(repeated)) if gap is None else gap
    return np.where(repeated, base.max() + 1.0 + base, base)
