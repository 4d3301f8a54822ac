"""The trials of an optimizer as a table: :meth:`Optimizer.trials_dataframe` (pandas) and
:meth:`Optimizer.to_csv` (the standard library's :mod:`csv`), with the same columns.

Columns, in order: ``id``, ``arch`` (``space.to_data(arch)``: the string itself, or compact
JSON for other data), ``state``, ``value``, ``error``, ``datetime_start``,
``datetime_complete``, ``duration`` (seconds); with several objectives ``values_<name>``
(or ``values_<i>`` without names) per objective (``value`` is then empty); when constraint
values were told, ``constraints_<i>`` per constraint; then ``user_attrs_<key>`` for every
user attribute key of any trial, sorted (empty where a trial lacks it), as in Optuna's
``Study.trials_dataframe``.
"""

from __future__ import annotations

import csv
import json
import os
from typing import TYPE_CHECKING, Any

from .errors import MissingDependencyError

if TYPE_CHECKING:  # pragma: no cover
    from .optimizer import Optimizer

#: The fixed columns, before the ``user_attrs_<key>`` ones.
COLUMNS = ("id", "arch", "state", "value", "error", "datetime_start", "datetime_complete",
           "duration")
ATTR_PREFIX = "user_attrs_"


def _arch_text(data: Any) -> str:
    return data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), sort_keys=True)


def trial_rows(opt: "Optimizer") -> tuple[list[str], list[dict[str, Any]]]:
    """``(columns, rows)``: one dict per trial in id order, with Python values (timestamps
    as aware UTC datetimes, ``None`` where there is nothing)."""
    trials = [opt._trials[i] for i in sorted(opt._trials)]
    keys = sorted({k for t in trials for k in t.user_attrs})
    m = opt.n_objectives
    names = opt._objective_names or tuple(str(i) for i in range(m))
    value_cols = [f"values_{n}" for n in names] if m > 1 else []
    n_cons = opt._n_constraints or 0
    cons_cols = [f"constraints_{i}" for i in range(n_cons)]
    rows = []
    for t in trials:
        row = {
            "id": t.id, "arch": _arch_text(opt.space.to_data(t.arch)), "state": t.state.value,
            "value": t.value, "error": t.error, "datetime_start": t.datetime_start,
            "datetime_complete": t.datetime_complete, "duration": t.duration,
        }
        for i, col in enumerate(value_cols):
            row[col] = None if t.values is None else t.values[i]
        for i, col in enumerate(cons_cols):
            row[col] = None if t.constraints is None else t.constraints[i]
        for k in keys:
            row[ATTR_PREFIX + k] = t.user_attrs.get(k)
        rows.append(row)
    return [*COLUMNS, *value_cols, *cons_cols, *(ATTR_PREFIX + k for k in keys)], rows


def trials_dataframe(opt: "Optimizer") -> Any:
    """The trials of ``opt`` as a :class:`pandas.DataFrame` (see the module docstring)."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingDependencyError(
            "trials_dataframe() needs pandas, which is not installed: "
            'pip install "nasopt[pandas]" (or use opt.to_csv(path), which does not)'
        ) from exc
    columns, rows = trial_rows(opt)
    frame = pd.DataFrame(rows, columns=columns)
    for name in ("datetime_start", "datetime_complete"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    frame["value"] = frame["value"].astype(float)
    frame["duration"] = frame["duration"].astype(float)
    return frame


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return value


def write_csv(opt: "Optimizer", path: str | os.PathLike) -> None:
    """Write the trials of ``opt`` to ``path`` as CSV (see the module docstring)."""
    columns, rows = trial_rows(opt)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row[c]) for c in columns])
