"""Where the CPU of one NAS-Bench-201 search goes (``python benchmarks/profile_search.py``).

Runs one search of a ``benchmarks/search.py`` preset (budget 1,000, stopping at the
validation optimum, one thread) under :mod:`cProfile` and prints the functions with the
largest own time and the share of the search's CPU spent in the predictor's fits and
predictions. A short warm-up search runs first so that imports and table loading are not
counted. Example (``docs/priors.md``)::

    NASOPT_DATA=../shared/data nice -n 10 python benchmarks/profile_search.py \\
        --dataset imagenet16 --strategy weaknas-prior-fullfit --seed 1

Under cProfile the times are inflated by the profiler and, on a busy machine, by waiting:
compare the shares, not the seconds, with ``benchmarks/search.py``'s CPU columns.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if not __package__:  # run as `python benchmarks/profile_search.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.runs import parse_spec, run_one  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from benchmarks.search import DATASET_NAMES, PRESETS  # noqa: E402

#: Functions whose cumulative time is reported as a share of the search.
FOCUS = {"fit": "BatchedMLP.fit (predictor training)",
         "predict_members": "predict_members (scoring the candidates)"}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; prints the profile and returns the exit status."""
    p = argparse.ArgumentParser(prog="python benchmarks/profile_search.py",
                                description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="imagenet16", choices=sorted(DATASET_NAMES))
    p.add_argument("--strategy", default="weaknas-prior", help="a preset of benchmarks/search.py")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--top", type=int, default=12, help="functions listed")
    args = p.parse_args(argv)
    from nasopt.benchmarks.nb201 import NB201

    bench = NB201(args.dataset)
    spec = parse_spec(args.strategy, PRESETS)
    run_one(spec, bench, args.seed + 12345, 50)  # warm-up: imports, caches
    prof = cProfile.Profile()
    c0 = time.process_time()
    prof.enable()
    run = run_one(spec, bench, args.seed, 1000)
    prof.disable()
    cpu = time.process_time() - c0
    stats = pstats.Stats(prof, stream=io.StringIO())
    total = sum(v[2] for v in stats.stats.values())  # own times add up to the whole
    print(f"{spec.label} on {DATASET_NAMES[args.dataset]}, seed {args.seed}: "
          f"{len(run['indices'])} queries, {cpu:.2f} s CPU under cProfile "
          f"({total:.2f} s profiled)")
    for (path, _, name), (_, _, _, cum, _) in sorted(stats.stats.items(), key=lambda kv: -kv[1][3]):
        if name in FOCUS and path.endswith("batched_mlp.py"):
            print(f"  {FOCUS[name]}: {100 * cum / total:.0f} % of the profiled time")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    sys.exit(main())
