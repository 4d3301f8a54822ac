"""Plot of search runs: best-so-far validation accuracy against queries, one line per strategy
(the median over runs, with the interquartile band)."""

from __future__ import annotations

import numpy as np

from .metrics import best_so_far


def best_curves(runs: list[dict], values: np.ndarray, budget: int, maximize: bool = True) -> np.ndarray:
    """``(runs, budget)`` best-so-far objective; a run that stopped early (it had found the
    optimum) keeps its final best."""
    out = np.full((len(runs), budget), np.nan)
    for r, run in enumerate(runs):
        best = best_so_far(run["indices"], values, maximize)
        if len(best) == 0:
            continue
        v = values[best[:budget]]
        out[r, : len(v)] = v
        out[r, len(v):] = v[-1]
    return out


def band(curves: np.ndarray, low: float = 25.0, high: float = 75.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and the ``low``–``high`` percentile band of ``(runs, budget)`` best-so-far
    curves, per query. Percentiles are values some run reached, so the band never passes
    the optimum (a mean ± std band does, and fills the whole axis at the first queries
    where single draws scatter widely)."""
    lo, med, hi = np.nanpercentile(curves, [low, 50.0, high], axis=0)
    return med, lo, hi


def plot_search(results: dict[str, list[dict]], values: np.ndarray, budget: int, path: str,
                title: str = "", optimum: float | None = None, maximize: bool = True) -> None:
    """Write ``path`` (PNG/SVG/PDF): median best-so-far per strategy with its interquartile
    band (25th–75th percentile over runs)."""
    from nasopt.integrations._deps import require

    matplotlib = require("matplotlib", "bench", "the search plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = np.arange(1, budget + 1)
    lows = []
    for label, runs in results.items():
        curves = best_curves(runs, values, budget, maximize)
        if not np.isfinite(curves).any():
            continue
        med, lo, hi = band(curves)
        lows.append(med[min(19, budget - 1)])
        (line,) = ax.plot(x, med, label=label, lw=1.6)
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.15, lw=0)
    if optimum is not None:
        ax.axhline(optimum, color="k", ls=":", lw=1, label="optimum")
    ax.set_xscale("log")
    ax.set_xlabel("queries (distinct architectures evaluated)")
    ax.set_ylabel("best-so-far validation accuracy (%)\nmedian, 25–75 % of runs shaded")
    if optimum is not None and lows and maximize:  # from the weakest median at 20 queries up
        lo = float(np.nanmin(lows))
        if np.isfinite(lo) and lo < optimum:
            ax.set_ylim(lo, optimum + 0.1 * (optimum - lo))
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
