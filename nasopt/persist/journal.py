"""Append-only run journal: every ask and tell, durable before the call returns.

``Optimizer(space, ..., journal="run.jsonl")`` (any strategy) writes one JSON object per
line, each appended with a single ``write`` and ``fsync``-ed before ``ask``/``tell``
returns. Reopening the same path with the same constructor arguments (or
``nasopt.load("run.jsonl")``) rebuilds the optimizer exactly: history, pending trials,
strategy state and random state, so the run continues as if it had never stopped.

Format (version 1)::

    {"format": "nasopt-journal", "version": 1, "strategy": "rea", "options": {...},
     "space": {...SearchSpace.config()...}, "seed": 0, "maximize": true,
     "allow_duplicates": false, "owner": "<hex token of the run>"}
    {"e": "ask", "trials": [[id, arch_data], ...], "rng": {...}, "perm": [seed, pos],
     "state": {...}, "time": 1767225600.25}
    {"e": "tell", "id": 3, "status": "complete", "value": 91.2, "error": null,
     "time": 1767225630.5, "user_attrs": {"epochs": 12}}
    {"e": "tell", "id": 4, "status": "complete", "value": 88.0, "error": null,
     "arch": arch_data, "time": 1767225631.0}
    {"e": "attr", "id": 3, "key": "test_acc", "value": 90.4}

* ``ask`` records are **snapshots**, not instructions to re-run the strategy: they hold the
  proposed architectures (``SearchSpace.to_data``) and the state *after* the ask: the numpy
  generator state (``rng``), the position in the finite-space sampling permutation
  (``perm``) and the strategy state (``Optimizer._get_state()``; left out when the ask did
  not change it). Replaying a journal therefore never calls ``_propose``: reopening a
  WeakNAS run costs reading the file, not refitting a predictor per batch.
* ``tell`` records hold the result; ``arch`` is present when the architecture was told
  without being asked (warm start), which creates a new trial. Replay re-runs the tell
  bookkeeping and the strategy's ``_on_tell`` hook, which must be deterministic.
* ``time`` (when the ask / tell happened, seconds since the epoch), a tell's
  ``user_attrs`` (all user attributes of the finished trial, left out when there are none)
  and ``attr`` records (:meth:`Optimizer.set_user_attr`) are records only: no strategy
  reads them. They were added after version 1 was first released; journals without them
  replay with ``None`` times and no user attributes.

Crash safety: a record is complete only with its trailing newline. A last line without one
is a torn write from a crash: it is skipped with a :class:`JournalWarning` and cut off when
the journal is reopened for writing; nothing before it is lost. A damaged line that ends
with its newline (even the last one: it was a complete record, maybe an acknowledged tell,
so it is never cut off), a header of another format or version, or a header written by
another strategy, space, options, seed or direction is refused with
:class:`~nasopt.core.errors.CheckpointError`, and so is a record whose ids or counters are
not non-negative integers, JSON nested too deeply to parse, or a path that is not a regular
file (``/dev/full``...). A journal that cannot be opened for appending (read-only media)
raises :class:`~nasopt.core.errors.CheckpointIOError`; ``load_journal(path, attach=False)``
still reads it. If a write fails (disk full), the journal is
truncated back to its last complete record and the call raises, leaving the optimizer
unchanged.

A journal is held by one optimizer at a time: it is locked (``flock``) while open; call
:meth:`Optimizer.close` (or use ``with``) before reopening it in the same process. A forked
child process (a ``ProcessPoolExecutor`` worker, say) closes its inherited copies of every
open journal right after the fork, so the lock never outlives the process that opened the
journal; writing to the journal from the child raises :class:`CheckpointError`.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import stat
import warnings
from dataclasses import replace
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..core.errors import CheckpointError, NasoptError
from ..core.jsondata import numpy_default
from ..core.optimizer import Optimizer
from ..core.trial import Trial, TrialState, check_time, check_user_attrs
from .codec import (
    ask_record, check_count, check_perm, check_result, check_rng, decode_archs, identity,
    identity_diffs, io_error, read_result, rebuild, result_extras,
)

try:  # advisory lock: POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:  # pragma: no cover
    from ..core.space import SearchSpace

FORMAT = "nasopt-journal"
VERSION = 1
#: fsync every record (turn off only to speed up tests: a crash of the *machine* could then
#: lose the last records; a killed *process* never does).
FSYNC = True


class JournalWarning(UserWarning):
    """A journal was recovered from a crash (a torn last record was skipped)."""


# ====================================================================== reading
def read_journal(
    path: str, sink: Callable[[int, dict], bool | None] | None = None,
) -> tuple[dict | None, list[tuple[int, dict]], int, int]:
    """Parse a journal file.

    ``sink`` streams the file: it is called with ``(line number, record)`` for each record as
    soon as that is parsed (the header first), and the event records are then not kept
    (``records`` comes back empty), so a long journal is replayed without holding all its
    records in memory (see :class:`_Replayer`). A sink that returns ``False`` stops the
    reading after that record (``good_len`` then covers the lines read).

    Returns:
        ``(header, records, good_len, torn_len)``: the header (``None`` for an empty file
        or one whose only line is torn), the event records with their line numbers, the
        length in bytes of the intact prefix, and the number of bytes of a torn last line
        (0 when there is none).

    Raises:
        CheckpointError: a damaged line (other than a last line without its newline), or a
            file that is not a nasopt journal of a supported version, or not a regular file.
        CheckpointIOError: the file cannot be read.
    """
    try:
        with open(path, "rb") as fh:
            check_regular(fh.fileno(), path)
            data = fh.read()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise io_error(f"cannot read journal {path}", exc) from exc
    lines = data.split(b"\n")
    tail = lines.pop()  # bytes after the last newline: b"" when the file ends cleanly
    if tail and not lines:  # a single line without newline: a torn header, or a foreign file
        _check_torn_header(tail, path)
        return None, [], 0, len(tail)
    parsed: list[tuple[int, dict]] = []
    good_len = 0
    torn_len = len(tail)
    for k, raw in enumerate(lines, start=1):
        try:
            rec = json.loads(raw.decode("utf-8"))
            if not isinstance(rec, dict):
                raise ValueError("a record must be a JSON object")
        except (ValueError, RecursionError) as exc:
            if isinstance(exc, RecursionError):
                exc = ValueError("JSON nested too deeply")
            if k == 1:
                _check_torn_header(raw, path)
            if k == len(lines) and not tail:  # a whole record, maybe an acknowledged tell
                raise CheckpointError(
                    f"{path}: line {k}, the last record, is damaged ({exc}); it ends with a "
                    "newline, so it is a complete record (perhaps an acknowledged result), not "
                    "a torn write, and is not cut off: repair or delete that line to resume"
                ) from None
            raise CheckpointError(
                f"{path}: line {k} is damaged ({exc}); the journal cannot be replayed past it"
            ) from None
        if k == 1:
            check_format(rec, path)
        if sink is None or k == 1:
            parsed.append((k, rec))
        good_len += len(raw) + 1
        if sink is not None and sink(k, rec) is False:
            break
    if not parsed:
        return None, [], good_len, torn_len
    (_, header), records = parsed[0], parsed[1:]
    return header, records, good_len, torn_len


_HEADER_PREFIX = ('{"format":"%s",' % FORMAT).encode()


def _check_torn_header(raw: bytes, path: str) -> None:
    """A first line that is incomplete must be the start of a journal header; anything else
    is another kind of file, which is never truncated."""
    try:
        rec = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        rec = None
    if isinstance(rec, dict):  # complete JSON without its newline
        check_format(rec, path)
        return
    if not (raw.startswith(_HEADER_PREFIX) or _HEADER_PREFIX.startswith(raw)):
        raise CheckpointError(
            f"{path}: not a nasopt journal (its first line is not a journal header); "
            "use another journal path"
        )


def check_format(header: dict, path: str) -> None:
    """Refuse a first line that is not a nasopt journal header of a known version."""
    if header.get("format") != FORMAT:
        what = ("a nasopt checkpoint" if header.get("format") == "nasopt-checkpoint"
                else "not a nasopt journal")
        raise CheckpointError(
            f"{path}: {what} (first line has no \"format\": \"{FORMAT}\" marker); "
            "use nasopt.load() for checkpoints or another journal path"
        )
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: unsupported journal version {header.get('version')!r} "
            f"(this nasopt reads version {VERSION})"
        )


def journal_seed(path: str) -> int | None:
    """The seed recorded in the header of the journal at ``path``, or ``None`` when the file
    is absent, empty or unreadable (errors are reported when the journal is attached)."""
    try:
        with open(path, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            first = fh.readline()
        header = json.loads(first.decode("utf-8"))
        seed = header.get("seed") if header.get("format") == FORMAT else None
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else None


def header_of(opt: "Optimizer") -> dict:
    """The header line a journal of ``opt`` starts with: the run's identity
    (:func:`nasopt.persist.codec.identity`) after the format marker."""
    return {"format": FORMAT, "version": VERSION, **identity(opt)}


def check_identity(header: dict, path: str, opt: "Optimizer") -> None:
    """Refuse a journal written by a different run configuration
    (:func:`nasopt.persist.codec.identity_diffs`)."""
    diffs = identity_diffs(header, opt)
    if diffs:
        raise CheckpointError(
            f"{path} was written by a different run; refusing to mix them ("
            + "; ".join(diffs)
            + "). Reopen it with the same constructor arguments, or use another journal path."
        )


def _lazy_state(opt: "Optimizer") -> bool:
    """True when replay may apply only the last strategy state: ``_on_tell`` is not
    overridden, so nothing during replay reads the intermediate states."""
    cls = type(opt)
    return cls._on_tell is Optimizer._on_tell and cls._after_tell is Optimizer._after_tell


def replay(opt: "Optimizer", header: dict, records: list[tuple[int, dict]], path: str) -> None:
    """Apply journal ``records`` to a freshly built ``opt`` (same identity as ``header``)."""
    space = opt.space
    opt._owner = str(header["owner"])
    lazy = _lazy_state(opt)
    state: str | dict | None = None  # strategy state not applied yet
    decoded = _decode_chunk(space, records)
    for lineno, rec in records:
        kind = rec.get("e")
        try:
            if kind == "ask":
                for tid, data in rec["trials"]:
                    arch = _arch_of(space, data, decoded)
                    t = Trial(id=check_count(tid, "trial id"), arch=arch, key=space.key(arch),
                              owner=opt._owner, start_time=check_time("time", rec.get("time")))
                    opt._add_trial(t, pending=True)
                opt._rng.bit_generator.state = check_rng(rec["rng"])
                perm_seed, perm_pos = check_perm(rec["perm"])
                if perm_seed != opt._perm_seed:
                    opt._perm = None
                opt._perm_seed, opt._perm_pos = perm_seed, perm_pos
                if "state" in rec:
                    state = rec["state"]
                    if not lazy:
                        opt._set_state(state)
                        state = None
            elif kind == "tell":
                tid = check_count(rec["id"], "trial id")
                status = TrialState(rec["status"])
                if status is TrialState.PENDING:
                    raise ValueError("a tell record cannot leave a trial pending")
                value, values, cons = read_result(rec)
                check_result(status, value, values)
                if "arch" in rec:  # told without being asked: a new trial
                    arch = _arch_of(space, rec["arch"], decoded)
                    t = Trial(id=tid, arch=arch, key=space.key(arch), owner=opt._owner)
                    opt._add_trial(t, pending=False)
                else:
                    t = opt._trials.get(tid)
                    if t is None or not t.is_pending:
                        raise ValueError(f"trial #{tid} is unknown or already told")
                done = t._finished(value, status is TrialState.FAILED, rec.get("error"),
                                   check_time("time", rec.get("time")),
                                   check_user_attrs(rec["user_attrs"]) if "user_attrs" in rec else None,
                                   values, cons)
                opt._record(done)
                opt._after_tell(done)
            elif kind == "attr":
                t = opt._trials[check_count(rec["id"], "trial id")]
                attrs = {**t.user_attrs, **check_user_attrs({rec["key"]: rec["value"]})}
                opt._trials[t.id] = replace(t, user_attrs=attrs)
            else:
                raise ValueError(f"unknown record type {kind!r}")
        except CheckpointError:
            raise
        except (NasoptError, KeyError, TypeError, ValueError, IndexError, RuntimeError,
                OverflowError) as exc:
            raise CheckpointError(
                f"{path}: line {lineno}: cannot replay this {kind} record "
                f"({type(exc).__name__}: {exc})"
            ) from exc
    if state is not None:
        opt._set_state(state)


def _decode_chunk(space: "SearchSpace", records: list[tuple[int, dict]]) -> Iterator[Any] | None:
    """The architectures of ``records`` (each ask's trials, then a tell's ``arch``, in
    order) decoded in one batch (:func:`~nasopt.persist.codec.decode_archs`), as an
    iterator that :func:`_arch_of` consumes; ``None`` when the records are malformed or an
    architecture is bad: replay then decodes each one itself and reports the failing line."""
    datas: list[Any] = []
    try:
        for _, rec in records:
            kind = rec.get("e")
            if kind == "ask":
                datas.extend(data for _, data in rec["trials"])
            elif kind == "tell" and "arch" in rec:
                datas.append(rec["arch"])
    except (KeyError, TypeError, ValueError):
        return None
    archs = decode_archs(space, datas)
    return None if archs is None else iter(archs)


def _arch_of(space: "SearchSpace", data: Any, decoded: Iterator[Any] | None) -> Any:
    """The next architecture of a replayed chunk: decoded in batch, else ``data`` decoded
    and validated here."""
    if decoded is not None:
        return next(decoded)
    arch = space.from_data(data)
    space.validate(arch)
    return arch


class _Replayer:
    """A :func:`read_journal` sink that replays the records into ``opt`` in chunks of
    ``CHUNK`` as they are parsed: reopening a long journal holds one chunk of parsed records,
    not all of them (a 100,000-trial journal: +430 MB before). The header is checked against
    the identity of ``opt`` (:func:`check_identity`) before any record is applied."""

    CHUNK = 2048

    def __init__(self, opt: "Optimizer", path: str) -> None:
        self.opt, self.path = opt, path
        self.header: dict | None = None
        self.chunk: list[tuple[int, dict]] = []
        self.count = 0  # event records replayed

    def __call__(self, lineno: int, rec: dict) -> None:
        if lineno == 1:
            check_identity(rec, self.path, self.opt)
            self.header = rec
            return
        self.chunk.append((lineno, rec))
        if len(self.chunk) >= self.CHUNK:
            self.flush()

    def flush(self, final: bool = False) -> None:
        """Replay the records parsed since the last flush; ``final`` (once, at the end):
        also when there are none (a journal of a header only still sets the run token)."""
        if self.header is not None and (self.chunk or final):
            self.count += len(self.chunk)
            replay(self.opt, self.header, self.chunk, self.path)
            self.chunk = []


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while a journal is replayed. Replay allocates
    millions of long-lived objects (trials, architectures) and no garbage cycles; each
    full collection would traverse all of them again: 5.5 of the 8.8 s a 100,000-trial
    journal took to reload. Reference counting still frees everything as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _header_only(lineno: int, rec: dict) -> bool:
    """A :func:`read_journal` sink that stops after the header."""
    return False


# ====================================================================== writing
class Journal:
    """The open, locked journal file of one optimizer (built by :meth:`attach`)."""

    def __init__(self, path: str, fd: int, size: int) -> None:
        self.path = path
        self._fd: int | None = fd
        self._size = size
        self._broken: str | None = None
        _OPEN.add(self)

    @classmethod
    def attach(cls, opt: "Optimizer", path: str) -> "Journal":
        """Open (creating it if needed) and lock the journal at ``path``; replay it into
        ``opt`` when it already holds records, else write its header."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise io_error(
                f"journal {path} cannot be opened for appending", exc,
                " (a journal records every ask and tell; to read it without appending, use "
                "nasopt.persist.journal.load_journal(path, attach=False))") from exc
        try:
            check_regular(fd, path)
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    raise CheckpointError(
                        f"journal {path} is in use by another optimizer (in this or another "
                        "process); close() that one first"
                    ) from None
            replayer = _Replayer(opt, path)  # checks the header, replays as it reads
            with _gc_paused():
                header, _, good_len, torn_len = read_journal(path, sink=replayer)
                replayer.flush(final=True)
            if torn_len:
                warnings.warn(
                    f"journal {path}: skipped a torn last record ({torn_len} bytes, from a crash "
                    f"while it was written); the {replayer.count} records before it are intact",
                    JournalWarning,
                    stacklevel=4,
                )
                os.ftruncate(fd, good_len)
                os.fsync(fd)
            journal = cls(path, fd, good_len)
            if header is None:
                journal._append(json.dumps(header_of(opt), separators=(",", ":")))
                _fsync_dir(path)
            return journal
        except BaseException:
            os.close(fd)  # also releases the lock
            raise

    # ------------------------------------------------------------------ records
    def write_ask(self, opt: "Optimizer", trials: list[Trial], state_json: str | None) -> None:
        """Append the record of an ask of ``trials`` by ``opt``."""
        line = json.dumps(ask_record(opt, trials), separators=(",", ":"), default=numpy_default)
        if state_json is not None:
            line = line[:-1] + ',"state":' + state_json + "}"
        self._append(line)

    def write_tell(self, opt: "Optimizer", done: Trial, new: bool) -> None:
        """Append the record of a tell (``new``: the trial was not asked before)."""
        body: dict[str, Any] = {"e": "tell", "id": done.id, "status": done.state.value,
                                "value": done.value, "error": done.error}
        if new:
            body["arch"] = opt.space.to_data(done.arch)
        body.update(result_extras(done))
        body["time"] = done.end_time
        if done.user_attrs:
            body["user_attrs"] = done.user_attrs
        self._append(json.dumps(body, separators=(",", ":"), allow_nan=False, default=numpy_default))

    def write_attr(self, tid: int, key: str, value: Any) -> None:
        """Append the record of :meth:`Optimizer.set_user_attr` (``value`` JSON-able)."""
        body = {"e": "attr", "id": tid, "key": key, "value": value}
        self._append(json.dumps(body, separators=(",", ":"), allow_nan=False))

    def _append(self, line: str) -> None:
        """Write one record durably, or leave the file as it was and raise."""
        if self._fd is None:
            raise CheckpointError(f"journal {self.path} is closed")
        if self._broken:
            raise CheckpointError(f"journal {self.path} cannot be written any more: {self._broken}")
        data = line.encode("utf-8") + b"\n"
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            if FSYNC:
                os.fsync(self._fd)
        except OSError as exc:
            try:
                os.ftruncate(self._fd, self._size)
                os.fsync(self._fd)
            except OSError as exc2:
                self._broken = f"a failed write could not be undone ({exc2})"
            raise CheckpointError(f"could not append to journal {self.path}: {exc}") from exc
        self._size += len(data)

    def close(self) -> None:
        """Release the lock and close the file (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def check_regular(fd: int, path: str) -> None:
    """Refuse a journal path that is not a regular file (a device such as ``/dev/full``
    reads zeros forever, a FIFO blocks)."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise CheckpointError(f"journal {path} is not a regular file; use a file path")


