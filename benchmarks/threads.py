"""CPU cost of the default WeakNAS search with the environment's BLAS / OpenMP thread
defaults versus one thread forced by the environment (``OPENBLAS_NUM_THREADS=1`` and the
OpenMP / MKL equivalents).

    NASOPT_DATA=../shared/data python benchmarks/threads.py --seeds 1000-1004 --out results/threads

Each search (``nasopt.create("weaknas", NB201(dataset).space, seed=s)``, ``budget`` queries,
one ask / tell at a time) runs in a fresh interpreter, so the thread settings apply from the
start; the parent measures the child's CPU time (user + sys, from ``getrusage`` of reaped
children) and its wall time, and the child reports the CPU and wall time of the search loop
alone (without interpreter start and imports). Configurations alternate seed by seed so that
a change of machine load hits all of them alike. Every configuration must propose the same
architectures for a seed (the thread count may not change a result); the script fails if not.

Configurations:

* ``env-default``: the thread variables removed from the environment (the libraries' own
  defaults: one thread per core) and nasopt's default ``n_threads``;
* ``env-1-thread``: ``OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=1``;
* ``env-default, n_threads=K`` (``--n-threads none,2``): the environment's defaults with
  WeakNAS's ``n_threads=K``; ``none`` switches nasopt's limit off, i.e. the behaviour before
  nasopt limited its fits.

Held-out seeds (1000 and up) are the default: seeds 0-29 were used to tune WeakNAS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if not __package__:  # run as `python benchmarks/threads.py`: the repository root first
    sys.path.insert(0, str(ROOT))

# no one_thread() here: the configurations set (or lift) the thread limits themselves
from benchmarks.harness.runs import parse_seeds  # noqa: E402
from benchmarks.harness.threads import THREAD_VARS  # noqa: E402


def child(dataset: str, seed: int, budget: int, options: dict[str, Any]) -> dict[str, Any]:
    """One search in this process (the child side); its result and cost as a dict."""
    import nasopt
    from nasopt.benchmarks import NB201

    bench = NB201(dataset)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    opt = nasopt.create("weaknas", bench.space, seed=seed, **options)
    indices: list[int] = []
    while len(indices) < budget:
        trial = opt.ask()
        opt.tell(trial, bench(trial.arch))
        indices.append(int(bench.space.indices([trial.arch])[0]))
    search_cpu, search_wall = time.process_time() - cpu0, time.perf_counter() - wall0
    from threadpoolctl import threadpool_info

    return {"indices": indices, "best": opt.best.value, "search_cpu_s": search_cpu,
            "search_wall_s": search_wall,
            "threadpools": [{k: p.get(k) for k in ("internal_api", "num_threads")}
                            for p in threadpool_info()]}


def run_child(env: dict[str, str], dataset: str, seed: int, budget: int,
              options: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter with ``env``; add the process's CPU and wall."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--dataset", dataset,
           "--seed", str(seed), "--budget", str(budget), "--options", json.dumps(options)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(ROOT))
    wall = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"search failed (seed {seed}):\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out["process_wall_s"] = wall
    return out


def configurations(n_threads: list[int | None]) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    """(label, environment, WeakNAS options) of each configuration compared."""
    base = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    base["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    one = {**base, **{k: "1" for k in THREAD_VARS}}
    configs = [("env-default", base, {}), ("env-1-thread", one, {})]
    configs += [(f"env-default, n_threads={n}", base, {"n_threads": n}) for n in n_threads]
    return configs


def summarize(runs: list[dict[str, Any]], labels: list[str]) -> dict[str, dict[str, float]]:
    """Mean per search of each cost, per configuration."""
    keys = ("process_cpu_s", "process_wall_s", "search_cpu_s", "search_wall_s")
    return {label: {k: sum(r[k] for r in runs if r["config"] == label)
                    / sum(r["config"] == label for r in runs) for k in keys}
            for label in labels}


def markdown(result: dict[str, Any]) -> str:
    """The table of ``result`` (one row per configuration, ratios to ``env-1-thread``)."""
    s, ref = result["summary"], result["summary"]["env-1-thread"]
    lines = [
        f"WeakNAS defaults, NB201 {result['dataset']}, {result['budget']} queries, seeds "
        f"{result['seeds'][0]}-{result['seeds'][-1]} ({len(result['seeds'])} searches per row), "
        f"{result['cpus']} CPUs, load average {result['load_before'][0]:.2f} before / "
        f"{result['load_after'][0]:.2f} after. Mean per search.",
        "",
        "| configuration | CPU s (process) | wall s (process) | CPU s (search) | wall s (search) "
        "| CPU ratio to 1 thread (process) | CPU ratio to 1 thread (search) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, m in s.items():
        lines.append(f"| {label} | {m['process_cpu_s']:.2f} | {m['process_wall_s']:.2f} | "
                     f"{m['search_cpu_s']:.2f} | {m['search_wall_s']:.2f} | "
                     f"{m['process_cpu_s'] / ref['process_cpu_s']:.2f} | "
                     f"{m['search_cpu_s'] / ref['search_cpu_s']:.2f} |")
    lines += ["", f"Same proposals in every configuration: {result['same_trajectories']}.",
              "", f"Command: `{result['command']}`", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="cifar100", choices=["cifar10", "cifar100", "imagenet16"])
    p.add_argument("--seeds", default="1000-1004", help="'A-B', a comma-separated list, or a mix")
    p.add_argument("--budget", type=int, default=150)
    p.add_argument("--n-threads", default="",
                   help="also run these WeakNAS n_threads values with the environment's defaults "
                        "(comma-separated; 'none' = no limit), e.g. none,2")
    p.add_argument("--out", help="write OUT.json and OUT.md (default: print only)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    p.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.dataset, args.seed, args.budget, json.loads(args.options))))
        return 0
    extra = [None if v.strip().lower() == "none" else int(v)
             for v in args.n_threads.split(",") if v.strip()]
    seeds, configs = parse_seeds(args.seeds), configurations(extra)
    load_before = os.getloadavg()
    runs: list[dict[str, Any]] = []
    for i, seed in enumerate(seeds):
        order = configs[i % len(configs):] + configs[:i % len(configs)]  # rotate the order
        for label, env, options in order:
            r = run_child(env, args.dataset, seed, args.budget, options)
            runs.append({"config": label, "seed": seed, **r})
            print(f"seed {seed} {label:28s} CPU {r['process_cpu_s']:6.2f} s (search "
                  f"{r['search_cpu_s']:6.2f}) wall {r['process_wall_s']:6.2f} s", flush=True)
    same = all(len({tuple(r["indices"]) for r in runs if r["seed"] == s}) == 1 for s in seeds)
    labels = [c[0] for c in configs]
    result = {
        "dataset": args.dataset, "budget": args.budget, "seeds": seeds, "cpus": os.cpu_count(),
        "python": platform.python_version(), "load_before": load_before,
        "load_after": os.getloadavg(), "same_trajectories": same,
        "summary": summarize(runs, labels),
        "command": "python benchmarks/threads.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "runs": runs,
    }
    text = markdown(result)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out + ".json").write_text(json.dumps(result, indent=1) + "\n")
        Path(args.out + ".md").write_text(text)
    if not same:
        print("error: the thread settings changed the proposals", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
