"""The packaged table of zero-cost proxies of the 15,625 NAS-Bench-201 cells.

Computed by ``benchmarks/nb201_proxies.py`` (docs/proxies.md: inputs, seeds, coverage and
the rank correlations with accuracy) and shipped as ``nasopt/proxies/data/nb201_proxies.npz``:

* ``ops``: ``(15625, 6)`` int8, the op codes of each cell in official NAS-Bench-201 index
  order (so lookups by architecture need no benchmark data);
* ``proxy_names``: the proxies the table holds;
* one ``(15625,)`` array per proxy, float32 (``synflow`` float64: its values exceed
  float32's range), **NaN** for a cell not computed, ``-inf`` for a cell that scores
  lowest by definition (naswot / jacob_cov of cells whose output does not depend on
  the input, see :mod:`nasopt.proxies.zero_cost`);
* ``meta``: JSON (input batch, weight seeds, cells covered and CPU seconds per proxy).

Reading it needs numpy only (no torch).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.data import load_npz
from ..core.errors import ConfigurationError, DataError, InvalidArchitectureError
from ..spaces.nb201 import _POW, N_EDGES, SIZE, _parse, function_features, ops_to_string

#: The packaged table.
DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "nb201_proxies.npz"
#: Value dtypes other than float32.
VALUE_DTYPES: dict[str, type] = {"synflow": np.float64}
#: What the data-dependent proxies of the table read (``{batch}``: its size).
INPUT_DESCRIPTION = ("data-free proxies on the shape (3, 32, 32); data-dependent ones on the first {batch} "
                     "scikit-learn digits, bilinearly upsampled to 32x32, 3 channels, standardized, "
                     "with their labels")


class NB201ProxyTable:
    """Zero-cost proxies of NAS-Bench-201 cells, by official index or architecture string.

    ``table["synflow"]`` is the float64 array of all 15,625 cells in official index order
    (NaN where not computed); ``table.values("synflow", archs)`` looks up a batch of
    architecture strings or indices; ``table.coverage`` counts the cells each proxy
    covers. Made by :func:`load_nb201`.

    Attributes:
        names: the proxies the table holds, e.g. ``("synflow", "naswot", ...)``.
        info: how the table was computed (``"input"``, ``"weights"``, ``"cells"``,
            ``"seconds_per_cell"``, ``"cpu_seconds"``, ...).
        path: the file it was read from.
    """

    def __init__(self, path: Path, ops: np.ndarray, arrays: dict[str, np.ndarray], info: dict[str, Any]) -> None:
        self.path = path
        self.names: tuple[str, ...] = tuple(arrays)
        self.info = info
        self._arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
        for v in self._arrays.values():
            v.flags.writeable = False
        self._ops = ops
        self._by_code = np.empty(SIZE, dtype=np.int64)
        self._by_code[ops.astype(np.int64) @ _POW] = np.arange(SIZE)

    # ------------------------------------------------------------------ lookups
    def _array(self, name: str) -> np.ndarray:
        try:
            return self._arrays[name]
        except (KeyError, TypeError):
            raise ConfigurationError(f"proxy {name!r} is not in the NB201 proxy table {self.path}; "
                                     f"it holds {', '.join(self.names)}") from None

    def __getitem__(self, name: str) -> np.ndarray:
        """All 15,625 values of proxy ``name`` (read-only float64, official index order)."""
        return self._array(name)

    def __contains__(self, name: object) -> bool:
        return name in self._arrays

    def index(self, arch: str) -> int:
        """The official NAS-Bench-201 index of an architecture string.

        Raises:
            InvalidArchitectureError: not a NAS-Bench-201 architecture string.
        """
        if not isinstance(arch, str):
            raise InvalidArchitectureError(f"expected an NB201 architecture string, got {type(arch).__name__}")
        try:
            codes = _parse(arch)
        except ValueError as exc:
            raise InvalidArchitectureError(f"not an NB201 architecture {arch!r}: {exc}") from None
        return int(self._by_code[int(np.dot(codes, _POW))])

    def arch(self, index: int) -> str:
        """The architecture string of an official index."""
        return ops_to_string(self._ops[self._checked_index(index)])

    def _checked_index(self, key: Any) -> int:
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
            raise InvalidArchitectureError(f"expected an NB201 architecture string or index, got {key!r}")
        if not 0 <= key < SIZE:
            raise InvalidArchitectureError(f"NB201 index {key} out of range [0, {SIZE})")
        return int(key)

    def indices(self, archs: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Official indices of architecture strings and / or indices."""
        if isinstance(archs, np.ndarray) and archs.dtype.kind in "iu":
            idx = archs.astype(np.int64).ravel()
            bad = idx[(idx < 0) | (idx >= SIZE)]
            if len(bad):
                raise InvalidArchitectureError(f"NB201 index {int(bad[0])} out of range [0, {SIZE})")
            return idx
        return np.fromiter((self.index(a) if isinstance(a, str) else self._checked_index(a) for a in archs),
                           dtype=np.int64, count=len(archs))

    def values(self, name: str, archs: Any, allow_missing: bool = True) -> Any:
        """Proxy ``name`` of one architecture (string or official index) → float, or of a
        sequence / integer array of them → float64 array.

        Args:
            allow_missing: when False, a cell the table did not compute (NaN) raises.

        Raises:
            ConfigurationError: ``name`` is not in the table.
            InvalidArchitectureError: an architecture or index that is not NB201's.
            DataError: ``allow_missing=False`` and a requested cell was not computed.
        """
        column = self._array(name)
        single = isinstance(archs, (str, int, np.integer))
        idx = self.indices([archs] if single else archs)
        out = column[idx]
        if not allow_missing and np.isnan(out).any():
            first = int(idx[np.flatnonzero(np.isnan(out))[0]])
            raise DataError(f"the NB201 proxy table {self.path} has no {name} for {self.arch(first)} "
                            f"(index {first}; {int(np.isnan(out).sum())} of the {len(idx)} cells asked are "
                            f"missing; {name} covers {self.coverage[name]} of {SIZE} cells)")
        return float(out[0]) if single else out

    # ------------------------------------------------------------------ coverage
    @property
    def coverage(self) -> dict[str, int]:
        """Cells computed (not NaN) per proxy."""
        return {k: int((~np.isnan(v)).sum()) for k, v in self._arrays.items()}

    def missing(self, name: str) -> np.ndarray:
        """Official indices of the cells the table has no ``name`` for."""
        return np.flatnonzero(np.isnan(self._array(name)))

    def __repr__(self) -> str:
        cov = ", ".join(f"{k} {n}/{SIZE}" for k, n in self.coverage.items())
        return f"NB201ProxyTable({cov})"


