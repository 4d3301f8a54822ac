"""The :class:`Optimizer` base: all ask/tell bookkeeping, shared by every strategy.

A strategy subclasses :class:`Optimizer` and implements :meth:`Optimizer._propose` (which
architectures next). It may also react to results in :meth:`Optimizer._on_tell` and persist
extra state through :meth:`Optimizer._get_state` / :meth:`Optimizer._set_state`; everything
else (trial ids, pending set, history, duplicates, seeding, direction, validation of input,
persistence, thread safety) lives here.
"""

from __future__ import annotations

import math
import numbers
import threading
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar, overload

import numpy as np

from .space import SearchSpace
from .errors import ConfigurationError, SpaceExhaustedError, TrialError
from .trial import Trial, TrialState

#: How many rejected draws :meth:`Optimizer._random_unseen` tolerates per architecture on
#: spaces it cannot enumerate, before it declares the space exhausted.
MAX_REJECTIONS = 2000


def check_value(value: Any) -> float:
    """Return ``value`` as a float if it is a finite real number, else raise TrialError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TrialError(
            f"value must be a finite real number, got {value!r} ({type(value).__name__}); "
            "use tell(trial, failed=True) for an evaluation that failed"
        )
    value = float(value)
    if not math.isfinite(value):
        raise TrialError(
            f"value must be finite, got {value!r}; use tell(trial, failed=True) for an "
            "evaluation that failed"
        )
    return value


class Optimizer:
    """Base class of all strategies: the public ask/tell interface.

    Args:
        space: The search space to propose architectures from.
        seed: Seed of the optimizer's random generator; ``None`` draws one (recorded in
            :attr:`seed`, so a run can always be repeated).
        maximize: ``True`` (default) when larger objective values are better.
        allow_duplicates: Allow proposing / telling an architecture whose canonical hash was
            already seen. Off by default: each distinct architecture is evaluated once.
    """

    #: Registry name, set by :func:`nasopt.core.registry.register_strategy`.
    name: ClassVar[str] = ""

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int | None = None,
        maximize: bool = True,
        allow_duplicates: bool = False,
    ) -> None:
        if not isinstance(space, SearchSpace):
            raise ConfigurationError(
                f"space must be a nasopt SearchSpace, got {type(space).__name__}"
            )
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ConfigurationError(f"seed must be a non-negative integer, got {seed!r}")
        self.space = space
        self.seed = int(seed)
        self.maximize = bool(maximize)
        self.allow_duplicates = bool(allow_duplicates)
        self._rng = np.random.Generator(np.random.PCG64(self.seed))
        self._owner = uuid.uuid4().hex
        self._lock = threading.RLock()
        self._trials: dict[int, Trial] = {}
        self._pending: dict[int, None] = {}  # insertion-ordered set of pending ids
        self._told: list[int] = []  # ids in the order results arrived
        self._seen: dict[str, int] = {}  # canonical key -> id of the trial that holds it
        self._next_id = 0
        self._best_id: int | None = None
        # finite spaces: uniform sampling without replacement walks a seeded permutation
        self._perm_seed: int | None = None
        self._perm_pos = 0
        self._perm: np.ndarray | None = None

    # ================================================================ public interface
    @overload
    def ask(self) -> Trial: ...
    @overload
    def ask(self, n: int) -> list[Trial]: ...

    def ask(self, n: int | None = None) -> Trial | list[Trial]:
        """Propose the next architecture (``ask()``) or a batch of ``n`` (``ask(n)``).

        Raises:
            SpaceExhaustedError: fewer than ``n`` unseen architectures are left.
        """
        k = 1 if n is None else n
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ConfigurationError(f"ask(n) needs a positive integer n, got {n!r}")
        k = int(k)
        with self._lock:
            archs = self._propose(k)
            trials = self._register_proposals(archs, k)
            self._after_ask(trials)
        return trials[0] if n is None else trials

    def tell(
        self,
        trial: Trial | Any,
        value: Any = None,
        *,
        failed: bool = False,
        error: str | None = None,
    ) -> Trial:
        """Report the result of a trial (or of an architecture that was never asked).

        Args:
            trial: A :class:`Trial` from :meth:`ask`, or an architecture of the space to
                warm-start from results obtained elsewhere.
            value: The objective value (a finite real number) unless ``failed``.
            failed: The evaluation failed; the trial is recorded as ``FAILED``.
            error: Optional message kept with a failed trial.

        Returns:
            The finished trial record.

        Raises:
            TrialError: unknown or foreign trial, trial told twice, bad value.
            InvalidArchitectureError: an architecture that is not a member of the space.
        """
        if failed:
            if value is not None:
                raise TrialError("a failed trial takes no value: call tell(trial, failed=True)")
            number = None
        else:
            if value is None:
                raise TrialError("tell() needs a value, or failed=True for a failed evaluation")
            number = check_value(value)
        with self._lock:
            stored = self._resolve(trial)
            done = stored._finished(number, failed, None if error is None else str(error))
            self._record(done)
            self._after_tell(done)
            return done

    @property
    def best(self) -> Trial | None:
        """The best completed trial so far (earliest on ties), or ``None``."""
        return None if self._best_id is None else self._trials[self._best_id]

    @property
    def trials(self) -> list[Trial]:
        """Every trial so far, in id order, with its current state."""
        with self._lock:
            return [self._trials[i] for i in sorted(self._trials)]

    @property
    def pending(self) -> list[Trial]:
        """Trials asked but not told yet, in the order they were asked."""
        with self._lock:
            return [self._trials[i] for i in self._pending]

    @property
    def completed(self) -> list[Trial]:
        """Completed trials in the order their results arrived."""
        with self._lock:
            return [t for t in (self._trials[i] for i in self._told) if t.is_complete]

    def save(self, path: str) -> None:
        """Write a checkpoint (JSON; see :mod:`nasopt.core.persistence`) that
        :func:`nasopt.load` turns back into an optimizer that continues exactly as this one."""
        from .persistence import save_checkpoint

        with self._lock:
            save_checkpoint(self, path)

    def __len__(self) -> int:
        return len(self._trials)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(space={self.space!r}, seed={self.seed}, "
            f"trials={len(self._trials)}, pending={len(self._pending)})"
        )

    # ================================================================ strategy hooks
    def _propose(self, n: int) -> list[Any]:
        """Return ``n`` architectures to evaluate next, unseen so far and distinct.
        Strategies override this; the default is uniform random sampling."""
        return self._random_unseen(n)

    def _on_tell(self, trial: Trial) -> None:
        """Called (under the lock) after each result is recorded."""

    def _get_state(self) -> dict:
        """Strategy state beyond the history and the RNG, as JSON-able data."""
        return {}

    def _set_state(self, state: dict) -> None:
        """Restore what :meth:`_get_state` returned."""

    def _options(self) -> dict:
        """Constructor keyword arguments (JSON-able) that rebuild this strategy."""
        return {}

    # ================================================================ helpers for strategies
    def _score(self, value: float) -> float:
        """Objective value turned into "larger is better"."""
        return value if self.maximize else -value

    def _history(self) -> tuple[list[Any], np.ndarray]:
        """Completed architectures (in tell order) and their scores (larger is better)."""
        done = self.completed
        return [t.arch for t in done], np.array([self._score(t.value) for t in done], dtype=float)

    def _is_seen(self, arch: Any) -> bool:
        """True when an architecture with the same canonical hash was asked or told."""
        return self.space.key(arch) in self._seen

    def _seen_keys(self) -> set[str]:
        return set(self._seen)

    def _random_unseen(self, n: int) -> list[Any]:
        """``n`` distinct architectures drawn uniformly from those not seen yet."""
        if self.space.is_finite:
            return [self.space[int(i)] for i in self._random_unseen_indices(n)]
        out: list[Any] = []
        batch: set[str] = set()
        rejections = 0
        while len(out) < n:
            arch = self.space.sample(self._rng)
            key = self.space.key(arch)
            if (key in self._seen and not self.allow_duplicates) or key in batch:
                rejections += 1
                if rejections > MAX_REJECTIONS * n:
                    raise SpaceExhaustedError(
                        f"found only {len(out)} of {n} unseen architectures in {self.space!r} "
                        f"after {rejections} draws: the space looks exhausted"
                    )
                continue
            batch.add(key)
            out.append(arch)
        return out

    def _random_unseen_indices(self, n: int) -> np.ndarray:
        """Finite spaces: positions of ``n`` distinct unseen members, uniformly at random
        (a walk along a seeded permutation, skipping what was seen)."""
        size = len(self.space)
        if self.allow_duplicates:
            return self._rng.choice(size, size=n, replace=n > size)
        if self._perm is None:
            if self._perm_seed is None:
                self._perm_seed = int(self._rng.integers(2**63))
            self._perm = np.random.default_rng(self._perm_seed).permutation(size)
        out: list[int] = []
        pos = self._perm_pos
        key_of = self.space.key_of_index
        while len(out) < n and pos < size:
            i = int(self._perm[pos])
            pos += 1
            if key_of(i) not in self._seen:
                out.append(i)
        if len(out) < n:
            raise SpaceExhaustedError(
                f"{self.space!r} has only {len(out)} unseen architectures left, {n} asked"
            )
        self._perm_pos = pos
        return np.array(out, dtype=np.int64)

    # ================================================================ internals
    def _register_proposals(self, archs: Sequence[Any], n: int) -> list[Trial]:
        if len(archs) != n:
            raise SpaceExhaustedError(
                f"{type(self).__name__} could propose only {len(archs)} of {n} architectures"
            )
        keys = []
        for arch in archs:
            self.space.validate(arch)
            key = self.space.key(arch)
            if not self.allow_duplicates and (key in self._seen or key in keys):
                raise RuntimeError(
                    f"{type(self).__name__} proposed an architecture seen before ({key}); "
                    "this is a bug in the strategy"
                )
            keys.append(key)
        trials = []
        for arch, key in zip(archs, keys):
            t = Trial(id=self._next_id, arch=arch, key=key, owner=self._owner)
            self._next_id += 1
            self._trials[t.id] = t
            self._pending[t.id] = None
            self._seen.setdefault(key, t.id)
            trials.append(t)
        return trials

    def _resolve(self, trial: Any) -> Trial:
        """The stored pending trial that a tell() refers to (creating one for a warm start)."""
        if isinstance(trial, Trial):
            if trial.owner != self._owner:
                raise TrialError(
                    f"trial #{trial.id} was not asked by this optimizer (it belongs to another run)"
                )
            stored = self._trials.get(trial.id)
            if stored is None:
                raise TrialError(f"trial #{trial.id} is unknown to this optimizer")
            if not stored.is_pending:
                raise TrialError(
                    f"trial #{trial.id} was already told ({stored.state.value}"
                    + (f", value {stored.value}" if stored.is_complete else "")
                    + "); a trial is told once"
                )
            return stored
        arch = self.space.validate(trial)
        key = self.space.key(arch)
        holder = self._seen.get(key)
        if holder is not None:
            held = self._trials[holder]
            if held.is_pending:
                return held
            if not self.allow_duplicates:
                raise TrialError(
                    f"architecture {arch!r} was already evaluated as trial #{holder} "
                    f"({held.state.value}); pass allow_duplicates=True to record it again"
                )
        t = Trial(id=self._next_id, arch=arch, key=key, owner=self._owner)
        self._next_id += 1
        self._trials[t.id] = t
        self._seen.setdefault(key, t.id)
        return t

    def _record(self, done: Trial) -> None:
        self._trials[done.id] = done
        self._pending.pop(done.id, None)
        self._told.append(done.id)
        if done.is_complete:
            best = self.best
            if best is None or self._score(done.value) > self._score(best.value):
                self._best_id = done.id

    def _after_ask(self, trials: list[Trial]) -> None:
        """Hook for the persistence layer (journal); strategies use :meth:`_propose`."""

    def _after_tell(self, trial: Trial) -> None:
        self._on_tell(trial)
