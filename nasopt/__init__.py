"""nasopt: find the best neural architecture in as few evaluations as possible.

Ask/tell over search spaces (NAS-Bench-101/201 cells, categorical product spaces, your own)
with baseline, WeakNAS and ReNAS strategies::

    import nasopt
    space = nasopt.spaces.NB201Space()
    opt = nasopt.create("rea", space, seed=0)
    for _ in range(100):
        trial = opt.ask()
        opt.tell(trial, evaluate(trial.arch))
    print(opt.best.arch, opt.best.value)

``import nasopt`` imports numpy and nasopt's own modules only: torch, scikit-learn, scipy,
XGBoost (and the tables of :mod:`nasopt.benchmarks`) are imported when a feature first needs
them.
"""

import importlib
from typing import Any

from . import persist, spaces, strategies, surrogates
from .core import (
    CheckpointError,
    CheckpointIOError,
    ConfigurationError,
    DataError,
    InvalidArchitectureError,
    MissingDependencyError,
    PriorError,
    NasoptError,
    NumericalError,
    Optimizer,
    SpaceExhaustedError,
    Trial,
    TrialError,
    TrialState,
    available_strategies,
    create,
)
from .driver import CheckpointWarning, optimize
from .persist import JournalWarning, load
from .strategies import RandomSearch, ReNAS, RegularizedEvolution, WeakNAS
from .surrogates import available_surrogates, make_surrogate

__version__ = "0.1.0"

#: Subpackages imported on first attribute access (PEP 562), not by ``import nasopt``.
_LAZY_SUBMODULES = ("benchmarks",)


def __getattr__(name: str) -> Any:
    """Import a lazily loaded subpackage (``nasopt.benchmarks``) on first access."""
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")  # also binds it on the package
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

__all__ = [
    "benchmarks", "persist", "spaces", "strategies", "surrogates", "make_surrogate", "available_surrogates",
    "CheckpointError", "CheckpointIOError", "MissingDependencyError", "PriorError", "ConfigurationError", "DataError", "InvalidArchitectureError",
    "JournalWarning", "CheckpointWarning", "NasoptError", "NumericalError", "Optimizer", "SpaceExhaustedError", "Trial", "TrialError",
    "TrialState", "available_strategies", "create", "load", "optimize", "RandomSearch",
    "RegularizedEvolution", "WeakNAS", "ReNAS", "__version__",
]
