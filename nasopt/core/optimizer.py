"""The :class:`Optimizer` base: all ask/tell bookkeeping, shared by every strategy.

A strategy subclasses :class:`Optimizer` and implements :meth:`Optimizer._propose` (which
architectures next). It may also react to results in :meth:`Optimizer._on_tell` and persist
extra state through :meth:`Optimizer._get_state` / :meth:`Optimizer._set_state`; everything
else (trial ids, pending set, history, duplicates, seeding, direction, validation of input,
persistence, the journal, thread safety) lives here.

Guarantees kept by this class (tested in ``tests/test_bad_input.py``, ``test_concurrency.py``,
``test_fuzz.py``, ``test_crash.py``):

* every public method takes the optimizer's lock, so ``ask``/``tell`` may be called from
  many threads;
* a call that raises leaves the optimizer unchanged: input is validated before anything is
  recorded, and a failed :meth:`Optimizer.ask` (space exhausted, strategy error, journal
  write error) rolls the random generator, the sampling permutation, the trial counter and
  the strategy state back to what they were;
* with ``journal=path`` every ask and tell is appended to an fsynced journal before the call
  returns, and reopening the journal rebuilds the optimizer exactly (see
  :mod:`nasopt.persist.journal`).

Strategy contract for persistence: every constructor option is stored, unchanged, in the
attribute of its name (:meth:`Optimizer.get_params` reads them: they are the configuration
that checkpoints and journals record); :meth:`Optimizer._get_state` returns what cannot be
recomputed from the history (a queue of proposals...) as JSON data or numpy values
(:mod:`nasopt.core.jsondata`), which :meth:`Optimizer._set_state` restores; and
:meth:`Optimizer._on_tell` is a deterministic function of the optimizer's state and the
told trial (the journal replays it).
"""

from __future__ import annotations

import copy
import difflib
import functools
import inspect
import json
import math
import numbers
import os
import threading
import time
import uuid
from collections.abc import Container, Sequence
from dataclasses import replace
from typing import Any, ClassVar, Protocol, overload

import numpy as np

from .space import SearchSpace
from .errors import CheckpointError, ConfigurationError, SpaceExhaustedError, TrialError
from .jsondata import dumps
from .trial import Trial, check_user_attr, check_user_attrs

#: How many rejected draws :meth:`Optimizer._random_unseen` tolerates per architecture on
#: spaces it cannot enumerate, before it declares the space exhausted.
MAX_REJECTIONS = 2000


def check_value(value: Any) -> float:
    """Return ``value`` as a float if it is a finite real number, else raise TrialError.

    A real number is a Python or numpy number (not a bool), or a one-element array or
    tensor holding one (a 0-d ``torch.Tensor`` or ``numpy.ndarray``, as a training loop
    returns): anything with ``.item()`` and one element (``numel()`` or ``size``).
    """
    number = _real_scalar(value)
    if number is None:
        size = _n_elements(value)
        what = "" if size in (None, 1) else f", an array of {size} elements"
        raise TrialError(
            f"value must be a finite real number, got {_short_repr(value)} "
            f"({type(value).__name__}{what}); use tell(trial, failed=True) for an evaluation "
            "that failed"
        )
    try:
        result = float(number)
    except OverflowError:
        raise TrialError(
            f"value must be finite, got {_short_repr(value)} ({type(value).__name__}), beyond "
            "the range of a float (about 1.8e308); use tell(trial, failed=True) for an "
            "evaluation that failed"
        ) from None
    if not math.isfinite(result):
        raise TrialError(
            f"value must be finite, got {result!r}; use tell(trial, failed=True) for an "
            "evaluation that failed"
        )
    return result


