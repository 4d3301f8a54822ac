"""Checkpoints: a documented JSON format, never a pickle.

A checkpoint is one JSON object (gzip-compressed when the path ends in ``.gz``)::

    {
      "format": "nasopt-checkpoint", "version": 1,
      "strategy": "rea",                 # registry name of the strategy
      "options": {...},                  # its constructor keyword arguments
      "space": {"type": "nb201", ...},   # SearchSpace.config()
      "seed": 0, "maximize": true, "allow_duplicates": false,
      "owner": "<hex token of the run>", "next_id": 12,
      "rng": {...},                      # numpy PCG64 bit-generator state
      "perm": [seed or null, position],  # finite-space sampling without replacement
      "trials": [{"id", "arch" (space.to_data), "state", "value", "error",
                  "start_time", "end_time" (seconds since the epoch or null),
                  "user_attrs" ({key: JSON value})}, ...],
      "told": [ids in the order results arrived],
      "strategy_state": {...}            # Optimizer._get_state()
    }

``start_time``, ``end_time`` and ``user_attrs`` were added after version 1 was first
released: a checkpoint without them loads with ``None`` times and no user attributes.

Files are written atomically (temporary file, fsync, rename), so a crash while saving
leaves the previous checkpoint intact. The temporary file is named after the checkpoint
(``.<name>.nasopt-<host>-<pid>-<random>.tmp`` next to it); one left behind by a save that
was killed (its process is gone) is removed by the next successful save of the same
checkpoint. A new checkpoint gets the permissions a plain ``open`` would give it (``0o666``
less the umask); an existing one keeps its permissions.

Loading checks every id and counter (trial ids, ``next_id``, ``told``, ``perm``, the
generator state): each must be a non-negative JSON integer, so ``9.5``, ``-1`` or
``1e400`` make the file a :class:`~nasopt.core.errors.CheckpointError`, like any other
damage.
"""

from __future__ import annotations

import errno as _errno
import gzip
import json
import os
import secrets
import socket
import stat
import zlib
from typing import TYPE_CHECKING, Any

from .space import SearchSpace, space_of_file
from .errors import CheckpointError, CheckpointIOError, ConfigurationError, NasoptError
from .jsondata import to_data
from .registry import strategy_class
from .optimizer import BASE_OPTIONS, NO_DEFAULT, check_value, option_defaults
from .trial import Trial, TrialState, check_time, check_user_attrs

#: First line of a journal (see :mod:`nasopt.core.journal`), told apart from a checkpoint.
_JOURNAL_MARK = b'"nasopt-journal"'

if TYPE_CHECKING:  # pragma: no cover
    from .optimizer import Optimizer

FORMAT = "nasopt-checkpoint"
VERSION = 1


def strategy_options(opt: "Optimizer") -> dict:
    """The ``options`` of a checkpoint or journal header: :meth:`Optimizer.get_params`
    less :class:`Optimizer`'s own options (recorded in fields of their own), as JSON data.

    Raises:
        ConfigurationError: an option that a file cannot store (an object, a set...),
            naming the strategy and the option.
    """
    label = opt.name or type(opt).__name__
    return {name: to_data(value, f"strategy {label!r} option {name!r}", ConfigurationError)
            for name, value in opt.get_params().items() if name not in BASE_OPTIONS}


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


def state_dict(opt: "Optimizer") -> dict:
    """Everything needed to rebuild ``opt`` exactly, as JSON-able data."""
    space = opt.space
    return {
        "format": FORMAT,
        "version": VERSION,
        "strategy": opt.name,
        "options": strategy_options(opt),
        "space": space.config(),
        "seed": opt.seed,
        "maximize": opt.maximize,
        "allow_duplicates": opt.allow_duplicates,
        "owner": opt._owner,
        "next_id": opt._next_id,
        "rng": opt._rng.bit_generator.state,
        "perm": [opt._perm_seed, opt._perm_pos],
        "trials": [
            {
                "id": t.id,
                "arch": space.to_data(t.arch),
                "state": t.state.value,
                "value": t.value,
                "error": t.error,
                "start_time": t.start_time,
                "end_time": t.end_time,
                "user_attrs": dict(t.user_attrs),
            }
            for t in (opt._trials[i] for i in sorted(opt._trials))
        ],
        "told": list(opt._told),
        "strategy_state": strategy_state(opt),
    }


