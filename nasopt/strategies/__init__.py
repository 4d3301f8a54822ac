"""Search strategies: each says which architectures to evaluate next."""

from .evolution import RegularizedEvolution
from .random_search import RandomSearch

__all__ = ["RandomSearch", "RegularizedEvolution"]
