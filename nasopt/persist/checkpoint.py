"""Checkpoints: a documented JSON format, never a pickle.

A checkpoint is one JSON object (gzip-compressed when the path ends in ``.gz``)::

    {
      "format": "nasopt-checkpoint", "version": 1,
      "strategy": "rea",                 # registry name of the strategy
      "options": {...},                  # get_params() less seed / maximize / direction /
                                         # allow_duplicates (the codec's strategy_options)
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

from ..core.errors import CheckpointError, NasoptError
from ..core.space import SearchSpace
from .codec import (
    check_count, check_perm, check_rng, decode_archs, identity, io_error, rebuild,
    strategy_state, trial_from_record, trial_record,
)
from .journal import load_journal

#: First line of a journal (see :mod:`nasopt.persist.journal`), told apart from a checkpoint.
_JOURNAL_MARK = b'"nasopt-journal"'

if TYPE_CHECKING:  # pragma: no cover
    from ..core.optimizer import Optimizer

FORMAT = "nasopt-checkpoint"
VERSION = 1


def state_dict(opt: "Optimizer") -> dict:
    """Everything needed to rebuild ``opt`` exactly, as JSON data (see the module
    docstring; the records are those of :mod:`nasopt.persist.codec`)."""
    space = opt.space
    return {
        "format": FORMAT,
        "version": VERSION,
        **identity(opt),
        "next_id": opt._next_id,
        "rng": opt._rng.bit_generator.state,
        "perm": [opt._perm_seed, opt._perm_pos],
        "trials": [trial_record(space, opt._trials[i]) for i in sorted(opt._trials)],
        "told": list(opt._told),
        "strategy_state": strategy_state(opt),
    }


def from_state_dict(data: Any, space: SearchSpace | None = None, trusted: bool = False,
                    prior: Any = None) -> "Optimizer":
    """Rebuild an optimizer from :func:`state_dict` output. ``space`` is needed when the
    checkpoint's space cannot be rebuilt from its config (user-defined spaces, a
    ``ProductSpace`` with a validity rule); ``trusted`` and ``prior`` as in :func:`load`."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError("not a nasopt checkpoint (missing format marker)")
    if data.get("version") != VERSION:
        raise CheckpointError(f"unsupported checkpoint version {data.get('version')!r}")
    if "space" not in data:
        raise CheckpointError("corrupted checkpoint: no search space config")
    opt = rebuild(data, space, trusted, "the checkpoint", _corrupted, prior=prior)
    try:
        space = opt.space
        opt._next_id = check_count(data["next_id"], "next_id")
        opt._rng.bit_generator.state = check_rng(data["rng"])
        opt._perm_seed, opt._perm_pos = check_perm(data["perm"])
        records = data["trials"]
        if not isinstance(records, list):
            raise TypeError(f"trials must be a list, got {type(records).__name__}")
        archs = decode_archs(space, [rec["arch"] if isinstance(rec, dict) and "arch" in rec else None
                                     for rec in records])
        for k, rec in enumerate(records):
            t = trial_from_record(space, rec, opt._owner, None if archs is None else archs[k])
            if t.id in opt._trials or not 0 <= t.id < opt._next_id:
                raise CheckpointError(
                    f"corrupted checkpoint: trial id {t.id} repeated or beyond next_id {opt._next_id}"
                )
            opt._trials[t.id] = t
            opt._hold_key(t, t.is_pending)
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
        raise _corrupted(exc) from exc
    return opt


def _corrupted(exc: Exception) -> CheckpointError:
    return CheckpointError(f"corrupted checkpoint: {type(exc).__name__}: {exc}")


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
    write_json(path, state_dict(opt))


def write_json(path: str, data: Any) -> None:
    """Write the JSON document ``data`` to ``path`` as :func:`save_checkpoint` writes a
    checkpoint: atomically, fsynced, gzip-compressed when the path ends in ``.gz``, leaving
    the previous file intact on failure (errors as :func:`save_checkpoint`)."""
    path = os.fspath(path)
    gz = path.endswith(".gz")
    body = json.dumps(data, allow_nan=False).encode("utf-8")
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


def load(path: str, space: SearchSpace | None = None, trusted: bool = False,
         prior: Any = None) -> "Optimizer":
    """Load an optimizer saved with :meth:`Optimizer.save`, or resume a journal.

    A journal (``Optimizer(..., journal=path)``) is recognised by its header line; the
    optimizer is rebuilt from it and keeps appending to it (see
    :func:`nasopt.persist.journal.load_journal`).

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
        prior: The ``prior=`` the run was built with (``WeakNAS``): a prior is a runtime
            argument, never stored (the file records only what identifies it), so it must
            be passed again, the same one; a file of a run with a prior refuses to load
            without it, and one without a prior refuses a prior.

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
        return load_journal(path, space=space, trusted=trusted, prior=prior)
    try:
        with _open(path, "r") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, RecursionError) as exc:
        raise CheckpointError(f"{path}: not a readable nasopt checkpoint ({exc})") from exc
    try:
        return from_state_dict(data, space, trusted, prior)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc.__cause__
