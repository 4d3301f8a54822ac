"""Compare WeakNAS configurations on *training* seeds (how its defaults were chosen).

    NASOPT_DATA=../shared/data python benchmarks/tune_weaknas.py --datasets cifar10,cifar100 \
        --seeds 0-29 --workers 2 'hinge30={"loss": "hinge", "init": 30}' 'mse10={"loss": "mse", "init": 10}'

Each configuration (``label=JSON options of WeakNAS``) runs on every dataset and seed with
``benchmarks.harness.runs.run_one`` (budget 1,000, stop at the validation optimum). A run
counts the queries asked until the optimum was among them, whole batches of 10 included
(1,001 when not found), so its figures are a little above those of ``benchmarks/search.py``,
which counts the optimum's position. Runs are appended to ``--cache`` (one JSON line each,
keyed by dataset, options and seed; gzip-compressed when the name ends in ``.gz``, each
append a gzip member) and never repeated, so configurations can be added one at a time. Held-out seeds (1000 and up) are for ``benchmarks/search.py`` only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from multiprocessing import Pool
from pathlib import Path

if not __package__:  # run as `python benchmarks/tune_weaknas.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.harness.runs import StrategySpec, parse_seeds, run_one  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt.benchmarks.nb201 import NB201  # noqa: E402

BUDGET = 1000
_BENCH: dict[str, NB201] = {}


def _job(args: tuple) -> tuple:
    dataset, options, seed = args
    if dataset not in _BENCH:
        _BENCH[dataset] = NB201(dataset)
    run = run_one(StrategySpec("weaknas", "weaknas", options), _BENCH[dataset], seed, BUDGET)
    queries = len(run["indices"]) if run["stopped_at_optimum"] else BUDGET + 1
    return dataset, json.dumps(options, sort_keys=True), seed, queries, run["cpu_s"]


def _open_cache(path: str, mode: str):
    """The cache file in text ``mode`` (``"r"`` or ``"a"``), through gzip for ``.gz``."""
    return gzip.open(path, mode + "t", encoding="utf-8") if path.endswith(".gz") else open(path, mode)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("configs", nargs="+", help="label=JSON options, e.g. 'h30={\"init\": 30}'")
    p.add_argument("--datasets", default="cifar10,cifar100,imagenet16")
    p.add_argument("--seeds", default="0-29", help="'A-B', a comma-separated list, or a mix")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--cache", default="results/tune_weaknas_runs.jsonl.gz")
    args = p.parse_args(argv)
    datasets, seeds = args.datasets.split(","), parse_seeds(args.seeds)
    configs = []
    for item in args.configs:
        label, _, options = item.partition("=")
        configs.append((label, json.loads(options)))
    done: dict[tuple, tuple] = {}
    if os.path.exists(args.cache):
        with _open_cache(args.cache, "r") as fh:
            for line in fh:
                r = json.loads(line)
                done[(r["ds"], r["opts"], r["seed"])] = (r["q"], r["cpu"])
    jobs = [(ds, o, s) for _, o in configs for ds in datasets for s in seeds
            if (ds, json.dumps(o, sort_keys=True), s) not in done]
    if jobs:
        with Pool(args.workers, initializer=one_thread) as pool, _open_cache(args.cache, "a") as fh:
            for ds, o, s, q, cpu in pool.imap_unordered(_job, jobs):
                done[(ds, o, s)] = (q, cpu)
                fh.write(json.dumps({"ds": ds, "opts": o, "seed": s, "q": q, "cpu": cpu}) + "\n")
                fh.flush()
    print(f"mean queries to the optimum (seeds {args.seeds}; {BUDGET + 1} = not found), CPU s per run")
    print("| config | options | " + " | ".join(datasets) + " |")
    print("|---|---|" + "---|" * len(datasets))
    for label, o in configs:
        key = json.dumps(o, sort_keys=True)
        cells = []
        for ds in datasets:
            q = np.array([done[(ds, key, s)][0] for s in seeds])
            cpu = np.mean([done[(ds, key, s)][1] for s in seeds])
            cells.append(f"{q.mean():.1f} (median {np.median(q):.0f}, {cpu:.1f} s)")
        print(f"| {label} | `{key}` | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    one_thread()
    sys.exit(main())
