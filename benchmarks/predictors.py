"""Predictor benchmark: how well each surrogate *ranks* the architectures it was not trained on.

For every dataset, training-set size ``n`` and repeat ``r``, ``n`` architectures are drawn
uniformly without replacement (the same draw for every predictor), the predictor is fitted on
their validation accuracy, and Kendall τ and Spearman ρ are computed between its predictions
and the true validation accuracy of **all** remaining architectures (the protocol of Xu et al., "ReNAS:
Relativistic Evaluation of Neural Architecture Search", CVPR 2021).

Predictors (``--predictors``; names as in the ablation of the ReNAS paper):

=============  =========  ============  ===========================================
name           surrogate  encoding      loss
=============  =========  ============  ===========================================
renas-1        renas      type matrix   MSE
renas-2        renas      tensor        MSE
renas-3        renas      type matrix   L1 (pairwise hinge), λ = 0
renas-4        renas      tensor        L1, λ = 0
renas-5        renas      type matrix   L1 + λ·L2 (triplet continuity)
renas-6        renas      tensor        L1 + λ·L2
renas-2+       renas      tensor+       MSE
renas-4+       renas      tensor+       L1, λ = 0
renas-6+       renas      tensor+       L1 + λ·L2
mlp-mse        mlp        one-hot       MSE
mlp-hinge      mlp        one-hot       pairwise hinge
gbrt-mse       gbrt       one-hot       squared error
gbrt-logistic  gbrt       one-hot       pairwise logistic (XGBoost ``rank:pairwise``)
rf-mse         rf         one-hot       squared error (no ranking loss for forests)
<name>-live    as above   live one-hot  as above, for renas-2+/4+/6+ and the five one-hot
                                        predictors (renas-4+-live: live one-hot tensor)
=============  =========  ============  ===========================================

Every surrogate is built by :func:`nasopt.surrogates.make_surrogate` with its defaults (the
hinge margin ``a`` and λ are the surrogate's defaults; ``--cv`` chooses them by
cross-validation on each training set instead). "tensor" is
:func:`nasopt.spaces.renas_features.nb201_tensors` (31×4×4) or ``nb101_tensors`` (19×7×7);
"type matrix" is its channel 0; "tensor+" is the same tensor with the type matrix as one-hot
channels (``kind="onehot"``: 35×4×4, 23×7×7), nasopt's default input of the ReNAS CNN.
"live one-hot" is NB201's ``"onehot-live"`` / ``"renas-onehot-live"`` encoding: the same
input after every edge that lies on no input→output path is read as ``none``
(:func:`nasopt.spaces.nb201.live_op_codes`); NB101 cells are stored pruned already, so there
it is the plain input.

Spaces: ``--space nb201`` (default; datasets cifar10 / cifar100 / imagenet16, labels = mean
validation accuracy) or ``--space nb101 --data PATH`` (needs
``nasopt.benchmarks.nb101.NB101`` and the NAS-Bench-101 table).

Fits run in ``--workers`` processes with one torch / BLAS thread each; every fit's seed is
derived from (``--seed``, dataset, size, repeat, predictor) only, so results do not depend on
the number of workers. Outputs ``<out>.json.gz`` (gzip-compressed JSON, every fit: τ, ρ, fit
and predict seconds), ``<out>.md`` (mean ± std of τ per predictor × size) and ``<out>.png``
(τ vs training size). ``--merge`` reads ``.json`` or ``.json.gz`` files
(:mod:`benchmarks.harness.jsonio`).

Run: ``python benchmarks/predictors.py --datasets cifar10 --repeats 5``.
"""

from __future__ import annotations

import argparse
import json
import platform
import signal
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

if not __package__:  # run as `python benchmarks/predictors.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.harness.jsonio import read_json, write_json  # noqa: E402
from benchmarks.harness.output import output_path  # noqa: E402
from benchmarks.harness.runs import parse_list  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt.core.errors import ConfigurationError  # noqa: E402

NB201_SIZES = (16, 90, 156, 424, 1562, 4688)
#: NB101 default sizes: 0.1 %, 1 %, 10 % of the 423,624 cells
NB101_SIZES = (424, 4236, 42362)
NB201_DATASETS = ("cifar10", "cifar100", "imagenet16")


