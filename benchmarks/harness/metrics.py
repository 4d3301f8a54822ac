"""Metrics of search runs on a tabular benchmark, from the sequence of queried indices.

A run is the ordered list of the *distinct* architectures (space indices) it evaluated.
Everything here is computed from that list and the benchmark's arrays, so the numbers can
be recomputed from the JSON the harness writes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Query budgets at which best-by-validation test accuracy and regret are reported.
CHECKPOINTS: tuple[int, ...] = (50, 100, 150, 200, 500, 1000)


def queries_to_optimum(indices: Sequence[int], optimum: int) -> int | None:
    """1-based position at which ``optimum`` was queried, ``None`` if it never was."""
    for pos, i in enumerate(indices, start=1):
        if int(i) == optimum:
            return pos
    return None


def best_so_far(indices: Sequence[int], values: np.ndarray, maximize: bool = True) -> np.ndarray:
    """Index (into the space) of the best-by-``values`` architecture after each query
    (earliest on ties), shape ``(len(indices),)``."""
    idx = np.asarray(indices, dtype=np.int64)
    if len(idx) == 0:
        return idx
    v = values[idx] if maximize else -values[idx]
    # position of the running maximum, earliest on ties
    run_max = np.maximum.accumulate(v)
    improved = np.r_[True, v[1:] > run_max[:-1]]
    pos = np.maximum.accumulate(np.where(improved, np.arange(len(v)), 0))
    return idx[pos]


def at_budgets(
    indices: Sequence[int],
    values: np.ndarray,
    test_values: np.ndarray | None,
    budgets: Sequence[int] = CHECKPOINTS,
    maximize: bool = True,
    complete: bool = False,
) -> dict[int, dict[str, float]]:
    """Best-by-validation architecture's validation / test value at each budget.

    A run shorter than a budget counts with its final best when ``complete`` is True (the run
    stopped because it had found the optimum, after which the best cannot change); else
    that budget is left out.
    """
    best = best_so_far(indices, values, maximize)
    out: dict[int, dict[str, float]] = {}
    for b in budgets:
        if len(best) == 0 or (len(best) < b and not complete):
            continue
        i = int(best[min(b, len(best)) - 1])
        rec = {"index": i, "valid": float(values[i])}
        if test_values is not None:
            rec["test"] = float(test_values[i])
        out[int(b)] = rec
    return out


def expected_running_time(queries: Sequence[int], reached: Sequence[bool]) -> float:
    """Expected running time to a target (ERT; Auger & Hansen, CEC 2005; the average runtime,
    aRT, of the COCO benchmarking platform, Hansen et al., arXiv:1605.03560): every query of
    every run — up to the target where a run reached it, all it made where it did not — over
    the number of runs that reached it.
    With independent restarts until success this is the expected number of queries; it
    counts the runs that never got there instead of leaving them out. ``inf`` when no run
    reached the target.

    Raises:
        ValueError: ``queries`` and ``reached`` differ in length, or a count is negative.
    """
    q = np.asarray(queries, dtype=np.float64)
    hit = np.asarray(reached, dtype=bool)
    if q.shape != hit.shape:
        raise ValueError(f"{len(q)} query counts for {len(hit)} runs")
    if np.any(q < 0):
        raise ValueError("query counts must be non-negative")
    return float(q.sum() / hit.sum()) if hit.any() else float("inf")


def mean_std(x: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation; NaN for an empty sequence."""
    a = np.asarray(x, dtype=np.float64)
    if a.size == 0:
        return float("nan"), float("nan")
    return float(a.mean()), float(a.std())


def summarize(
    runs: list[dict],
    values: np.ndarray,
    test_values: np.ndarray | None,
    optimum: int,
    budget: int,
    budgets: Sequence[int] = CHECKPOINTS,
    maximize: bool = True,
) -> dict:
    """Aggregate one strategy's runs (each with ``indices``, ``wall_s``, ``cpu_s``).

    Queries to optimum: mean over the runs that found it within ``budget`` (``mean``), the
    median over all runs counting a miss as ``inf`` (``median``; ``None`` when more than
    half missed), and the found rate. Also the mean with misses counted as ``budget`` +1
    (``mean_censored``), a lower bound of the true mean.
    """
    q = [queries_to_optimum(r["indices"], optimum) for r in runs]
    q = [None if x is None or x > budget else x for x in q]
    found = [x for x in q if x is not None]
    allq = np.array([np.inf if x is None else x for x in q], dtype=np.float64)
    med = float(np.median(allq)) if len(allq) else float("nan")
    test_opt = None if test_values is None else float(np.max(test_values) if maximize else np.min(test_values))
    val_opt = float(values[optimum])
    per_budget: dict[str, dict] = {}
    for b in budgets:
        if b > budget:
            continue
        tests, regrets, vregrets = [], [], []
        for r, x in zip(runs, q):
            rec = at_budgets(r["indices"], values, test_values, [b], maximize,
                             complete=r.get("stopped_at_optimum", False))
            if b not in rec:
                continue
            vregrets.append(abs(val_opt - rec[b]["valid"]))
            if test_values is not None:
                tests.append(rec[b]["test"])
                regrets.append(abs(test_opt - rec[b]["test"]))
        per_budget[str(b)] = {
            "n": len(vregrets),
            "test_mean_std": mean_std(tests),
            "test_regret_mean_std": mean_std(regrets),
            "valid_regret_mean_std": mean_std(vregrets),
        }
    return {
        "runs": len(runs),
        "queries_to_optimum": {
            "mean": mean_std(found)[0],
            "std": mean_std(found)[1],
            "median": None if not np.isfinite(med) else med,
            "found_rate": len(found) / len(runs) if runs else float("nan"),
            "found": len(found),
            "mean_censored": float(np.where(np.isinf(allq), budget + 1, allq).mean()) if len(allq) else float("nan"),
        },
        "at_budget": per_budget,
        "wall_s_mean_std": mean_std([r["wall_s"] for r in runs]),
        "cpu_s_mean_std": mean_std([r["cpu_s"] for r in runs]),
    }
