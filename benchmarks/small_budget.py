"""How many random architectures should ReNAS / WeakNAS start with when only ~50 queries
are affordable?

    NASOPT_DATA=../shared/data OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
        python benchmarks/small_budget.py            # writes results/small_budget.{json,md}

Every configuration runs on NAS-Bench-201 (CIFAR-10 / CIFAR-100 / ImageNet16-120 validation
accuracy) and NAS-Bench-Macro (CIFAR-10 accuracy, mean of 3 runs: the table has no
validation split) for seeds 1000-1009 (the NB201 defaults were tuned on seeds 0-139), on one
CPU thread. Reported: the best objective value found within 50 queries, mean ± sem
over seeds. A second table follows WeakNAS's random start on NAS-Bench-Macro to 200 queries,
to check whether NB201's tuned ``init=30`` should hold on other spaces.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

if not __package__:  # run as `python benchmarks/small_budget.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.harness.output import output_path  # noqa: E402
from benchmarks.harness.runs import StrategySpec, parse_seeds, run_one  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt.benchmarks import NB201, Macro  # noqa: E402

BUDGET = 50
LONG_BUDGET = 200
LONG_CHECKPOINTS = (50, 100, 200)

#: Compared at BUDGET queries on every benchmark.
SPECS = [
    StrategySpec("random", "random"),
    *(StrategySpec(f"renas init={k}", "renas", {"init": k}) for k in (10, 20, 30, 40)),
    StrategySpec("renas-iter", "renas-iter"),
    *(StrategySpec(f"weaknas init={k}", "weaknas", {"init": k}) for k in (10, 20, 30)),
]
#: WeakNAS's random start on NAS-Bench-Macro at LONG_BUDGET queries.
LONG_SPECS = [StrategySpec(f"weaknas init={k}", "weaknas", {"init": k}) for k in (10, 20, 30)]


def benchmarks() -> dict[str, object]:
    """Label -> tabular benchmark."""
    return {
        "NB201 cifar10": NB201("cifar10"),
        "NB201 cifar100": NB201("cifar100"),
        "NB201 ImageNet16-120": NB201("imagenet16"),
        "Macro": Macro(),
    }


def best_at(values: list[float], k: int) -> float:
    """Best value among the first ``k`` queries (a run stops early at the optimum)."""
    return float(max(values[:k]))


def summary(xs: list[float]) -> dict:
    """Mean, standard error of the mean and count."""
    a = np.asarray(xs, dtype=np.float64)
    sem = float(a.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else 0.0
    return {"mean": float(a.mean()), "sem": sem, "n": len(a)}


def run(specs: list[StrategySpec], benches: dict, seeds: list[int], budget: int,
        checkpoints: tuple[int, ...]) -> dict:
    """``{bench: {label: {"best@k": summary, "seconds": ...}}}``."""
    out: dict = {}
    for blabel, bench in benches.items():
        out[blabel] = {}
        for spec in specs:
            t0 = time.perf_counter()
            runs = [run_one(spec, bench, s, budget) for s in seeds]
            row = {f"best@{k}": summary([best_at(r["values"], k) for r in runs]) for k in checkpoints}
            row["seconds"] = time.perf_counter() - t0
            out[blabel][spec.label] = row
            print(f"{blabel:22s} {spec.label:22s} "
                  + "  ".join(f"@{k} {row[f'best@{k}']['mean']:.3f}" for k in checkpoints)
                  + f"  ({row['seconds']:.1f} s)", file=sys.stderr, flush=True)
    return out


def budget_inits(benches: dict) -> dict:
    """``{bench: {strategy: init}}``: the random start each default picks with ``budget=BUDGET``."""
    import nasopt

    return {b: {name: nasopt.create(name, bench.space, seed=0, budget=BUDGET)._init
                for name in ("renas", "renas-iter", "weaknas")} for b, bench in benches.items()}


def markdown(main: dict, long: dict, seeds: list[int], command: str, seconds: float,
             inits: dict, optima: dict) -> str:
    """Both tables as markdown."""
    benches = list(main)
    lines = [
        f"# Small budgets: best value found within {BUDGET} queries",
        "",
        f"`{command}` ({seconds:.0f} s on one CPU thread). Seeds {seeds[0]}-{seeds[-1]} "
        f"({len(seeds)} runs per cell; not the seeds the NB201 defaults were tuned on); mean ± sem of the best "
        "validation accuracy (%) found (NAS-Bench-Macro: CIFAR-10 accuracy, mean of 3 runs).",
        "",
        "| strategy | " + " | ".join(benches) + " |",
        "| --- |" + " --- |" * len(benches),
    ]
    for label in main[benches[0]]:
        cells = [main[b][label][f"best@{BUDGET}"] for b in benches]
        lines.append(f"| {label} | " + " | ".join(f"{c['mean']:.2f} ± {c['sem']:.2f}" for c in cells) + " |")
    lines.append("| *optimum* | " + " | ".join(f"*{optima[b]:.2f}*" for b in benches) + " |")
    lines += ["", f"With `budget={BUDGET}` the defaults start with: " + "; ".join(
        f"{b}: " + ", ".join(f"{k} {v}" for k, v in row.items()) for b, row in inits.items()) + "."]
    (blabel,) = long
    lines += [
        "",
        f"## WeakNAS's random start on {blabel}, to {LONG_BUDGET} queries",
        "",
        "| strategy | " + " | ".join(f"best @ {k}" for k in LONG_CHECKPOINTS) + " |",
        "| --- |" + " --- |" * len(LONG_CHECKPOINTS),
    ]
    for label, row in long[blabel].items():
        lines.append(f"| {label} | " + " | ".join(
            f"{row[f'best@{k}']['mean']:.3f} ± {row[f'best@{k}']['sem']:.3f}" for k in LONG_CHECKPOINTS) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1000-1009", help="seeds (default 1000-1009)")
    parser.add_argument("--out", default=None,
                        help="folder of small_budget.{json,md} (default nasopt-bench-out/)")
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    benches = benchmarks()
    t0 = time.perf_counter()
    main_res = run(SPECS, benches, seeds, BUDGET, (BUDGET,))
    long_res = run(LONG_SPECS, {"Macro": benches["Macro"]}, seeds, LONG_BUDGET, LONG_CHECKPOINTS)
    seconds = time.perf_counter() - t0
    inits = budget_inits(benches)
    optima = {b: float(bench.optimum.value) for b, bench in benches.items()}
    command = "python benchmarks/small_budget.py" + ("" if argv is None and len(sys.argv) == 1
                                                     else " " + " ".join(argv if argv is not None else sys.argv[1:]))
    args.out = output_path(args.out, "", "benchmarks/small_budget.py")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "small_budget.json"), "w", encoding="utf-8") as fh:
        json.dump({"budget": BUDGET, "seeds": seeds, "seconds": seconds, "command": command,
                   "specs": [s.to_json() for s in SPECS],
                   "long_specs": [s.to_json() for s in LONG_SPECS],
                   "results": main_res, "long_budget": LONG_BUDGET, "long_results": long_res,
                   "budget_inits": inits, "optima": optima},
                  fh, indent=1)
    with open(os.path.join(args.out, "small_budget.md"), "w", encoding="utf-8") as fh:
        fh.write(markdown(main_res, long_res, seeds, command, seconds, inits, optima))
    print(f"wrote {args.out}/small_budget.json and .md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    one_thread()
    sys.exit(main())