@dataclass(frozen=True)
class PredictorSpec:
    """One benchmarked predictor: a ``make_surrogate`` name, an encoding and options."""

    name: str
    surrogate: str
    encoding: str  # "onehot" | "live" | "tensor" | "type" | "tensor+" | "tensor+live"
    options: dict[str, Any] = field(default_factory=dict)
    ranking: bool = False  # trained with a ranking loss
    description: str = ""


_ONEHOT_TENSOR: tuple[PredictorSpec, ...] = (
    PredictorSpec("renas-2+", "renas", "tensor+", {"loss": "mse", "lam": 0.0}, False, "one-hot tensor + MSE"),
    PredictorSpec("renas-4+", "renas", "tensor+", {"loss": "hinge", "lam": 0.0}, True, "one-hot tensor + L1"),
    PredictorSpec("renas-6+", "renas", "tensor+", {"loss": "hinge"}, True, "one-hot tensor + L1 + λ·L2"),
)
_LIVE = {"onehot": "live", "tensor+": "tensor+live"}
_ONEHOT: tuple[PredictorSpec, ...] = (
    PredictorSpec("mlp-mse", "mlp", "onehot", {"loss": "mse"}, False, "one-hot + MSE"),
    PredictorSpec("mlp-hinge", "mlp", "onehot", {"loss": "hinge"}, True, "one-hot + pairwise hinge"),
    PredictorSpec("gbrt-mse", "gbrt", "onehot", {"loss": "mse"}, False, "one-hot + squared error"),
    PredictorSpec("gbrt-logistic", "gbrt", "onehot", {"loss": "logistic"}, True,
                  "one-hot + pairwise logistic"),
    PredictorSpec("rf-mse", "rf", "onehot", {}, False, "one-hot + squared error"),
)


def _live(spec: PredictorSpec) -> PredictorSpec:
    """The same predictor on its one-hot input with NB201's dead edges read as ``none``."""
    return replace(spec, name=f"{spec.name}-live", encoding=_LIVE[spec.encoding],
                   description=spec.description.replace("one-hot", "live one-hot"))


PREDICTORS: dict[str, PredictorSpec] = {
    s.name: s
    for s in (
        PredictorSpec("renas-1", "renas", "type", {"loss": "mse", "lam": 0.0}, False, "type + MSE"),
        PredictorSpec("renas-2", "renas", "tensor", {"loss": "mse", "lam": 0.0}, False, "tensor + MSE"),
        PredictorSpec("renas-3", "renas", "type", {"loss": "hinge", "lam": 0.0}, True, "type + L1"),
        PredictorSpec("renas-4", "renas", "tensor", {"loss": "hinge", "lam": 0.0}, True, "tensor + L1"),
        PredictorSpec("renas-5", "renas", "type", {"loss": "hinge"}, True, "type + L1 + λ·L2"),
        PredictorSpec("renas-6", "renas", "tensor", {"loss": "hinge"}, True, "tensor + L1 + λ·L2"),
        *_ONEHOT_TENSOR,
        *_ONEHOT,
        *(_live(spec) for spec in _ONEHOT_TENSOR + _ONEHOT),
    )
}
_NEURAL = ("renas", "mlp")
_TREES = ("gbrt", "rf")


# ============================================================================ data
@dataclass
class Problem:
    """Features (memory-mapped ``.npy`` files) and labels of one space × dataset."""

    space: str
    dataset: str
    labels: np.ndarray
    features: dict[str, str]  # encoding -> .npy path

    @property
    def size(self) -> int:
        return len(self.labels)


#: benchmark input name -> NB201Space encoding
_NB201_ENCODINGS = {"onehot": "onehot", "live": "onehot-live", "tensor": "renas", "tensor+": "renas-onehot",
                    "tensor+live": "renas-onehot-live"}


def _nb201_problem(dataset: str, data: str | None, cache: Path) -> Problem:
    from nasopt.benchmarks.nb201 import NB201

    bench = NB201(dataset, path=data)
    space = bench.space
    idx = np.arange(len(space))
    feats = {enc: space.encode_indices(idx, name) for enc, name in _NB201_ENCODINGS.items()}
    feats["type"] = np.ascontiguousarray(feats["tensor"][:, :1])
    return Problem("nb201", dataset, np.asarray(bench.values, dtype=np.float64), _save(feats, cache, "nb201"))


