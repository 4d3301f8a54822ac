"""Expected queries to hypervolume regret 0.01 per (dataset, cost) pair and front method, the
runs that never got there counted: from the runs of ``benchmarks/hardware.py`` results files.

A method's **expected running time** (ERT, :func:`~benchmarks.harness.metrics.expected_running_time`)
is every query of its runs (to the target where a run got there, all of them where it did not)
over the runs that got there: what a user who restarts it with a new seed until it gets there
spends on average; infinite when no run got there, and then at least the queries its runs
spent (shown as ``> S``). Beside it, the bounds of the median queries (a run that never got
there counted one query past its last, and at infinity): the median is measured where the
two agree. Queries count distinct architectures, as in the harness.

Runs of one search on one seed kept in several files, or by methods that differ only in
their cap on suggestions (``optuna-tpe``, ``optuna-tpe-patient``, ``optuna-tpe-long``:
:func:`benchmarks.hardware.same_search`), are one run: the longest, which is checked to
extend the others. Example (the table cited in docs/hardware.md)::

    python benchmarks/hardware_ert.py results/hardware/long_fronts.json.gz \\
        results/hardware/long_tpe.json.gz results/hardware/long_tpe_pruned.json.gz \\
        results/hardware/tpe_patient_cifar10_230.json.gz results/hardware/tpe_long.json.gz \\
        --out results/hardware/ert

Writes ``<out>.md``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

if not __package__:  # run as `python benchmarks/hardware_ert.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import hardware as hw  # noqa: E402
from benchmarks.harness.jsonio import read_json  # noqa: E402
from benchmarks.harness.metrics import expected_running_time  # noqa: E402
from benchmarks.harness.output import output_path, write_markdown  # noqa: E402
from benchmarks.harness.runs import parse_list  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402

#: The methods of the table: the nasopt default first, then its peers of issue 21.
DEFAULT_METHODS = ("weaknas", "optuna-nsga2", "optuna-tpe", "optuna-tpe-pruned", "optuna-random",
                   "rea", "random")

Key = tuple[str, str, str]  # (dataset, cost, search)


def merged_runs(paths: Sequence[str]) -> dict[Key, dict[int, dict]]:
    """The front runs of the results files by (dataset, cost, :func:`~benchmarks.hardware.same_search`
    of the method) and seed: of the runs of one search and seed, the one with the most
    distinct queries (then suggestions).

    Raises:
        ValueError: two runs of one search and seed differ where both ran (not one search).
    """
    out: dict[Key, dict[int, dict]] = {}
    for path in paths:
        for run in read_json(path)["runs"]:
            if run.get("kind") != "front":
                continue
            key = (run["dataset"], run["target"], hw.same_search(run["method"]))
            seeds = out.setdefault(key, {})
            old = seeds.get(run["seed"])
            if old is None:
                seeds[run["seed"]] = {**run, "file": str(path)}
                continue
            common = min(len(old["indices"]), len(run["indices"]))
            if old["indices"][:common] != run["indices"][:common]:
                raise ValueError(f"{run['method']} in {path} and {old['method']} in {old['file']} "
                                 f"differ on {key[0]} × {key[1]}, seed {run['seed']}: not one search")
            if _length(run) > _length(old):
                seeds[run["seed"]] = {**run, "file": str(path)}
    return out


def _length(run: dict) -> tuple[int, int]:
    return len(run["indices"]), run.get("suggestions") or 0


def queries_of(run: dict) -> tuple[int, bool]:
    """Queries to the target and True, or the queries the run made and False if it never got there."""
    q = run["queries_to_target"]
    return (int(q), True) if q is not None else (len(run["indices"]), False)


def median_bounds(runs: Sequence[dict]) -> tuple[float, float]:
    """Lower and upper bound of the median queries to the target: a run that never got there
    counted one query past its last, and at infinity. Equal where the median is measured."""
    counts = [queries_of(r) for r in runs]
    low = statistics.median(q if hit else q + 1 for q, hit in counts)
    high = statistics.median(q if hit else math.inf for q, hit in counts)
    return float(low), float(high)


def _ert_or_bound(row: dict) -> tuple[float, bool]:
    """A method's ERT, or where that is infinite the queries its runs spent (a lower bound), and
    whether it is infinite: ordering by this puts a finite ERT before an infinite one's bound."""
    infinite = math.isinf(row["ert"])
    return (row["spent"] if infinite else row["ert"]), infinite


