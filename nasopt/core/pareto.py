"""Non-dominated sorting and crowding distance (NSGA-II, Deb et al. 2002), in numpy.

Every function takes ``scores``, an ``(n, m)`` array of ``n`` points on ``m`` objectives
where **larger is better** on every objective (an optimizer turns minimized objectives
into this form by negating them). Point ``a`` dominates ``b`` when it is at least as good
on every objective and better on one; equal points do not dominate each other.

Shared by :attr:`nasopt.Optimizer.pareto_front` and by strategies that rank results
(regularized evolution's multi-objective selection).
"""

from __future__ import annotations

import numpy as np


def nondominated_mask(scores: np.ndarray) -> np.ndarray:
    """Boolean mask of the points that no other point dominates (the first front).

    Cost ``O(n * f * m)`` for ``f`` points on the front (each step removes what one front
    point dominates), so it stays cheap on long histories with small fronts; with two
    objectives, one sort and a vectorised pass (:func:`front_mask_sorted_2d`).
    """
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    if n == 0:
        return np.zeros(0, dtype=bool)
    # best-first on the objectives in turn: a point is never dominated by a later one
    order = np.lexsort(-scores.T[::-1])
    pts = scores[order]
    if scores.shape[1] == 2:  # one vectorised pass instead of a step per front point
        mask = np.zeros(n, dtype=bool)
        mask[order[front_mask_sorted_2d(pts)]] = True
        return mask
    alive = np.arange(n)
    i = 0
    while i < len(alive):
        p = pts[alive[i]]
        rest = pts[alive]
        dominated = np.all(rest <= p, axis=1) & np.any(rest < p, axis=1)
        alive = alive[~dominated]
        i += 1
    mask = np.zeros(n, dtype=bool)
    mask[order[alive]] = True
    return mask


def front_mask_sorted_2d(pts: np.ndarray) -> np.ndarray:
    """Non-dominated mask of two-objective points sorted by the first objective, then the
    second, both falling (vectorised; equal points do not dominate each other).

    An earlier point has a first objective at least as large, so a point is dominated when
    an earlier one has a larger second objective, or an equal second objective and a larger
    first: among the earlier points with the largest second objective, the first has the
    largest first objective."""
    y = pts[:, 1]
    best = np.maximum.accumulate(y)  # inclusive running maximum
    prev = np.concatenate(([-np.inf], best[:-1]))
    pos = np.arange(len(y))
    rises = np.concatenate(([True], best[1:] > best[:-1]))
    first = np.maximum.accumulate(np.where(rises, pos, 0))  # first holder of the maximum
    prev_first = np.concatenate(([0], first[:-1]))
    dominated = (prev > y) | ((prev == y) & (pts[prev_first, 0] > pts[:, 0]))
    return ~dominated


def nondominated_ranks(scores: np.ndarray) -> np.ndarray:
    """Front of each point: 0 for the non-dominated points, 1 for those that only front 0
    dominates, and so on (integer array of length ``n``)."""
    scores = np.asarray(scores, dtype=float)
    ranks = np.full(len(scores), -1, dtype=np.int64)
    left = np.arange(len(scores))
    front = 0
    while len(left):
        mask = nondominated_mask(scores[left])
        ranks[left[mask]] = front
        left = left[~mask]
        front += 1
    return ranks


def constrained_ranks(scores: np.ndarray, violation: np.ndarray) -> np.ndarray:
    """Deb's constrained domination: feasible points (``violation <= 0``) ranked by
    :func:`nondominated_ranks`, then every infeasible point behind them, ranked by its
    total constraint violation (equal violations share a rank)."""
    scores = np.asarray(scores, dtype=float)
    violation = np.asarray(violation, dtype=float)
    feasible = violation <= 0
    ranks = np.empty(len(scores), dtype=np.int64)
    base = 0
    if feasible.any():
        ranks[feasible] = nondominated_ranks(scores[feasible])
        base = int(ranks[feasible].max()) + 1
    if (~feasible).any():
        _, dense = np.unique(violation[~feasible], return_inverse=True)
        ranks[~feasible] = base + dense.reshape(-1)
    return ranks