def _real_scalar(value: Any) -> Any:
    """``value`` itself if it is a real number (bools excluded), the element of a
    one-element array or tensor holding one, else ``None``."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, numbers.Real):
        return value
    item = getattr(value, "item", None)
    if not callable(item) or _n_elements(value) != 1:
        return None
    try:
        inner = item()
    except Exception:  # noqa: BLE001 - an object whose item() fails is not a number
        return None
    if isinstance(inner, (bool, np.bool_)) or not isinstance(inner, numbers.Real):
        return None
    return inner


def _n_elements(value: Any) -> int | None:
    """Number of elements of an array (``size``) or tensor (``numel()``), else ``None``."""
    numel = getattr(value, "numel", None)
    try:
        size = numel() if callable(numel) else getattr(value, "size", None)
    except Exception:  # noqa: BLE001
        return None
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def _short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (a 400-digit integer stays readable)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - e.g. an int too long for str()
        bits = value.bit_length() if isinstance(value, int) else None
        text = f"<{type(value).__name__}{'' if bits is None else f' of {bits} bits'}>"
    return text if len(text) <= limit else f"{text[:limit - 14]}...{text[-10:]}"


def check_constraint_values(constraints: Any) -> tuple[float, ...]:
    """The ``constraints=`` of :meth:`Optimizer.tell`: a sequence of finite numbers
    (``<= 0`` is satisfied), as a tuple of floats; :class:`TrialError` otherwise."""
    if isinstance(constraints, (str, bytes, dict)) or not hasattr(constraints, "__len__") \
            or getattr(constraints, "ndim", 1) != 1:
        raise TrialError(
            "constraints must be a sequence of numbers (<= 0 is satisfied), got "
            f"{_short_repr(constraints)} ({type(constraints).__name__})")
    out = []
    for i, c in enumerate(list(constraints)):
        try:
            out.append(check_value(c))
        except TrialError as exc:
            raise TrialError(f"constraint value {i}: {exc}") from None
    return tuple(out)


def resolve_direction(maximize: Any, direction: Any) -> bool:
    """The optimization direction from ``maximize`` (a bool or ``None``) and ``direction``
    (``"maximize"``, ``"minimize"`` or ``None``); maximize when neither is given.

    Raises:
        ConfigurationError: a value of another type, or the two disagree.
    """
    if maximize is not None and not isinstance(maximize, (bool, np.bool_)):
        raise ConfigurationError(
            f"maximize must be True or False, got {maximize!r} ({type(maximize).__name__}); "
            "or pass direction='maximize' / 'minimize'"
        )
    if direction is not None and (not isinstance(direction, str)
                                  or direction not in ("maximize", "minimize")):
        raise ConfigurationError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    if direction is None:
        return True if maximize is None else bool(maximize)
    wanted = direction == "maximize"
    if maximize is not None and bool(maximize) != wanted:
        raise ConfigurationError(
            f"maximize={bool(maximize)} contradicts direction={direction!r}: pass only one of them"
        )
    return wanted


_DIRECTION_WORDS = {"max": "maximize", "maximize": "maximize", "min": "minimize",
                    "minimize": "minimize"}


def resolve_objectives(objectives: Any) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """``(directions, names)`` of the ``objectives=`` option: a sequence of directions
    (``"max"``/``"maximize"``, ``"min"``/``"minimize"``), or a dict from objective names to
    directions (``names`` is then the tuple of names, in the dict's order, else ``None``).

    Raises:
        ConfigurationError: not a non-empty sequence or dict, a direction other than
            max/min, a name that is not a non-empty string.
    """
    names: tuple[str, ...] | None = None
    if isinstance(objectives, dict):
        for name in objectives:
            if not isinstance(name, str) or not name:
                raise ConfigurationError(
                    f"objective names must be non-empty strings, got {name!r} in objectives")
        names = tuple(objectives)
        words = list(objectives.values())
    elif isinstance(objectives, (list, tuple)):
        words = list(objectives)
    else:
        raise ConfigurationError(
            "objectives must be a list of directions ('max' / 'min') or a dict from "
            f"objective names to directions, got {_short_repr(objectives)} "
            f"({type(objectives).__name__})")
    if not words:
        raise ConfigurationError("objectives must name at least one objective, got none")
    directions = []
    for i, word in enumerate(words):
        resolved = _DIRECTION_WORDS.get(word) if isinstance(word, str) else None
        if resolved is None:
            label = f"objective {names[i]!r}" if names else f"objective {i}"
            raise ConfigurationError(
                f"{label} has direction {_short_repr(word)}: a direction must be 'max' "
                "(or 'maximize') or 'min' (or 'minimize')")
        directions.append(resolved)
    return tuple(directions), names


def check_constraint_functions(constraints: Any) -> list[Any]:
    """The ``constraints=`` option: ``None`` or a sequence of callables (``fn(arch) <= 0``
    is feasible); :class:`ConfigurationError` otherwise."""
    if constraints is None:
        return []
    if not isinstance(constraints, (list, tuple)):
        raise ConfigurationError(
            "constraints must be a list of functions fn(arch) -> float (<= 0 is feasible), "
            f"got {type(constraints).__name__}")
    for fn in constraints:
        if not callable(fn):
            raise ConfigurationError(
                f"constraints must be functions fn(arch) -> float (<= 0 is feasible), got "
                f"{_short_repr(fn)} ({type(fn).__name__})")
    return list(constraints)


def _function_name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


@functools.lru_cache(maxsize=None)
def _signature_options(cls: type) -> tuple[tuple[str, Any], ...]:
    """``(name, default)`` of each constructor option of ``cls`` (sorted by name; the
    default is :data:`NO_DEFAULT` for a required one)."""
    found: dict[str, Any] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = list(inspect.signature(init).parameters.values())[1:]  # drop self
        for p in params:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "space" \
                    and p.name not in found:
                found[p.name] = NO_DEFAULT if p.default is p.empty else p.default
        if klass is Optimizer or not any(p.kind is p.VAR_KEYWORD for p in params):
            break  # the keywords stop here
    return tuple(sorted(found.items()))


def _valid_options(cls: type) -> tuple[str, ...]:
    return tuple(name for name, _ in _signature_options(cls))


#: Default of a constructor option that has none (see :func:`option_defaults`).
NO_DEFAULT: Any = inspect.Parameter.empty

#: :class:`Optimizer`'s own options: a checkpoint or journal header records them in fields
#: of their own (``seed``, ``maximize``, ``allow_duplicates``), the others under ``options``.
BASE_OPTIONS = ("seed", "maximize", "direction", "allow_duplicates")

#: The ``prior=`` that takes what is free for the space (``WeakNAS``'s default; see
#: :func:`nasopt.strategies._prior.resolve_prior`); files mark a prior chosen so.
AUTO_PRIOR = "auto"
#: Options that checkpoints and journals do not record: the ``constraints=`` functions are
#: code, not data (pass them again when reopening a journal).
UNRECORDED_OPTIONS = ("constraints",)


def option_defaults(cls: type["Optimizer"]) -> dict[str, Any]:
    """Default of each constructor option of ``cls`` (:func:`valid_options`), as its
    signature declares it (:data:`NO_DEFAULT` for a required option)."""
    return dict(_signature_options(cls))


def valid_options(cls: type["Optimizer"]) -> list[str]:
    """Keyword options that the constructor of the strategy class ``cls`` accepts: the named
    parameters of each ``__init__`` along its MRO, followed upwards while an ``__init__``
    passes ``**kwargs`` on (up to :class:`Optimizer`'s own: ``seed``, ``maximize``...)."""
    return list(_valid_options(cls))


def unknown_options_message(cls: type["Optimizer"], unknown: dict) -> str:
    """The error message for keyword options that ``cls`` does not accept."""
    valid = valid_options(cls)
    label = getattr(cls, "name", "") or cls.__name__
    parts = []
    for key in unknown:
        close = difflib.get_close_matches(str(key), valid, n=1)
        parts.append(repr(key) + (f" (did you mean {close[0]!r}?)" if close else ""))
    plural = "s" if len(parts) > 1 else ""
    return (f"strategy {label!r} has no option{plural} {', '.join(parts)}; "
            f"valid options: {', '.join(valid)}")


class Optimizer:
    """Base class of all strategies: the public ask/tell interface.

    Args:
        space: The search space to propose architectures from.
        seed: Seed of the optimizer's random generator; ``None`` draws one (recorded in
            :attr:`seed`, so a run can always be repeated).
        maximize: ``True`` (default) when larger objective values are better; a bool.
        direction: ``"maximize"`` or ``"minimize"`` (Optuna's word for the same setting);
            when given with ``maximize``, both must agree.
        allow_duplicates: Allow proposing / telling an architecture whose canonical hash was
            already seen. Off by default: each distinct architecture is evaluated once.
        objectives: Several objectives (or one): a list of directions, ``"max"`` /
            ``"maximize"`` or ``"min"`` / ``"minimize"`` (``["max", "min"]``), or a dict from
            objective names to directions (``{"acc": "max", "latency": "min"}``), which
            lets :meth:`tell` take a dict of values by name. With more than one objective,
            ``maximize`` / ``direction`` must not be given, :attr:`best` raises (use
            :attr:`pareto_front`) and :attr:`Trial.value` is ``None`` (read
            :attr:`Trial.values`). One objective is the same as ``maximize`` / ``direction``.
        constraints: Constraints known before evaluation: functions ``fn(arch) -> float``,
            an architecture is feasible when every one returns ``<= 0``. No strategy
            proposes an infeasible architecture (:meth:`ask` filters the proposals and asks
            the strategy again; a finite space with nothing feasible left raises
            :class:`~nasopt.core.errors.SpaceExhaustedError`). The functions must be
            deterministic: each runs at most once per architecture, its result cached by
            canonical key until ``opt.constraints`` is reassigned. Functions are code, not data:
            checkpoints and journals do not store them; pass them again when reopening a
            journal, and set ``opt.constraints`` on an optimizer :func:`nasopt.load` returns.
        journal: Path of an append-only journal (JSON lines, see :mod:`nasopt.persist.journal`).
            Every ask and tell is written and fsynced before the call returns. When the file
            already holds a journal, the optimizer is rebuilt from it (history, pending
            trials, strategy and random state) and continues exactly where it stopped; the
            constructor arguments must then be those of the journal (``seed=None`` takes the
            journal's seed), else :class:`~nasopt.core.errors.CheckpointError`. Call
            :meth:`close` (or use the optimizer as a context manager) to release the file.

    Any other keyword raises :class:`~nasopt.core.errors.ConfigurationError` naming the
    strategy, the unknown option and the valid ones (:func:`valid_options`). A strategy
    declares its options as named parameters of its ``__init__`` and passes the rest
    (``**kw``) on to ``super().__init__``.
    """

    #: Registry name, set by :func:`nasopt.core.registry.register_strategy`.
    name: ClassVar[str] = ""
    #: Constructor arguments that are runtime objects, not configuration: left out of
    #: :meth:`get_params` (so checkpoints, journals and the option round trip of
    #: :mod:`nasopt.testing` never store them) and passed again when a run is reopened, like
    #: ``space``. A strategy adding one (``WeakNAS``'s ``prior``) extends this tuple and may
    #: record what identifies the object in :meth:`_runtime_identity`.
    runtime_arguments: ClassVar[tuple[str, ...]] = ("journal",)

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int | None = None,
        maximize: bool | None = None,
        direction: str | None = None,
        allow_duplicates: bool = False,
        journal: str | os.PathLike | None = None,
        objectives: Sequence[str] | dict[str, str] | None = None,
        constraints: Sequence[Any] | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise ConfigurationError(unknown_options_message(type(self), unknown))
        if not isinstance(space, SearchSpace):
            raise ConfigurationError(
                f"space must be a nasopt SearchSpace, got {type(space).__name__}"
            )
        if objectives is None:
            directions, names = (), None
        else:
            directions, names = resolve_objectives(objectives)
        if len(directions) > 1:
            if maximize is not None or direction is not None:
                raise ConfigurationError(
                    f"objectives gives {len(directions)} objectives: pass their directions "
                    "there only, not maximize= or direction= as well")
            maximize = None
        else:
            wanted = None if not directions else directions[0]
            if wanted is not None and direction is not None and direction != wanted:
                raise ConfigurationError(
                    f"objectives={objectives!r} contradicts direction={direction!r}: pass only "
                    "one of them")
            maximize = resolve_direction(maximize, direction if wanted is None else wanted)
            directions = ("maximize" if maximize else "minimize",)
        check_constraint_functions(constraints)
        self._journal = None
        self._journal_path: str | None = None
        if journal is not None:
            self._journal_path = os.fspath(journal)
            if seed is None:  # reopening: take the journal's seed
                seed = _persistence().journal_seed(self._journal_path)
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ConfigurationError(f"seed must be a non-negative integer, got {seed!r}")
        self.space = space
        self.seed = int(seed)
        self.maximize = maximize
        self.direction = None if maximize is None else ("maximize" if maximize else "minimize")
        self.allow_duplicates = bool(allow_duplicates)
        self.objectives = objectives
        self.constraints = constraints
        self._directions = directions
        self._objective_names = names
        self._signs = np.array([1.0 if d == "maximize" else -1.0 for d in directions])
        self._n_constraints: int | None = None  # fixed by the first complete tell
        self._excluded: set[str] = set()  # infeasible proposals of the current ask
        # known-before feasibility per canonical key (derived data, never persisted): valid
        # for the functions in _feasible_fns, reset when opt.constraints is reassigned
        self._feasible_fns: tuple[Any, ...] = ()
        self._feasible_cache: dict[str, bool] = {}
        self._rng = np.random.Generator(np.random.PCG64(self.seed))
        self._owner = uuid.uuid4().hex
        self._lock = threading.RLock()
        self._trials: dict[int, Trial] = {}
        self._pending: dict[int, None] = {}  # insertion-ordered set of pending ids
        self._told: list[int] = []  # ids in the order results arrived
        self._seen: dict[str, int] = {}  # canonical key -> id of the trial that holds it
        self._next_id = 0
        self._best_id: int | None = None
        # completed trials in tell order, kept incrementally so _history() is O(1) per call
        self._done_ids: list[int] = []
        self._done_archs: list[Any] = []
        self._done_scores = np.empty(64, dtype=float)
        self._done_matrix = np.empty((64, len(directions)), dtype=float)  # several objectives
        self._done_violation = np.zeros(64, dtype=float)
        self._front_cache: tuple[int, list[int]] | None = None
        # finite spaces: uniform sampling without replacement walks a seeded permutation
        self._perm_seed: int | None = None
        self._perm_pos = 0
        self._perm: np.ndarray | None = None
        if self.__dict__.get("_init_depth", 0) == 0:  # no subclass __init__ still running
            self._finish_init()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Wrap each subclass ``__init__`` so that :meth:`_finish_init` (which opens the
        journal, and needs the subclass options) runs once the outermost one returns."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_nasopt_wrapped", False):
            return

        @functools.wraps(init)
        def __init__(self: "Optimizer", *args: Any, **kw: Any) -> None:
            depth = self.__dict__.get("_init_depth", 0)
            self.__dict__["_init_depth"] = depth + 1
            try:
                init(self, *args, **kw)
            finally:
                self.__dict__["_init_depth"] = depth
            if depth == 0:
                self._finish_init()

        __init__._nasopt_wrapped = True  # type: ignore[attr-defined]
        cls.__init__ = __init__  # type: ignore[method-assign]

    def _finish_init(self) -> None:
        """Runs after the whole constructor: check that every option is stored
        (:meth:`get_params`), then attach (create or replay) the journal."""
        self.get_params()
        if self._journal_path is not None and self._journal is None:
            self._journal = _persistence().attach_journal(self, self._journal_path)

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
            self._check_open()
            snap = self._snapshot()
            try:
                archs = self._propose_feasible(k)
                trials = self._register_proposals(archs, k)
                self._after_ask(trials, snap)
            except BaseException:
                self._rollback(snap)
                raise
        return trials[0] if n is None else trials

    def tell(
        self,
        trial: Trial | Any,
        value: Any = None,
        *,
        failed: bool = False,
        error: str | None = None,
        user_attrs: dict[str, Any] | None = None,
        constraints: Sequence[Any] | None = None,
    ) -> Trial:
        """Report the result of a trial (or of an architecture that was never asked).

        Args:
            trial: A :class:`Trial` from :meth:`ask`, or an architecture of the space to
                warm-start from results obtained elsewhere. An architecture whose
                evaluations so far all failed may be told again (a retry: a new trial);
                one that already has a result needs ``allow_duplicates=True``.
            value: The objective value unless ``failed``: a finite real number, or a
                one-element array or tensor holding one (e.g. the 0-d ``torch.Tensor`` a
                training loop returns); see :func:`check_value`. With several objectives
                (``objectives=``): a sequence of one value per objective, or a dict keyed
                by the objective names.
            failed: The evaluation failed; the trial is recorded as ``FAILED``.
            error: Optional message kept with a failed trial.
            user_attrs: Optional JSON-able annotations added to the trial's
                :attr:`~Trial.user_attrs` (e.g. ``{"epochs": 12, "test_acc": 0.91}``).
            constraints: Constraint values measured with the result (Optuna's convention:
                ``<= 0`` is satisfied), finite numbers, as many at every tell of the run.
                An infeasible result is recorded (strategies that can learn from it), but
                never :attr:`best` nor on :attr:`pareto_front`.

        Returns:
            The finished trial record (its ``end_time`` is the time of this call).

        Raises:
            TrialError: unknown or foreign trial, trial told twice, bad value (wrong
                number of values, unknown objective name, non-finite), bad constraint
                values (non-finite, a count other than the earlier tells'), user
                attributes that are not JSON-able.
            InvalidArchitectureError: an architecture that is not a member of the space.
        """
        values = cons = None
        if failed:
            if value is not None:
                raise TrialError("a failed trial takes no value: call tell(trial, failed=True)")
            if constraints is not None:
                raise TrialError("a failed trial takes no constraint values")
        else:
            if value is None:
                raise TrialError("tell() needs a value, or failed=True for a failed evaluation")
            values = self._check_values(value)
            cons = None if constraints is None else check_constraint_values(constraints)
        attrs = None if user_attrs is None else check_user_attrs(user_attrs)
        with self._lock:
            self._check_open()
            if not failed:
                self._check_constraint_count(cons)
            stored, new = self._resolve_only(trial)
            done = stored._finished(None, failed, None if error is None else str(error),
                                    time.time(), attrs, values, cons)
            if self._journal is not None:  # durable before anything changes in memory
                self._journal.write_tell(self, done, new)
            if new:
                self._add_trial(stored, pending=False)
            self._record(done)
            self._after_tell(done)
            return done

    def set_user_attr(self, trial: Trial, key: str, value: Any) -> Trial:
        """Set the user attribute ``key`` of ``trial`` (pending or finished) to ``value``.

        The value must be JSON-able (it is kept in checkpoints and journals); it is stored
        in its JSON form. Attributes are records only: no strategy reads them.

        Returns:
            The updated trial record.

        Raises:
            TrialError: unknown or foreign trial, a key that is not a string, a value that
                is not JSON-able (the optimizer is then unchanged).
        """
        data = check_user_attr(key, value)
        with self._lock:
            self._check_open()
            stored = self._own_trial(trial)
            updated = replace(stored, user_attrs={**stored.user_attrs, key: data})
            if self._journal is not None:
                self._journal.write_attr(updated.id, key, data)
            self._trials[updated.id] = updated
            return updated

    def trials_dataframe(self) -> Any:
        """Every trial as a :class:`pandas.DataFrame`, one row per trial in id order.

        Columns: ``id``, ``arch`` (``space.to_data(arch)``: a string, or JSON text),
        ``state``, ``value``, ``error``, ``datetime_start``, ``datetime_complete`` (UTC
        timestamps), ``duration`` (seconds) and one ``user_attrs_<key>`` column per user
        attribute, as Optuna's ``Study.trials_dataframe``. Needs pandas
        (``pip install "nasopt[pandas]"``); :meth:`to_csv` does not.
        """
        from .table import trials_dataframe

        with self._lock:
            return trials_dataframe(self)

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write :meth:`trials_dataframe`'s table to a CSV file (no pandas needed):
        timestamps in ISO 8601 (UTC), lists and dicts as JSON, ``None`` as an empty cell."""
        from .table import write_csv

        with self._lock:
            write_csv(self, path)

    @property
    def best(self) -> Trial | None:
        """The best completed feasible trial so far (earliest on ties), or ``None``.

        Raises:
            ConfigurationError: the optimizer has several objectives (there is no single
                best: read :attr:`pareto_front`).
        """
        if len(self._directions) > 1:
            raise ConfigurationError(
                f"this optimizer has {len(self._directions)} objectives, so no single best "
                "trial: use opt.pareto_front (the non-dominated feasible trials)")
        with self._lock:
            return None if self._best_id is None else self._trials[self._best_id]

    @property
    def pareto_front(self) -> list[Trial]:
        """The completed feasible trials that no other one dominates, in tell order (with
        one objective: every trial tied with :attr:`best`). Trials with equal values are
        all on the front."""
        from .pareto import nondominated_mask

        with self._lock:
            n = len(self._done_ids)
            if self._front_cache is not None and self._front_cache[0] == n:
                return [self._trials[i] for i in self._front_cache[1]]
            feasible = np.flatnonzero(self._done_violation[:n] <= 0)
            scores = self._score_matrix(n)[feasible]
            ids = [self._done_ids[int(i)] for i in feasible[nondominated_mask(scores)]]
            self._front_cache = (n, ids)
            return [self._trials[i] for i in ids]

    @property
    def n_objectives(self) -> int:
        """The number of objectives (1 unless ``objectives=`` gives several)."""
        return len(self._directions)

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
            return [self._trials[i] for i in self._done_ids]

    def get_params(self) -> dict[str, Any]:
        """The constructor options of this optimizer, by name (scikit-learn's convention).

        Every named parameter of the ``__init__`` methods along the class's MRO
        (:func:`valid_options`) except ``space`` and the :attr:`runtime_arguments`
        (``journal``...), read from the attribute of
        the same name, which holds the constructor argument unchanged (a strategy keeps the
        values it derives from them, such as a default resolved for the space, in other,
        private attributes). ``type(self)(space, **opt.get_params())`` therefore builds the
        same strategy, and this is what checkpoints, journals and the Optuna / Ray adapters
        record: a subclass that adds an option and stores it as ``self.<name>`` is saved
        and reloaded with no further code. :class:`Optimizer`'s own options are the
        exception: ``seed`` is the seed in use (drawn when ``None`` was given),
        ``maximize`` and ``direction`` the resolved direction.

        Raises:
            ConfigurationError: an option is not stored under its name (raised by the
                constructor already, so a strategy cannot be built without it).
        """
        params: dict[str, Any] = {}
        missing = object()
        for name in valid_options(type(self)):
            if name in self.runtime_arguments:
                continue
            value = getattr(self, name, missing)
            if value is missing:
                label = getattr(type(self), "name", "") or type(self).__name__
                raise ConfigurationError(
                    f"strategy {label!r} ({type(self).__name__}) stores no attribute {name!r} "
                    f"for its constructor option {name!r}: nasopt reads a strategy's "
                    f"configuration from the attributes named as its constructor arguments "
                    f"(get_params), so store the argument unchanged as self.{name} (and any "
                    "value derived from it in another attribute)"
                )
            params[name] = value
        return params

    def _runtime_identity(self) -> dict[str, Any]:
        """What identifies the runtime arguments in use (JSON data, by argument name; empty
        when there are none): recorded in checkpoints and journal headers, and compared
        when a run is reopened, so that a run is never continued without (or with another
        of) the objects it was started with."""
        return {}

    def save(self, path: str) -> None:
        """Write a checkpoint (JSON; see :mod:`nasopt.persist.checkpoint`) that
        :func:`nasopt.load` turns back into an optimizer that continues exactly as this one.

        The file is replaced atomically (a crash while saving keeps the previous one), and a
        new file follows the umask.

        Raises:
            CheckpointError: the strategy's state holds something a file cannot store (the
                message names the key and its type).
            CheckpointIOError: the file cannot be written (read-only or full disk; also an
                ``OSError`` with the original ``errno``); the message names ``path``.
        """
        with self._lock:
            _persistence().save_checkpoint(self, path)

    @property
    def journal_path(self) -> str | None:
        """Path of the journal this optimizer appends to, or ``None``."""
        return self._journal_path

    def close(self) -> None:
        """Close the journal (releasing its file lock); the optimizer stays readable, but
        ``ask``/``tell`` then raise. Without a journal this does nothing."""
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._closed = True

    def __enter__(self) -> "Optimizer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        journal = self.__dict__.get("_journal")
        if journal is not None:
            try:
                journal.close()
            except Exception:  # noqa: BLE001 - never raise from a finalizer
                pass

    def __len__(self) -> int:
        with self._lock:
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

    # ================================================================ helpers for strategies
    def _score(self, value: float) -> float:
        """Objective value turned into "larger is better"."""
        return value if self.maximize else -value

    def _score_matrix(self, n: int) -> np.ndarray:
        """Scores (larger is better) of the first ``n`` completed trials, ``(n, m)``."""
        if len(self._directions) == 1:
            return self._done_scores[:n, None]
        return self._done_matrix[:n]

    def _recent_history_multi(self, k: int) -> tuple[list[Any], np.ndarray, np.ndarray]:
        """The ``k`` most recently completed architectures, their scores as an ``(n, m)``
        array (larger is better on each objective) and their total constraint violations
        (0 when feasible)."""
        with self._lock:
            n = len(self._done_ids)
            lo = max(0, n - k)
            return (self._done_archs[lo:], self._score_matrix(n)[lo:].copy(),
                    self._done_violation[lo:n].copy())

    def _history(self) -> tuple[list[Any], np.ndarray]:
        """Completed architectures (in tell order) and their scores (larger is better).
        With several objectives the scores are NaN (there is no scalar score): use
        :meth:`_recent_history_multi` there."""
        with self._lock:
            n = len(self._done_ids)
            return list(self._done_archs), self._done_scores[:n].copy()

    def _recent_history(self, k: int) -> tuple[list[Any], np.ndarray]:
        """The ``k`` most recently completed architectures (fewer while fewer are in) and
        their scores: the tail of :meth:`_history`, at a cost that grows with ``k``, not
        with the history."""
        with self._lock:
            n = len(self._done_ids)
            lo = max(0, n - k)
            return self._done_archs[lo:], self._done_scores[lo:n].copy()

    def _is_seen(self, arch: Any) -> bool:
        """True when an architecture with the same canonical hash was asked or told."""
        return self.space.key(arch) in self._seen

    def _seen_keys(self) -> set[str]:
        return set(self._seen) | self._excluded

    def _available(self, key: str, batch: Container[str]) -> bool:
        """Whether the architecture with canonical key ``key`` may be proposed now: not in
        ``batch`` (the keys already chosen by the current call), not found infeasible
        during this ask and, unless ``allow_duplicates``, never asked or told before."""
        return key not in batch and key not in self._excluded and (
            self.allow_duplicates or key not in self._seen)

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
            if not self._available(key, batch):
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
            key = key_of(i)
            if key not in self._seen and key not in self._excluded:
                out.append(i)
        if len(out) < n:
            raise SpaceExhaustedError(
                f"{self.space!r} has only {len(out)} unseen architectures left, {n} asked"
            )
        self._perm_pos = pos
        return np.array(out, dtype=np.int64)

    # ================================================================ internals
    def _check_values(self, value: Any) -> tuple[float, ...]:
        """The told ``value`` as one float per objective (TrialError otherwise)."""
        m = len(self._directions)
        names = self._objective_names
        if isinstance(value, dict):
            if names is None:
                raise TrialError(
                    "a dict of values needs objective names: create the optimizer with "
                    "objectives={'name': 'max', ...}, or tell a sequence of values")
            unknown = [k for k in value if k not in names]
            missing = [k for k in names if k not in value]
            if unknown or missing:
                raise TrialError(
                    "the values must be keyed by the objective names "
                    f"{list(names)}" + (f"; unknown: {unknown}" if unknown else "")
                    + (f"; missing: {missing}" if missing else ""))
            items = [value[k] for k in names]
        elif m == 1:
            return (check_value(value),)
        elif isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or (
                getattr(value, "ndim", 1) != 1):
            raise TrialError(
                f"this optimizer has {m} objectives: tell a sequence of {m} values (or a dict "
                f"keyed by the objective names), got {_short_repr(value)} "
                f"({type(value).__name__})")
        else:
            items = list(value)
            if len(items) != m:
                raise TrialError(
                    f"this optimizer has {m} objectives: tell {m} values, got {len(items)}")
        out = []
        for i, item in enumerate(items):
            try:
                out.append(check_value(item))
            except TrialError as exc:
                label = f"objective {names[i]!r}" if names else f"objective {i}"
                raise TrialError(f"{label}: {exc}") from None
        return tuple(out)

    def _check_constraint_count(self, cons: tuple[float, ...] | None) -> None:
        """TrialError when ``cons`` has another count than the earlier complete tells'."""
        count = 0 if cons is None else len(cons)
        if self._n_constraints is not None and count != self._n_constraints:
            raise TrialError(
                f"tell() got {count} constraint values, but the earlier results of this run "
                f"had {self._n_constraints}: every result takes the same constraints")

    def _propose_feasible(self, n: int) -> list[Any]:
        """``n`` proposals of the strategy that satisfy every ``constraints=`` function:
        the infeasible ones and those already accepted are excluded (:meth:`_available`
        refuses them) and the strategy is asked again for the rest. Feasibility comes from
        :meth:`_feasible_before` (each function runs at most once per architecture); a
        strategy that itself skips infeasible candidates (WeakNAS) is asked only once."""
        if not self.constraints:
            return self._propose(n)
        self._constraint_functions()
        self._excluded = set()  # accepted or infeasible in this ask
        out: list[Any] = []
        n_infeasible = 0
        try:
            while len(out) < n:
                try:
                    archs = self._propose(n - len(out))
                except SpaceExhaustedError as exc:
                    # a strategy that skips infeasible candidates itself rejects none here
                    rejected = (f", {n_infeasible} proposals violated the constraints"
                                if n_infeasible else "")
                    raise SpaceExhaustedError(
                        f"no feasible architecture left: {len(out)} of {n} found{rejected} "
                        f"({exc})") from None
                before = len(self._excluded)
                for arch in archs:
                    key = self.space.key(arch)
                    if key in self._excluded:
                        continue
                    self._excluded.add(key)
                    if self._feasible_before(arch, key):
                        out.append(arch)
                    else:
                        n_infeasible += 1
                if len(self._excluded) == before:
                    if len(archs) < n - len(out):  # the strategy ran out of candidates
                        raise SpaceExhaustedError(
                            f"no feasible architecture left: {len(out)} of {n} found, "
                            f"{n_infeasible} proposals violated the constraints")
                    raise RuntimeError(
                        f"{type(self).__name__} proposed only architectures excluded already "
                        "(infeasible or chosen); this is a bug in the strategy")
                if n_infeasible > MAX_REJECTIONS * n:
                    raise SpaceExhaustedError(
                        f"no feasible architecture left: {n_infeasible} proposals violated "
                        f"the constraints, {len(out)} of {n} found")
        finally:
            self._excluded = set()
        return out

    def _constraint_functions(self) -> tuple[Any, ...]:
        """The current ``constraints=`` functions (checked: :class:`ConfigurationError`
        otherwise); the feasibility cache of :meth:`_feasible_before` is emptied when they
        are not the very functions it was filled with (``opt.constraints`` reassigned, as
        after :func:`nasopt.load`, or the list changed in place)."""
        fns, known = self.constraints, self._feasible_fns
        if not (isinstance(fns, (list, tuple)) and len(fns) == len(known)
                and all(a is b for a, b in zip(fns, known))):
            self._feasible_fns = tuple(check_constraint_functions(fns))
            self._feasible_cache = {}
        return self._feasible_fns

    def _feasible_before(self, arch: Any, key: str | None = None) -> bool:
        """Whether ``arch`` (canonical key ``key``, computed when not given) satisfies every
        known-before ``constraints=`` function (``True`` without constraints).

        The functions are deterministic functions of the architecture, so each result is
        cached per canonical key across asks: every function runs at most once per
        architecture (until ``opt.constraints`` is reassigned). The cache is derived data,
        never persisted and rebuilt lazily after a load; it only memoizes, so a run
        proposes the same whether it is warm or not (a failed ask keeps the entries it
        computed: they are true whatever happens next). Errors as :meth:`_is_feasible`."""
        if not self.constraints:
            return True
        fns = self._constraint_functions()
        if key is None:
            key = self.space.key(arch)
        ok = self._feasible_cache.get(key)
        if ok is None:
            ok = self._feasible_cache[key] = self._is_feasible(arch, list(fns))
        return ok

    def _feasible_index(self, i: int, key: str | None = None) -> bool:
        """Finite spaces: :meth:`_feasible_before` of the member at index ``i`` (canonical
        key ``key``), building the member only when its result is not cached."""
        if not self.constraints:
            return True
        self._constraint_functions()
        if key is None:
            key = self.space.key_of_index(i)
        ok = self._feasible_cache.get(key)
        return self._feasible_before(self.space[i], key) if ok is None else ok

    def _feasible_mask(self, indices: np.ndarray) -> np.ndarray:
        """Finite spaces: :meth:`_feasible_index` of each of ``indices``, as a boolean array
        (all ``True`` without constraints)."""
        idx = np.asarray(indices, dtype=np.int64)
        if not self.constraints:
            return np.ones(len(idx), dtype=bool)
        return np.fromiter(map(self._feasible_index, idx.tolist()), dtype=bool, count=len(idx))

    def _is_feasible(self, arch: Any, fns: list[Any]) -> bool:
        """Whether every constraint function gives ``<= 0`` on ``arch``
        (:class:`ConfigurationError` naming the function and the architecture when one
        raises or returns something other than a finite number)."""
        for fn in fns:
            try:
                result = fn(arch)
            except Exception as exc:  # noqa: BLE001 - reported with its context
                raise ConfigurationError(
                    f"constraint function {_function_name(fn)} raised "
                    f"{type(exc).__name__}: {exc} on architecture {_short_repr(arch)}"
                ) from exc
            try:
                number = check_value(result)
            except TrialError:
                raise ConfigurationError(
                    f"constraint function {_function_name(fn)} returned {_short_repr(result)} "
                    f"on architecture {_short_repr(arch)}: it must return a finite number "
                    "(<= 0 when feasible)"
                ) from None
            if number > 0:
                return False
        return True

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
        now = time.time()
        for arch, key in zip(archs, keys):
            t = Trial(id=self._next_id, arch=arch, key=key, owner=self._owner, start_time=now)
            self._add_trial(t, pending=True)
            trials.append(t)
        return trials

    def _add_trial(self, t: Trial, pending: bool) -> None:
        """Store a new trial (its id must be the next one)."""
        if t.id != self._next_id:
            raise RuntimeError(f"trial id {t.id} out of sequence (next is {self._next_id})")
        self._next_id += 1
        self._trials[t.id] = t
        if pending:
            self._pending[t.id] = None
        self._hold_key(t, pending)

    def _hold_key(self, t: Trial, pending: bool) -> None:
        """Record ``t`` as the holder of its canonical key: the first trial of a key holds
        it, except that a result told after a failed one (a retry, not ``pending``) takes
        over, so that a later result for the key is refused again."""
        holder = self._seen.get(t.key)
        if holder is None or (not pending and self._trials[holder].is_failed):
            self._seen[t.key] = t.id

    def _resolve(self, trial: Any) -> Trial:
        """The stored pending trial that a tell() refers to (creating one for a warm start)."""
        t, new = self._resolve_only(trial)
        if new:
            self._add_trial(t, pending=False)
        return t

    def _own_trial(self, trial: Any) -> Trial:
        """The stored record of ``trial``, a :class:`Trial` of this run (else TrialError)."""
        if not isinstance(trial, Trial):
            raise TrialError(f"expected a Trial of this optimizer, got {type(trial).__name__}")
        if trial.owner != self._owner:
            raise TrialError(
                f"trial #{trial.id} was not asked by this optimizer (it belongs to another run)"
            )
        stored = self._trials.get(trial.id)
        if stored is None:
            raise TrialError(f"trial #{trial.id} is unknown to this optimizer")
        return stored

    def _resolve_only(self, trial: Any) -> tuple[Trial, bool]:
        """``(trial, is_new)`` for a tell(), storing nothing: the pending trial it refers to,
        or a new trial (next id) for an architecture told without being asked."""
        if isinstance(trial, Trial):
            stored = self._own_trial(trial)
            if not stored.is_pending:
                raise TrialError(
                    f"trial #{trial.id} was already told ({stored.state.value}"
                    + (f", value {stored.value}" if stored.is_complete else "")
                    + "); a trial is told once"
                )
            return stored, False
        arch = self.space.validate(trial)
        key = self.space.key(arch)
        holder = self._seen.get(key)
        if holder is not None:
            held = self._trials[holder]
            if held.is_pending:
                return held, False
            if not self.allow_duplicates and not held.is_failed:
                raise TrialError(
                    f"architecture {arch!r} was already evaluated as trial #{holder} "
                    f"({held.state.value}); pass allow_duplicates=True to record it again"
                )
        return Trial(id=self._next_id, arch=arch, key=key, owner=self._owner), True

    def _record(self, done: Trial) -> None:
        """Store a finished trial: history, best, pending set."""
        self._trials[done.id] = done
        self._pending.pop(done.id, None)
        self._append_told(done)

    def _append_told(self, done: Trial) -> None:
        """Append a finished trial to the tell order (history and best)."""
        self._told.append(done.id)
        if done.is_complete:
            n = len(self._done_ids)
            if n == len(self._done_scores):
                grown = np.empty(2 * n, dtype=float)
                grown[:n] = self._done_scores
                self._done_scores = grown
                grown_v = np.zeros(2 * n, dtype=float)
                grown_v[:n] = self._done_violation
                self._done_violation = grown_v
                if len(self._directions) > 1:
                    grown_m = np.empty((2 * n, len(self._directions)), dtype=float)
                    grown_m[:n] = self._done_matrix
                    self._done_matrix = grown_m
            if self._n_constraints is None:
                self._n_constraints = 0 if done.constraints is None else len(done.constraints)
            self._done_violation[n] = done.violation
            self._done_ids.append(done.id)
            self._done_archs.append(done.arch)
            if len(self._directions) > 1:
                self._done_matrix[n] = self._signs * np.asarray(done.values)
                self._done_scores[n] = np.nan  # no scalar score with several objectives
                return
            score = self._score(done.value)
            self._done_scores[n] = score
            if done.feasible and (
                    self._best_id is None
                    or score > self._score(self._trials[self._best_id].value)):
                self._best_id = done.id

    def _check_open(self) -> None:
        if self.__dict__.get("_closed"):
            raise CheckpointError(
                f"this optimizer's journal {self._journal_path} was closed; reopen it with the "
                "same constructor arguments to continue the run"
            )

    def _state_json(self) -> str:
        """The strategy state as canonical JSON (also a deep copy for rollbacks), encoded by
        :func:`nasopt.core.jsondata.dumps`: JSON data and numpy values only, else
        :class:`~nasopt.core.errors.CheckpointError` naming the strategy and the key."""
        label = self.name or type(self).__name__
        return dumps(self._get_state(), f"strategy {label!r} state (_get_state())",
                     CheckpointError, sort_keys=True)

    def _state_copy(self) -> Any:
        """:meth:`_state_json`, or a deep copy when the state is not JSON-able (allowed
        without a journal: only :meth:`save` and the journal need JSON)."""
        try:
            return self._state_json()
        except CheckpointError:
            if self._journal is not None:
                raise
            return _Opaque(copy.deepcopy(self._get_state()))

    def _snapshot(self) -> dict:
        """What :meth:`ask` may change, captured before it runs (see :meth:`_rollback`).
        The strategy state: its :meth:`_quick_state` without a journal when the strategy
        has one, else :meth:`_state_copy` (the journal compares that JSON after the ask)."""
        quick = self._quick_state() if self._journal is None else None
        return {
            "rng": self._rng.bit_generator.state,
            "perm": (self._perm_seed, self._perm_pos, self._perm),
            "next_id": self._next_id,
            "state": self._state_copy() if quick is None else _Quick(quick),
        }

    def _quick_state(self) -> Any:
        """A strategy's cheap copy of what :meth:`_propose` may change in its state, for
        :meth:`_rollback` to give back to :meth:`_restore_quick_state`; ``None`` (the
        default): the state is copied through :meth:`_get_state` as JSON, which costs what
        encoding it costs at every :meth:`ask`."""
        return None

    def _restore_quick_state(self, state: Any) -> None:
        """Restore the strategy state from what :meth:`_quick_state` returned."""
        raise NotImplementedError(f"{type(self).__name__} has a _quick_state to restore")

    def _rollback(self, snap: dict) -> None:
        """Undo a failed :meth:`ask`: drop the trials it registered, restore the random
        generator, the permutation walk and the strategy state."""
        for i in range(snap["next_id"], self._next_id):
            t = self._trials.pop(i, None)
            self._pending.pop(i, None)
            if t is not None and self._seen.get(t.key) == i:
                del self._seen[t.key]
        self._next_id = snap["next_id"]
        self._rng.bit_generator.state = snap["rng"]
        self._perm_seed, self._perm_pos, self._perm = snap["perm"]
        before = snap["state"]
        if isinstance(before, _Quick):
            self._restore_quick_state(before.state)
        elif isinstance(before, _Opaque):
            self._set_state(copy.deepcopy(before.state))
        elif self._state_copy() != before:
            self._set_state(json.loads(before))

    def _after_ask(self, trials: list[Trial], snap: dict | None = None) -> None:
        """Hook for the persistence layer (journal); strategies use :meth:`_propose`."""
        if self._journal is not None:
            state = self._state_json()
            unchanged = snap is not None and state == snap["state"]
            self._journal.write_ask(self, trials, None if unchanged else state)

    def _after_tell(self, trial: Trial) -> None:
        self._on_tell(trial)


class PersistenceLayer(Protocol):
    """What :class:`Optimizer` needs from the persistence layer (:mod:`nasopt.persist`,
    which sits above ``core`` and registers itself with :func:`register_persistence` when
    imported; ``import nasopt`` imports it)."""

    def save_checkpoint(self, opt: "Optimizer", path: str) -> None: ...  # noqa: D102
    def journal_seed(self, path: str) -> int | None: ...  # noqa: D102
    def attach_journal(self, opt: "Optimizer", path: str) -> Any: ...  # noqa: D102


_PERSISTENCE: PersistenceLayer | None = None


def register_persistence(layer: PersistenceLayer) -> None:
    """Install the persistence layer behind :meth:`Optimizer.save` and ``journal=`` (called
    by :mod:`nasopt.persist`, so that ``core`` imports nothing above it)."""
    global _PERSISTENCE
    _PERSISTENCE = layer


def _persistence() -> PersistenceLayer:
    if _PERSISTENCE is None:  # pragma: no cover - importing nasopt.core imports nasopt
        raise RuntimeError("nasopt.persist is not imported: import nasopt first")
    return _PERSISTENCE


class _Quick:
    """A strategy's :meth:`Optimizer._quick_state`, kept for a rollback."""

    def __init__(self, state: Any) -> None:
        self.state = state


class _Opaque:
    """A strategy state that is not JSON-able, kept as a deep copy for rollbacks."""

    def __init__(self, state: Any) -> None:
        self.state = state
