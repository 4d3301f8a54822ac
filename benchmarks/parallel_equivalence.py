"""Do parallel runs reach what the sequential loop reaches? (Dask executor and Ray Tune.)

For one seed and batch size ``b``, the reference is the sequential loop
``for t in opt.ask(b): opt.tell(t, bench(t.arch))`` on NAS-Bench-201 (CIFAR-10 validation
accuracy). The same strategy then runs

* on a Dask ``LocalCluster`` (2 worker processes) through ``optimize(executor=
  client.get_executor(), batch_size=b)``, and
* in a local Ray Tune run with ``NASSearch(batch_size=b)``, ``b`` trials at a time,

with evaluations made to finish in ask order (each evaluation sleeps in proportion to
its position in its batch), in reverse order, and in reverse order with ``ordered=True``
(results told in ask order whatever order they arrive in). Recorded: whether the trajectory and
the best architecture equal the sequential ones, and whether every result was told. ::

    python benchmarks/parallel_equivalence.py --trials 20
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if not __package__:  # run as `python benchmarks/parallel_equivalence.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.output import output_path  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt import create  # noqa: E402
from nasopt.driver import optimize  # noqa: E402

STEP_S = 1.0
#: in ask order; reverse order told as results arrive; reverse order with ordered=True
ORDERS = ("in_order", "reverse_order", "reverse_order_ordered_telling")


def _reference(bench: Any, strategy: str, opts: dict, seed: int, n: int, batch: int) -> Any:
    opt = create(strategy, bench.space, seed=seed, **opts)
    while len(opt.trials) < n:
        for t in opt.ask(min(batch, n - len(opt.trials))):
            opt.tell(t, bench(t.arch))
    return opt


def _plan(bench: Any, ref: Any, batch: int, reverse: bool) -> dict:
    plan = {}
    for i, t in enumerate(ref.trials):
        pos = i % batch
        plan[t.arch] = (STEP_S * ((batch - 1 - pos) if reverse else pos), float(bench(t.arch)))
    return plan


def _make_objective(plan: dict, table: dict):
    def objective(arch: str) -> float:
        import time as _time

        delay, _ = plan.get(arch, (0.0, None))
        _time.sleep(delay)
        return table[arch]
    return objective


def _summary(opt: Any, ref: Any, n: int) -> dict:
    traj = [(t.arch, t.value) for t in opt.trials]
    return {
        "told_in_ask_order": [t.id for t in opt.completed] == sorted(t.id for t in opt.completed),
        "told": len(opt.completed) + sum(t.is_failed for t in opt.trials), "pending": len(opt.pending),
        "lost": n - len(opt.completed),
        "values_correct": all(t.value is not None for t in opt.completed),
        "same_trajectory": traj == [(t.arch, t.value) for t in ref.trials],
        "best_arch": opt.best.arch, "best_value": opt.best.value,
        "same_best": opt.best.arch == ref.best.arch,
    }


def run_dask(bench, table, strategy, opts, seed, n, batch) -> dict:
    from nasopt.integrations.dask import dask_executor

    ref = _reference(bench, strategy, opts, seed, n, batch)
    out = {}
    with dask_executor(n_workers=2) as ex:
        for order in ORDERS:
            plan = _plan(bench, ref, batch, reverse=order != "in_order")
            opt = create(strategy, bench.space, seed=seed, **opts)
            t0 = time.perf_counter()
            optimize(_make_objective(plan, table), opt, n, executor=ex, batch_size=batch,
                     ordered=order.endswith("ordered_telling"), progress=False)
            out[order] = {**_summary(opt, ref, n), "wall_s": round(time.perf_counter() - t0, 2)}
    out["sequential_best"] = {"arch": ref.best.arch, "value": ref.best.value}
    return out


def run_ray(bench, table, strategy, opts, seed, n, batch) -> dict:
    import ray
    from ray import tune

    from nasopt.integrations.ray import NASSearch

    ref = _reference(bench, strategy, opts, seed, n, batch)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    out = {}
    try:
        for order in ORDERS:
            objective = _make_objective(_plan(bench, ref, batch, reverse=order != "in_order"), table)

            def trainable(config, objective=objective):
                tune.report({"acc": objective(config["arch"])})

            search = NASSearch(bench.space, strategy=strategy, metric="acc", mode="max", seed=seed,
                               batch_size=batch, ordered=order.endswith("ordered_telling"), **opts)
            t0 = time.perf_counter()
            tune.Tuner(
                tune.with_resources(trainable, {"cpu": 2 / batch}),
                tune_config=tune.TuneConfig(search_alg=search, num_samples=n, max_concurrent_trials=batch,
                                            reuse_actors=True),
                run_config=tune.RunConfig(storage_path=tempfile.mkdtemp(prefix="nasopt-eq-"), verbose=0),
            ).fit()
            out[order] = {**_summary(search.optimizer, ref, n), "wall_s": round(time.perf_counter() - t0, 2)}
    finally:
        ray.shutdown()
    out["sequential_best"] = {"arch": ref.best.arch, "value": ref.best.value}
    return out


def to_markdown(res: dict) -> str:
    """The result record as a Markdown table."""
    lines = [
        f"NB201 CIFAR-10 validation, strategy {res['strategy']} {res['options']}, seed {res['seed']}, "
        f"{res['trials']} trials in batches of {res['batch']}; sequential best "
        + ", ".join(f"{e}: {res[e]['sequential_best']['value']:.2f}" for e in ("dask", "ray") if e in res) + ".",
        "",
        "| engine | completion order | told in ask order | results told / lost | same trajectory | same best arch | best value | wall (s) |",
        "| --- | --- | --- | --- | --- | --- | ---: | ---: |",
    ]
    for engine in ("dask", "ray"):
        for order in ORDERS:
            if engine not in res or order not in res[engine]:
                continue
            d = res[engine][order]
            lines.append(f"| {engine} | {order.replace('_', ' ')} | {d['told_in_ask_order']} | {d['told']} / {d['lost']} | "
                         f"{d['same_trajectory']} | {d['same_best']} | {d['best_value']:.2f} | {d['wall_s']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(prog="python benchmarks/parallel_equivalence.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--strategy", default="rea")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--engines", default="dask,ray")
    p.add_argument("--out", default=None, help="JSON output, a .md table beside it "
                   "(default nasopt-bench-out/parallel_equivalence.json)")
    args = p.parse_args(argv)
    args.out = output_path(args.out, "parallel_equivalence.json", "benchmarks/parallel_equivalence.py")
    from nasopt.benchmarks import NB201

    bench = NB201("cifar10")
    table = {bench.space[i]: float(v) for i, v in enumerate(bench.values)}
    opts = {"population": 4, "tournament": 2} if args.strategy == "rea" else {}
    res: dict = {"benchmark": "parallel_equivalence", "dataset": "nb201 cifar10 (validation)",
                 "strategy": args.strategy, "options": opts, "seed": args.seed, "trials": args.trials,
                 "batch": args.batch, "delay_step_s": STEP_S}
    for engine in args.engines.split(","):
        fn = {"dask": run_dask, "ray": run_ray}[engine]
        res[engine] = fn(bench, table, args.strategy, opts, args.seed, args.trials, args.batch)
        print(engine, json.dumps(res[engine], indent=1))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    out.with_suffix(".md").write_text(to_markdown(res))
    print(to_markdown(res), end="")
    return 0


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    raise SystemExit(main())
