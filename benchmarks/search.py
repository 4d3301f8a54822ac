"""Search strategies side by side on NAS-Bench-201 (or NAS-Bench-Macro), many seeds.

Example (the tables of docs/search.md)::

    python benchmarks/search.py --dataset cifar100 --runs 100 --budget 1000 \\
        --strategies weaknas,rea,random,tpe --workers 2 --out results/search_cifar100

Writes ``<out>.json.gz`` (gzip-compressed JSON: settings, per-strategy summary, every run's
queried indices and values), ``<out>.md`` (tables) and ``<out>.png`` (best-so-far validation
accuracy vs queries). ``--reuse`` reads ``.json`` or ``.json.gz`` files
(:mod:`benchmarks.harness.jsonio`) of runs made with the same strategy spec; the first stored
run of every reused strategy is run again and must be identical (``--reuse-check N``).
The search objective is the mean validation accuracy; test accuracy is only reported.
``--dataset macro`` runs NAS-Bench-Macro instead, whose table has no validation split: the
objective is the CIFAR-10 test accuracy averaged over its 3 trainings (``Macro()``), reported
as the test accuracy too, at 10...200 queries.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if not __package__:  # run as `python benchmarks/search.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.harness.jsonio import read_json, write_json  # noqa: E402
from benchmarks.harness.metrics import CHECKPOINTS, summarize  # noqa: E402
from benchmarks.harness.output import output_path  # noqa: E402
from benchmarks.harness.runs import PRIOR_ORDER, StrategySpec, parse_spec, run_many  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt.core.errors import ConfigurationError  # noqa: E402
from nasopt.strategies.weaknas import PAPER_OPTIONS  # noqa: E402

#: Mean queries to the optimum over 100 runs published in the WeakNAS paper (NB201).
PAPER_QUERIES: dict[str, dict[str, float]] = {
    "cifar10": {"WeakNAS (paper)": 182.1, "REA (paper)": 563.2, "random (paper)": 7782.1, "LaNAS (paper)": 247.1},
    "cifar100": {"WeakNAS (paper)": 78.4, "REA (paper)": 438.2, "random (paper)": 7621.2, "LaNAS (paper)": 187.5},
    "imagenet16": {"WeakNAS (paper)": 268.4, "REA (paper)": 715.1, "random (paper)": 7726.1, "LaNAS (paper)": 292.4},
}

#: Named strategy configurations accepted by ``--strategies``.
PRESETS: dict[str, StrategySpec] = {
    # the default: prior="auto" (on NB201 the packaged log synflow, refits shortened above 64
    # results: the same runs as weaknas-synflow; on Macro params + FLOPs; elsewhere none)
    "weaknas": StrategySpec("weaknas", "weaknas", {}),
    # the default without a prior (the default before prior="auto"; "weaknas" in result
    # files written before it)
    "weaknas-noprior": StrategySpec("weaknas-noprior", "weaknas", {"prior": None}),
    # the paper's loop (M0 10, M 10, uniform from the top 100, MSE) with the fast predictor
    "weaknas-paperloop": StrategySpec(
        "weaknas-paperloop", "weaknas", {**PAPER_OPTIONS, "init": 10, "batch": 10, "top_n": 100}),
    # ... and with the paper's MLP predictor (4 x 1000, 100 epochs): slow (minutes per run)
    "weaknas-paper": StrategySpec(
        "weaknas-paper", "weaknas",
        {**PAPER_OPTIONS, "surrogate": "mlp", "init": 10, "batch": 10, "top_n": 100,
         "surrogate_options": {"hidden_layer_sizes": [1000, 1000, 1000, 1000], "epochs": 100}},
    ),
    "weaknas-mlp": StrategySpec("weaknas-mlp", "weaknas", {"surrogate": "mlp"}),
    "weaknas-gbrt": StrategySpec("weaknas-gbrt", "weaknas", {"surrogate": "gbrt"}),
    "weaknas-rf": StrategySpec("weaknas-rf", "weaknas", {"surrogate": "rf"}),
    "weaknas-bo": StrategySpec("weaknas-bo", "weaknas", {"ensemble": 5, "acquisition": "ei"}),
    "weaknas-hinge": StrategySpec("weaknas-hinge", "weaknas", {"loss": "hinge"}),
    "weaknas-single": StrategySpec("weaknas-single", "weaknas", {"ensemble": 1}),
    "weaknas-b5": StrategySpec("weaknas-b5", "weaknas", {"batch": 5, "exploit": 0.6, "ensemble": 1, "loss": "hinge"}),
    "weaknas-noexploit": StrategySpec("weaknas-noexploit", "weaknas", {"exploit": 0.0}),
    "weaknas-warm": StrategySpec("weaknas-warm", "weaknas", {"warm_start": True}),
    # the default with a free prior: the table's parameter count and FLOPs (docs/priors.md),
    # refits shortened above 64 results (full_epochs_rows: CPU per search, docs/priors.md)
    "weaknas-prior": StrategySpec(
        "weaknas-prior", "weaknas",
        {"prior": "table:params_M,flops_M", "surrogate_options": {"full_epochs_rows": 64}}),
    # ... with full 200-step refits at every size (weaknas-prior before full_epochs_rows)
    "weaknas-prior-fullfit": StrategySpec(
        "weaknas-prior-fullfit", "weaknas", {"prior": "table:params_M,flops_M"}),
    "weaknas-prior-init1": StrategySpec(
        "weaknas-prior-init1", "weaknas", {"prior": "table:params_M,flops_M", "prior_init": 1.0}),
    "weaknas-prior-feat": StrategySpec(
        "weaknas-prior-feat", "weaknas", {"prior": "table:params_M,flops_M", "prior_init": 0.0}),
    # the space's own free features (params + FLOPs in closed form on NB201 and Macro),
    # refits shortened above 64 results: the recommended configuration (docs/priors.md)
    "weaknas-free": StrategySpec(
        "weaknas-free", "weaknas", {"prior": "free", "surrogate_options": {"full_epochs_rows": 64}}),
    # ... with full 200-step refits at every size (weaknas-free before full_epochs_rows)
    "weaknas-free-fullfit": StrategySpec("weaknas-free-fullfit", "weaknas", {"prior": "free"}),
    "weaknas-free-init1": StrategySpec("weaknas-free-init1", "weaknas", {"prior": "free", "prior_init": 1.0}),
    # zero-cost proxies of the packaged NB201 table as the prior (docs/priors.md)
    "weaknas-synflow": StrategySpec(
        "weaknas-synflow", "weaknas",
        {"prior": "proxies:synflow", "surrogate_options": {"full_epochs_rows": 64}}),
    "weaknas-synflow-free": StrategySpec(
        "weaknas-synflow-free", "weaknas",
        {"prior": "proxies:synflow,params", "surrogate_options": {"full_epochs_rows": 64}}),
    "prior-synflow": StrategySpec("prior-synflow", PRIOR_ORDER, {"prior": "proxies:synflow"}),
    # no predictor: every architecture in the free prior's order (ties by the seed), so the
    # gain of WeakNAS over its prior alone shows
    "prior-only": StrategySpec("prior-only", PRIOR_ORDER, {"prior": "free"}),
    "rea": StrategySpec("rea", "rea", {}),
    "random": StrategySpec("random", "random", {}),
    "tpe": StrategySpec("tpe", "tpe", {}),
}

DATASET_NAMES = {"cifar10": "NAS-Bench-201 CIFAR-10", "cifar100": "NAS-Bench-201 CIFAR-100",
                 "imagenet16": "NAS-Bench-201 ImageNet16-120", "macro": "NAS-Bench-Macro CIFAR-10"}
#: Query counts of the accuracy tables, where not :data:`CHECKPOINTS` (NAS-Bench-Macro's
#: searches end within ~100 queries).
DATASET_CHECKPOINTS = {"macro": (10, 20, 30, 50, 100, 200)}
#: Query counts whose test accuracy also goes into the main table, beside the queries to
#: the optimum (where the dataset reports them and the budget reaches them).
HEADLINE_CHECKPOINTS = (50, 100)


def _checkpoints(dataset: str) -> tuple[int, ...]:
    return DATASET_CHECKPOINTS.get(dataset, CHECKPOINTS)


def _pm(ms: Sequence[float], digits: int = 2) -> str:
    m, s = ms
    if m is None or not np.isfinite(m):
        return "–"
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def _mean(ms: Sequence[float], digits: int = 2) -> str:
    m = ms[0]
    return "–" if m is None or not np.isfinite(m) else f"{m:.{digits}f}"


def markdown(summary: dict, dataset: str, budget: int, command: str,
             reused: dict[str, str] | None = None, checked: dict[str, list[int]] | None = None) -> str:
    """Tables of one benchmark run; ``reused`` maps the labels of rows taken from earlier
    result files (``--reuse``) to the commands that produced them, ``checked`` to the seeds
    whose stored runs were run again and found identical (:func:`check_reused`)."""
    name = DATASET_NAMES.get(dataset, dataset)
    argmax = "mean accuracy argmax" if dataset == "macro" else "validation argmax"
    lines = [f"### {name}: queries to the optimum ({argmax})", "",
             f"`{command}`", ""]
    by_command: dict[str, list[str]] = {}
    for label, cmd in (reused or {}).items():
        by_command.setdefault(cmd, []).append(label)
    for cmd, labels in by_command.items():
        lines += [f"Rows {', '.join(labels)}: runs reused from `{cmd}`.", ""]
    seeds = sorted({seed for label in reused or {} for seed in (checked or {}).get(label, [])})
    if seeds:
        lines += [f"Reused runs checked: seed(s) {', '.join(map(str, seeds))} of "
                  f"{', '.join(label for label in reused or {} if (checked or {}).get(label))} "
                  "run again with this code, identical.", ""]
    budgets = [b for b in _checkpoints(dataset) if b <= budget]
    head = [b for b in HEADLINE_CHECKPOINTS if b in budgets]
    test_col = f" test acc. at {' / '.join(map(str, head))} queries |" if head else ""
    lines += [
             "| strategy | runs | mean ± std (found runs) | median | found ≤ budget | CPU s / run | "
             "wall s / run |" + test_col,
             "| --- | --- | --- | --- | --- | --- | --- |" + " --- |" * bool(head)]
    for label, s in summary.items():
        q = s["queries_to_optimum"]
        med = "–" if q["median"] is None else f"{q['median']:.1f}"
        mean = "–" if not q["found"] else f"{q['mean']:.1f} ± {q['std']:.1f}"
        tests = " / ".join(_mean(s["at_budget"][str(b)]["test_mean_std"]) for b in head)
        lines.append(f"| {label} | {s['runs']} | {mean} | {med} | {q['found']}/{s['runs']} | "
                     f"{_pm(s['cpu_s_mean_std'])} | {_pm(s['wall_s_mean_std'])} |"
                     + (f" {tests} |" if head else ""))
    for label, v in PAPER_QUERIES.get(dataset, {}).items():
        lines.append(f"| {label} | 100 | {v:.1f} | | | |" + " |" * (1 + bool(head)))
    for key, title in (("test_mean_std", "test accuracy (%) of the best-by-validation architecture"),
                       ("test_regret_mean_std", "test regret (%) to the best test accuracy of the space")):
        lines += ["", f"**{title}**, mean ± std over runs, by number of queries", "",
                  "| strategy | " + " | ".join(str(b) for b in budgets) + " |",
                  "| --- |" + " --- |" * len(budgets)]
        for label, s in summary.items():
            cells = [_pm(s["at_budget"][str(b)][key]) for b in budgets]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def load_reused(paths: Sequence[str], specs: Sequence[StrategySpec], dataset: str, metric: str,
                budget: int, seeds: Sequence[int]) -> dict[str, dict]:
    """``{label: {"runs": [...], "command": ...}}`` for the label of every spec in ``specs``
    found in one of the result files ``paths`` (first file wins). A file of another dataset,
    metric or budget, with runs of seeds outside ``seeds``, or whose runs of a label were
    made by another strategy or options than this run's spec of it, is refused."""
    out: dict[str, dict] = {}
    for path in paths:
        data = read_json(path)
        for key, want in (("dataset", dataset), ("metric", metric), ("budget", budget)):
            if data.get(key) != want:
                raise ConfigurationError(f"{path}: {key} is {data.get(key)!r}, this run's is {want!r}")
        recorded = {s["label"]: s for s in data.get("strategies", [])}
        for spec in specs:
            label = spec.label
            if label in out or label not in data.get("runs", {}):
                continue
            if recorded.get(label) != spec.to_json():
                raise ConfigurationError(
                    f"{path}: runs of {label!r} were made with {recorded.get(label)}, this run's "
                    f"{label!r} is {spec.to_json()}: run it again or give it another label")
            runs = data["runs"][label]
            extra = sorted({r["seed"] for r in runs} - set(seeds))
            if extra:
                raise ConfigurationError(f"{path}: runs of {label!r} use seeds {extra[:5]} outside this run's")
            out[label] = {"runs": runs, "command": data.get("command", path)}
    return out


