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
"""

from . import benchmarks, spaces, strategies, surrogates
from .core import (
    CheckpointError,
    ConfigurationError,
    DataError,
    InvalidArchitectureError,
    JournalWarning,
    NasoptError,
    Optimizer,
    SpaceExhaustedError,
    Trial,
    TrialError,
    TrialState,
    available_strategies,
    create,
    load,
)
from .driver import optimize
from .strategies import RandomSearch, ReNAS, RegularizedEvolution, WeakNAS
from .surrogates import available_surrogates, make_surrogate

__version__ = "0.1.0"

__all__ = [
    "benchmarks", "spaces", "strategies", "surrogates", "make_surrogate", "available_surrogates",
    "CheckpointError", "ConfigurationError", "DataError", "InvalidArchitectureError",
    "JournalWarning", "NasoptError", "Optimizer", "SpaceExhaustedError", "Trial", "TrialError",
    "TrialState", "available_strategies", "create", "load", "optimize", "RandomSearch",
    "RegularizedEvolution", "WeakNAS", "ReNAS", "__version__",
]
