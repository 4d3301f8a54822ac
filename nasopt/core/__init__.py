"""Core: trials, the optimizer base, the strategy registry, the space protocol and errors.

Persistence (checkpoints, journals) is the layer above: :mod:`nasopt.persist`.
"""

from .errors import (
    CheckpointError,
    CheckpointIOError,
    ConfigurationError,
    DataError,
    InvalidArchitectureError,
    MissingDependencyError,
    PriorError,
    NasoptError,
    NumericalError,
    SpaceExhaustedError,
    TrialError,
)
from .optimizer import Optimizer
from .registry import available_strategies, create, register_strategy
from .space import SearchSpace, register_space, space_from_config
from .trial import Trial, TrialState

__all__ = [
    "CheckpointError", "CheckpointIOError", "ConfigurationError", "DataError", "InvalidArchitectureError",
    "MissingDependencyError", "PriorError", "NasoptError", "NumericalError", "SpaceExhaustedError", "TrialError", "Optimizer",
    "available_strategies", "create", "register_strategy", "Trial", "TrialState",
    "SearchSpace", "register_space", "space_from_config",
]