def check_reused(reused: dict[str, dict], specs: Sequence[StrategySpec], kind: str, dataset: str,
                 metric: str, budget: int, n: int, optimum: int) -> dict[str, list[int]]:
    """Run the first ``n`` stored runs of every reused strategy again with this code and
    compare their queried architectures up to the ``optimum`` (index; all of them when it
    was not queried): the stored runs stand for this code only if they are the same. What
    a run queried after the optimum is ignored (no metric depends on it; older versions of
    the harness kept the rest of the optimum's batch). Returns ``{label: seeds checked}``.

    Raises:
        ConfigurationError: a run differs (the strategy, its dependencies or the benchmark
            changed since the file was written; run it again instead of reusing it).
    """
    by_label = {s.label: s for s in specs}
    checked: dict[str, list[int]] = {}
    for label, r in reused.items():
        stored = r["runs"][:n]
        seeds = [int(x["seed"]) for x in stored]
        if not seeds:
            continue
        again = run_many([by_label[label]], dataset, seeds, budget, workers=1, metric=metric,
                         benchmark=kind)[label]
        for old, new in zip(stored, again):
            then, now = _through(old["indices"], optimum), _through(new["indices"], optimum)
            if then != now:
                first = next((k for k, (x, y) in enumerate(zip(then, now)) if x != y),
                             min(len(then), len(now)))
                raise ConfigurationError(
                    f"stored runs of {label!r} ({r['command']}) are not this code's: seed "
                    f"{old['seed']} queries {len(now)} architectures now, {len(then)} then "
                    f"(up to the optimum), first difference at query {first + 1}; run it "
                    "again instead of reusing it")
        checked[label] = seeds
    return checked


