"""Tuning WeakNAS with several objectives: hypervolume regret of named option sets.

NAS-Bench-201 validation accuracy (maximized) × a cost (minimized: a device's latency,
``params`` or ``flops``), the normalisation and regret of ``benchmarks/hardware.py``;
WeakNAS with ``objectives=["max", "min"]`` and, per variant, a named dict of WeakNAS options
on top of its defaults. The table gives the regret at 50, 100 and 200 distinct queries
(mean ± s.e.m. over the seeds) and the CPU seconds per search, per (dataset, cost) pair.

A variant is a name of :data:`VARIANTS` or ``name={json options}``, e.g.
``--variants default,'b5={"batch": 5}'``; ``"strategy"`` names another strategy than WeakNAS
(``'renas={"strategy": "renas"}'``), ``"objectives": 1`` (the variant ``single``) runs it on
the accuracy alone, its queries scored the same way (the CPU of a single-objective search
beside the others); ``"prior": "synflow"`` stands for the packaged
log-synflow table of the space, ``"proxies"`` for its five zero-cost proxies, ``"function"``
for the cells' function features, and ``"proxies+function"`` for both side by side
(:func:`benchmarks.hardware.table_prior`). The
first variant is the base of the paired differences. Run on the tuning seeds only (the
held-out seeds 2000+ are for ``benchmarks/hardware.py``)::

    NASOPT_DATA=../shared/data python benchmarks/hardware_tuning.py --datasets imagenet16 \\
        --costs raspi4,fpga,gold_6226 --seeds 0-9 --variants default,i10,hvi \\
        --out results/hardware/mo_tuning

Each search's result is appended to ``<out>.jsonl``; ``--resume`` reuses the records of
the same variant options, pair, seed and budget from it (the key does not hold the code's
version: after changing WeakNAS, write to a new ``--out`` or leave out ``--resume``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness.output import output_path, write_markdown  # noqa: E402
from benchmarks.harness.runs import parse_list, parse_seeds  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from benchmarks.hardware import (  # noqa: E402
    DATASET_NAMES, _fmt, _sem, bench_of, front_problem, nasopt_loop, regret_curve, table_prior,
)

#: Named option sets (WeakNAS keyword arguments on top of its defaults).
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "i10": {"init": 10},
    "i15": {"init": 15},
    "b5": {"batch": 5},
    "b5-warm": {"batch": 5, "warm_start": True, "surrogate_options": {"warm_epochs": 100}},
    "hvi": {"mo_selection": "hvi"},
    "parego": {"mo_selection": "parego"},
    "ucb": {"acquisition": "ucb", "kappa": 1.0},
    "hvi-ucb": {"mo_selection": "hvi", "acquisition": "ucb", "kappa": 1.0},
    "x3": {"exploit": 0.3},
    "syn-feat": {"prior": "synflow", "prior_init": 0},
    "syn-half": {"prior": "synflow"},
    "p0": {"patience": 0},
    "p6": {"patience": 6},
    "enc-live": {"encoding": "onehot-live"},
    "rank": {"target": "rank"},
    "mse": {"loss": "mse"},
    "nofunc": {"function_aware": False},
    "noqx": {"quality_exploit": 0.0},
    "strict": {"stall_repeats": False},
    "single": {"objectives": 1},
}
#: Queries at which the regret is reported (those up to ``--budget``, and the budget).
AT = (50, 100, 200)
#: The queries (after the default random start of 20, up to 100) counted by :func:`repeats`.
REPEAT_WINDOW = (20, 100)


def split_variants(text: str) -> list[str]:
    """The comma-separated variants of ``--variants`` (commas inside ``{...}`` kept)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text + ","):
        depth += (ch == "{") - (ch == "}")
        if ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    return [v for v in out if v]


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """A :data:`VARIANTS` name, or ``name={json}``."""
    if "=" in text:
        name, opts = text.split("=", 1)
        return name, dict(json.loads(opts))
    if text not in VARIANTS:
        raise SystemExit(f"unknown variant {text!r}: use one of {', '.join(VARIANTS)} or name={{json}}")
    return text, dict(VARIANTS[text])


