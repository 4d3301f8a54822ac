"""ReNAS on NAS-Bench-201 (the paper's table) side by side with the other strategies.

Protocol (ReNAS paper, Table 5): 90 random architectures train the predictor, the predicted
top-10 are evaluated: 100 queries. The search uses the *validation* accuracy (mean over
seeds); the reported figure is the *test* accuracy of the best-by-validation architecture
among the queried ("test"), with the best test accuracy among the queried ("max test", the
paper's wording) alongside. Every method gets the same budget of distinct queries and the
same seeds:

* ``renas``       ReNAS, paper protocol (the ReNAS CNN, hinge L1 + λ·L2, the whole space
                  ranked by the predictor) at the strategy's defaults (the CNN reads the
                  tensor with one-hot type channels) or ``--renas`` JSON options, repeatable
                  (``{"encoding": "renas"}``: the paper's 31×4×4 tensor); plus the
                  EA↔traverse agreement: does the EA (64 × 500) on the same predictor find
                  the predictor's own top?
* ``renas-iter``  ReNAS, iterative mode (``--iter`` JSON options; refits every round)
* ``rea``, ``random``, ``weaknas``  nasopt strategies at their defaults
* ``tpe``         Optuna's default ``TPESampler(seed=seed)``, one categorical parameter
                  per edge (6 × 5 ops); repeated suggestions are answered from a cache and
                  not counted, so it also gets ``budget`` distinct queries.

``--metric test`` searches on the test accuracy instead (what many NAS papers' NB201 tables
did; kept apart from the honest protocol, for comparing with published figures): the
objective and the selection use the test table, the validation accuracy of the chosen
architecture is still reported.

NAS-Bench-101 (``--space nb101 --data PATH`` with the official table): ReNAS with 424 random
samples, the EA on the predictor and the top-10, against REA and random search.

Run: ``python benchmarks/renas.py``; writes
``<out>.json.gz`` (gzip-compressed JSON) and ``<out>.md`` (default ``nasopt-bench-out/renas_nb201``).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import copy
import functools
import json
import multiprocessing as mp
import os
import platform
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any

if not __package__:  # run as `python benchmarks/renas.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.harness.jsonio import read_json, write_json  # noqa: E402
from benchmarks.harness.output import output_path  # noqa: E402
from benchmarks.harness.runs import parse_seeds, tpe_queries  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt.core.errors import ConfigurationError, DataError  # noqa: E402
from nasopt.strategies.renas import ITERATIVE_OPTIONS  # noqa: E402

#: Published ReNAS Table 5 (test accuracy, 20 runs) and the team's Optuna TPE measurement.
ANCHORS = {
    "ReNAS (paper)": {"cifar10": (93.99, 0.25), "cifar100": (72.12, 0.79), "imagenet16": (45.97, 0.49)},
    "REA (paper)": {"cifar10": (93.92, None), "cifar100": (71.84, None), "imagenet16": (45.54, None)},
    "random (paper)": {"cifar10": (93.70, None), "cifar100": (71.04, None), "imagenet16": (44.57, None)},
    "TPE (team)": {"cifar10": (94.31, 0.13), "cifar100": (73.13, 0.41), "imagenet16": (46.45, 0.65)},
}
DATASETS = ("cifar10", "cifar100", "imagenet16")
METHODS = ("renas", "renas-iter", "rea", "random", "weaknas", "tpe")


@functools.lru_cache(maxsize=8)
def _bench(space: str, dataset: str, data: str | None, metric: str = "valid") -> Any:
    if space == "nb201":
        from nasopt.benchmarks.nb201 import NB201

        return NB201(dataset, metric=metric, path=data)
    try:
        from nasopt.benchmarks.nb101 import NB101
    except ImportError as exc:  # pragma: no cover - depends on the checkout
        raise SystemExit(f"NB101 benchmark unavailable: {exc}") from exc
    return NB101(path=data, metric=metric)


def _agreement(opt: Any) -> dict:
    """EA vs traversal on the predictor ``opt`` ended with: same top architecture?"""
    space = opt.space
    scorer = opt.predictor_
    scores = scorer.score_features(opt._featurize_indices(np.arange(len(space))))
    top = int(np.argmax(scores))
    t0, c0 = time.perf_counter(), time.process_time()
    res = opt.run_ea(scorer)
    ea_s, ea_cpu = time.perf_counter() - t0, time.process_time() - c0
    found = int(space.index(res.best))
    rank = int((scores > scores[found]).sum())  # 0 when the EA found the top
    return {"agree": found == top, "ea_rank_of_best": rank, "ea_seconds": ea_s, "ea_cpu_seconds": ea_cpu,
            "ea_scored": len(res.archs)}


def run_one(method: str, options: dict, space: str, dataset: str, seed: int, budget: int,
            data: str | None, agreement: bool = False, metric: str = "valid") -> dict:
    """One run: the queried architectures' indices and the metrics of the run (searching on
    ``metric``; ``valid`` is always the validation accuracy of the best-by-``metric``)."""
    from nasopt.core.registry import create  # "renas" is registered by the import at the top

    try:
        from nasopt.strategies import weaknas as _weaknas  # noqa: F401
    except ImportError:  # pragma: no cover
        pass
    bench = _bench(space, dataset, data, metric)
    t0 = time.perf_counter()
    extra: dict = {}
    if method == "tpe":
        queried = tpe_queries(bench, seed, budget)
    else:
        name = {"renas-iter": "renas", "renas-ea": "renas"}.get(method, method)
        opts = dict(options)
        if method == "renas-ea":
            opts["traverse"] = False
        opt = create(name, bench.space, seed=seed, **opts)
        queried = []
        while len(queried) < budget:
            if name == "renas":
                k = opt._init - len(queried) if len(queried) < opt._init else opt.top_k
            else:
                k = int(getattr(opt, "batch", 1) or 1)
            trials = opt.ask(min(k, budget - len(queried)))
            for t in trials:
                i = int(bench.space.index(t.arch))
                opt.tell(t, float(bench.values[i]))
                queried.append(i)
        if name == "renas":
            extra["fits"] = opt._fits
            extra["rankings"] = list(opt.rankings_)
            if agreement and opt.predictor_ is not None and bench.space.is_finite:
                extra.update(_agreement(opt))
    seconds = time.perf_counter() - t0
    idx = np.asarray(queried, dtype=np.int64)
    vals = bench.values[idx]
    best = int(idx[int(np.argmax(vals))])
    valid = bench.values if metric == "valid" else _bench(space, dataset, data, "valid").values
    out = {"method": method, "options": options, "dataset": dataset, "seed": seed, "queries": len(idx),
           "valid": float(valid[best]), "rank": objective_rank(bench.values, idx), "seconds": seconds,
           "queried": idx.tolist(), **extra}
    if metric != "valid":
        out["metric"] = metric
    if bench.test_values is not None:
        out["test"] = float(bench.test_values[best])
        out["max_test"] = float(bench.test_values[idx].max())
    return out


def objective_rank(values: np.ndarray, queried: np.ndarray) -> int:
    """How many architectures of the table beat the best queried on the search objective
    (0: the run found the table's optimum)."""
    return int((values > values[np.asarray(queried, dtype=np.int64)].max()).sum())


def _job_key(job: tuple) -> tuple:
    method, opts, space, ds, seed, budget = job[:6]
    return (method, json.dumps(opts, sort_keys=True), space, ds, int(seed), int(budget), job[8])


def _load_reusable(paths: list[str]) -> dict:
    """Runs of earlier outputs, keyed like :func:`_job_key`. A later file wins on the same
    run; when it queried other architectures than an earlier file (the code changed between
    them), a warning on stderr says how many runs and which files."""
    out: dict = {}
    source: dict = {}
    conflicts: collections.Counter = collections.Counter()
    for path in paths:
        res = read_json(path)
        for r in res["runs"]:
            opts = r.get("options")
            if opts is None:  # outputs written before runs recorded their options
                opts = res["iter_options"] if r["method"] == "renas-iter" else (
                    res["renas_options"] if r["method"] in ("renas", "renas-ea") else {})
            key = (r["method"], json.dumps(opts, sort_keys=True), res["space"], r["dataset"],
                   int(r["seed"]), int(res["budget"]), res.get("metric", "valid"))
            if key in out and out[key].get("queried") != r.get("queried"):
                conflicts[(source[key], path)] += 1
            out[key], source[key] = dict(r, options=opts), path
    for (first, later), n in conflicts.items():
        print(f"warning: {n} run(s) in {later} queried other architectures than the same "
              f"run(s) in {first}; using {later} (a later --reuse file wins)", file=sys.stderr)
    return out


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _job(args: tuple) -> dict:
    return run_one(*args)


def _stat(x: list[float]) -> tuple[float, float]:
    a = np.asarray(x, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def _row(run: dict) -> str:
    """Table row of a run: the method, plus its options for the ReNAS modes (several
    configurations of each can share one table)."""
    if run["method"] == "renas-iter" or (run["method"] in ("renas", "renas-ea") and run.get("options")):
        return run["method"] + " " + json.dumps(run.get("options", {}), sort_keys=True)
    return run["method"]


def summarize(runs: list[dict]) -> dict:
    """Mean ± std per (method, dataset) of valid / test / max-test and the agreement rate."""
    out: dict = {}
    for r in runs:
        out.setdefault(_row(r), {}).setdefault(r["dataset"], []).append(r)
    summary: dict = {}
    for m, by_ds in out.items():
        for ds, rs in by_ds.items():
            s: dict = {"runs": len(rs), "seconds_per_run": float(np.mean([r["seconds"] for r in rs]))}
            for key in ("valid", "test", "max_test"):
                if key in rs[0]:
                    s[key] = _stat([r[key] for r in rs])
            if all("rank" in r for r in rs):
                s["found_optimum"] = float(np.mean([r["rank"] == 0 for r in rs]))
            checked = [r for r in rs if "agree" in r]
            if checked:
                s["agreement"] = float(np.mean([r["agree"] for r in checked]))
                s["agreement_runs"] = len(checked)
                s["ea_seconds"] = float(np.mean([r["ea_seconds"] for r in checked]))
                if all("ea_cpu_seconds" in r for r in checked):
                    s["ea_cpu_seconds"] = float(np.mean([r["ea_cpu_seconds"] for r in checked]))
            summary.setdefault(m, {})[ds] = s
    return summary


def _fmt(ms: tuple[float, float | None] | None) -> str:
    if ms is None:
        return "–"
    m, s = ms
    return f"{m:.2f}" if s is None else f"{m:.2f} ± {s:.2f}"


def markdown(summary: dict, datasets: list[str], args: argparse.Namespace, seeds: list[int],
             iter_opts: dict, anchors: bool = True) -> str:
    """The result table (test of the best-by-objective architecture) next to the anchors."""
    objective = "validation" if args.metric == "valid" else "test"
    lines = [
        f"{'NAS-Bench-101' if args.space == 'nb101' else 'NAS-Bench-201'}, {args.budget} distinct queries, {len(seeds)} runs (seeds "
        f"{seeds[0]}–{seeds[-1]}), search on {objective} accuracy; test accuracy of the "
        f"best-by-{objective} architecture among the queried, mean ± std (max test among the "
        "queried in brackets).",
        "",
        "| method | " + " | ".join(datasets) + " |",
        "|---|" + "---|" * len(datasets),
    ]
    labels = {"renas": ("ReNAS (paper protocol: 424 + top-10, EA)" if args.space == "nb101"
                        else "ReNAS (paper protocol: 90 + top-10, traverse)"),
              "renas-ea": "ReNAS (90 + top-10, EA)",
              "rea": "RegularizedEvolution", "random": "RandomSearch", "weaknas": "WeakNAS",
              "tpe": "Optuna TPE (default)"}
    for m in summary:
        method, _, opts = m.partition(" ")
        if method == "renas-iter":
            labels[m] = "ReNAS iterative " + opts
        elif opts:
            labels[m] = labels[method] + " " + opts
    for m in summary:
        cells = []
        for ds in datasets:
            s = summary[m].get(ds)
            if s is None or "test" not in s:
                cells.append("–")
            else:
                cells.append(f"{_fmt(s['test'])} ({s['max_test'][0]:.2f})")
        lines.append(f"| {labels.get(m, m)} | " + " | ".join(cells) + " |")
    if anchors:
        for name, vals in ANCHORS.items():
            lines.append(f"| *{name}* | " + " | ".join(_fmt(vals.get(ds)) for ds in datasets) + " |")
    lines.append("")
    lines.append(f"Validation accuracy of the best-by-{objective} architecture, mean ± std; in brackets "
                 f"the share of runs that queried the architecture with the table's best {objective} "
                 "accuracy.")
    lines.append("")
    lines.append("| method | " + " | ".join(f"{ds} valid" for ds in datasets) + " | s/run |")
    lines.append("|---|" + "---|" * (len(datasets) + 1))

    def valid_cell(s: dict) -> str:
        rate = s.get("found_optimum")
        return _fmt(s["valid"]) + ("" if rate is None else f" ({100 * rate:.0f} %)")

    for m in summary:
        cells = [valid_cell(summary[m][ds]) if ds in summary[m] else "–" for ds in datasets]
        sec = np.mean([summary[m][ds]["seconds_per_run"] for ds in datasets if ds in summary[m]])
        lines.append(f"| {labels.get(m, m)} | " + " | ".join(cells) + f" | {sec:.1f} |")
    for m in summary:
        agr = [(ds, summary[m][ds]["agreement"], summary[m][ds]["ea_seconds"], summary[m][ds]["agreement_runs"])
               for ds in datasets if ds in summary[m] and "agreement" in summary[m][ds]]
        if agr:
            lines.append("")
            lines.append(
                f"EA↔traverse agreement, {labels.get(m, m)} (the EA, population 64 × 500 "
                "generations, on the ReNAS predictor finds the architecture its traversal ranks "
                "first): "
                + ", ".join(f"{ds} {100 * a:.0f} % of {n} runs" for ds, a, _, n in agr)
                + f"; EA wall time {np.mean([s for _, _, s, _ in agr]):.1f} s per run (1 thread"
                + (f", {np.mean([summary[m][ds]['ea_cpu_seconds'] for ds, *_ in agr]):.1f} s CPU)."
                   if all("ea_cpu_seconds" in summary[m][ds] for ds, *_ in agr) else ").")
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python benchmarks/renas.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--space", choices=("nb201", "nb101"), default="nb201")
    ap.add_argument("--data", help="nb201.npz / the NB101 tfrecord or cache, or their directory "
                                   "(default $NASOPT_DATA)")
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    ap.add_argument("--methods", nargs="+", default=list(METHODS),
                    help=f"from {METHODS + ('renas-ea',)}")
    ap.add_argument("--seeds", default="0-19", help="seed range, e.g. 0-19 (report) or 100-119 (dev)")
    ap.add_argument("--budget", type=int, default=None, help="distinct queries (NB201 100, NB101 434)")
    ap.add_argument("--iter", action="append", default=None,
                    help="JSON options of renas-iter, repeat for several configurations "
                         "(default: the strategy's measured recipe, ITERATIVE_OPTIONS = %s)"
                         % json.dumps(ITERATIVE_OPTIONS))
    ap.add_argument("--renas", action="append", default=None,
                    help="JSON options of the paper-protocol renas, repeat for several "
                         "configurations (default {}: the strategy's defaults)")
    ap.add_argument("--agreement-runs", type=int, default=None,
                    help="check EA↔traverse agreement on the first N seeds only (default: all; 0: none)")
    ap.add_argument("--metric", choices=("valid", "test"), default="valid",
                    help="search objective (default: validation accuracy, the honest protocol; "
                         "'test' for comparing with papers that searched on it)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reuse", nargs="*", default=[],
                    help="JSON outputs of earlier runs: runs with the same method, options, "
                         "dataset, seed and budget are taken from them instead of recomputed "
                         "(every run is deterministic given its seed)")
    ap.add_argument("--fresh", nargs="*", default=[], choices=METHODS + ("renas-ea",),
                    help="methods always rerun, never taken from --reuse (e.g. after their "
                         "defaults changed)")
    ap.add_argument("--out", default=None, help="output stem (default nasopt-bench-out/renas_<space>)")
    args = ap.parse_args(argv)

    seeds = parse_seeds(args.seeds)
    iter_list = [copy.deepcopy(ITERATIVE_OPTIONS)] if not args.iter else [json.loads(t) for t in args.iter]
    iter_opts = iter_list[0]
    renas_list = [{}] if not args.renas else [json.loads(t) for t in args.renas]
    renas_opts = renas_list[0]
    if args.space == "nb101":
        args.budget = args.budget or 434
        datasets = ["cifar10"]
        methods = [m for m in args.methods if m in ("renas", "renas-iter", "rea", "random", "weaknas")]
    else:
        args.budget = args.budget or 100
        datasets = list(args.datasets)
        methods = list(args.methods)
        if "weaknas" in methods:
            try:
                import nasopt.strategies.weaknas  # noqa: F401
            except ImportError:
                print("WeakNAS not available: skipped", file=sys.stderr)
                methods.remove("weaknas")
    out = output_path(args.out, f"renas_{args.space}", "benchmarks/renas.py")
    try:  # fail early, with the loader's message, when the table is missing
        _bench(args.space, datasets[0], args.data, args.metric)
    except (DataError, ConfigurationError) as exc:
        print(f"benchmarks/renas.py: {exc}", file=sys.stderr)
        return 2

    jobs = []
    for ds in datasets:
        for m, opts in [(m, o) for m in methods
                        for o in (iter_list if m == "renas-iter" else
                                  renas_list if m in ("renas", "renas-ea") else [{}])]:
            for seed in seeds:
                check = args.agreement_runs is None or seeds.index(seed) < args.agreement_runs
                jobs.append((m, opts, args.space, ds, seed, args.budget, args.data,
                             m == "renas" and args.space == "nb201" and check, args.metric))
    done = {k: r for k, r in _load_reusable(args.reuse).items() if k[0] not in args.fresh}
    keys = [_job_key(j) for j in jobs]
    jobs = [j for j, k in zip(jobs, keys) if k not in done]
    t0 = time.perf_counter()
    signal.signal(signal.SIGTERM, _terminate)  # so `kill` also stops the pool's workers
    with contextlib.ExitStack() as stack:
        if args.workers > 1:
            pool = stack.enter_context(mp.get_context("spawn").Pool(args.workers, initializer=one_thread))
            results = pool.imap(_job, jobs, chunksize=1)
        else:
            one_thread()
            results = map(_job, jobs)
        runs = []
        for i, r in enumerate(results):
            runs.append(r)
            print(f"[{i + 1}/{len(jobs)}] {r['method']} {r['dataset']} seed {r['seed']}: "
                  f"test {r.get('test', float('nan')):.2f} ({r['seconds']:.1f} s)", flush=True)
    wall = time.perf_counter() - t0
    fresh = iter(runs)  # imap keeps the job order: rows come out in --methods order
    runs = [done[k] if k in done else next(fresh) for k in keys]
    for r in runs:  # runs reused from files written before the rank was recorded
        if "rank" not in r:
            r["rank"] = objective_rank(_bench(args.space, r["dataset"], args.data, args.metric).values,
                                       r["queried"])
    summary = summarize(runs)
    result = {
        "benchmark": "renas", "space": args.space, "budget": args.budget, "seeds": seeds,
        "metric": args.metric,
        "datasets": datasets, "methods": methods, "iter_options": iter_opts,
        "iter_configurations": iter_list,
        "renas_options": renas_opts, "renas_configurations": renas_list, "anchors": ANCHORS if args.space == "nb201" else {},
        "command": "python benchmarks/renas.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "reused_from": list(args.reuse), "reused_runs": len(keys) - len(jobs),
        "wall_seconds": wall, "workers": args.workers, "python": platform.python_version(),
        "summary": summary, "runs": runs,
    }
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    write_json(out + ".json.gz", result, indent=1)
    text = markdown(summary, datasets, args, seeds, iter_opts, anchors=args.space == "nb201")
    text += f"\nCommand: `{result['command']}` ({wall / 60:.1f} min wall, {args.workers} workers).\n"
    with open(out + ".md", "w", encoding="utf-8") as fh:
        fh.write(text)
    print(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    sys.exit(main())
