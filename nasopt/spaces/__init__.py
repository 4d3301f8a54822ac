"""Search spaces: the protocol and the built-in NAS-Bench-201, NAS-Bench-101 and product spaces."""

from ..core.space import SearchSpace, register_space, space_from_config
from .nb101 import NB101Cell, NB101Space, NB101TableSpace
from .nb201 import NB201Space
from .product import ProductSpace
from .renas_features import nb101_tensors, nb201_tensors

__all__ = ["SearchSpace", "register_space", "space_from_config", "NB201Space", "ProductSpace",
           "NB101Cell", "NB101Space", "NB101TableSpace",
           "nb101_tensors", "nb201_tensors"]
