"""Long runs: per-cycle ask+tell time and journal reload cost at 1k / 10k / 100k trials.

    python benchmarks/long_runs.py                      # random, rea to 100k; weaknas, renas to 1k
    python benchmarks/long_runs.py --sizes 1000 10000 --strategies rea
    python benchmarks/long_runs.py --space nb101 --strategies random rea --out results/long_runs

For each strategy one run of ``max(sizes)`` cycles (``ask()`` then ``tell()``, no journal)
measures the mean time of the ``--window`` cycles that end at each size; a second,
journaled run (fsync off: the cost of the disk is not the point here) records the journal's
length at each size, and each journal prefix (an append-only journal cut at a record
boundary is the journal of the run at that point) is reopened with ``nasopt.load`` in a
fresh process, which reports the wall time, the growth of its peak RSS during the load
and the growth of its RSS after it (the rebuilt optimizer itself).

The search space is a 12-parameter ``ProductSpace`` with 4 choices each (16.8 million
members: a space that never runs out in 100k trials and whose own operations are cheap, so
the figures are the optimizer's); ``--space nb101`` runs on ``NB101Space`` instead (cells of
NAS-Bench-101, whose decoding, validation and module hash dominate a reload), with the
objective the number of edges plus noise. WeakNAS and ReNAS refit a predictor on every result each
batch, so their per-cycle cost grows with the history by design (one fit on n results); they
are measured only up to ``--model-max`` trials (default 1,000).

Writes results/long_runs.json and results/long_runs.md; rows of another space or strategy
already in that JSON are kept (each row names its space and the command that measured it),
so one space can be rerun alone. numpy / torch are limited to one
thread here (the measurements are single-core).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if not __package__:  # run as `python benchmarks/long_runs.py`: the repository root first
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.harness.output import output_path  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
import nasopt  # noqa: E402
from nasopt.persist import journal as journal_mod  # noqa: E402
from nasopt.spaces import NB101Space, ProductSpace  # noqa: E402

#: Strategy options: the library defaults, except ReNAS in its iterative (refitting) recipe.
OPTIONS: dict[str, dict] = {
    "random": {},
    "rea": {},
    "weaknas": {},
    "renas": {"surrogate": "gbrt", "loss": "logistic", "init": 20, "top_k": 10, "rounds": None,
              "surrogate_options": {"max_depth": 1, "pairs_per_sample": 8}},
}
#: Strategies whose per-ask cost grows with the history by design (a refit on every result).
MODEL_BASED = ("weaknas", "renas")


def make_space(kind: str = "product") -> ProductSpace | NB101Space:
    if kind == "nb101":
        return NB101Space()
    return ProductSpace({f"p{i}": list(range(4)) for i in range(12)})


def objective(arch, noise: float) -> float:
    if isinstance(arch, dict):
        return float(sum(arch.values())) + noise
    return float(arch.n_edges) + noise  # an NB101 cell


def cycle_times(name: str, sizes: list[int], window: int, journal: str | None = None,
                space: str = "product") -> tuple[dict[int, tuple[float, float]], dict[int, int]]:
    """Run ``max(sizes)`` ask/tell cycles: the (mean, median) seconds per cycle over the
    ``window`` cycles ending at each size, and (with a journal) the journal's byte length at
    each size. The median is robust to load spikes of a shared machine; the mean includes
    the periodic predictor fits of WeakNAS / ReNAS."""
    opt = nasopt.create(name, make_space(space), seed=0, journal=journal, **OPTIONS[name])
    rng = np.random.default_rng(0)
    timed = {k for s in sizes for k in range(max(1, s - window + 1), s + 1)}
    spent: dict[int, float] = {}
    lengths: dict[int, int] = {}
    for k in range(1, max(sizes) + 1):
        t0 = time.perf_counter()
        t = opt.ask()
        opt.tell(t, objective(t.arch, float(rng.random())))
        if k in timed:
            spent[k] = time.perf_counter() - t0
        if journal is not None and k in sizes:
            lengths[k] = os.path.getsize(journal)
    opt.close()
    stats = {}
    for s in sizes:
        cycles = np.array([spent[k] for k in range(max(1, s - window + 1), s + 1)])
        stats[s] = (float(cycles.mean()), float(np.median(cycles)))
    return stats, lengths


RELOAD_CHILD = """
import os, sys, time
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"
sys.path.insert(0, sys.argv[2])
import json, nasopt

def status(field):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":")) / 1024

with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (VmHWM) to the current RSS
    fh.write("5")
rss0 = status("VmRSS")
t0 = time.perf_counter()
opt = nasopt.load(sys.argv[1])
dt = time.perf_counter() - t0
peak, kept = status("VmHWM") - rss0, status("VmRSS") - rss0
n = len(opt.trials)
opt.close()
print(json.dumps({"seconds": dt, "peak_mb": peak, "kept_mb": kept, "trials": n}))
"""


def reload_cost(path: str, repeats: int) -> dict:
    """Reopen the journal at ``path`` in a fresh process, ``repeats`` times: the fastest
    wall time (the least disturbed by other work on the machine) and its memory growth."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", RELOAD_CHILD, path, str(ROOT)], check=True,
                             capture_output=True, text=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    best["all_seconds"] = [r["seconds"] for r in runs]
    return best


