"""The one encoder of the values nasopt stores as JSON: strategy options and state.

Checkpoints and journals (:mod:`nasopt.persist`) store a strategy's options
(:meth:`~nasopt.core.optimizer.Optimizer.get_params`) and the state it cannot recompute
(:meth:`~nasopt.core.optimizer.Optimizer._get_state`) through :func:`dumps`; the optimizer's
rollback of a failed ``ask`` uses the same encoding. It accepts JSON data (``dict`` with
string keys, ``list``, ``tuple``, ``str``, finite numbers, ``bool``, ``None``) and numpy
scalars and arrays (stored as numbers and nested lists), and refuses anything else (a set,
an object, ``nan``) with a nasopt error that names the value's place and type, so a state
that a journal accepts is also one that ``save()`` accepts. It lives in ``core`` because
the rollback needs it; :mod:`nasopt.persist.codec` builds the file records on it.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from .errors import NasoptError


def numpy_default(obj: Any) -> Any:
    """``json.dumps`` fallback: numpy scalars and arrays as Python numbers and lists."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(type(obj).__name__)


def dumps(value: Any, what: str, error: type[NasoptError], **kw: Any) -> str:
    """``value`` as JSON text (``kw`` as :func:`json.dumps`), numpy values converted.

    Args:
        value: The value to encode.
        what: What ``value`` is, for the error message (``"strategy 'rea' state"``).
        error: The nasopt error class raised for a value that cannot be stored.

    Raises:
        NasoptError: ``error``, naming ``what``, the place of the offending value inside
            it (``['queue'][3]``) and its type.
    """
    try:
        return json.dumps(value, default=numpy_default, allow_nan=False, **kw)
    except (TypeError, ValueError, OverflowError, RecursionError):
        where, bad = _locate(value, "")
        if where is None:  # nested too deeply to walk
            where, bad = "", value
        kind = f"{type(bad).__name__} {bad!r}" if isinstance(bad, float) else type(bad).__name__
        raise error(
            f"{what}{' at ' + where if where else ''} holds a {kind}, which cannot be saved in "
            "a checkpoint or journal: store JSON data (dicts with string keys, lists, strings, "
            "finite numbers, booleans, None) or numpy scalars and arrays"
        ) from None


def to_data(value: Any, what: str, error: type[NasoptError]) -> Any:
    """``value`` as plain JSON data (numpy values converted); errors as :func:`dumps`."""
    return json.loads(dumps(value, what, error))


def _locate(value: Any, where: str, depth: int = 0) -> tuple[str, Any]:
    """``(place, value)`` of the first part of ``value`` that :func:`dumps` refuses."""
    if depth > 200:
        return where, value
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return f"{where}[{key!r}] (a key)", key
            found = _locate(item, f"{where}[{key!r}]", depth + 1)
            if found[0] is not None:
                return found
        return None, None  # type: ignore[return-value]
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = _locate(item, f"{where}[{i}]", depth + 1)
            if found[0] is not None:
                return found
        return None, None  # type: ignore[return-value]
    if isinstance(value, (np.generic, np.ndarray)):
        value = numpy_default(value)
        if isinstance(value, list):
            return _locate(value, where, depth + 1)
    if isinstance(value, float) and not math.isfinite(value):
        return where, value
    if value is None or isinstance(value, (str, int, float, bool)):
        return None, None  # type: ignore[return-value]
    return where, value
