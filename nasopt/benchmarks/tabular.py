"""Base of the tabular benchmarks: an objective that looks architectures up in a table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import DataError
from ..core.space import SearchSpace


@dataclass(frozen=True)
class Optimum:
    """The best architecture of a benchmark for its search objective."""

    arch: Any
    value: float
    index: int


class TabularBenchmark:
    """An objective over a finite space whose members' metrics are stored in arrays.

    Subclasses set :attr:`space`, :attr:`values` (the search objective, one entry per
    member in ``space`` index order) and optionally :attr:`test_values` and
    :attr:`metrics` (name → array). Calling the benchmark on an architecture returns its
    objective value; vectorised lookups go through :meth:`values_of`.
    """

    space: SearchSpace
    values: np.ndarray
    test_values: np.ndarray | None = None
    metrics: dict[str, np.ndarray]
    #: What is missing when ``test_values`` is None (for the error message).
    missing_test: str = "this benchmark has no test metric"
    maximize: bool = True

    def __call__(self, arch: Any) -> float:
        """The search objective (validation accuracy for the NAS benchmarks)."""
        return float(self.values[self.space.index(arch)])

    def values_of(self, archs: Sequence[Any]) -> np.ndarray:
        """Objective of a batch of architectures."""
        return self.values[self.space.indices(archs)]

    def test(self, arch: Any) -> float:
        """Held-out test metric of ``arch``, reported but never searched on."""
        if self.test_values is None:
            raise DataError(self.missing_test)
        return float(self.test_values[self.space.index(arch)])

    def metric(self, name: str, arch: Any) -> float:
        """An extra metric (params, FLOPs, latency...) of ``arch``."""
        if name not in self.metrics:
            raise KeyError(f"unknown metric {name!r}; available: {sorted(self.metrics)}")
        return float(self.metrics[name][self.space.index(arch)])

    @property
    def optimum(self) -> Optimum:
        """Best member for the search objective (first on ties)."""
        i = int(np.argmax(self.values) if self.maximize else np.argmin(self.values))
        return Optimum(arch=self.space[i], value=float(self.values[i]), index=i)

    @property
    def test_optimum(self) -> Optimum:
        """Best member for the test metric."""
        if self.test_values is None:
            raise DataError(self.missing_test)
        i = int(np.argmax(self.test_values) if self.maximize else np.argmin(self.test_values))
        return Optimum(arch=self.space[i], value=float(self.test_values[i]), index=i)

    def __len__(self) -> int:
        return len(self.values)