def _nb101_problem(data: str | None, cache: Path) -> Problem:
    try:
        from nasopt.benchmarks.nb101 import NB101
    except ImportError as exc:
        raise ConfigurationError(
            f"--space nb101 needs nasopt.benchmarks.nb101 (NAS-Bench-101 loader): {exc}"
        ) from None
    from nasopt.spaces.renas_features import nb101_tensors

    bench = NB101(path=data)
    space = bench.space
    n = len(space)
    enc = "onehot" if "onehot" in space.encodings else space.encodings[0]
    chunk = 50_000
    cells = [space[i] for i in range(n)]
    feats = {
        "onehot": np.concatenate([space.encode_indices(np.arange(s, min(s + chunk, n)), enc)
                                  for s in range(0, n, chunk)]),
        "tensor": np.concatenate([nb101_tensors(cells[s:s + chunk]) for s in range(0, n, chunk)]),
        "tensor+": np.concatenate([nb101_tensors(cells[s:s + chunk], kind="onehot")
                                   for s in range(0, n, chunk)]),
    }
    del cells
    # NB101 cells are stored pruned: no dead edges to remove
    feats["live"], feats["tensor+live"] = feats["onehot"], feats["tensor+"]
    feats["type"] = np.ascontiguousarray(feats["tensor"][:, :1])
    labels = np.asarray(bench.values, dtype=np.float64)
    return Problem("nb101", "cifar10", labels, _save(feats, cache, "nb101"))


def _save(feats: dict[str, np.ndarray], cache: Path, tag: str) -> dict[str, str]:
    paths = {}
    for enc, arr in feats.items():
        p = cache / f"{tag}_{enc}.npy"
        if not p.exists():
            np.save(p, np.ascontiguousarray(arr, dtype=np.float32))
        paths[enc] = str(p)
    return paths


# ============================================================================ one fit
def split_indices(n_total: int, size: int, seed: int, dataset: str, repeat: int) -> np.ndarray:
    """Training indices for (dataset, size, repeat): shared by every predictor."""
    ss = np.random.SeedSequence([seed, size, repeat, sum(map(ord, dataset))])
    return np.sort(np.random.default_rng(ss).choice(n_total, size=size, replace=False))


