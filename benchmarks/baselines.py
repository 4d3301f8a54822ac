"""Baseline checks on NAS-Bench-201: the bookkeeping cost and the two baselines side by side.

1. ``RandomSearch`` run until the validation optimum is queried, over many seeds: uniform
   sampling without replacement must need ``(15625 + 1) / 2 = 7813`` queries on average;
   reports the mean time of one ask/tell cycle.
2. ``RegularizedEvolution`` vs ``RandomSearch`` at a fixed budget on the same seeds:
   mean best validation accuracy (and its test accuracy).

Run: ``python benchmarks/baselines.py``; writes
``<out>.json`` and ``<out>.md`` (default ``nasopt-bench-out/baselines``; the committed
ones: ``--out results/baselines``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

if not __package__:  # run as `python benchmarks/baselines.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.harness.output import output_path  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt.benchmarks.nb201 import NB201  # noqa: E402
from nasopt.core.registry import create  # noqa: E402


def queries_to_optimum(strategy: str, bench: NB201, seed: int, **options) -> tuple[int, float]:
    """Queries until ``bench.optimum`` is evaluated, and the seconds spent in ask/tell."""
    opt = create(strategy, bench.space, seed=seed, **options)
    target = bench.optimum.index
    values = bench.values
    spent = 0.0
    for n in range(1, len(bench) + 1):
        t0 = time.perf_counter()
        trial = opt.ask()
        i = bench.space.index(trial.arch)
        opt.tell(trial, float(values[i]))
        spent += time.perf_counter() - t0
        if i == target:
            return n, spent
    raise RuntimeError("the optimum was never proposed: the strategy repeats architectures")


def best_at_budget(strategy: str, bench: NB201, seed: int, budget: int, **options) -> tuple[float, float]:
    """Best validation value after ``budget`` queries and the test value of that architecture."""
    opt = create(strategy, bench.space, seed=seed, **options)
    for _ in range(budget):
        trial = opt.ask()
        opt.tell(trial, bench(trial.arch))
    return opt.best.value, bench.test(opt.best.arch) if bench.test_values is not None else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python benchmarks/baselines.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=100, help="random-search runs to the optimum (default 100)")
    ap.add_argument("--dataset", default="cifar10", help="dataset of the queries-to-optimum check")
    ap.add_argument("--compare-runs", type=int, default=50, help="seeds of the REA vs random comparison")
    ap.add_argument("--compare-dataset", default="cifar100")
    ap.add_argument("--budget", type=int, default=300, help="budget of the REA vs random comparison")
    ap.add_argument("--data", help="nb201.npz or its directory (default $NASOPT_DATA)")
    ap.add_argument("--out", default=None, help="output prefix (default nasopt-bench-out/baselines)")
    args = ap.parse_args(argv)
    args.out = output_path(args.out, "baselines", "benchmarks/baselines.py")

    bench = NB201(args.dataset, path=args.data)
    counts, spent = [], []
    t0 = time.perf_counter()
    for seed in range(args.runs):
        n, s = queries_to_optimum("random", bench, seed)
        counts.append(n)
        spent.append(s)
    wall = time.perf_counter() - t0
    counts_a = np.array(counts)
    expected = (len(bench) + 1) / 2
    sem = counts_a.std(ddof=1) / np.sqrt(len(counts_a)) if len(counts_a) > 1 else float("nan")
    rq = {
        "dataset": args.dataset, "runs": args.runs, "mean": counts_a.mean(), "median": float(np.median(counts_a)),
        "std": counts_a.std(ddof=1) if len(counts_a) > 1 else 0.0, "sem": sem, "expected": expected,
        "relative_error": counts_a.mean() / expected - 1, "us_per_ask_tell": 1e6 * sum(spent) / counts_a.sum(),
        "wall_s": wall, "counts": counts,
    }

    cmp_bench = NB201(args.compare_dataset, path=args.data)
    compare = {}
    for name in ("rea", "random"):
        res = [best_at_budget(name, cmp_bench, seed, args.budget) for seed in range(args.compare_runs)]
        val, test = np.array(res).T
        compare[name] = {"valid_mean": val.mean(), "valid_std": val.std(ddof=1), "test_mean": test.mean(),
                         "test_std": test.std(ddof=1), "valid": val.tolist()}
    diff = np.array(compare["rea"]["valid"]) - np.array(compare["random"]["valid"])
    result = {"random_queries_to_optimum": rq, "rea_vs_random": {
        "dataset": args.compare_dataset, "budget": args.budget, "runs": args.compare_runs, **compare,
        "mean_difference": diff.mean(), "rea_wins": int((diff > 0).sum()), "ties": int((diff == 0).sum())}}

    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out + ".json", "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1, default=float)
    lines = [
        f"Random search to the NB201 {args.dataset} validation optimum, {args.runs} seeds: "
        f"mean {rq['mean']:.1f} queries (median {rq['median']:.0f}, s.e.m. {sem:.1f}); "
        f"expected {expected:.1f}; relative error {100 * rq['relative_error']:+.1f} %; "
        f"{rq['us_per_ask_tell']:.0f} µs per ask/tell cycle.",
        "",
        f"Best validation accuracy after {args.budget} queries, NB201 {args.compare_dataset}, "
        f"{args.compare_runs} seeds (same seeds for both):",
        "",
        "| strategy | validation (mean ± std) | test of that architecture |",
        "|---|---|---|",
    ]
    for name in ("rea", "random"):
        c = compare[name]
        lines.append(f"| {name} | {c['valid_mean']:.3f} ± {c['valid_std']:.3f} | {c['test_mean']:.3f} ± {c['test_std']:.3f} |")
    lines.append("")
    lines.append(f"REA − random: {diff.mean():+.3f} points on average; REA better on "
                 f"{result['rea_vs_random']['rea_wins']} of {args.compare_runs} seeds.")
    text = "\n".join(lines) + "\n"
    with open(args.out + ".md", "w", encoding="utf-8") as fh:
        fh.write(text)
    print(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    sys.exit(main())
