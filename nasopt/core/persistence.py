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
from .trial import Trial, TrialState

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
            value = None if rec["value"] is None else float(rec["value"])
            if state is TrialState.COMPLETE and value is None:
                raise CheckpointError(f"trial #{rec['id']} is complete but has no value")
            t = Trial(
                id=int(rec["id"]), arch=arch, state=state, value=value,
                error=rec["error"], key=space.key(arch), owner=opt._owner,
            )
            opt._trials[t.id] = t
            opt._seen.setdefault(t.key, t.id)
            if t.is_pending:
                opt._pending[t.id] = None
        for i in data["told"]:
            t = opt._trials[int(i)]
            opt._told.append(t.id)
            if t.is_complete and (
                opt._best_id is None or opt._score(t.value) > opt._score(opt.best.value)
            ):
                opt._best_id = t.id
        opt._set_state(data["strategy_state"])
    except CheckpointError:
        raise
    except (NasoptError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise CheckpointError(f"corrupted checkpoint: {type(exc).__name__}: {exc}") from exc
    return opt


def _open(path: str, mode: str):
    if str(path).endswith(".gz"):
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
        with _open(tmp, "w") as fh:
            json.dump(data, fh, allow_nan=False)
            fh.flush()
            if hasattr(fh, "fileno"):
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path: str, space: SearchSpace | None = None) -> "Optimizer":
    """Load an optimizer saved with :meth:`Optimizer.save`.

    Args:
        path: The checkpoint file.
        space: Required only for spaces that cannot be rebuilt from their config (your own
            :class:`SearchSpace` subclasses, ``ProductSpace`` with a non-importable rule).

    Raises:
        CheckpointError: the file is not a readable nasopt checkpoint.
    """
    try:
        with _open(path, "r") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise CheckpointError(f"{path}: not a readable nasopt checkpoint ({exc})") from exc
    return from_state_dict(data, space)
