"""The immutable trial record handed out by :meth:`Optimizer.ask`."""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any

from .errors import TrialError


class TrialState(str, enum.Enum):
    """Life cycle of a trial: asked (``PENDING``), then told a value or a failure."""

    PENDING = "pending"
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass(frozen=True)
class Trial:
    """One architecture proposed by (or told to) an optimizer.

    Attributes:
        id: Sequential id, unique within one optimizer run.
        arch: The architecture, in the search space's native form.
        state: ``PENDING`` until told, then ``COMPLETE`` or ``FAILED``.
        value: The objective value once ``COMPLETE``, else ``None``; also ``None`` for a
            trial of a run with several objectives (read :attr:`values` there).
        error: The failure message of a ``FAILED`` trial, if one was given.
        key: Canonical hash of ``arch`` in its space (isomorphic cells share it).
        owner: Token of the optimizer run that created the trial; telling a trial to
            another run is refused.
        start_time: When the trial was asked, in seconds since the epoch
            (``time.time()``); ``None`` for an architecture told without being asked. All
            trials of one ``ask(n)`` share it.
        end_time: When its result was told (seconds since the epoch), ``None`` while pending.
        user_attrs: Free-form JSON-able annotations set with ``tell(..., user_attrs=...)``
            or :meth:`Optimizer.set_user_attr` (read-only; values are kept in their JSON
            form: tuples become lists, numpy scalars Python numbers).
        values: The objective values of a ``COMPLETE`` trial, one float per objective in
            the optimizer's order (``(value,)`` with one objective), else ``None``.
        constraints: The constraint values told with the result (``tell(...,
            constraints=[...])``; ``<= 0`` is satisfied), or ``None`` when none were told.

    Timestamps and user attributes are records only: no strategy reads them, so a run
    with the same seed and results proposes the same architectures whatever the timing.
    Equality (``==``) ignores the timestamps, as it ignores ``arch`` (``key`` stands for it):
    the same results told in two runs give equal trials.
    """

    id: int
    arch: Any = field(compare=False)
    state: TrialState = TrialState.PENDING
    value: float | None = None
    error: str | None = None
    key: str = ""
    owner: str = field(default="", repr=False)
    start_time: float | None = field(default=None, repr=False, compare=False)
    end_time: float | None = field(default=None, repr=False, compare=False)
    user_attrs: Mapping[str, Any] = field(default_factory=lambda: _NO_ATTRS, hash=False)
    values: tuple[float, ...] | None = field(default=None, repr=False)
    constraints: tuple[float, ...] | None = None

    def __repr__(self) -> str:
        shown = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr]
        if self.values is not None and len(self.values) > 1:  # several objectives
            shown.insert(4, f"values={self.values!r}")
        return f"Trial({', '.join(shown)})"

    def __post_init__(self) -> None:
        if self.values is None and self.value is not None:
            object.__setattr__(self, "values", (self.value,))
        if not isinstance(self.user_attrs, UserAttrs):
            object.__setattr__(self, "user_attrs", UserAttrs(check_user_attrs(self.user_attrs)))

    @property
    def is_pending(self) -> bool:
        return self.state is TrialState.PENDING

    @property
    def is_complete(self) -> bool:
        return self.state is TrialState.COMPLETE

    @property
    def is_failed(self) -> bool:
        return self.state is TrialState.FAILED

    @property
    def feasible(self) -> bool:
        """False when a told constraint value is positive (violated); ``True`` otherwise,
        also when no constraint values were told."""
        return self.constraints is None or all(c <= 0 for c in self.constraints)

    @property
    def violation(self) -> float:
        """Total constraint violation: the sum of the positive constraint values (0 when
        feasible)."""
        return 0.0 if self.constraints is None else float(sum(max(c, 0.0) for c in self.constraints))

    @property
    def duration(self) -> float | None:
        """Seconds from ask to tell, ``None`` while pending or when never asked."""
        if self.start_time is None or self.end_time is None:
            return None
        return self.end_time - self.start_time

    @property
    def datetime_start(self) -> datetime | None:
        """:attr:`start_time` as a timezone-aware UTC datetime (Optuna's name)."""
        return _utc(self.start_time)

    @property
    def datetime_complete(self) -> datetime | None:
        """:attr:`end_time` as a timezone-aware UTC datetime (Optuna's name)."""
        return _utc(self.end_time)

    def _finished(self, value: float | None, failed: bool, error: str | None,
                  end_time: float | None = None, user_attrs: Mapping[str, Any] | None = None,
                  values: tuple[float, ...] | None = None,
                  constraints: tuple[float, ...] | None = None) -> "Trial":
        """The finished record: ``value`` for one objective, or ``values`` (several)."""
        state = TrialState.FAILED if failed else TrialState.COMPLETE
        attrs = self.user_attrs if not user_attrs else {**self.user_attrs, **user_attrs}
        if failed:
            value = values = constraints = None
        elif values is not None and len(values) == 1:
            value, values = values[0], None
        return replace(self, state=state, value=value, error=error, end_time=end_time,
                       user_attrs=attrs, values=values, constraints=constraints)