#: Journals open in this process, closed in forked children by :func:`_close_in_child`.
_OPEN: "weakref.WeakSet[Journal]" = weakref.WeakSet()


def _close_in_child() -> None:
    """After ``fork``, in the child: drop the inherited descriptors of the open journals.

    The child shares the parent's open file description, hence its ``flock``; closing the
    child's descriptor (never ``LOCK_UN``, which would unlock the parent too) makes the lock
    end with the parent, however long the child lives. The child's copy is then closed, so a
    write from it is refused instead of interleaving with the parent's records.
    """
    for journal in list(_OPEN):
        fd, journal._fd = journal._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:  # pragma: no cover
                pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_in_child)


def _fsync_dir(path: str) -> None:
    """Make a new file's directory entry durable (best effort)."""
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


# ====================================================================== loading
def load_journal(path: str, space: "SearchSpace | None" = None, attach: bool = True,
                 trusted: bool = False, prior: Any = None) -> "Optimizer":
    """Rebuild the optimizer recorded in the journal at ``path``.

    Args:
        path: The journal.
        space: Needed only when the space cannot be rebuilt from its config (your own
            :class:`~nasopt.core.space.SearchSpace` subclasses).
        trusted: Import the ``ProductSpace`` validity rule the header names when ``space``
            is not given (see :func:`nasopt.load`: by default a journal runs no code).
        attach: Keep appending to the journal (default; the file is locked until
            :meth:`Optimizer.close`). ``False`` rebuilds a detached copy and leaves the file
            untouched (to inspect a journal another process is writing).
        prior: The run's ``prior=`` (see :func:`nasopt.load`), passed again.

    Raises:
        CheckpointError: not a journal, damaged, or written for another space.
    """
    header, _, _, torn_len = read_journal(os.fspath(path), sink=_header_only)  # replayed below
    if header is None:
        raise CheckpointError(f"{path}: empty journal (no header line)")
    if "space" not in header:
        raise CheckpointError(f"{path}: bad journal header (no search space config)")

    def bad_header(exc: Exception) -> CheckpointError:
        return CheckpointError(f"{path}: bad journal header ({type(exc).__name__}: {exc})")

    if attach:
        return rebuild(header, space, trusted, str(path), bad_header, journal=path, prior=prior)
    opt = rebuild(header, space, trusted, str(path), bad_header, prior=prior)
    replayer = _Replayer(opt, os.fspath(path))
    with _gc_paused():
        _, _, _, torn_len = read_journal(os.fspath(path), sink=replayer)
        replayer.flush(final=True)
    if torn_len:
        warnings.warn(f"journal {path}: ignoring a torn last record ({torn_len} bytes)",
                      JournalWarning, stacklevel=2)
    return opt
