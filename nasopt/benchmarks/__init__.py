"""Tabular benchmarks (objective functions over real benchmark tables)."""

from .nb201 import NB201
from .tabular import Optimum, TabularBenchmark

__all__ = ["NB201", "Optimum", "TabularBenchmark"]