def _through(indices: Sequence[int], optimum: int) -> list[int]:
    """``indices`` up to and including the first ``optimum`` (all of them without it)."""
    idx = [int(i) for i in indices]
    return idx[: idx.index(optimum) + 1] if optimum in idx else idx


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python benchmarks/search.py", description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="cifar10", choices=sorted(DATASET_NAMES))
    p.add_argument("--metric", default="valid", choices=("valid", "test"),
                   help="search objective (default: validation accuracy, the honest protocol)")
    p.add_argument("--runs", type=int, default=100, help="seeds per strategy")
    p.add_argument("--seed-offset", type=int, default=0, help="first seed (seeds are offset..offset+runs-1)")
    p.add_argument("--budget", type=int, default=1000, help="distinct architectures per run")
    p.add_argument("--strategies", default="weaknas,rea,random,tpe",
                   help="comma-separated presets (" + ", ".join(PRESETS) + ") or "
                        "'label=name:key=value;...' (options separated by ';')")
    p.add_argument("--max-runs", default="",
                   help="cap the runs of some strategies, e.g. 'tpe=30' (they use the first seeds)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (1 torch thread each)")
    p.add_argument("--out", default=None, help="output prefix (default nasopt-bench-out/search_<dataset>)")
    p.add_argument("--reuse", nargs="+", default=[], metavar="JSON",
                   help="earlier result files of the same dataset, metric, budget and seeds: a "
                        "strategy found in one of them (first file wins) takes its runs from there "
                        "instead of being run again; the table says which rows were reused")
    p.add_argument("--reuse-check", type=int, default=1, metavar="N",
                   help="run the first N stored runs of every reused strategy again and refuse "
                        "the file if they differ (default 1; 0: trust the file)")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--quiet", action="store_true")
    return p


