"""The immutable trial record handed out by :meth:`Optimizer.ask`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any


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
        value: The objective value once ``COMPLETE``, else ``None``.
        error: The failure message of a ``FAILED`` trial, if one was given.
        key: Canonical hash of ``arch`` in its space (isomorphic cells share it).
        owner: Token of the optimizer run that created the trial; telling a trial to
            another run is refused.
    """

    id: int
    arch: Any = field(compare=False)
    state: TrialState = TrialState.PENDING
    value: float | None = None
    error: str | None = None
    key: str = ""
    owner: str = field(default="", repr=False)

    @property
    def is_pending(self) -> bool:
        return self.state is TrialState.PENDING

    @property
    def is_complete(self) -> bool:
        return self.state is TrialState.COMPLETE

    @property
    def is_failed(self) -> bool:
        return self.state is TrialState.FAILED

    def _finished(self, value: float | None, failed: bool, error: str | None) -> "Trial":
        state = TrialState.FAILED if failed else TrialState.COMPLETE
        return replace(self, state=state, value=None if failed else value, error=error)