def rank_scores(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Kendall τ-b and Spearman ρ between predictions and the truth."""
    from scipy.stats import kendalltau, spearmanr

    if np.ptp(pred) == 0:
        return 0.0, 0.0  # a constant prediction carries no ranking
    return float(kendalltau(pred, truth).statistic), float(spearmanr(pred, truth).statistic)


_FEATURE_CACHE: dict[str, np.ndarray] = {}


def _features(path: str) -> np.ndarray:
    if path not in _FEATURE_CACHE:
        _FEATURE_CACHE[path] = np.load(path, mmap_mode="r")
    return _FEATURE_CACHE[path]


def _make(spec: PredictorSpec, seed: int, overrides: dict[str, Any], cv: bool = False) -> Any:
    from nasopt.surrogates import make_surrogate

    opts = dict(spec.options)
    if cv and spec.ranking and spec.surrogate in _NEURAL:
        opts["margin"] = "cv"
        if opts.get("lam", None) != 0.0:
            opts["lam"] = "cv"
    for key, value in overrides.items():
        kinds, _, opt = key.rpartition(":")
        if not kinds or spec.surrogate in kinds.split(","):
            opts[opt] = value
    return make_surrogate(spec.surrogate, random_state=seed, **opts)


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """Fit one predictor on one training split and score it on the rest of the space."""
    spec = PredictorSpec(**job["spec"])
    X = _features(job["features"][spec.encoding])
    y = np.asarray(job["labels"], dtype=np.float64) if "labels" in job else np.load(job["labels_path"])
    train = split_indices(len(y), job["size"], job["seed"], job["dataset"], job["repeat"])
    test_mask = np.ones(len(y), dtype=bool)
    test_mask[train] = False
    fit_seed = int(np.random.SeedSequence(
        [job["seed"], job["size"], job["repeat"], sum(map(ord, job["dataset"])), sum(map(ord, spec.name))]
    ).generate_state(1)[0] & 0x7FFFFFFF)
    model = _make(spec, fit_seed, job.get("overrides", {}), job.get("cv", False))
    t0 = time.perf_counter()
    model.fit(np.asarray(X[train]), y[train])
    fit_s = time.perf_counter() - t0
    test = np.flatnonzero(test_mask)
    t0 = time.perf_counter()
    pred = np.concatenate([np.asarray(model.predict(np.asarray(X[test[s:s + 100_000]]))).ravel()
                           for s in range(0, len(test), 100_000)])
    predict_s = time.perf_counter() - t0
    tau, rho = rank_scores(pred, y[test])
    out = {
        "space": job["space"], "dataset": job["dataset"], "predictor": spec.name, "size": job["size"],
        "repeat": job["repeat"], "tau": tau, "rho": rho, "fit_s": fit_s, "predict_s": predict_s,
        "n_test": int(len(test)),
    }
    for attr in ("margin_", "lam_"):
        if hasattr(model, attr):
            out[attr.rstrip("_")] = float(getattr(model, attr))
    return out


# ============================================================================ reports
def summarize(records: list[dict[str, Any]]) -> dict[tuple[str, str, int], dict[str, float]]:
    """(dataset, predictor, size) → mean / std of τ and ρ, mean fit / predict seconds, count."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(r["dataset"], r["predictor"], r["size"])].append(r)
    out = {}
    for key, rs in groups.items():
        tau = np.array([r["tau"] for r in rs])
        rho = np.array([r["rho"] for r in rs])
        out[key] = {
            "tau_mean": float(tau.mean()), "tau_std": float(tau.std()), "rho_mean": float(rho.mean()),
            "rho_std": float(rho.std()), "fit_s": float(np.mean([r["fit_s"] for r in rs])),
            "predict_s": float(np.mean([r["predict_s"] for r in rs])), "n": len(rs),
        }
    return out


def _table(summ: dict, ds: str, predictors: list[str], sizes: list[int],
           cell: Callable[[dict], str], label: Callable[[str], str]) -> list[str]:
    """One markdown table: a row per predictor, a column per training size, ``cell`` of each
    summarised (dataset, predictor, size), blank where it was not run."""
    lines = ["| predictor | " + " | ".join(str(s) for s in sizes) + " |", "|---|" + "---|" * len(sizes)]
    for p in predictors:
        cells = ["" if summ.get((ds, p, s)) is None else cell(summ[(ds, p, s)]) for s in sizes]
        lines.append(f"| {label(p)} | " + " | ".join(cells) + " |")
    return lines


def markdown(records: list[dict[str, Any]], predictors: list[str], sizes: list[int],
             datasets: list[str], command: str | None = None) -> str:
    """Tables of mean ± std Kendall τ (and mean fit seconds) per predictor × training size."""
    summ = summarize(records)
    lines = []
    if command:
        lines += [f"Command: `{command}`", ""]
    for ds in datasets:
        counts = sorted({v["n"] for (d, _, _), v in summ.items() if d == ds})
        if not counts:
            continue
        reps = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
        lines += [f"### {ds}: Kendall τ on all architectures outside the training set "
                  f"(mean ± std over {reps} repeats)", ""]

        def tau_cell(v: dict) -> str:
            note = f" (n={v['n']})" if len(counts) > 1 and v["n"] < counts[-1] else ""
            return f"{v['tau_mean']:.3f} ± {v['tau_std']:.3f}{note}"

        def described(p: str) -> str:
            return f"{p} ({PREDICTORS[p].description})" if p in PREDICTORS else f"{p} ()"

        lines += _table(summ, ds, predictors, sizes, tau_cell, described)
        lines += ["", f"Spearman ρ (mean) and mean fit time in seconds, {ds}:", ""]
        lines += _table(summ, ds, predictors, sizes,
                        lambda v: f"ρ {v['rho_mean']:.3f}, {v['fit_s']:.1f} s", str)
        lines.append("")
    return "\n".join(lines)


def plot(records: list[dict[str, Any]], predictors: list[str], sizes: list[int], datasets: list[str],
         path: str) -> None:
    """τ vs training size (log x), one line per predictor, one panel per dataset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summ = summarize(records)
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4.2), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        for i, p in enumerate(predictors):
            pts = [(s, summ[(ds, p, s)]) for s in sizes if (ds, p, s) in summ]
            if not pts:
                continue
            xs = [s for s, _ in pts]
            style = "-" if p.startswith("renas") else "--"
            ax.errorbar(xs, [v["tau_mean"] for _, v in pts], yerr=[v["tau_std"] for _, v in pts],
                        label=p, linestyle=style, marker="o", markersize=3, capsize=2,
                        color=plt.get_cmap("tab20")(i % 20))
        ax.set_xscale("log")
        ax.set_xlabel("training architectures")
        ax.set_ylabel("Kendall τ (rest of the space)")
        ax.set_title(ds)
        ax.grid(alpha=0.3)
    handles: dict[str, Any] = {}
    for ax in axes[0]:  # one legend with every predictor, whichever panel drew it
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    axes[0][-1].legend(list(handles.values()), list(handles), fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ============================================================================ driver
def _parse_override(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep:
        raise ConfigurationError(f"--set expects [surrogates:]option=value, got {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return key.strip(), parsed


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python benchmarks/predictors.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--space", choices=("nb201", "nb101"), default="nb201")
    ap.add_argument("--data", help="benchmark table (nb201.npz / the NB101 file) or its directory")
    ap.add_argument("--datasets", default=",".join(NB201_DATASETS), help="comma-separated NB201 datasets")
    ap.add_argument("--sizes", help="comma-separated training sizes (default: all of the space's)")
    ap.add_argument("--predictors", default=",".join(PREDICTORS),
                    help=f"comma-separated subset of {', '.join(PREDICTORS)}")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--first-repeat", type=int, default=0,
                    help="index of the first repeat (to extend an earlier run with new splits)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1, help="worker processes (1 torch thread each)")
    ap.add_argument("--cv", action="store_true",
                    help="choose margin a and λ of the ranking predictors by CV on each training set")
    ap.add_argument("--set", action="append", default=[], metavar="[SURR,...:]OPT=VALUE",
                    help="extra surrogate option, e.g. 'renas,mlp:epochs=50' or 'gbrt:n_estimators=100'")
    ap.add_argument("--out", default=None,
                    help="output prefix (.json.gz, .md, .png; default nasopt-bench-out/predictors)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--merge", nargs="+", metavar="JSON",
                    help="run nothing: combine the records of earlier result files into <out>")
    return ap


def merge(paths: list[str], out: str, plot_too: bool = True) -> list[dict[str, Any]]:
    """Combine the records of several result files (later files win on the same fit) and
    write ``<out>.json.gz``, ``<out>.md`` and ``<out>.png``."""
    by_key: dict[tuple, dict[str, Any]] = {}
    commands = []
    for p in paths:
        res = read_json(p)
        done = res["meta"].get("complete")
        commands.append(res["meta"]["command"] + ("" if done else "  (stopped before the end)"))
        for r in res["records"]:
            by_key[(r["space"], r["dataset"], r["predictor"], r["size"], r["repeat"])] = r
    records = sorted(by_key.values(), key=lambda r: (r["dataset"], r["predictor"], r["size"], r["repeat"]))
    predictors = [p for p in PREDICTORS if any(r["predictor"] == p for r in records)]
    sizes = sorted({r["size"] for r in records})
    datasets = [d for d in (*NB201_DATASETS, *sorted({r["dataset"] for r in records}))
                if any(r["dataset"] == d for r in records)]
    datasets = list(dict.fromkeys(datasets))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    merged = {"meta": {"merged_from": commands}, "records": records}
    write_json(f"{out}.json.gz", merged, indent=1)
    header = "Merged from:\n\n" + "\n".join(f"- `{c}`" for c in commands) + "\n\n"
    Path(f"{out}.md").write_text(header + markdown(records, predictors, sizes, datasets))
    if plot_too:
        plot(records, predictors, sizes, datasets, f"{out}.png")
    return records


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns 0. See the module docstring and ``--help``."""
    args = build_parser().parse_args(argv)
    args.out = output_path(args.out, "predictors", "benchmarks/predictors.py")
    if args.merge:
        merge(args.merge, args.out, not args.no_plot)
        if not args.quiet:
            print(Path(f"{args.out}.md").read_text())
        return 0
    predictors = parse_list(args.predictors)
    unknown = [p for p in predictors if p not in PREDICTORS]
    if unknown:
        raise ConfigurationError(f"unknown predictor(s) {unknown}; choose from {list(PREDICTORS)}")
    if args.repeats < 1 or args.workers < 1 or args.first_repeat < 0:
        raise ConfigurationError("--repeats and --workers must be >= 1, --first-repeat >= 0")
    datasets = parse_list(args.datasets)
    if args.space == "nb101":
        datasets = ["cifar10"]
    elif any(d not in NB201_DATASETS for d in datasets):
        raise ConfigurationError(f"unknown dataset in {datasets}; choose from {NB201_DATASETS}")
    default_sizes = NB101_SIZES if args.space == "nb101" else NB201_SIZES
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(default_sizes)
    overrides = dict(_parse_override(s) for s in args.set)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/predictors.py " + " ".join(argv if argv is not None else sys.argv[1:])

    started = time.time()
    with tempfile.TemporaryDirectory(prefix="nasopt-predictors-") as tmp:
        cache = Path(tmp)
        problems = []
        for ds in datasets:
            if args.space == "nb101":
                pr = _nb101_problem(args.data, cache)
            else:
                pr = _nb201_problem(ds, args.data, cache)
            too_big = [s for s in sizes if not 2 <= s < pr.size]
            if too_big:
                raise ConfigurationError(f"training sizes {too_big} out of range for {pr.size} architectures")
            lp = cache / f"labels_{ds}.npy"
            np.save(lp, pr.labels)
            problems.append((pr, str(lp)))
        jobs = []
        # largest fits first so the pool's tail is short
        for size in sorted(sizes, reverse=True):
            for repeat in range(args.first_repeat, args.first_repeat + args.repeats):
                for pr, lp in problems:
                    for p in predictors:
                        spec = PREDICTORS[p]
                        jobs.append({
                            "spec": asdict(spec), "features": pr.features, "labels_path": lp,
                            "space": pr.space, "dataset": pr.dataset, "size": size, "repeat": repeat,
                            "seed": args.seed, "overrides": dict(overrides), "cv": args.cv,
                        })
        records: list[dict[str, Any]] = []
        meta = {
            "command": command, "space": args.space, "datasets": datasets, "sizes": sizes,
            "predictors": {p: asdict(PREDICTORS[p]) for p in predictors}, "repeats": args.repeats,
            "first_repeat": args.first_repeat,
            "seed": args.seed, "overrides": overrides, "cv": args.cv, "workers": args.workers,
            "python": platform.python_version(), "machine": platform.machine(),
        }
        last_write = time.time()

        def write(final: bool) -> None:
            meta["elapsed_s"] = time.time() - started
            meta["complete"] = final
            ordered = sorted(records, key=lambda r: (r["dataset"], r["predictor"], r["size"], r["repeat"]))
            write_json(f"{out}.json.gz", {"meta": meta, "records": ordered}, indent=1)
            Path(f"{out}.md").write_text(markdown(ordered, predictors, sizes, datasets, command))
            if final and not args.no_plot:
                plot(ordered, predictors, sizes, datasets, f"{out}.png")

        def done(rec: dict[str, Any]) -> None:
            nonlocal last_write
            records.append(rec)
            if not args.quiet:
                print(f"[{len(records)}/{len(jobs)}] {rec['dataset']} {rec['predictor']:<13} "
                      f"n={rec['size']:<5} r={rec['repeat']:<2} tau={rec['tau']:.3f} rho={rec['rho']:.3f} "
                      f"fit={rec['fit_s']:.1f}s", flush=True)
            if time.time() - last_write > 2:  # partial results survive an interruption
                write(False)
                last_write = time.time()

        def stop(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt(f"signal {signum}")

        previous = None
        try:  # SIGTERM: stop the workers and keep the partial results, like Ctrl-C
            previous = signal.signal(signal.SIGTERM, stop)
        except ValueError:  # not the main thread
            pass
        try:
            if args.workers == 1:
                one_thread()
                for job in jobs:
                    done(run_one(job))
            else:
                import multiprocessing as mp

                pool = mp.get_context("spawn").Pool(args.workers, initializer=one_thread)
                try:
                    for rec in pool.imap_unordered(run_one, jobs):
                        done(rec)
                    pool.close()
                except BaseException:
                    pool.terminate()
                    raise
                finally:
                    pool.join()
        except KeyboardInterrupt:
            write(False)
            print(f"interrupted: {len(records)} of {len(jobs)} fits written to {out}.json.gz / .md",
                  file=sys.stderr)
            return 130
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        write(True)
    if not args.quiet:
        print(markdown(records, predictors, sizes, datasets))
        print(f"wrote {out}.json.gz, {out}.md" + ("" if args.no_plot else f", {out}.png"))
    return 0


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    raise SystemExit(main())
