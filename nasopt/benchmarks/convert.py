"""Convert official benchmark release files into the tables nasopt reads.

nasopt reads NAS-Bench-201 from ``nb201.npz`` and NAS-Bench-Macro from ``nbmacro.npz``
(compact ``numpy`` archives, no pickles); NAS-Bench-101 is read from its official TFRecord
as released, so it needs no conversion. Sources, licences and array layouts:
``docs/data.md``. ::

    python -m nasopt.benchmarks.convert nb201 NATS-tss-v1_0-3ffb9-simple/ nb201.npz
    python -m nasopt.benchmarks.convert macro nas-bench-macro_cifar10.json nbmacro.npz
"""

from __future__ import annotations

import argparse
import bz2
import itertools
import json
import os
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.errors import DataError
from ..spaces.nb201 import OPS, SIZE

#: nb201.npz prefix -> (NATS-Bench dataset, its validation set)
NB201_VALID = {"cifar10_valid": ("cifar10-valid", "x-valid"), "cifar100": ("cifar100", "x-valid"),
               "imagenet16": ("ImageNet16-120", "x-valid")}
#: nb201.npz test array -> (NATS-Bench dataset, its test set). CIFAR-10's test accuracy is the
#: separate ``cifar10`` setting (trained on train + valid), the column behind the usual 94.37 %.
NB201_TEST = {"cifar10_test_acc": ("cifar10", "ori-test"), "cifar100_test_acc": ("cifar100", "x-test"),
              "imagenet16_test_acc": ("ImageNet16-120", "x-test")}
MACRO_LAYERS = 8


def _nats_record(directory: Path, index: int) -> dict:
    path = directory / f"{index:06d}.pickle.pbz2"
    if not path.is_file():
        raise DataError(f"{path} not found: expected the NATS-tss-v1_0-3ffb9-simple directory "
                        "(one <index>.pickle.pbz2 file per architecture)")
    # the official release is a set of pickles: read only files from its official source
    with bz2.open(path, "rb") as fh:
        record = pickle.load(fh)
    if "200" not in record:
        raise DataError(f"{path}: no 200-epoch ('200') results")
    return record["200"]


def _costs(record: dict, dataset: str) -> tuple[float, float, float, float]:
    """FLOPs (M), params (M), latency (s) and total training time (s) of one architecture
    on one dataset, as the NATS-Bench API's ``get_compute_costs`` reads them: FLOPs and
    params of seed 888 where the seeds' records disagree (a known legacy issue), latency
    averaged over the seeds that have one."""
    seeds = record["dataset_seed"][dataset]
    runs = [record["all_results"][(dataset, s)] for s in seeds]

    def recorded(key: str) -> float:
        values = [float(r[key]) for r in runs]
        if len({f"{v:.5f}" for v in values}) > 1 and 888 in seeds:
            return values[seeds.index(888)]
        return values[0]

    latencies = [float(np.mean(r["latency"])) for r in runs if r.get("latency")]
    latencies = [x for x in latencies if x > 0]
    train = [sum(r["train_times"].values()) for r in runs if r.get("train_times")]
    return (recorded("flop"), recorded("params"), float(np.mean(latencies)) if latencies else np.nan,
            float(np.mean(train)) if train else np.nan)


