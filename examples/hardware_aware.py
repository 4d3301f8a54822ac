"""Hardware-aware search: NAS-Bench-201 validation accuracy against Pixel 3 latency.

    NASOPT_DATA=/path/to/data python examples/hardware_aware.py --out front.png
    python examples/hardware_aware.py --strategy rea --budget 50   # (env: NASOPT_EXAMPLE_BUDGET)
    python examples/hardware_aware.py --max-latency 5              # most accurate cell under 5 ms

Two objectives, ``{"accuracy": "max", "latency_ms": "min"}``: an ask/tell loop of ``--budget``
queries (default 100), then the front found (accuracy, latency), its hypervolume as a share
of the true front's (all 15,625 cells are in the table), and both fronts plotted to ``--out``.

Hypervolume normalisation (as in the documentation's benchmark): accuracy maps the space's
median (0) to its maximum (1), clipped at 0; latency its maximum (0) to its minimum (1);
reference point (0, 0). On the raw ranges every method covers more than 97 % of the true
front's hypervolume and nothing can be told apart.

``--max-latency MS`` runs the other kind of hardware-aware search instead: accuracy alone,
under a constraint known before evaluation, ``latency(arch) - MS <= 0``, so no infeasible
cell is ever proposed; it prints the most accurate feasible cell found.

Data: ``nb201.npz`` and ``nb201_hw_latency.npz`` in ``$NASOPT_DATA``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np

import nasopt
from nasopt.benchmarks import NB201
from nasopt.core.optimizer import valid_options
from nasopt.core.pareto import hypervolume, nondominated_mask
from nasopt.core.registry import strategy_class

OBJECTIVES = {"accuracy": "max", "latency_ms": "min"}


def make_optimizer(args: argparse.Namespace, space: Any, **options: Any) -> nasopt.Optimizer:
    """``args.strategy`` on ``space``, told the run's budget when it takes one (WeakNAS and
    ReNAS size their random start with it)."""
    if "budget" in valid_options(strategy_class(args.strategy)):
        options["budget"] = args.budget
    return nasopt.create(args.strategy, space, seed=args.seed, **options)


def normalised(acc: np.ndarray, lat: np.ndarray, table_acc: np.ndarray, table_lat: np.ndarray) -> np.ndarray:
    """``(n, 2)`` scores, larger is better on both: accuracy from the table's median (0) to
    its maximum (1), clipped at 0; latency from the table's maximum (0) to its minimum (1)."""
    med, top = np.median(table_acc), table_acc.max()
    slow, fast = table_lat.max(), table_lat.min()
    return np.column_stack([np.clip((acc - med) / (top - med), 0.0, None), (slow - lat) / (slow - fast)])


def search_front(args: argparse.Namespace, bench: NB201) -> None:
    """Search both objectives; print the front found and its hypervolume ratio; plot it."""
    opt = make_optimizer(args, bench.space, objectives=OBJECTIVES)
    while len(opt.completed) < args.budget:
        for trial in opt.ask(min(args.batch, args.budget - len(opt.completed))):
            acc, lat = bench(trial.arch), bench.latency(trial.arch, args.device)  # "train" + "measure"
            opt.tell(trial, {"accuracy": acc, "latency_ms": lat})

    front = sorted(opt.pareto_front, key=lambda t: t.values[1])
    print(f"{args.strategy}, {len(opt.completed)} queries: NB201 {args.dataset} validation accuracy "
          f"x {args.device} latency")
    print(f"front found: {len(front)} cells")
    print(f"  {'accuracy %':>10}  {'latency ms':>10}  cell")
    for t in front:
        print(f"  {t.values[0]:10.2f}  {t.values[1]:10.3f}  {t.arch}")

    table_acc = bench.values
    table_lat = bench.latencies(np.arange(len(table_acc)), args.device)
    true = np.flatnonzero(nondominated_mask(np.column_stack([table_acc, -table_lat])))
    found = np.array([t.values for t in front])
    hv_found = hypervolume(normalised(found[:, 0], found[:, 1], table_acc, table_lat))
    hv_true = hypervolume(normalised(table_acc[true], table_lat[true], table_acc, table_lat))
    print(f"true front: {len(true)} cells; hypervolume ratio of the front found: "
          f"{hv_found / hv_true:.3f} (regret {1 - hv_found / hv_true:.3f})")
    if args.out:
        plot(args, opt, front, table_acc, table_lat, true)


