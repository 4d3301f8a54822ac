"""The ``nasopt`` command: run searches on the tabular benchmarks and plot runs from the shell.

Examples::

    nasopt search --space nb201 --dataset cifar100 --strategy rea --budget 300 --seed 0
    nasopt search --space nb201 --strategy weaknas --budget 200 --json run.json
    nasopt plot run.json --out run.png
    nasopt strategies

The experiments behind the documentation's tables are scripts in the repository's
``benchmarks/`` folder (``python benchmarks/search.py ...``), not part of the installed
package; ``nasopt bench NAME`` only says which script replaces it.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import shutil
import sys
import textwrap
import time
from typing import Any

from . import __version__

#: The experiments ``nasopt bench NAME`` used to run → the script in a checkout's
#: ``benchmarks/`` folder that runs it now (same arguments).
BENCH_SCRIPTS = {
    "baselines": "benchmarks/baselines.py",
    "predictors": "benchmarks/predictors.py",
    "search": "benchmarks/search.py",
    "renas": "benchmarks/renas.py",
    "nb101": "benchmarks/nb101.py",
    "tfrecord": "benchmarks/tfrecord_speed.py",
    "surrogate-speed": "benchmarks/surrogate_speed.py",
    "parallel": "benchmarks/parallel.py",
    "parallel-equivalence": "benchmarks/parallel_equivalence.py",
}

EPILOG = """examples:
  nasopt search --space nb201 --dataset cifar100 --strategy rea --budget 300 --seed 0
  nasopt search --space macro --strategy random --budget 100 --json run.json
  nasopt plot run.json --out run.png
  nasopt strategies
