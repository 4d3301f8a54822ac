"""The one encoder / decoder of what checkpoints and journals store.

A checkpoint (:mod:`nasopt.persist.checkpoint`) and a journal (:mod:`nasopt.persist.journal`)
are two layouts of the same records, built and read here only:

* the **identity** of a run (:func:`identity`): strategy name, its options
  (:func:`strategy_options`: :meth:`~nasopt.core.optimizer.Optimizer.get_params` less the
  base options), the space config, seed, direction, duplicates setting and run token: the
  checkpoint's top-level fields and the journal's header. :func:`options_match` compares
  the options of a file with an optimizer (tolerant of files written by earlier releases),
  :func:`rebuild` builds the optimizer a file describes;
* the **strategy state** (:func:`strategy_state`) through the value encoder of
  :mod:`nasopt.core.jsondata` (JSON data and numpy values, anything else a nasopt error);
* the **trial record** (:func:`trial_record` / :func:`trial_from_record`), the result
  check shared with the journal's tell records (:func:`check_result`) and the **ask
  record** (:func:`ask_record`: proposals and random state after an ask);
* the **random state** (:func:`check_rng`, :func:`check_perm`) and the ids and counters
  (:func:`check_count`), which must be non-negative JSON integers;
* :func:`io_error`, the :class:`~nasopt.core.errors.CheckpointIOError` of a file that
  cannot be read or written.

The Optuna sampler and the Ray searcher record and rebuild their optimizer through these
functions too.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

from ..core.errors import CheckpointError, CheckpointIOError, ConfigurationError, NasoptError
from ..core.jsondata import to_data
from ..core.optimizer import (
    AUTO_PRIOR, BASE_OPTIONS, NO_DEFAULT, UNRECORDED_OPTIONS, check_value, option_defaults,
)
from ..core.registry import strategy_class
from ..core.space import SearchSpace, space_of_file
from ..core.trial import Trial, TrialState, check_time, check_user_attrs

if TYPE_CHECKING:  # pragma: no cover
    from ..core.optimizer import Optimizer

#: The fields of a run's identity: a journal reopened by an optimizer must match them.
IDENTITY = ("strategy", "space", "options", "seed", "maximize", "allow_duplicates")


def strategy_options(opt: "Optimizer") -> dict:
    """The ``options`` of a checkpoint or journal header: :meth:`Optimizer.get_params`
    less :class:`Optimizer`'s own options (recorded in fields of their own), as JSON data.

    Raises:
        ConfigurationError: an option that a file cannot store (an object, a set...),
            naming the strategy and the option.
    """
    label = opt.name or type(opt).__name__
    return {name: to_data(value, f"strategy {label!r} option {name!r}", ConfigurationError)
            for name, value in opt.get_params().items()
            if name not in BASE_OPTIONS and name not in UNRECORDED_OPTIONS}


def strategy_state(opt: "Optimizer") -> Any:
    """``opt._get_state()`` as JSON data (the encoder of :mod:`nasopt.core.jsondata`)."""
    return json.loads(opt._state_json())


def options_match(recorded: Any, opt: "Optimizer") -> bool:
    """True when the ``options`` recorded in a file describe the configuration of ``opt``.

    An option absent from the record (a file written before the option existed, or one
    that omitted a default) matches when ``opt`` has it at its default; a recorded value
    that differs from the argument matches when it equals the value ``opt`` resolved from
    it, kept by convention in the attribute ``_<name>`` (files written before options
    were recorded as given hold the resolved ``init``, ``batch``...).
    """
    if not isinstance(recorded, dict):
        return False
    current = strategy_options(opt)
    if set(recorded) - set(current):
        return False
    defaults = option_defaults(type(opt))
    label = opt.name or type(opt).__name__
    for name, value in current.items():
        if name not in recorded:
            default = defaults.get(name, NO_DEFAULT)
            if default is NO_DEFAULT or value != to_data(default, f"{label} default {name}",
                                                         ConfigurationError):
                return False
        elif recorded[name] != value:
            resolved = getattr(opt, "_" + name, NO_DEFAULT)
            try:
                if resolved is NO_DEFAULT or recorded[name] != to_data(
                        resolved, name, ConfigurationError):
                    return False
            except ConfigurationError:
                return False
    return True


def identity(opt: "Optimizer") -> dict:
    """The fields that describe the run of ``opt`` (:data:`IDENTITY`, and the run token
    ``owner``), as JSON data: a checkpoint's top level and a journal's header."""
    return {
        "strategy": opt.name,
        "options": strategy_options(opt),
        "space": to_data(opt.space.config(), "the space config", ConfigurationError),
        "seed": opt.seed,
        "maximize": opt.maximize,
        "allow_duplicates": opt.allow_duplicates,
        "owner": opt._owner,
        **runtime_identity(opt),
    }


def runtime_identity(opt: "Optimizer") -> dict:
    """What identifies the runtime arguments of ``opt`` (``prior``...; see
    :attr:`Optimizer.runtime_arguments`), as JSON data; only those in use, so files of runs
    without them are unchanged."""
    return {name: to_data(value, f"runtime argument {name!r}", ConfigurationError)
            for name, value in opt._runtime_identity().items() if value is not None}


def runtime_diffs(recorded: dict, opt: "Optimizer", source: str = "journal") -> list[str]:
    """The runtime arguments (``prior``...) whose identity recorded in a file differs from
    that of ``opt``, one line each, saying that they must be passed again."""
    current = runtime_identity(opt)

    def hint(name: str) -> str:
        mine = current.get(name)
        if name == "prior" and recorded.get(name) is None and isinstance(mine, dict) and mine.get("auto"):
            return ("this run was made without a prior, and prior='auto' (the default) chose one "
                    "for this space: pass prior=None to continue it")
        return f"a {name} is not stored in files: pass {name}= again, the same one, when reopening"

    return [
        f"{name}: {source} has {recorded.get(name)!r}, this optimizer {current.get(name)!r} "
        f"({hint(name)})"
        for name in type(opt).runtime_arguments if name != "journal"
        if recorded.get(name) != current.get(name)
    ]


def identity_diffs(recorded: dict, opt: "Optimizer") -> list[str]:
    """What differs between the identity ``recorded`` in a file and that of ``opt``, one
    ``"field: file has ..., this optimizer ..."`` line per field (empty when they match)."""
    expected = identity(opt)
    return [
        f"{field}: journal has {recorded.get(field)!r}, this optimizer {expected[field]!r}"
        for field in IDENTITY
        if recorded.get(field) != expected[field]
        and not (field == "options" and options_match(recorded.get(field), opt))
    ] + runtime_diffs(recorded, opt)


#: The adapters' default ``prior=``: the strategy's own default (``"auto"`` for WeakNAS,
#: none for ReNAS), and on restore what the file recorded.
DEFAULT_PRIOR = "default"


def prior_kw(prior: Any, strategy: str | type) -> dict:
    """The ``prior=`` constructor argument of ``strategy`` (registered name or class):
    ``{}`` (the constructor's default) for :data:`DEFAULT_PRIOR`, and for ``None`` when the
    strategy takes no prior; else ``{"prior": prior}`` (a strategy without priors then
    refuses it)."""
    if is_default_prior(prior):
        return {}
    cls = strategy_class(strategy) if isinstance(strategy, str) else strategy
    if prior is None and "prior" not in cls.runtime_arguments:
        return {}
    return {"prior": prior}


def is_default_prior(prior: Any) -> bool:
    """Whether ``prior`` is :data:`DEFAULT_PRIOR` (the strategy's own default)."""
    return isinstance(prior, str) and prior == DEFAULT_PRIOR


def recorded_prior(recorded: dict, prior: Any) -> Any:
    """The ``prior=`` to rebuild a run from a file with: the caller's when given, else
    ``"auto"`` when the file's run chose its prior that way (recomputed identically), else
    ``None`` (no prior; a file of a run with another prior then refuses to load)."""
    if prior is not None and not is_default_prior(prior):
        return prior
    rec = recorded.get("prior")
    return AUTO_PRIOR if isinstance(rec, dict) and rec.get("auto") is True else None


def rebuild(recorded: dict, space: SearchSpace | None, trusted: bool, source: str,
            fail: Callable[[Exception], CheckpointError], prior: Any = None,
            **extra: Any) -> "Optimizer":
    """The optimizer that the identity ``recorded`` in a file describes, built with its
    strategy, options, seed and direction (``extra``: more constructor arguments, such as
    ``journal=``), with the file's run token.

    Args:
        recorded: The identity fields (:func:`identity`).
        space: The space from the caller, for spaces that cannot be rebuilt from a config.
        trusted: As in :func:`nasopt.load`.
        source: The file, for the messages of :func:`~nasopt.core.space.space_of_file`.
        fail: Turns an exception of the constructor (a bad option, an unknown strategy)
            into the caller's :class:`CheckpointError`.
        prior: The caller's ``prior=`` (:func:`recorded_prior`: ``None`` takes the file's
            ``"auto"``, else no prior).
    """
    space = space_of_file(recorded["space"], space, trusted, source)
    try:
        cls = strategy_class(recorded["strategy"])
        options = recorded["options"]
        if not isinstance(options, dict):
            raise TypeError(f"options must be a JSON object, got {options!r}")
        opt = cls(space, seed=recorded["seed"], maximize=recorded["maximize"],
                  allow_duplicates=recorded["allow_duplicates"], **options, **extra,
                  **prior_kw(recorded_prior(recorded, prior), cls))
        opt._owner = str(recorded["owner"])
        diffs = runtime_diffs(recorded, opt, "the file")
        if diffs:
            raise CheckpointError(f"{source}: " + "; ".join(diffs))
    except CheckpointError:
        raise
    except (NasoptError, KeyError, TypeError, ValueError, IndexError, AttributeError,
            RuntimeError, OverflowError) as exc:
        raise fail(exc) from exc
    return opt


def ask_record(opt: "Optimizer", trials: list[Trial]) -> dict:
    """The record of an ask of ``trials`` by ``opt``: the proposed architectures and the
    random state after it (a journal line, without the strategy state that the journal adds
    when it changed; :func:`nasopt.persist.journal.replay` applies it without calling the
    strategy)."""
    return {
        "e": "ask",
        "trials": [[t.id, opt.space.to_data(t.arch)] for t in trials],
        "rng": opt._rng.bit_generator.state,
        "perm": [opt._perm_seed, opt._perm_pos],
        "time": trials[0].start_time,
    }


def trial_record(space: SearchSpace, t: Trial) -> dict:
    """A finished or pending trial as a checkpoint stores it."""
    return {
        "id": t.id,
        "arch": space.to_data(t.arch),
        "state": t.state.value,
        "value": t.value,
        "error": t.error,
        "start_time": t.start_time,
        "end_time": t.end_time,
        "user_attrs": dict(t.user_attrs),
        **result_extras(t),
    }


def result_extras(t: Trial) -> dict:
    """The fields of a result beyond ``value``, present only when used (so files of
    single-objective runs without constraints keep their layout): ``values`` with several
    objectives, ``constraints`` when constraint values were told."""
    extra: dict = {}
    if t.values is not None and len(t.values) > 1:
        extra["values"] = list(t.values)
    if t.constraints is not None:
        extra["constraints"] = list(t.constraints)
    return extra


def read_result(rec: dict) -> tuple[float | None, tuple[float, ...] | None,
                                    tuple[float, ...] | None]:
    """``(value, values, constraints)`` of a trial or tell record (:func:`result_extras`),
    each number checked finite (``ValueError`` / ``TrialError`` otherwise)."""
    value = rec.get("value")
    value = None if value is None else check_value(value)
    values = rec.get("values")
    if values is not None:
        if not isinstance(values, list) or len(values) < 2 or value is not None:
            raise ValueError(f"values must be a list of 2 or more numbers (and value null), "
                             f"got {values!r}")
        values = tuple(check_value(v) for v in values)
    cons = rec.get("constraints")
    if cons is not None:
        if not isinstance(cons, list):
            raise ValueError(f"constraints must be a list of numbers, got {cons!r}")
        cons = tuple(check_value(c) for c in cons)
    return value, values, cons


def check_result(state: TrialState, value: float | None,
                 values: tuple[float, ...] | None = None) -> None:
    """A trial is complete exactly when it has a value (else ``ValueError``)."""
    if (state is TrialState.COMPLETE) != (value is not None or values is not None):
        raise ValueError(f"{state.value} trial with value {value!r}")


def decode_archs(space: SearchSpace, datas: list[Any]) -> list[Any] | None:
    """The validated architectures of ``datas`` in one batch
    (:meth:`~nasopt.core.space.SearchSpace.from_data_many`, with their keys computed
    together by :meth:`~nasopt.core.space.SearchSpace.keys`), or ``None`` when any item
    fails: the caller then decodes item by item, and reports the failing record as it
    always did."""
    try:
        archs = space.from_data_many(datas)
        space.keys(archs)
    except Exception:  # noqa: BLE001 - the per-item path raises the right error for it
        return None
    return archs if len(archs) == len(datas) else None


def trial_from_record(space: SearchSpace, rec: dict, owner: str, arch: Any = None) -> Trial:
    """The trial of a :func:`trial_record` (files written before ``start_time``,
    ``end_time`` and ``user_attrs`` existed load with ``None`` times and no attributes).
    ``arch``: the record's architecture, already decoded and validated by
    :func:`decode_archs`."""
    if arch is None:
        arch = space.from_data(rec["arch"])
        space.validate(arch)
    state = TrialState(rec["state"])
    value, values, cons = read_result(rec)
    try:
        check_result(state, value, values)
    except ValueError:
        raise CheckpointError(
            f"corrupted checkpoint: trial #{rec['id']} is {state.value} with value {rec['value']!r}"
        ) from None
    return Trial(
        id=check_count(rec["id"], "trial id"), arch=arch, state=state, value=value,
        error=rec["error"], key=space.key(arch), owner=owner,
        start_time=check_time("start_time", rec.get("start_time")),
        end_time=check_time("end_time", rec.get("end_time")),
        user_attrs=check_user_attrs(rec.get("user_attrs", {})), values=values, constraints=cons,
    )


def check_count(value: Any, what: str) -> int:
    """``value`` if it is a non-negative integer (an id or counter read from a file), else
    ``ValueError`` naming ``what``: ``9.5``, ``-1``, ``true`` and ``1e400`` (read as
    ``inf``) are damage, never rounded."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return value


def check_perm(perm: Any) -> tuple[int | None, int]:
    """The ``[seed or null, position]`` pair of the finite-space sampling permutation."""
    if not isinstance(perm, list) or len(perm) != 2:
        raise ValueError(f"perm must be [seed or null, position], got {perm!r}")
    seed, pos = perm
    return (None if seed is None else check_count(seed, "perm seed"),
            check_count(pos, "perm position"))


def check_rng(state: Any) -> Any:
    """``state`` (a numpy bit-generator state) if every number in it is a non-negative
    integer: numpy itself would truncate ``9.5`` silently."""
    if isinstance(state, dict):
        for key, value in state.items():
            if not isinstance(value, (str, dict)):
                check_count(value, f"rng {key}")
            check_rng(value)
    return state


def io_error(what: str, exc: OSError, hint: str = "") -> CheckpointIOError:
    """A :class:`CheckpointIOError` for ``exc``: ``what`` (naming the checkpoint or journal,
    never a temporary file), the reason, then ``hint``; ``errno`` is kept."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    err = CheckpointIOError(f"{what}: {reason}{hint}")
    err.errno = exc.errno
    return err