def from_state_dict(data: Any, space: SearchSpace | None = None, trusted: bool = False) -> "Optimizer":
    """Rebuild an optimizer from :func:`state_dict` output. ``space`` is needed when the
    checkpoint's space cannot be rebuilt from its config (user-defined spaces, a
    ``ProductSpace`` with a validity rule); ``trusted`` as in :func:`load`."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError("not a nasopt checkpoint (missing format marker)")
    if data.get("version") != VERSION:
        raise CheckpointError(f"unsupported checkpoint version {data.get('version')!r}")
    if "space" not in data:
        raise CheckpointError("corrupted checkpoint: no search space config")
    space = space_of_file(data["space"], space, trusted, "the checkpoint")
    try:
        cls = strategy_class(data["strategy"])
        opt = cls(
            space,
            seed=data["seed"],
            maximize=data["maximize"],
            allow_duplicates=data["allow_duplicates"],
            **data["options"],
        )
        opt._owner = str(data["owner"])
        opt._next_id = check_count(data["next_id"], "next_id")
        opt._rng.bit_generator.state = check_rng(data["rng"])
        opt._perm_seed, opt._perm_pos = check_perm(data["perm"])
        for rec in data["trials"]:
            arch = space.from_data(rec["arch"])
            space.validate(arch)
            state = TrialState(rec["state"])
            value = None if rec["value"] is None else check_value(rec["value"])
            if (state is TrialState.COMPLETE) != (value is not None):
                raise CheckpointError(
                    f"corrupted checkpoint: trial #{rec['id']} is {state.value} "
                    f"with value {rec['value']!r}"
                )
            t = Trial(
                id=check_count(rec["id"], "trial id"), arch=arch, state=state, value=value,
                error=rec["error"], key=space.key(arch), owner=opt._owner,
                start_time=check_time("start_time", rec.get("start_time")),
                end_time=check_time("end_time", rec.get("end_time")),
                user_attrs=check_user_attrs(rec.get("user_attrs", {})),
            )
            if t.id in opt._trials or not 0 <= t.id < opt._next_id:
                raise CheckpointError(
                    f"corrupted checkpoint: trial id {t.id} repeated or beyond next_id {opt._next_id}"
                )
            opt._trials[t.id] = t
            opt._seen.setdefault(t.key, t.id)
            if t.is_pending:
                opt._pending[t.id] = None
        told = [check_count(i, "told id") for i in data["told"]]
        finished = {t.id for t in opt._trials.values() if not t.is_pending}
        if len(set(told)) != len(told) or set(told) != finished:
            raise CheckpointError(
                "corrupted checkpoint: the tell order does not list each finished trial once"
            )
        for i in told:
            opt._append_told(opt._trials[i])
        opt._set_state(data["strategy_state"])
    except CheckpointError:
        raise
    except (NasoptError, KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError,
            OverflowError) as exc:
        raise CheckpointError(f"corrupted checkpoint: {type(exc).__name__}: {exc}") from exc
    return opt


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


def _open(path: str, mode: str, gz: bool | None = None):
    if str(path).endswith(".gz") if gz is None else gz:
        return gzip.open(path, mode + "t", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def save_checkpoint(opt: "Optimizer", path: str) -> None:
    """Write ``opt`` to ``path`` atomically (see the module docstring).

    Raises:
        CheckpointIOError: the file cannot be written (read-only directory, full disk...);
            the message names ``path``, and the previous checkpoint, if any, is intact.
        CheckpointError: ``path`` exists and is not a regular file.
    """
    path = os.fspath(path)
    gz = path.endswith(".gz")
    body = json.dumps(state_dict(opt), allow_nan=False).encode("utf-8")
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    try:
        fd, tmp = _create_temp(directory, base, _target_mode(path))
    except OSError as exc:
        raise io_error(f"cannot write checkpoint {path}", exc) from exc
    try:
        with os.fdopen(fd, "wb") as raw:
            if gz:
                with gzip.GzipFile(filename=base, mode="wb", fileobj=raw) as zipped:
                    zipped.write(body)
            else:
                raw.write(body)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise io_error(f"cannot write checkpoint {path}", exc) from exc
        raise
    _remove_stale_temps(directory, base)


def io_error(what: str, exc: OSError, hint: str = "") -> CheckpointIOError:
    """A :class:`CheckpointIOError` for ``exc``: ``what`` (naming the checkpoint or journal,
    never a temporary file), the reason, then ``hint``; ``errno`` is kept."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    err = CheckpointIOError(f"{what}: {reason}{hint}")
    err.errno = exc.errno
    return err