def _specs(text: str) -> list[StrategySpec]:
    specs = []
    for item in text.split(","):
        item = item.strip()
        if item:
            specs.append(parse_spec(item.replace(";", ","), PRESETS))
    return specs


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python benchmarks/search.py``); returns the exit status."""
    run(argv)
    return 0


def run(argv: Sequence[str] | None = None) -> dict:
    """Run the benchmark with command-line ``argv``; returns the JSON-able result it wrote."""
    args = build_parser().parse_args(argv)
    specs = _specs(args.strategies)
    if args.dataset == "macro":
        if args.metric != "valid":
            raise ConfigurationError("NAS-Bench-Macro has one objective (the mean accuracy): "
                                     "leave --metric at its default")
        from nasopt.benchmarks.macro import Macro

        bench, kind = Macro(), "macro"
    else:
        from nasopt.benchmarks.nb201 import NB201

        bench, kind = NB201(args.dataset, metric=args.metric), "nb201"
    out = output_path(args.out, f"search_{args.dataset}", "benchmarks/search.py")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    seeds = list(range(args.seed_offset, args.seed_offset + args.runs))
    caps = {}
    for item in filter(None, (x.strip() for x in args.max_runs.split(","))):
        label, _, n = item.partition("=")
        caps[label] = int(n)
    reused = load_reused(args.reuse, specs, args.dataset, args.metric, args.budget, seeds)
    checked = check_reused(reused, specs, kind, args.dataset, args.metric, args.budget,
                           args.reuse_check, bench.optimum.index)
    t0 = time.time()
    fresh = [s for s in specs if s.label not in reused]
    ran = run_many(fresh, args.dataset, seeds, args.budget, workers=args.workers,
                   metric=args.metric, benchmark=kind, progress=not args.quiet,
                   max_runs=caps) if fresh else {}
    elapsed = time.time() - t0
    results = {s.label: reused[s.label]["runs"] if s.label in reused else ran[s.label] for s in specs}
    reused_commands = {label: r["command"] for label, r in reused.items()}
    opt = bench.optimum
    summary = {
        label: summarize(runs, bench.values, bench.test_values, opt.index, args.budget,
                         _checkpoints(args.dataset))
        for label, runs in results.items()
    }
    command = "python benchmarks/search.py " + " ".join(sys.argv[1:] if argv is None else list(argv))
    data = {
        "benchmark": kind, "dataset": args.dataset, "metric": args.metric,
        "budget": args.budget, "seeds": seeds, "command": command,
        "optimum": {"index": opt.index, "arch": opt.arch, "value": opt.value,
                    "test": None if bench.test_values is None else float(bench.test_values[opt.index])},
        "strategies": [s.to_json() for s in specs],
        "paper_queries_to_optimum": PAPER_QUERIES.get(args.dataset, {}),
        "summary": summary,
        "runs": results,
        "reused": reused_commands,
        "reuse_checked_seeds": checked,
        "elapsed_s": elapsed, "workers": args.workers,
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "note": "runs stop once the optimum is queried (the best-by-validation choice is final "
                "from then on); queries count distinct architectures",
    }
    write_json(out + ".json.gz", data)
    md = markdown(summary, args.dataset, args.budget, command, reused_commands, checked)
    with open(out + ".md", "w") as fh:
        fh.write(md)
    if not args.no_plot:
        from benchmarks.harness.plots import plot_search

        plot_search(results, bench.values, args.budget, out + ".png",
                    title=f"{DATASET_NAMES[args.dataset]} ({args.runs} runs)",
                    optimum=opt.value)
    if not args.quiet:
        print(md)
        print(f"wrote {out}.json.gz, {out}.md" + ("" if args.no_plot else f", {out}.png")
              + f" in {elapsed:.0f} s")
    return data


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    sys.exit(main())
