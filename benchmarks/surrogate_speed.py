"""Fit and scoring times of every surrogate on NAS-Bench-201 (``python benchmarks/surrogate_speed.py``).

For each surrogate (default options, and the papers' settings with ``--paper``) and each
training size, fit on a random NB201 CIFAR-10 sample and time the fit; then time scoring all
15,625 cells (best of ``--repeats``; wall clock and process CPU time — CPU time is what a
single-threaded call costs on an idle core, wall clock includes waiting on a busy machine).
Kendall τ on the cells outside the training set is reported alongside. Inputs: one-hot (30-d)
for MLP / GBRT / RF, ReNAS tensors (31×4×4) for the ReNAS CNN. Torch runs one thread.
``renas-plain`` is the ReNAS CNN scored by its plain forward pass (``dedup_predict=False``)
instead of the tabulated one (:mod:`nasopt.surrogates._renas_dedup`), for the ratio.

Writes ``<out>/surrogate_speed.json`` and ``<out>/surrogate_speed.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Sequence

if not __package__:  # run as `python benchmarks/surrogate_speed.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.harness.output import output_path  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt.core.data import find_data_file, load_npz  # noqa: E402
from nasopt.core.errors import DataError  # noqa: E402
from nasopt.surrogates import kendall_tau, make_surrogate  # noqa: E402
from nasopt.surrogates.mlp import PAPER_SETTINGS as PAPER_MLP  # noqa: E402
from nasopt.surrogates.trees import PAPER_GBRT, PAPER_RF  # noqa: E402

CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "mlp": ("mlp", {}),
    "mlp-hinge": ("mlp", {"loss": "hinge"}),
    "gbrt": ("gbrt", {}),
    "gbrt-pairwise": ("gbrt", {"loss": "logistic"}),
    "rf": ("rf", {}),
    "renas": ("renas", {}),
    "renas-plain": ("renas", {"dedup_predict": False}),
}
PAPER_CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "mlp-paper": ("mlp", dict(PAPER_MLP)),
    "gbrt-paper": ("gbrt", dict(PAPER_GBRT)),
    "rf-paper": ("rf", dict(PAPER_RF)),
}


def _inputs(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from nasopt.spaces.renas_features import nb201_tensors

    ops = data["ops"].astype(np.int64)
    onehot = np.eye(5, dtype=np.float32)[ops].reshape(len(ops), 30)
    return onehot, nb201_tensors(ops), data["cifar10_valid_valid_acc"].astype(np.float64)


def _short(kind: str) -> dict[str, Any]:
    return {"epochs": 2} if kind in ("mlp", "renas") else {"n_estimators": 2}


def _timed(fn: Any) -> tuple[float, float, Any]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def run(
    names: Sequence[str], sizes: Sequence[int], repeats: int, data_path: str | None, seed: int = 0,
    device: str = "cpu",
) -> list[dict[str, Any]]:
    """Measure every config in ``names`` at every size; one result dict per (config, size)."""
    path = find_data_file("nb201.npz", data_path)
    if path is None:
        raise DataError("nb201.npz not found: pass --data or set NASOPT_DATA")
    data = load_npz(path, {"ops": (15625, 6), "cifar10_valid_valid_acc": (15625,)})
    onehot, tensors, y = _inputs(data)
    # torch surrogates pin their own thread count (n_threads=1 by default)
    table = {**CONFIGS, **PAPER_CONFIGS}
    rows = []
    for name in names:
        kind, opts = table[name]
        X = tensors if kind == "renas" else onehot
        if kind != "rf":
            opts = {**opts, "device": device}
        # warm-up fit: the first fit in a process pays one-off costs (lazy imports, kernels)
        make_surrogate(kind, random_state=seed, **{**opts, **_short(kind)}).fit(X[:32], y[:32])
        for n in sizes:
            idx = np.random.default_rng([seed, n]).permutation(len(y))
            train, test = idx[:n], idx[n:]
            est = make_surrogate(kind, random_state=seed, **opts)
            fit_wall, fit_cpu, _ = _timed(lambda: est.fit(X[train], y[train]))
            est.predict(X[:64])  # warm-up (lazy kernel selection)
            best = (np.inf, np.inf)
            for _ in range(repeats):
                w, c, pred = _timed(lambda: est.predict(X))
                best = min(best, (w, c))
            row = {
                "surrogate": name, "kind": kind, "options": {k: v for k, v in opts.items()}, "n_train": n,
                "fit_wall_s": round(fit_wall, 4), "fit_cpu_s": round(fit_cpu, 4),
                "score_all_wall_s": round(best[0], 4), "score_all_cpu_s": round(best[1], 4),
                "tau_outside_train": round(kendall_tau(y[test], pred[test]), 4),
            }
            for attr in ("margin_", "lam_"):
                if hasattr(est, attr):
                    row[attr.rstrip("_")] = getattr(est, attr)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """A markdown table of :func:`run`'s rows."""
    lines = [
        "| surrogate | n train | fit wall (s) | fit CPU (s) | score 15,625 wall (s) "
        "| score 15,625 CPU (s) | τ |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['surrogate']} | {r['n_train']} | {r['fit_wall_s']:.3f} | {r['fit_cpu_s']:.3f} | "
            f"{r['score_all_wall_s']:.3f} | {r['score_all_cpu_s']:.3f} | {r['tau_outside_train']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``benchmarks/surrogate_speed.py``)."""
    p = argparse.ArgumentParser(prog="python benchmarks/surrogate_speed.py", description=__doc__.splitlines()[0])
    p.add_argument("--surrogates", nargs="+", default=list(CONFIGS),
                   choices=sorted({**CONFIGS, **PAPER_CONFIGS}), help="configs to time")
    p.add_argument("--paper", action="store_true", help="also time the papers' settings")
    p.add_argument("--sizes", default="16,90,424,1562", help="comma-separated training sizes")
    p.add_argument("--repeats", type=int, default=3, help="scoring repeats (best is kept)")
    p.add_argument("--data", default=None, help="nb201.npz or its directory (default $NASOPT_DATA)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (RF is always CPU)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="output directory (default nasopt-bench-out)")
    argv = list(sys.argv[1:] if argv is None else argv)
    a = p.parse_args(argv)
    names = list(a.surrogates) + ([n for n in PAPER_CONFIGS if n not in a.surrogates] if a.paper else [])
    sizes = [int(s) for s in a.sizes.split(",") if s]
    rows = run(names, sizes, a.repeats, a.data, a.seed, a.device)
    out = Path(output_path(a.out, "", "benchmarks/surrogate_speed.py"))
    out.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "load_avg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "torch_threads": 1, "command": "surrogate_speed " + " ".join(argv)}
    (out / "surrogate_speed.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    (out / "surrogate_speed.md").write_text(markdown(rows))
    print(markdown(rows))
    return 0


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    raise SystemExit(main())