def _target_mode(path: str) -> int | None:
    """Permission bits the new file must get: those of the checkpoint it replaces, or
    ``None`` for a new one (``0o666`` less the umask, as ``open`` does)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise CheckpointError(f"{path} exists and is not a regular file; not replacing it")
    return stat.S_IMODE(st.st_mode)


def _temp_prefix(base: str) -> str:
    """Start of the names of this host's temporary files for checkpoint ``base``."""
    host = zlib.crc32(socket.gethostname().encode("utf-8", "replace"))
    return f".{base[:100]}.nasopt-{host:08x}-"


def _create_temp(directory: str, base: str, mode: int | None) -> tuple[int, str]:
    """Create and open the temporary file of a save of checkpoint ``base``."""
    prefix = f"{_temp_prefix(base)}{os.getpid()}-"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f"{prefix}{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        if mode is not None and hasattr(os, "fchmod"):
            try:
                os.fchmod(fd, mode)
            except BaseException:
                os.close(fd)
                os.unlink(tmp)
                raise
        return fd, tmp
    raise FileExistsError(_errno.EEXIST, "no free temporary file name", directory)


def _remove_stale_temps(directory: str, base: str) -> None:
    """Delete temporary files of checkpoint ``base`` left by saves whose process is gone
    (killed while saving). Best effort: a file that cannot be removed stays."""
    if os.name != "posix":  # no way to probe a process without signalling it
        return
    prefix = _temp_prefix(base)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid = name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


def _alive(pid: int) -> bool:
    """True unless no process ``pid`` exists on this host."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _is_journal(path: str) -> bool:
    """True when ``path`` starts with a journal header line."""
    if str(path).endswith(".gz"):
        return False
    try:
        with open(path, "rb") as fh:
            first = fh.readline(1 << 20)
    except OSError:
        return False
    return _JOURNAL_MARK in first and b'"nasopt-checkpoint"' not in first


def load(path: str, space: SearchSpace | None = None, trusted: bool = False) -> "Optimizer":
    """Load an optimizer saved with :meth:`Optimizer.save`, or resume a journal.

    A journal (``Optimizer(..., journal=path)``) is recognised by its header line; the
    optimizer is rebuilt from it and keeps appending to it (see
    :func:`nasopt.core.journal.load_journal`).

    A checkpoint is data: loading one imports and runs no code named in it. A
    ``ProductSpace`` validity rule is stored by name only, so a file whose space has one
    needs the space from the caller (``space=``), which brings its own rule; the strategy
    and the space type are looked up among the registered ones, never imported by name.

    Args:
        path: The checkpoint (or journal) file.
        space: The search space the run used. Required for spaces that cannot be rebuilt
            from their config: your own :class:`SearchSpace` subclasses, a ``ProductSpace``
            with a validity rule.
        trusted: Import the ``module:qualname`` validity rule the file names when
            ``space`` is not given. Only for files you trust as much as your own code.

    Raises:
        CheckpointError: the file is not a readable nasopt checkpoint (also: not a regular
            file, nested too deeply, an id or counter that is not a non-negative integer),
            or its space cannot be rebuilt without ``space=`` (the message says which).
        CheckpointIOError: a journal that cannot be reopened for appending (read-only
            media): read it with ``load_journal(path, attach=False)``.
    """
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise io_error(f"cannot read checkpoint {path}", exc) from exc
    if not regular:
        raise CheckpointError(f"{path}: not a regular file, so not a nasopt checkpoint")
    if _is_journal(path):
        from .journal import load_journal

        return load_journal(path, space=space, trusted=trusted)
    try:
        with _open(path, "r") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, RecursionError) as exc:
        raise CheckpointError(f"{path}: not a readable nasopt checkpoint ({exc})") from exc
    try:
        return from_state_dict(data, space, trusted)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc.__cause__