def measure(name: str, sizes: list[int], window: int, workdir: Path, repeats: int,
            space: str = "product", command: str = "") -> dict:
    journal_mod.FSYNC = False
    path = workdir / f"{name}.jsonl"
    journaled, lengths = cycle_times(name, sizes, window, journal=str(path), space=space)
    # the optimizer's own cost, without writing the journal; a model-based strategy's
    # cycle is dominated by its fits, so its journaled run gives the figure
    times = journaled if name in MODEL_BASED else cycle_times(name, sizes, window, space=space)[0]
    rows = []
    for s in sizes:
        prefix = workdir / f"{name}-{s}.jsonl"
        with open(path, "rb") as src, open(prefix, "wb") as dst:
            dst.write(src.read(lengths[s]))
        cost = reload_cost(str(prefix), repeats)
        assert cost["trials"] == s, (name, s, cost)
        rows.append({"space": space, "command": command, "strategy": name, "trials": s,
                     "cycle_us": times[s][0] * 1e6,
                     "cycle_median_us": times[s][1] * 1e6, "reload_all_s": cost["all_seconds"],
                     "journal_mb": lengths[s] / 1e6, "reload_s": cost["seconds"],
                     "reload_peak_mb": cost["peak_mb"], "reload_kept_mb": cost["kept_mb"]})
        prefix.unlink()
        print(f"{space:7s} {name:8s} {s:>7d} trials: {times[s][0] * 1e6:8.1f} us/cycle (median "
              f"{times[s][1] * 1e6:.1f}), journal "
              f"{lengths[s] / 1e6:6.1f} MB reloads in {cost['seconds']:6.2f} s "
              f"(peak +{cost['peak_mb']:.0f} MB, kept +{cost['kept_mb']:.0f} MB)", flush=True)
    path.unlink()
    return {"rows": rows}


def write_markdown(result: dict, path: Path) -> None:
    lines = [
        "Long runs on a 12 x 4 `ProductSpace` (product: 16.8M members) and on `NB101Space` "
        f"(nb101), one CPU thread ({result['cpus']} CPUs, load {result['load']:.2f} at the start "
        "of the last command), "
        f"per-cycle time = mean and median of the {result['window']} `ask()` + `tell()` cycles "
        "ending at that many trials (without a journal; weaknas / renas: with it, and over a window "
        "of a twentieth of their largest size); reload = `nasopt.load(journal)` in a fresh process "
        f"(fastest wall time of {result['repeats']}; growth of the peak RSS during the load, and of the RSS after it: the "
        "rebuilt optimizer).",
        "",
        "| space | strategy | trials | per cycle, mean (us) | median (us) | journal (MB) | reload (s) "
        "| reload peak (MB) | optimizer (MB) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in result["rows"]:
        lines.append(f"| {r.get('space', 'product')} | {r['strategy']} | {r['trials']:,} "
                     f"| {r['cycle_us']:.0f} | {r['cycle_median_us']:.0f} "
                     f"| {r['journal_mb']:.1f} "
                     f"| {r['reload_s']:.2f} | {r['reload_peak_mb']:.0f} | {r['reload_kept_mb']:.0f} |")
    commands = list(dict.fromkeys(r.get("command") or result["command"] for r in result["rows"]))
    lines += ["", "Commands: " + ", ".join(f"`{c}`" for c in commands), ""]
    path.write_text("\n".join(lines))


def kept_rows(path: Path, new: list[dict]) -> list[dict]:
    """The rows of an earlier result at ``path`` for the (space, strategy) pairs not measured
    now (rows written before the space was recorded are the ProductSpace's), each with the
    command that measured it."""
    if not path.exists():
        return []
    old = json.loads(path.read_text())
    measured = {(r["space"], r["strategy"]) for r in new}
    rows = []
    for r in old.get("rows", []):
        r = {"space": "product", "command": old.get("command", ""), **r}
        if (r["space"], r["strategy"]) not in measured:
            rows.append(r)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strategies", nargs="+", default=["random", "rea", "weaknas", "renas"],
                        choices=sorted(OPTIONS))
    parser.add_argument("--space", default="product", choices=["product", "nb101"],
                        help="search space: the 12 x 4 ProductSpace (default) or NB101Space")
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10_000, 100_000])
    parser.add_argument("--model-max", type=int, default=1000,
                        help="largest size measured for weaknas / renas (default 1000)")
    parser.add_argument("--window", type=int, default=500, help="cycles averaged per size")
    parser.add_argument("--repeats", type=int, default=3, help="reloads per journal (fastest kept)")
    parser.add_argument("--out", default=None,
                        help="output prefix (.json, .md; default nasopt-bench-out/long_runs)")
    args = parser.parse_args(argv)
    result = {
        "command": "python benchmarks/long_runs.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "python": platform.python_version(), "numpy": np.__version__,
        "cpus": os.cpu_count(), "load": os.getloadavg()[0], "window": args.window,
        "repeats": args.repeats,
        "spaces": {"product": make_space("product").config(), "nb101": make_space("nb101").config()},
        "options": {n: OPTIONS[n] for n in args.strategies},
        "rows": [],
    }
    result["command"] = result["command"].strip()
    workdir = Path(tempfile.mkdtemp(prefix="nasopt-long-"))
    try:
        for name in args.strategies:
            sizes = sorted(args.sizes)
            window = args.window
            if name in MODEL_BASED:  # a tenth of the largest size too, to show the growth
                top = max([s for s in sizes if s <= args.model_max] or [args.model_max])
                sizes = [top // 10, top]
                window = max(10, min(window, top // 20) // 10 * 10)  # whole batches of 10
            result["rows"] += measure(name, sizes, window, workdir, args.repeats, args.space,
                                      result["command"])["rows"]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out = Path(output_path(args.out, "long_runs", "benchmarks/long_runs.py"))
    out.parent.mkdir(parents=True, exist_ok=True)
    result["rows"] = kept_rows(out.with_suffix(".json"), result["rows"]) + result["rows"]
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    write_markdown(result, out.with_suffix(".md"))
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    one_thread()
    sys.exit(main())
