"""Plot of search runs: best-so-far validation accuracy against queries, one line per strategy."""

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


def plot_search(results: dict[str, list[dict]], values: np.ndarray, budget: int, path: str,
                title: str = "", optimum: float | None = None, maximize: bool = True) -> None:
    """Write ``path`` (PNG/SVG/PDF): mean best-so-far per strategy with a ±std band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = np.arange(1, budget + 1)
    lows = []
    for label, runs in results.items():
        curves = best_curves(runs, values, budget, maximize)
        mean, std = np.nanmean(curves, 0), np.nanstd(curves, 0)
        lows.append(mean[min(19, budget - 1)])
        (line,) = ax.plot(x, mean, label=label, lw=1.6)
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.15, lw=0)
    if optimum is not None:
        ax.axhline(optimum, color="k", ls=":", lw=1, label="optimum")
    ax.set_xscale("log")
    ax.set_xlabel("queries (distinct architectures evaluated)")
    ax.set_ylabel("best-so-far validation accuracy (%)")
    if optimum is not None and lows and maximize:  # from the weakest mean at 20 queries up
        lo = float(np.nanmin(lows))
        if np.isfinite(lo) and lo < optimum:
            ax.set_ylim(lo, optimum + 0.1 * (optimum - lo))
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