def repeats(indices: list[int], space: Any) -> int:
    """Queries of :data:`REPEAT_WINDOW` whose function class (``space.function_classes()``)
    an earlier query had."""
    labels = space.function_classes()[np.asarray(indices[:REPEAT_WINDOW[1]], dtype=np.int64)]
    seen = {int(v) for v in labels[:REPEAT_WINDOW[0]]}
    count = 0
    for v in labels[REPEAT_WINDOW[0]:]:
        count += int(v) in seen
        seen.add(int(v))
    return count


def report_points(budget: int) -> list[int]:
    """The queries of :data:`AT` up to ``budget``, and ``budget``."""
    return sorted({q for q in AT if q <= budget} | {budget})


def search(options: dict[str, Any], dataset: str, cost: str, seed: int, budget: int) -> dict:
    """One front search of ``budget`` queries (WeakNAS unless ``options`` name a
    ``"strategy"``): the regret at :func:`report_points`, the CPU seconds and the queried
    table indices."""
    from nasopt.core.registry import create

    prob = front_problem(dataset, cost)
    space = bench_of(dataset).space
    options = dict(table_prior(options, space))  # a named table ("proxies+function", ...)
    strategy = options.pop("strategy", "weaknas")
    single = options.pop("objectives", 2) == 1  # accuracy alone: the CPU of one objective
    c0 = time.process_time()
    if single:
        opt = create(strategy, space, seed=seed, **options)
        tell = lambda t, i: opt.tell(t, float(prob.accuracy[i]))  # noqa: E731
    else:
        opt = create(strategy, space, seed=seed, objectives=["max", "min"], **options)
        tell = lambda t, i: opt.tell(t, [float(prob.accuracy[i]), float(prob.cost_values[i])])  # noqa: E731
    queried = nasopt_loop(opt, space, budget, tell, lambda q: False)
    cpu = time.process_time() - c0
    curve = regret_curve(queried, prob.scores, prob.hv_star)
    return {"regret": {str(q): float(curve[min(q, len(curve)) - 1]) for q in report_points(budget)},
            "cpu_s": cpu, "indices": [int(i) for i in queried]}


