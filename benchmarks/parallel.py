"""Speed-up of :func:`nasopt.driver.optimize` with parallel workers on slow evaluations.

Each evaluation sleeps ``--sleep`` seconds (a stand-in for training) and then scores the
architecture; the same budget is run sequentially (inline) and with ``--workers`` workers
on a thread pool and on a process pool. The ratio parallel / sequential wall time is
written to ``--out`` (ideal: ``1 / workers``) with a Markdown table beside it; the
committed ``results/parallel.json``::

    python benchmarks/parallel.py --workers 2 --trials 40 --sleep 0.2 --out results/parallel.json
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import platform
import sys
import time
import zlib
from pathlib import Path

if not __package__:  # run as `python benchmarks/parallel.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.output import output_path  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt.core.registry import create  # noqa: E402
from nasopt.driver import optimize  # noqa: E402
from nasopt.spaces.nb201 import NB201Space  # noqa: E402

OP_WEIGHT = {"none": 0.0, "skip_connect": 1.0, "nor_conv_1x1": 2.0, "nor_conv_3x3": 3.0, "avg_pool_3x3": 0.5}


class SlowObjective:
    """Sleeps ``seconds``, then returns a deterministic score of the NB201 string."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, arch: str) -> float:
        time.sleep(self.seconds)
        ops = [item.split("~")[0] for item in arch.replace("+", "").split("|") if item]
        return sum(OP_WEIGHT[o] for o in ops) + (zlib.crc32(arch.encode()) % 1000) / 1e4


def _timed(objective: SlowObjective, n: int, strategy: str, seed: int, **kw) -> tuple[float, float]:
    opt = create(strategy, NB201Space(), seed=seed)
    start = time.perf_counter()
    optimize(objective, opt, n, progress=False, **kw)
    wall = time.perf_counter() - start
    assert len(opt.completed) == n, "every evaluation must be told"
    return wall, opt.best.value


def run(workers: int = 2, trials: int = 40, sleep: float = 0.2, strategy: str = "rea", seed: int = 0,
        repeats: int = 1) -> dict:
    """Measure sequential vs parallel wall time; returns the result record."""
    objective = SlowObjective(sleep)
    NB201Space()[0]  # load the space's tables before any timing
    seq = min(_timed(objective, trials, strategy, seed)[0] for _ in range(repeats))
    out = {
        "benchmark": "parallel", "workers": workers, "trials": trials, "sleep_s": sleep,
        "strategy": strategy, "seed": seed, "repeats": repeats,
        "sequential_s": round(seq, 3), "ideal_sequential_s": round(trials * sleep, 3),
        "ideal_ratio": round(1 / workers, 3), "parallel": {},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None},
    }
    for kind, make in (("thread", cf.ThreadPoolExecutor), ("process", cf.ProcessPoolExecutor)):
        with make(workers) as ex:
            ex.submit(abs, 0).result()  # start the workers before timing
            wall = min(_timed(objective, trials, strategy, seed, executor=ex, n_parallel=workers)[0]
                       for _ in range(repeats))
        out["parallel"][kind] = {"wall_s": round(wall, 3), "ratio": round(wall / seq, 3),
                                 "speedup": round(seq / wall, 3)}
    return out


def to_markdown(res: dict) -> str:
    lines = [
        f"Parallel driver: {res['trials']} evaluations of {res['sleep_s']} s each, strategy "
        f"{res['strategy']}, {res['workers']} workers ({res['machine']['cpus']} CPUs, "
        f"load {res['machine']['load_avg_1m']}).",
        "",
        "| executor | wall time (s) | ratio to sequential | speed-up |",
        "| --- | ---: | ---: | ---: |",
        f"| sequential (inline) | {res['sequential_s']:.2f} | 1.000 | 1.00 |",
    ]
    for kind, r in res["parallel"].items():
        lines.append(f"| {kind} pool, n_parallel={res['workers']} | {r['wall_s']:.2f} | {r['ratio']:.3f} | {r['speedup']:.2f} |")
    lines.append(f"\nIdeal ratio: {res['ideal_ratio']:.3f}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``python benchmarks/parallel.py``)."""
    p = argparse.ArgumentParser(prog="python benchmarks/parallel.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, default=2, help="parallel evaluations (default 2)")
    p.add_argument("--trials", type=int, default=40, help="evaluations per run (default 40)")
    p.add_argument("--sleep", type=float, default=0.2, help="seconds per evaluation (default 0.2)")
    p.add_argument("--strategy", default="rea", help="strategy name (default rea)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3, help="keep the best of this many timings (default 3)")
    p.add_argument("--out", default=None,
                   help="JSON output, a .md table beside it (default nasopt-bench-out/parallel.json)")
    args = p.parse_args(argv)
    args.out = output_path(args.out, "parallel.json", "benchmarks/parallel.py")
    res = run(args.workers, args.trials, args.sleep, args.strategy, args.seed, args.repeats)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    table = to_markdown(res)
    out.with_suffix(".md").write_text(table)
    print(table, end="")
    return 0


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    sys.exit(main())