"""


def _parse_option(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"options are KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def _benchmark(space: str, dataset: str, data: str | None):
    from .benchmarks import NB201, Macro

    if space == "nb201":
        return NB201(dataset, path=data)
    if space == "macro":
        return Macro(path=data)
    from .core.errors import ConfigurationError

    raise ConfigurationError(f"unknown --space {space!r}: choose nb201 or macro")


def cmd_search(args: argparse.Namespace) -> int:
    """Run one search against a tabular benchmark and print the result."""
    import nasopt
    from .core.errors import DataError

    from .core.optimizer import valid_options
    from .core.registry import strategy_class

    bench = _benchmark(args.space, args.dataset, args.data)
    options = dict(args.option or [])
    if "budget" in valid_options(strategy_class(args.strategy)):
        options.setdefault("budget", args.budget)  # scales the random start to the run's length
    opt = nasopt.create(args.strategy, bench.space, seed=args.seed, **options)
    progress = None
    if not args.quiet:
        from tqdm import tqdm

        progress = tqdm(total=args.budget, desc=f"{args.strategy} on {bench!r}", unit="query",
                        file=sys.stderr, disable=None)
    trajectory = []
    start = time.perf_counter()
    while len(trajectory) < args.budget:
        for trial in opt.ask(min(args.batch, args.budget - len(trajectory))):
            value = bench(trial.arch)
            opt.tell(trial, value)
            trajectory.append({"id": trial.id, "arch": bench.space.to_data(trial.arch), "value": value,
                               "best_so_far": opt.best.value})
            if progress is not None:
                progress.update(1)
                progress.set_postfix(best=f"{opt.best.value:.3f}")
    if progress is not None:
        progress.close()
    elapsed = time.perf_counter() - start

    def test_of(arch: Any) -> float | None:
        try:
            return bench.test(arch)
        except DataError:
            return None

    best, optimum = opt.best, bench.optimum
    best_test = test_of(best.arch)
    hit = next((i + 1 for i, t in enumerate(trajectory) if t["value"] >= optimum.value), None)
    summary = {
        "space": args.space, "dataset": args.dataset if args.space == "nb201" else None,
        "strategy": args.strategy, "seed": args.seed, "budget": args.budget, "batch": args.batch,
        "options": dict(args.option or []), "seconds": elapsed,
        "best": {"arch": bench.space.to_data(best.arch), "value": best.value, "test": best_test},
        "optimum": {"arch": bench.space.to_data(optimum.arch), "value": optimum.value,
                    "test": test_of(optimum.arch)},
        "regret": optimum.value - best.value, "queries_to_optimum": hit,
        "trajectory": trajectory,
    }
    print(f"best architecture : {best.arch}")
    print(f"validation        : {best.value:.4f}   (optimum {optimum.value:.4f}, regret {summary['regret']:.4f})")
    if best_test is None:
        print(f"test              : n/a ({getattr(bench, 'missing_test', 'no test metric')})")
    else:
        print(f"test              : {best_test:.4f}   (test of the optimum {summary['optimum']['test']:.4f})")
    print(f"queries           : {args.budget} in {elapsed:.1f} s; optimum "
          + (f"found at query {hit}" if hit else "not found"))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=1)
        print(f"trajectory written to {args.json}")
    return 0


def _read_run(path: str) -> dict[str, Any]:
    """What ``nasopt plot`` draws from ``path``: a ``nasopt search --json`` file, a
    checkpoint (``opt.save``) or a journal (``journal=``), read through the public loaders
    (a journal detached, so a run still writing it is left alone).

    Returns ``{"values": objective values in tell order (``None`` entries with several
    objectives), "maximize", "label", "title", "ylabel", "optimum": value or None,
    "points": one tuple of objective values per completed trial (tell order), "feasible":
    one bool per completed trial (``False`` when a told constraint value is positive),
    "directions": ``"maximize"`` / ``"minimize"`` per objective, "names": the objective
    names (``objective 0``, ... when the run has none)}``.

    Raises:
        CheckpointError: the file is none of these.
    """
    from .persist.journal import load_journal
    from .persist.checkpoint import _is_journal, load

    run = None
    if not _is_journal(path):
        try:
            with open(path, encoding="utf-8") as fh:
                run = json.load(fh)
        except (OSError, UnicodeDecodeError, ValueError):
            run = None  # not plain JSON (a .gz checkpoint, or not nasopt's): load() says
    if isinstance(run, dict) and "trajectory" in run:  # written by `nasopt search --json`
        values = [t["value"] for t in run["trajectory"]]
        return {"values": values, "maximize": True,
                "label": f"{run['strategy']} (seed {run['seed']})",
                "title": f"{run['space']} {run.get('dataset') or ''}".strip(),
                "optimum": run["optimum"]["value"], "ylabel": "best validation accuracy so far",
                "points": [(v,) for v in values], "feasible": [True] * len(values),
                "directions": ("maximize",), "names": ("validation accuracy",)}
    opt = load_journal(path, attach=False) if _is_journal(path) else load(path)
    done = opt.completed
    names = opt._objective_names or tuple(f"objective {i}" for i in range(opt.n_objectives))
    return {"values": [t.value for t in done], "maximize": opt.maximize,
            "label": f"{opt.name} (seed {opt.seed})", "title": repr(opt.space), "optimum": None,
            "ylabel": f"best value so far ({'max' if opt.maximize else 'min'}imized)",
            "points": [tuple(t.values) for t in done], "feasible": [t.feasible for t in done],
            "directions": tuple(opt._directions), "names": tuple(names)}


def pareto_points(run: dict[str, Any]) -> dict[str, Any]:
    """The points ``nasopt plot`` draws for a run with several objectives (a
    :func:`_read_run` result), as numpy arrays in the run's own units:

    - ``"front"``: the feasible non-dominated points (``opt.pareto_front``'s values), sorted
      by the first objective, ascending;
    - ``"dominated"``: the other feasible points; ``"infeasible"``: the points with a positive
      told constraint value (never on the front);
    - ``"staircase"``: the front's attainment line (2 objectives): the front points joined
      through the corner that both neighbours dominate, so the region above it (in the
      objectives' directions) is what the front covers;
    - ``"labels"``: one axis label per objective, its name and direction (``"latency (min)"``).
    """
    import numpy as np

    from .core.pareto import nondominated_mask

    pts = np.asarray(run["points"], dtype=float).reshape(len(run["points"]), len(run["directions"]))
    feasible = np.asarray(run["feasible"], dtype=bool)
    signs = np.array([1.0 if d == "maximize" else -1.0 for d in run["directions"]])
    ok = np.flatnonzero(feasible)
    on_front = np.zeros(len(pts), dtype=bool)
    on_front[ok[nondominated_mask(pts[ok] * signs)]] = True
    front = pts[on_front]
    front = front[np.lexsort(front.T[::-1])]  # by the first objective, then the next ones
    staircase = front
    if len(front) > 1 and len(signs) == 2:
        # between neighbours, the corner worse than both on every objective
        corners = np.minimum(front[:-1] * signs, front[1:] * signs) * signs
        staircase = np.empty((2 * len(front) - 1, 2))
        staircase[0::2], staircase[1::2] = front, corners
    labels = [f"{name} ({'max' if s > 0 else 'min'})" for name, s in zip(run["names"], signs)]
    return {"front": front, "dominated": pts[feasible & ~on_front], "infeasible": pts[~feasible],
            "staircase": staircase, "labels": labels}


def _draw_front(plt: Any, run: dict[str, Any]) -> Any:
    """The figure of a run with several objectives: a scatter of every completed trial
    (two objectives) or a scatter matrix of every pair (more), the front highlighted."""
    drawn = pareto_points(run)
    m = len(run["directions"])
    style = {"dominated": dict(s=14, color="0.6", alpha=0.7, label="dominated"),
             "infeasible": dict(s=22, color="tab:red", marker="x", lw=1,
                                label="infeasible (constraint > 0)"),
             "front": dict(s=30, color="tab:blue", edgecolor="k", lw=0.5, zorder=3,
                           label="Pareto front")}
    counts = {k: len(drawn[k]) for k in style}
    if m == 2:
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for kind, kw in style.items():
            if counts[kind]:
                ax.scatter(drawn[kind][:, 0], drawn[kind][:, 1],
                           **{**kw, "label": f"{kw['label']} ({counts[kind]})"})
        if counts["front"] > 1:
            ax.plot(drawn["staircase"][:, 0], drawn["staircase"][:, 1], color="tab:blue", lw=1.2, zorder=2)
        ax.set_xlabel(drawn["labels"][0])
        ax.set_ylabel(drawn["labels"][1])
        ax.set_title(f"{run['title']}: {run['label']}")
        ax.legend(fontsize="small")
        fig.tight_layout()
        return fig
    fig, axes = plt.subplots(m, m, figsize=(2.4 * m, 2.4 * m), squeeze=False)
    for i in range(m):
        for j in range(m):
            ax = axes[i, j]
            if i == j:
                ax.axis("off")
                ax.text(0.5, 0.5, drawn["labels"][i], ha="center", va="center", wrap=True,
                        transform=ax.transAxes)
                continue
            for kind, kw in style.items():
                if counts[kind]:
                    ax.scatter(drawn[kind][:, j], drawn[kind][:, i],
                               **{**kw, "s": kw["s"] / 2, "label": f"{kw['label']} ({counts[kind]})"})
            ax.tick_params(labelsize="x-small")
    handles, labels = next(a for a in axes.flat if a.has_data()).get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize="small")
    fig.suptitle(f"{run['title']}: {run['label']} ({m} objectives, each pair)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def cmd_plot(args: argparse.Namespace) -> int:
    """Draw a run: its best-so-far curve (one objective) or its Pareto front (several), from a
    ``nasopt search --json`` file, a checkpoint written by ``opt.save(path)`` or a journal
    (``journal=path``)."""
    from .core.errors import CheckpointError
    from .integrations._deps import require

    try:
        matplotlib = require("matplotlib", "bench", "nasopt plot")
    except ImportError as exc:
        print(f"nasopt: error: {exc}", file=sys.stderr)
        return 2
    if not os.path.isfile(args.result):
        print(f"nasopt: error: {args.result}: no such file", file=sys.stderr)
        return 2
    stem = args.result[:-3] if args.result.endswith(".gz") else args.result
    out = args.out or stem.rsplit(".", 1)[0] + ".png"
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        print(f"nasopt: error: --out {out}: no such directory {folder}", file=sys.stderr)
        return 2
    run = _read_run(args.result)
    if not run["points"]:
        raise CheckpointError(f"{args.result}: no completed trial to plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    if len(run["directions"]) > 1:
        fig = _draw_front(plt, run)
    else:
        values = np.asarray(run["values"], dtype=float)
        best = np.maximum.accumulate(values) if run["maximize"] else np.minimum.accumulate(values)
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(np.arange(1, len(best) + 1), best, label=run["label"])
        if run["optimum"] is not None:
            ax.axhline(run["optimum"], color="grey", ls="--", lw=1, label="optimum")
        ax.set_xlabel("completed evaluations")
        ax.set_ylabel(run["ylabel"])
        ax.set_title(run["title"])
        ax.legend()
        fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    print(f"plot written to {out}")
    return 0


def plain_summary(doc: str | None) -> str:
    """The first sentence of a docstring's first paragraph as plain text: reST roles and
    literals (``:class:`~a.B```, double backticks) are reduced to their text."""
    para = " ".join(inspect.cleandoc(doc or "").split("\n\n")[0].split())
    para = re.sub(r":[\w:]+:`(~?)([^`]+)`",
                  lambda m: m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2), para)
    para = para.replace("``", "").replace("`", "")
    sentence = re.match(r"(.+?(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)[.!?])(?=\s|$)", para)
    return sentence.group(1) if sentence else para


def cmd_strategies(args: argparse.Namespace) -> int:
    """List the strategies ``--strategy`` accepts."""
    import nasopt

    names = nasopt.available_strategies()
    width = max(map(len, names), default=0) + 2
    columns = shutil.get_terminal_size((100, 24)).columns
    for name in names:
        cls = nasopt.core.registry.strategy_class(name)
        print(textwrap.fill(plain_summary(cls.__doc__), width=max(columns - 1, width + 40),
                            initial_indent=name.ljust(width), subsequent_indent=" " * width))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """``nasopt bench NAME ARGS``, removed: say which script runs that experiment now."""
    script = BENCH_SCRIPTS.get(args.name or "")
    command = " ".join(["python", script or "benchmarks/<name>.py", *args.args])
    print("nasopt: error: `nasopt bench` was removed: the experiments are scripts in the "
          "benchmarks/ folder of a nasopt checkout (not installed with the package); from the "
          f"repository root run:\n  {command}", file=sys.stderr)
    if script is None:
        unknown = f"no experiment {args.name!r}; " if args.name else ""
        print(f"{unknown}experiments: {', '.join(sorted(BENCH_SCRIPTS.values()))}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nasopt", description="Neural architecture search in few evaluations.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nasopt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("search", help="run one search on a tabular benchmark",
                       description=cmd_search.__doc__, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--space", default="nb201", choices=["nb201", "macro"])
    s.add_argument("--dataset", default="cifar10", choices=["cifar10", "cifar100", "imagenet16"],
                   help="NB201 dataset (default cifar10)")
    s.add_argument("--strategy", default="random", help="see `nasopt strategies` (default random)")
    s.add_argument("--budget", type=int, default=100, help="number of queries (default 100)")
    s.add_argument("--batch", type=int, default=1, help="architectures per ask (default 1)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--data", help="benchmark file or directory (default $NASOPT_DATA, then packaged data)")
    s.add_argument("--option", action="append", type=_parse_option, metavar="KEY=VALUE",
                   help="strategy option, value parsed as JSON when possible (repeatable)")
    s.add_argument("--json", help="write the full trajectory to this file")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_search)

    p = sub.add_parser("plot", help="plot a saved run: best-so-far curve, or Pareto front",
                       description="Draw the best-so-far curve of a run (one objective) or its "
                                   "Pareto front (several: a scatter of every result, the "
                                   "front joined as a staircase, infeasible results marked; "
                                   "a scatter matrix beyond two objectives), from a `nasopt "
                                   "search --json` file, a checkpoint written by "
                                   "opt.save(path) or a journal.")
    p.add_argument("result", help="`nasopt search --json` file, checkpoint (opt.save) or journal")
    p.add_argument("--out", help="PNG path (default: next to the JSON)")
    p.set_defaults(func=cmd_plot)

    # removed (no help: not listed); kept to point a user of the old command at its script
    b = sub.add_parser("bench", add_help=False)
    b.add_argument("name", nargs="?")
    b.add_argument("args", nargs=argparse.REMAINDER)
    b.set_defaults(func=cmd_bench)

    st = sub.add_parser("strategies", help="list the available strategies")
    st.set_defaults(func=cmd_strategies)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nasopt`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 1
    from .core.errors import NasoptError

    try:
        return int(args.func(args) or 0)
    except NasoptError as exc:
        print(f"nasopt: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