def _utc(stamp: float | None) -> datetime | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, timezone.utc)


class UserAttrs(dict):
    """The read-only mapping of :attr:`Trial.user_attrs` (a ``dict`` that refuses changes:
    set attributes through the optimizer, which records them)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "trial.user_attrs is read-only: use opt.set_user_attr(trial, key, value) or "
            "opt.tell(trial, value, user_attrs={...})"
        )

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple:  # pickle and copy without calling __setitem__
        return (UserAttrs, (dict(self),))


_NO_ATTRS = UserAttrs()  # shared by every trial without attributes (it is read-only)


def check_user_attr(key: Any, value: Any) -> Any:
    """``value`` in its JSON form (what a checkpoint reads back), or :class:`TrialError`
    when ``key`` is not a string or ``value`` is not JSON-able (finite numbers, strings,
    booleans, ``None``, lists and dicts of them; numpy scalars and arrays are converted)."""
    if not isinstance(key, str):
        raise TrialError(f"user attribute keys must be strings, got {key!r} ({type(key).__name__})")
    from .jsondata import numpy_default as _jsonable

    bad: list[str] = []

    def default(obj: Any) -> Any:
        try:
            return _jsonable(obj)  # numpy scalars and arrays
        except TypeError:
            bad.append(type(obj).__name__)
            raise

    try:
        return json.loads(json.dumps(value, allow_nan=False, default=default))
    except (TypeError, ValueError, RecursionError) as exc:
        if bad and bad[0] != type(value).__name__:
            why = f": it holds a {bad[0]}"
        elif isinstance(exc, ValueError):
            why = (f": {exc}" if "Out of range" not in str(exc) else ": not a finite number"
                   if isinstance(value, float) else ": it holds a non-finite number")
        else:
            why = ""
        raise TrialError(
            f"user attribute {key!r} must be JSON-able (numbers, strings, booleans, None, "
            f"lists and dicts of them), got {_short(value)} ({type(value).__name__}){why}"
        ) from None


def check_user_attrs(attrs: Any) -> dict[str, Any]:
    """Every item of ``attrs`` (a mapping) through :func:`check_user_attr`."""
    if type(attrs) is dict and not attrs:  # the common case, on hot paths (replay)
        return attrs
    if not isinstance(attrs, Mapping):
        raise TrialError(f"user_attrs must be a dict of JSON-able values, got {type(attrs).__name__}")
    return {key: check_user_attr(key, value) for key, value in attrs.items()}


def check_time(name: str, stamp: Any) -> float | None:
    """A stored timestamp: ``None`` or a finite number of seconds (ValueError otherwise)."""
    if stamp is None or (type(stamp) is float and math.isfinite(stamp)):
        return stamp
    if not isinstance(stamp, bool) and isinstance(stamp, (int, float)):
        try:
            seconds = float(stamp)
        except OverflowError:  # an integer beyond float range
            seconds = math.inf
        if math.isfinite(seconds):
            return seconds
    raise ValueError(f"{name} must be a number of seconds or null, got {_short(stamp)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
