"""Core: trials, the optimizer base, the strategy registry, errors and persistence."""

from .errors import (
    CheckpointError,
    CheckpointIOError,
    ConfigurationError,
    DataError,
    InvalidArchitectureError,
    MissingDependencyError,
    NasoptError,
    NumericalError,
    SpaceExhaustedError,
    TrialError,
)
from .journal import JournalWarning, load_journal
from .optimizer import Optimizer
from .persistence import load
from .registry import available_strategies, create, register_strategy
from .space import SearchSpace, register_space, space_from_config
from .trial import Trial, TrialState

__all__ = [
    "CheckpointError", "CheckpointIOError", "ConfigurationError", "DataError", "InvalidArchitectureError",
    "MissingDependencyError", "NasoptError", "NumericalError", "JournalWarning", "load_journal", "SpaceExhaustedError", "TrialError", "Optimizer", "load",
    "available_strategies", "create", "register_strategy", "Trial", "TrialState",
    "SearchSpace", "register_space", "space_from_config",
]