def load_nb201(path: str | os.PathLike[str] | None = None) -> NB201ProxyTable:
    """The zero-cost proxies of the NAS-Bench-201 cells (numpy only, no torch).

    Args:
        path: a table written by ``benchmarks/nb201_proxies.py``; default: the one packaged
            with nasopt (``nasopt/proxies/data/nb201_proxies.npz``, computed as described in
            docs/proxies.md, whose coverage table says which proxies cover which cells).

    Example::

        table = nasopt.proxies.load_nb201()
        table.values("synflow", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
                                "|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")
        table["naswot"][:10]       # by official index; NaN where not computed
        table.coverage             # cells computed per proxy (NaN elsewhere)

    Raises:
        DataError: the file is missing or is not such a table.
    """
    file = DEFAULT_PATH if path is None else Path(path)
    if not file.is_file():
        raise DataError(f"no NB201 proxy table at {file} (benchmarks/nb201_proxies.py writes one)")
    arrays = load_npz(file, {"ops": (SIZE, N_EDGES), "proxy_names": (None,), "meta": ()})
    names = [str(n) for n in arrays["proxy_names"]]
    missing = [n for n in names if n not in arrays]
    if missing:
        raise DataError(f"{file}: proxy_names lists {missing} but the file has no such arrays")
    bad = [n for n in names if arrays[n].shape != (SIZE,) or arrays[n].dtype.kind != "f"]
    if bad:
        raise DataError(f"{file}: arrays {bad} are not ({SIZE},) floats")
    ops = arrays["ops"]
    if ops.dtype.kind not in "iu" or ops.min() < 0 or ops.max() > 4 or \
            len(np.unique(ops.astype(np.int64) @ _POW)) != SIZE:
        raise DataError(f"{file}: array 'ops' does not list each of the {SIZE} cells once")
    try:
        info = json.loads(str(arrays["meta"]))
    except ValueError as exc:
        raise DataError(f"{file}: array 'meta' is not JSON ({exc})") from None
    return NB201ProxyTable(file, ops, {n: arrays[n] for n in names}, info)