def plot(args: argparse.Namespace, opt: nasopt.Optimizer, front: list[nasopt.Trial],
         table_acc: np.ndarray, table_lat: np.ndarray, true: np.ndarray) -> None:
    """Every cell of the table, the true front, the trials evaluated and the front found."""
    try:
        import matplotlib
    except ImportError:
        print('no plot: matplotlib is not installed (pip install "nasopt[bench]")')
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter(table_lat, table_acc, s=2, color="0.85", rasterized=True, label="all cells")
    order = true[np.argsort(table_lat[true])]
    ax.step(table_lat[order], table_acc[order], where="post", color="k", lw=1,
            label=f"true front ({len(true)})")
    done = np.array([t.values for t in opt.completed])
    ax.scatter(done[:, 1], done[:, 0], s=10, color="tab:blue", alpha=0.5,
               label=f"evaluated ({len(done)})")
    found = np.array([t.values for t in front])
    ax.step(found[:, 1], found[:, 0], where="post", color="tab:orange", lw=1.2)
    ax.scatter(found[:, 1], found[:, 0], s=30, color="tab:orange", edgecolor="k", lw=0.5, zorder=3,
               label=f"front found ({len(front)})")
    ax.set_ylim(np.median(table_acc), table_acc.max() + 0.5)  # the normalised range
    ax.set_xlabel(f"latency on {args.device} (ms, min)")
    ax.set_ylabel(f"{args.dataset} validation accuracy (%, max)")
    ax.set_title(f"{args.strategy}, {len(opt.completed)} queries")
    ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    plt.close(fig)
    print(f"plot written to {args.out}")


def search_under_latency(args: argparse.Namespace, bench: NB201) -> None:
    """Maximize accuracy among the cells under ``args.max_latency`` ms (known before
    evaluation: the strategy never proposes a slower cell)."""
    limit, device = args.max_latency, args.device
    opt = make_optimizer(args, bench.space, constraints=[lambda a: bench.latency(a, device) - limit])
    found_at = None
    table_lat = bench.latencies(np.arange(len(bench.values)), device)
    target = bench.values[table_lat <= limit].max()
    while len(opt.completed) < args.budget:
        for trial in opt.ask(min(args.batch, args.budget - len(opt.completed))):
            opt.tell(trial, bench(trial.arch))
            if found_at is None and opt.best.value >= target:
                found_at = len(opt.completed)
    best = opt.best
    print(f"{args.strategy}, {len(opt.completed)} queries, every one under {limit:g} ms on {device} "
          f"({(table_lat <= limit).mean():.0%} of the cells)")
    print(f"most accurate feasible cell found: {best.arch}")
    print(f"  validation accuracy {best.value:.2f} %, latency {bench.latency(best.arch, device):.3f} ms")
    print(f"  best under {limit:g} ms in the table: {target:.2f} % ("
          + (f"found at query {found_at})" if found_at else "not found)"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=int, default=int(os.environ.get("NASOPT_EXAMPLE_BUDGET", 100)),
                   help="architectures to evaluate (default 100)")
    p.add_argument("--strategy", default="weaknas", help="weaknas, rea, random, renas, ...")
    p.add_argument("--dataset", default="cifar10", choices=["cifar10", "cifar100", "imagenet16"])
    p.add_argument("--device", default="pixel3", help="latency table column (default pixel3)")
    p.add_argument("--batch", type=int, default=10, help="architectures per ask (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="hardware_aware.png", help="PNG of the fronts ('' for none)")
    p.add_argument("--max-latency", type=float, metavar="MS",
                   help="instead: the most accurate cell under MS milliseconds")
    args = p.parse_args()

    try:
        bench = NB201(args.dataset)
        if args.max_latency is None:
            search_front(args, bench)
        else:
            search_under_latency(args, bench)
    except nasopt.NasoptError as exc:  # no data, an unknown device, a strategy's refusal...
        raise SystemExit(f"{p.prog}: error: {exc}") from None


if __name__ == "__main__":
    main()
