"""Search spaces: the protocol and the built-in NAS-Bench-201, NAS-Bench-101, product and
NAS-Bench-Macro spaces.

``nb101_tensors`` / ``nb201_tensors`` (the ReNAS feature tensors) are loaded from
:mod:`nasopt.spaces.renas_features` on first access: the spaces reach that module only
through the encoding registry (:func:`register_encoding`).
"""

import importlib
from typing import Any

from ..core.space import SearchSpace, register_encoding, register_space, space_from_config
from .nb101 import NB101Cell, NB101Space, NB101TableSpace
from .macro import MacroSpace
from .nb201 import NB201Space
from .product import ProductSpace

__all__ = ["SearchSpace", "register_space", "register_encoding", "space_from_config", "NB201Space",
           "ProductSpace", "MacroSpace", "NB101Cell", "NB101Space", "NB101TableSpace",
           "nb101_tensors", "nb201_tensors"]

_FEATURES = ("nb101_tensors", "nb201_tensors")


def __getattr__(name: str) -> Any:
    """``nb101_tensors`` / ``nb201_tensors``, imported on first access (PEP 562)."""
    if name in _FEATURES:
        return getattr(importlib.import_module(f"{__name__}.renas_features"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