#: The proxies behind ``prior="auto"`` on :class:`~nasopt.spaces.NB201Space`: log synflow,
#: chosen on the tuning seeds 0-29 and confirmed on 100 held-out seeds (docs/priors.md).
AUTO_PROXIES: tuple[str, ...] = ("synflow",)


def nb201_space_scores(space: Any, names: Sequence[str] = AUTO_PROXIES,
                       path: str | os.PathLike[str] | None = None) -> np.ndarray | None:
    """The proxies ``names`` of every member of an :class:`~nasopt.spaces.NB201Space`, in
    *that space's* index order (which is the official one when the space found
    ``nb201.npz``, else base-5 op-code order), ``(len(space), len(names))`` float64, with
    synflow through its logarithm (:func:`nasopt.proxies.prior.log_scaled`, as
    :class:`~nasopt.proxies.ProxyPrior` scores it): the form a prior ranks by.

    ``None`` when ``space`` is not an ``NB201Space`` or the table (``path``, default the
    packaged one) does not cover every cell for one of ``names``.
    """
    from ..spaces.nb201 import NB201Space
    from .prior import log_scaled

    if not isinstance(space, NB201Space):
        return None
    table = load_nb201(path)
    if any(name not in table or np.isnan(table[name]).any() for name in names):
        return None
    codes = space.op_codes.astype(np.int64)
    official = table._by_code[codes @ _POW]
    return log_scaled(list(names), np.column_stack([table[name][official] for name in names]))


#: The proxies of the table that ``prior="auto"`` gives WeakNAS with several objectives on
#: :class:`~nasopt.spaces.NB201Space`, as predictor inputs (:func:`nb201_space_inputs`).
AUTO_MULTI_PROXIES: tuple[str, ...] = ("synflow", "naswot", "jacob_cov", "snip", "grad_norm")


def lowest_for_non_finite(table: np.ndarray) -> np.ndarray:
    """``table`` (rows: cells, columns: scores) with each non-finite entry (the table's
    ``-inf`` of naswot / jacob_cov for cells whose output ignores the input, or NaN) set to
    its column's lowest finite value, so that it can feed a predictor."""
    table = np.asarray(table, dtype=np.float64)
    finite = np.isfinite(table)
    lowest = np.where(finite, table, np.inf).min(axis=0)
    return np.where(finite, table, lowest)


def nb201_space_inputs(space: Any, path: str | os.PathLike[str] | None = None) -> np.ndarray | None:
    """Predictor inputs of every member of an :class:`~nasopt.spaces.NB201Space`, in that
    space's index order, ``(len(space), 14)`` float64: the :data:`AUTO_MULTI_PROXIES` of the
    table (:func:`nb201_space_scores`, synflow through its logarithm; non-finite entries
    :func:`lowest_for_non_finite`), then the
    :func:`~nasopt.spaces.nb201.function_features` of the cells. What ``prior="auto"``
    stands for with several objectives (:func:`nasopt.strategies._prior.auto_source`).

    ``None`` when ``space`` is not an ``NB201Space`` or the table (``path``, default the
    packaged one) does not cover every cell for one of the proxies.
    """
    scores = nb201_space_scores(space, AUTO_MULTI_PROXIES, path)
    if scores is None:
        return None
    return np.hstack([lowest_for_non_finite(scores), function_features(space.op_codes)])
