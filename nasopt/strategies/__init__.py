"""Search strategies: each says which architectures to evaluate next."""

from .ea import EAResult, evolve
from .evolution import RegularizedEvolution
from .random_search import RandomSearch
from .renas import IterativeReNAS, ReNAS
from .weaknas import WeakNAS

__all__ = ["RandomSearch", "RegularizedEvolution", "WeakNAS", "ReNAS", "IterativeReNAS", "EAResult", "evolve"]
