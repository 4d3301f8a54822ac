"""Helpers writing small NAS-Bench-101 files in the official format (TFRecord of JSON records
``[module_hash, epochs, raw_adjacency, raw_operations, base64(ModelMetrics)]``).

Cells are real valid NAS-Bench-101 cells (drawn from :class:`NB101Space`); metrics are made up
but deterministic, with 3 runs per (cell, epochs) like the real data.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

from nasopt.benchmarks.tfrecord import EvaluationData, ModelMetrics, encode_model_metrics, write_records
from nasopt.spaces.nb101 import NB101Cell, NB101Space


def distinct_cells(n: int, seed: int = 0) -> list[NB101Cell]:
    """``n`` valid cells with distinct module hashes."""
    space, rng = NB101Space(), np.random.default_rng(seed)
    out: dict[str, NB101Cell] = {}
    while len(out) < n:
        cell = space.sample(rng)
        out.setdefault(cell.spec_hash, cell)
    return list(out.values())


def fake_metrics(rng: np.random.Generator, epochs: int) -> ModelMetrics:
    """One made-up training run: evaluations at the start, halfway and end of training."""
    evals = []
    for frac in (0.0, 0.5, 1.0):
        evals.append(EvaluationData(
            current_epoch=epochs * frac, training_time=1000.0 * frac + float(rng.random()),
            train_accuracy=0.5 + 0.5 * frac * float(rng.random()),
            validation_accuracy=0.1 + 0.8 * frac * float(rng.random()),
            test_accuracy=0.1 + 0.8 * frac * float(rng.random()),
            checkpoint_path=f"/tmp/model.ckpt-{int(epochs * frac)}" if frac else ""))
    return ModelMetrics(evaluation_data=evals, trainable_parameters=int(rng.integers(200_000, 50_000_000)),
                        total_time=1234.5)


def record_payload(cell: NB101Cell, epochs: int, metrics: ModelMetrics,
                   module_hash: str | None = None) -> bytes:
    """One official JSON record for a run of ``cell``."""
    raw_adj = "".join(str(int(x)) for x in cell.matrix.ravel())
    raw_ops = ",".join(cell.ops)
    raw_metrics = base64.b64encode(encode_model_metrics(metrics)).decode("ascii")
    return json.dumps([module_hash or cell.spec_hash, epochs, raw_adj, raw_ops, raw_metrics]).encode("utf-8")


def write_nb101_file(path: str | Path, cells: list[NB101Cell], epochs: tuple[int, ...] = (108,),
                     repeats: int = 3, seed: int = 0) -> dict:
    """Write an official-format file and return what a loader must find, per epochs:
    ``{epochs: {hash: {"valid": [...], "test": [...], "train": [...], "time": [...], "params": p}}}``
    (accuracies as fractions, as stored). Records are written run-major (all cells, then the
    next run), as the official file interleaves them, and parameters are the same for all runs."""
    rng = np.random.default_rng(seed)
    expected: dict[int, dict[str, dict]] = {e: {} for e in epochs}
    params = {c.spec_hash: int(rng.integers(200_000, 50_000_000)) for c in cells}
    payloads = []
    for _ in range(repeats):
        for ep in epochs:
            for cell in cells:
                m = fake_metrics(rng, ep)
                m.trainable_parameters = params[cell.spec_hash]
                final = m.evaluation_data[-1]
                empty = {"valid": [], "test": [], "train": [], "time": [], "params": params[cell.spec_hash]}
                row = expected[ep].setdefault(cell.spec_hash, empty)
                row["valid"].append(final.validation_accuracy)
                row["test"].append(final.test_accuracy)
                row["train"].append(final.train_accuracy)
                row["time"].append(final.training_time)
                payloads.append(record_payload(cell, ep, m))
    write_records(path, payloads)
    return expected