def summarize(runs: dict[Key, dict[int, dict]], methods: Sequence[str]) -> dict[tuple[str, str], dict]:
    """Per (dataset, cost): each method's runs, the runs that got there, ERT, queries spent
    and median bounds; whether the first method has the fewest expected queries (``ert_first``)
    and the lowest median (``median_first``: True, False, or None where not measured)."""
    out = {}
    for pair in dict.fromkeys(k[:2] for k in runs):  # in the files' order
        rows = {}
        for m in methods:
            rs = list(runs.get(pair + (m,), {}).values())
            if not rs:
                continue
            q, hit = zip(*map(queries_of, rs))
            rows[m] = {"runs": len(rs), "reached": sum(hit), "ert": expected_running_time(q, hit),
                       "spent": sum(q), "median": median_bounds(rs)}
        first, others = methods[0], [m for m in methods[1:] if m in rows]
        rec: dict = {"methods": rows, "ert_first": None, "median_first": None, "closest": None}
        if first in rows and others:
            mine = rows[first]
            rec["ert_first"] = all(mine["ert"] < rows[m]["ert"] for m in others)
            closest = min(others, key=lambda m: _ert_or_bound(rows[m]))
            bound, infinite = _ert_or_bound(rows[closest])
            rec["closest"] = (closest, bound / mine["ert"], not infinite)
            if all(mine["median"][1] < rows[m]["median"][0] for m in others):
                rec["median_first"] = True
            elif any(rows[m]["median"][1] <= mine["median"][0] for m in others):
                rec["median_first"] = False
        out[pair] = rec
    return out


def _ert_cell(row: dict) -> str:
    ert = f"{row['ert']:.0f}" if math.isfinite(row["ert"]) else f"> {row['spent']}"
    return f"{ert} ({row['reached']}/{row['runs']})"


def _median_cell(row: dict) -> str:
    low, high = row["median"]
    if low == high:
        return f"{low:g}"
    return f"≥ {low:g}" if math.isinf(high) else f"{low:g}–{high:g}"


def _verdict(first: bool | None) -> str:
    return {True: "yes", False: "no", None: "not measured"}[first]


def _closest(rec: dict) -> str:
    if rec["closest"] is None:
        return "–"
    method, ratio, exact = rec["closest"]
    return f"{method}, {'' if exact else '> '}{ratio:.1f}×"


def markdown(summary: dict[tuple[str, str], dict], methods: Sequence[str], command: str) -> list[str]:
    """The tables, the command above them."""
    lines = [f"`{command}`", "",
             f"Queries (distinct architectures) until the hypervolume regret is below "
             f"{hw.TARGET_REGRET}, from the runs of the files above; one run per search and seed "
             "(the longest). **ERT**: every query of every run (to the target, or all of them "
             "where a run never got there) over the runs that got there; `> S` where none did "
             "(ERT infinite; S the queries their runs spent). *(got there / runs)*. **Median**: "
             "exact, or its bounds where runs that never got there could move it (`≥ L`: "
             f"at least L). *fewest*: does {methods[0]} need the fewest; *closest*: the peer "
             f"with the fewest expected queries, and its ERT over {methods[0]}'s (a lower bound, "
             "`>`, where its ERT is infinite).", ""]
    tables = (("expected queries (ERT)", _ert_cell, "ert_first", True),
              ("median queries", _median_cell, "median_first", False))
    for dataset, name in hw.DATASET_NAMES.items():
        pairs = [p for p in summary if p[0] == dataset]
        for title, cell, verdict, ratio in tables if pairs else ():
            lines += [f"**{name}: {title} to regret {hw.TARGET_REGRET}**", "",
                      "| cost | " + " | ".join(methods) + " | fewest |" + (" closest |" if ratio else ""),
                      "| --- " * (len(methods) + 2 + ratio) + "|"]
            for pair in pairs:
                rec = summary[pair]
                cells = [cell(rec["methods"][m]) if m in rec["methods"] else "–" for m in methods]
                lines.append(f"| {hw.cost_label(pair[1])} | " + " | ".join(cells)
                             + f" | {_verdict(rec[verdict])} |" + (f" {_closest(rec)} |" if ratio else ""))
            lines.append("")
    recs = list(summary.values())
    ratios = [r["closest"][1] for r in recs if r["closest"] is not None]
    lines.append(f"{methods[0]} needs the fewest expected queries (ERT) on "
                 f"{sum(r['ert_first'] is True for r in recs)} of {len(recs)} pairs"
                 + (f" (the closest peer's ERT {min(ratios):.1f}× or more of its own)" if ratios else "")
                 + "; by the median on "
                 f"{sum(r['median_first'] is True for r in recs)}, not on "
                 f"{sum(r['median_first'] is False for r in recs)}, not measured on "
                 f"{sum(r['median_first'] is None for r in recs)}.")
    return lines + [""]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", help="results files of benchmarks/hardware.py (.json.gz)")
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                   help="front methods, the one compared with the others first "
                        f"(default {','.join(DEFAULT_METHODS)})")
    p.add_argument("--out", default=None, help="output prefix (default nasopt-bench-out/hardware_ert)")
    args = p.parse_args(argv)
    methods = parse_list(args.methods)
    unknown = [m for m in methods if m not in hw.FRONT_METHODS]
    if unknown:
        p.error(f"unknown methods {', '.join(unknown)}: choose from {', '.join(hw.FRONT_METHODS)}")
    out = output_path(args.out, "hardware_ert", "benchmarks/hardware_ert.py")
    searches = list(dict.fromkeys(hw.same_search(m) for m in methods))  # the runs are keyed by search
    summary = summarize(merged_runs(args.files), searches)
    command = "python benchmarks/hardware_ert.py " + " ".join(sys.argv[1:] if argv is None else argv)
    lines = markdown(summary, searches, command)
    write_markdown(out, lines)
    print(lines[-2])
    return 0


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    sys.exit(main())
