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
      "trials": [{"id", "arch" (space.to_data), "state", "value", "error"}, ...],
      "told": [ids in the order results arrived],
      "strategy_state": {...}            # Optimizer._get_state()
    }

Files are written atomically (temporary file, fsync, rename), so a crash while saving
leaves the previous checkpoint intact.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from typing import TYPE_CHECKING, Any

from .space import SearchSpace, space_from_config
from .errors import CheckpointError, NasoptError
from .registry import strategy_class
from .optimizer import check_value
from .trial import Trial, TrialState

#: First line of a journal (see :mod:`nasopt.core.journal`), told apart from a checkpoint.
_JOURNAL_MARK = b'"nasopt-journal"'

if TYPE_CHECKING:  # pragma: no cover
    from .optimizer import Optimizer

FORMAT = "nasopt-checkpoint"
VERSION = 1


def state_dict(opt: "Optimizer") -> dict:
    """Everything needed to rebuild ``opt`` exactly, as JSON-able data."""
    space = opt.space
    return {
        "format": FORMAT,
        "version": VERSION,
        "strategy": opt.name,
        "options": opt._options(),
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
            }
            for t in (opt._trials[i] for i in sorted(opt._trials))
        ],
        "told": list(opt._told),
        "strategy_state": opt._get_state(),
    }


def from_state_dict(data: Any, space: SearchSpace | None = None) -> "Optimizer":
    """Rebuild an optimizer from :func:`state_dict` output. ``space`` is needed when the
    checkpoint's space cannot be rebuilt from its config (user-defined spaces)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError("not a nasopt checkpoint (missing format marker)")
    if data.get("version") != VERSION:
        raise CheckpointError(f"unsupported checkpoint version {data.get('version')!r}")
    try:
        if space is None:
            space = space_from_config(data["space"])
        elif space.config() != data["space"]:
            raise CheckpointError(
                f"checkpoint was written for space {data['space']!r}, not {space.config()!r}"
            )
        cls = strategy_class(data["strategy"])
        opt = cls(
            space,
            seed=data["seed"],
            maximize=data["maximize"],
            allow_duplicates=data["allow_duplicates"],
            **data["options"],
        )
        opt._owner = str(data["owner"])
        opt._next_id = int(data["next_id"])
        opt._rng.bit_generator.state = data["rng"]
        opt._perm_seed, opt._perm_pos = data["perm"][0], int(data["perm"][1])
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
                id=int(rec["id"]), arch=arch, state=state, value=value,
                error=rec["error"], key=space.key(arch), owner=opt._owner,
            )
            if t.id in opt._trials or not 0 <= t.id < opt._next_id:
                raise CheckpointError(
                    f"corrupted checkpoint: trial id {t.id} repeated or beyond next_id {opt._next_id}"
                )
            opt._trials[t.id] = t
            opt._hold_key(t, t.is_pending)
            if t.is_pending:
                opt._pending[t.id] = None
        told = [int(i) for i in data["told"]]
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
    except (NasoptError, KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as exc:
        raise CheckpointError(f"corrupted checkpoint: {type(exc).__name__}: {exc}") from exc
    return opt


def _open(path: str, mode: str, gz: bool | None = None):
    if str(path).endswith(".gz") if gz is None else gz:
        return gzip.open(path, mode + "t", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def save_checkpoint(opt: "Optimizer", path: str) -> None:
    """Write ``opt`` to ``path`` atomically."""
    data = state_dict(opt)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".nasopt-", dir=directory)
    os.close(fd)
    try:
        with _open(tmp, "w", gz=path.endswith(".gz")) as fh:
            json.dump(data, fh, allow_nan=False)
            fh.flush()
            if hasattr(fh, "fileno"):
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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


def load(path: str, space: SearchSpace | None = None) -> "Optimizer":
    """Load an optimizer saved with :meth:`Optimizer.save`, or resume a journal.

    A journal (``Optimizer(..., journal=path)``) is recognised by its header line; the
    optimizer is rebuilt from it and keeps appending to it (see
    :func:`nasopt.core.journal.load_journal`).

    Args:
        path: The checkpoint (or journal) file.
        space: Required only for spaces that cannot be rebuilt from their config (your own
            :class:`SearchSpace` subclasses, ``ProductSpace`` with a non-importable rule).

    Raises:
        CheckpointError: the file is not a readable nasopt checkpoint.
    """
    if _is_journal(path):
        from .journal import load_journal

        return load_journal(path, space=space)
    try:
        with _open(path, "r") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise CheckpointError(f"{path}: not a readable nasopt checkpoint ({exc})") from exc
    return from_state_dict(data, space)
