"""Base of the tabular benchmarks: an objective that looks architectures up in a table."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import ConfigurationError, DataError
from ..core.space import SearchSpace


def unknown_name(kind: str, name: Any, owner: str, available: Sequence[str] | dict,
                 more: str = "") -> str:
    """Message for a ``name`` of ``kind`` (metric, device...) that ``owner`` does not have:
    lists the ``available`` names, sorted, then ``more``, and suggests the closest name."""
    close = (difflib.get_close_matches(name, list(available), n=1, cutoff=0.5)
             if isinstance(name, str) else [])
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {name!r} for {owner}; available: {', '.join(sorted(available))}{more}{hint}"


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
    #: Why :attr:`metrics` is empty, when the data has no extra metrics (for the error message).
    missing_metrics: str = ""
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
        """An extra metric (params, FLOPs, latency...) of ``arch``.

        Raises:
            ConfigurationError: ``name`` is not one of :attr:`metrics` (the message lists
                the available ones).
        """
        if name not in self.metrics:
            raise ConfigurationError(self._unknown_metric(name))
        return float(self.metrics[name][self.space.index(arch)])

    def _unknown_metric(self, name: str) -> str:
        """The message of :meth:`metric` for a name the benchmark does not have."""
        if not self.metrics:
            return (f"unknown metric {name!r}: {self!r} has no extra metrics"
                    + (f" ({self.missing_metrics})" if self.missing_metrics else ""))
        return unknown_name("metric", name, f"{self!r}", self.metrics)

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
