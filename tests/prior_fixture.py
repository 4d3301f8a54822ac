"""Shared by the adapter tests of ``prior=`` (Optuna, Ray): a callable prior and the plain
ask/tell run an adapter must reproduce."""

from __future__ import annotations

from typing import Any

import numpy as np

import nasopt
from nasopt.spaces import NB201Space

#: WeakNAS options small enough for the adapter tests.
OPTIONS = {"surrogate": "quadratic", "init": 6, "batch": 4}


def params_prior(arch: str) -> np.ndarray:
    """A callable prior: the parameter count of the NB201 cell's network."""
    return NB201Space().free_features([arch])[0, :1]


def weaknas_run(bench: Any, seed: int, prior: Any, n: int) -> Any:
    """WeakNAS (:data:`OPTIONS`) with ``prior`` after ``n`` one-at-a-time ask/tell steps."""
    opt = nasopt.create("weaknas", bench.space, seed=seed, prior=prior, **OPTIONS)
    for _ in range(n):
        t = opt.ask()
        opt.tell(t, bench(t.arch))
    return opt