def record_key(options: dict[str, Any], dataset: str, cost: str, seed: int, budget: int) -> str:
    return json.dumps([options, dataset, cost, seed, budget], sort_keys=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="imagenet16")
    ap.add_argument("--costs", default="pixel3,raspi4,gold_6226")
    ap.add_argument("--seeds", default="0-9", help="A-B or a,b,c")
    ap.add_argument("--variants", default="default,b5")
    ap.add_argument("--budget", type=int, default=max(AT))
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--out", default=None, help="path stem of the .md table and the .jsonl log "
                    "(default: nasopt-bench-out/hardware_tuning)")
    args = ap.parse_args(argv)
    out = output_path(args.out, "hardware_tuning", "benchmarks/hardware_tuning.py")
    seeds = parse_seeds(args.seeds)
    datasets, costs = parse_list(args.datasets), parse_list(args.costs)
    variants = [parse_variant(v) for v in split_variants(args.variants)]
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    log = Path(out + ".jsonl")
    done: dict[str, dict] = {}
    if args.resume and log.exists():
        for line in log.read_text().splitlines():
            rec = json.loads(line)
            done[rec["key"]] = rec
    pairs = [(d, c) for d in datasets for c in costs]
    at = report_points(args.budget)
    res: dict[tuple[str, str, str], list[dict]] = {}
    reused = 0  # records of the table taken from the log (run by an earlier invocation)
    # the variants take turns on each seed (in the reverse order on every other one), so that
    # a drift of the shared machine's speed reaches every variant's CPU alike
    with log.open("a") as fh:
        for d, c in pairs:
            for i, s in enumerate(seeds):
                for name, opts in (variants if i % 2 == 0 else variants[::-1]):
                    key = record_key(opts, d, c, s, args.budget)
                    if key not in done:
                        done[key] = {"key": key, **search(opts, d, c, s, args.budget)}
                        fh.write(json.dumps(done[key]) + "\n")
                        fh.flush()
                    else:
                        reused += 1
                    res.setdefault((name, d, c), []).append(done[key])
            for name, _ in variants:
                recs = res[name, d, c]
                r = [x["regret"][str(at[-1])] for x in recs]
                print(f"{name} {d} {c} regret@{at[-1]} {_fmt(_sem(r))} "
                      f"cpu {np.mean([x['cpu_s'] for x in recs]):.2f} s", flush=True)
    cmd = "python benchmarks/hardware_tuning.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    md = [f"`{cmd}`", "",
          f"WeakNAS (or a variant's `strategy`) with `objectives=[\"max\", \"min\"]` and the "
          f"variants' options, seeds "
          f"{args.seeds} ({len(seeds)}): hypervolume regret (mean ± s.e.m.; lower is better), "
          "NB201 validation accuracy × cost, the normalisation of `benchmarks/hardware.py`.", "",
          "| variant | options |", "| --- | --- |",
          *[f"| `{n}` | `{json.dumps(o) if o else 'defaults'}` |" for n, o in variants], ""]
    for q in at:
        md += [f"**Regret at {q} queries**", "",
               "| pair | " + " | ".join(n for n, _ in variants) + " |",
               "| --- | " + " | ".join("---" for _ in variants) + " |"]
        for d, c in pairs:
            cells = [_fmt(_sem([x["regret"][str(q)] for x in res[n, d, c]])) for n, _ in variants]
            md.append(f"| {DATASET_NAMES.get(d, d)} × {c} | " + " | ".join(cells) + " |")
        if len(pairs) > 1:
            cells = [f"{np.mean([x['regret'][str(q)] for d, c in pairs for x in res[n, d, c]]):.3f}"
                     for n, _ in variants]
            md.append("| mean over pairs | " + " | ".join(cells) + " |")
        md.append("")
    if len(variants) > 1:  # paired by (pair, seed): the same random start, less noise
        base = variants[0][0]
        md += [f"**Difference to `{base}`, paired by pair and seed** (mean ± s.e.m. over all "
               "pairs' seeds; negative: lower regret than it)", "",
               "| queries | " + " | ".join(n for n, _ in variants[1:]) + " |",
               "| --- | " + " | ".join("---" for _ in variants[1:]) + " |"]
        for q in at:
            cells = [_fmt(_sem([x["regret"][str(q)] - y["regret"][str(q)] for d, c in pairs
                                for x, y in zip(res[n, d, c], res[base, d, c])]))
                     for n, _ in variants[1:]]
            md.append(f"| {q} | " + " | ".join(cells) + " |")
        md.append("")
    cpu = {n: float(np.mean([x["cpu_s"] for d, c in pairs for x in res[n, d, c]]))
           for n, _ in variants}
    n_runs = sum(len(x) for x in res.values())
    turns = ("the variants took turns on every seed" if not reused else
             f"{reused} of the {n_runs} runs come from the log of earlier invocations "
             "(`--resume`), so the variants did not all take turns")
    md += [f"**CPU seconds per search** ({args.budget} queries, mean over the pairs' runs; "
           f"{turns}; the second row: each variant's mean over the first's)", "",
           "| " + " | ".join(n for n, _ in variants) + " |",
           "| " + " | ".join("---" for _ in variants) + " |",
           "| " + " | ".join(f"{cpu[n]:.2f}" for n, _ in variants) + " |",
           "| " + " | ".join(f"{cpu[n] / cpu[variants[0][0]]:.2f}×" for n, _ in variants) + " |",
           ""]
    md += [f"**Queries {REPEAT_WINDOW[0] + 1}–{REPEAT_WINDOW[1]} that repeat the function of an "
           "earlier query** (`space.function_classes()`: cells that differ only in dead edges, "
           "or mirror images; mean per run over the pairs' runs)", "",
           "| " + " | ".join(n for n, _ in variants) + " |",
           "| " + " | ".join("---" for _ in variants) + " |",
           "| " + " | ".join(f"{np.mean([repeats(x['indices'], bench_of(d).space) for d, c in pairs for x in res[n, d, c]]):.1f}"
                             for n, _ in variants) + " |", ""]
    write_markdown(out, md)
    return 0


if __name__ == "__main__":
    one_thread()
    sys.exit(main())