def nb201_from_nats(directory: str | os.PathLike, out: str | os.PathLike,
                    indices: Sequence[int] | None = None) -> Path:
    """Write ``nb201.npz`` from the official NATS-Bench topology release
    ``NATS-tss-v1_0-3ffb9-simple`` (NAS-Bench-201's successor, same 15,625 cells and index
    order): the 200-epoch validation and test accuracies, averaged over seeds, and the
    recorded FLOPs, parameters, latency and training time.

    Args:
        directory: The unpacked ``NATS-tss-v1_0-3ffb9-simple`` directory.
        out: The ``.npz`` to write.
        indices: Convert only these architectures (the others are NaN and their strings
            empty); ``None``: all 15,625, the table nasopt needs.

    Raises:
        DataError: a file is missing or holds no 200-epoch results.
    """
    directory = Path(directory)
    rows = range(SIZE) if indices is None else sorted(set(int(i) for i in indices))
    arrays: dict[str, np.ndarray] = {"arch_str": np.full(SIZE, "", dtype="<U120"),
                                     "ops": np.zeros((SIZE, 6), dtype=np.uint8)}
    for name in (*[f"{p}_valid_acc" if p != "cifar10_valid" else "cifar10_valid_valid_acc"
                   for p in NB201_VALID], *NB201_TEST):
        arrays[name] = np.full(SIZE, np.nan, dtype=np.float32)
    for prefix in NB201_VALID:
        for metric in ("flops_M", "params_M", "latency_s", "train_time_s"):
            arrays[f"{prefix}_{metric}"] = np.full(SIZE, np.nan, dtype=np.float32)
    for i in rows:
        record = _nats_record(directory, i)
        arch = record["arch_str"]
        arrays["arch_str"][i] = arch
        arrays["ops"][i] = [OPS.index(tok.split("~")[0]) for tok in arch.split("|") if "~" in tok]
        results = record["all_results"]

        def accuracy(dataset: str, split: str) -> float:
            seeds = record["dataset_seed"][dataset]
            return float(np.mean([results[(dataset, s)]["eval_acc1es"][f"{split}@199"] for s in seeds]))

        for prefix, (dataset, split) in NB201_VALID.items():
            name = "cifar10_valid_valid_acc" if prefix == "cifar10_valid" else f"{prefix}_valid_acc"
            arrays[name][i] = accuracy(dataset, split)
            costs = _costs(record, dataset)
            for metric, value in zip(("flops_M", "params_M", "latency_s", "train_time_s"), costs):
                arrays[f"{prefix}_{metric}"][i] = value
        for name, (dataset, split) in NB201_TEST.items():
            arrays[name][i] = accuracy(dataset, split)
    arrays["op_names"] = np.array(OPS)
    np.savez_compressed(out, **arrays)
    return Path(out)


def macro_from_json(path: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write ``nbmacro.npz`` from the official ``nas-bench-macro_cifar10.json``
    (``{"01201201": {"test_acc": [3 runs], "mean_acc", "std", "params", "flops"}, ...}``,
    one key per network: the op of each of the 8 layers, 0 identity, 1 MB3_K3, 2 MB6_K5).

    Raises:
        DataError: a network of the space is missing, or a record lacks a field.
    """
    with open(path, encoding="utf-8") as fh:
        table = json.load(fh)
    archs = ["".join(a) for a in itertools.product("012", repeat=MACRO_LAYERS)]
    missing = [a for a in archs if a not in table]
    if missing:
        raise DataError(f"{path}: {len(missing)} of the {len(archs)} networks missing (e.g. {missing[0]})")
    try:
        runs = np.array([table[a]["test_acc"] for a in archs], dtype=np.float64)
        arrays = {
            "arch": np.array(archs), "layer_ops": np.array([[int(c) for c in a] for a in archs], np.uint8),
            "test_acc_runs": runs, "test_acc": np.array([table[a]["mean_acc"] for a in archs], np.float64),
            "test_acc_std": np.array([table[a]["std"] for a in archs], np.float64),
            "params": np.array([table[a]["params"] for a in archs], np.int64),
            "flops": np.array([table[a]["flops"] for a in archs], np.int64),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: not the NAS-Bench-Macro format ({type(exc).__name__}: {exc})") from exc
    if runs.shape != (len(archs), 3):
        raise DataError(f"{path}: expected 3 test accuracies per network, got shape {runs.shape}")
    np.savez_compressed(out, **arrays)
    return Path(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m nasopt.benchmarks.convert {nb201,macro} SOURCE OUT``."""
    p = argparse.ArgumentParser(prog="python -m nasopt.benchmarks.convert", description=__doc__.splitlines()[0])
    p.add_argument("table", choices=("nb201", "macro"))
    p.add_argument("source", help="NATS-tss-v1_0-3ffb9-simple directory (nb201) or "
                                  "nas-bench-macro_cifar10.json (macro)")
    p.add_argument("out", help="the .npz to write")
    args = p.parse_args(argv)
    try:
        written = (nb201_from_nats if args.table == "nb201" else macro_from_json)(args.source, args.out)
    except DataError as exc:
        print(f"nasopt: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