def crowding_distance(scores: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of each point within its front: the sum over objectives
    of the gap between its neighbours, divided by the front's range on that objective;
    ``inf`` for the extreme points of a front (and for fronts of one or two points)."""
    scores = np.asarray(scores, dtype=float)
    ranks = np.asarray(ranks)
    dist = np.zeros(len(scores), dtype=float)
    for front in np.unique(ranks):
        members = np.flatnonzero(ranks == front)
        if len(members) <= 2:
            dist[members] = np.inf
            continue
        pts = scores[members]
        order = np.argsort(pts, axis=0, kind="stable")  # (k, m)
        sorted_pts = np.take_along_axis(pts, order, axis=0)
        span = sorted_pts[-1] - sorted_pts[0]
        gaps = np.zeros_like(sorted_pts)
        gaps[1:-1] = (sorted_pts[2:] - sorted_pts[:-2]) / np.where(span > 0, span, 1.0)
        gaps[0] = gaps[-1] = np.inf
        per_point = np.zeros_like(pts)
        np.put_along_axis(per_point, order, gaps, axis=0)
        dist[members] = per_point.sum(axis=1)
    return dist


def selection_order(scores: np.ndarray, violation: np.ndarray | None = None) -> np.ndarray:
    """Position of each point in NSGA-II's order of preference (0 = most preferred):
    by constrained non-dominated rank, then by decreasing crowding distance, then by
    index (earlier first). A tournament picks the member with the smallest position."""
    scores = np.asarray(scores, dtype=float)
    if violation is None:
        violation = np.zeros(len(scores))
    ranks = constrained_ranks(scores, violation)
    crowd = crowding_distance(scores, ranks)
    order = np.lexsort((np.arange(len(scores)), -crowd, ranks))
    position = np.empty(len(scores), dtype=np.int64)
    position[order] = np.arange(len(scores))
    return position


def hypervolume(scores: np.ndarray, reference: np.ndarray | None = None) -> float:
    """Volume of the region that the points dominate and that dominates ``reference``
    (larger is better on every objective, as elsewhere in this module).

    ``reference`` defaults to the origin. Points that do not strictly dominate the
    reference add nothing. Exact: a sweep for two objectives (``O(n log n)``) and slicing
    along the last objective for more (fine for the small fronts of a search, exponential in
    ``m`` in the worst case).
    """
    pts = np.asarray(scores, dtype=float)
    if pts.ndim != 2:
        raise ValueError(f"scores must be an (n, m) array, got shape {pts.shape}")
    m = pts.shape[1]
    ref = np.zeros(m) if reference is None else np.asarray(reference, dtype=float).reshape(m)
    pts = pts[np.all(pts > ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[nondominated_mask(pts)] - ref
    return _hv_shifted(pts)


def _hv_shifted(pts: np.ndarray) -> float:
    """Hypervolume of non-dominated, strictly positive points against the origin."""
    m = pts.shape[1]
    if m == 1:
        return float(pts[:, 0].max())
    if m == 2:
        pts = pts[np.argsort(-pts[:, 0], kind="stable")]
        # sorted by decreasing x, a front has increasing y: each point adds a strip
        ys = np.maximum.accumulate(pts[:, 1])
        heights = np.diff(np.concatenate(([0.0], ys)))
        return float(np.sum(pts[:, 0] * heights))
    # slice along the last objective: between consecutive levels, the points at or above the
    # level dominate an (m-1)-dimensional front
    levels = np.unique(pts[:, -1])[::-1]
    total = 0.0
    for hi, lo in zip(levels, np.append(levels[1:], 0.0)):
        above = pts[pts[:, -1] >= hi, :-1]
        above = above[nondominated_mask(above)]
        total += (hi - lo) * _hv_shifted(above)
    return total
