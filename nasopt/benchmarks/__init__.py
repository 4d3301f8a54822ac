"""Tabular benchmarks (objective functions over real benchmark tables)."""

from .macro import Macro, macro_space
from .nb101 import NB101
from .nb201 import NB201
from .tabular import Optimum, TabularBenchmark

__all__ = ["Macro", "macro_space", "NB101", "NB201", "Optimum", "TabularBenchmark"]
