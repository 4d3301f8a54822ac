"""Persistence: checkpoints and journals, one layer above :mod:`nasopt.core`.

* :mod:`nasopt.persist.codec`: the one encoder / decoder of the records both file kinds
  hold (a run's identity and options, trials, strategy state, random state) and of the
  rebuild of an optimizer from them; the Optuna sampler and the Ray searcher use it too.
* :mod:`nasopt.persist.checkpoint`: a whole run as one JSON document (``opt.save(path)``,
  :func:`load`).
* :mod:`nasopt.persist.journal`: the same records as an append-only log, one line per ask
  and tell (``Optimizer(..., journal=path)``, :func:`load_journal`).

Layering: ``core`` imports nothing from here. The optimizer reaches this layer through
:func:`nasopt.core.optimizer.register_persistence`, which this package calls when it is
imported (``import nasopt`` imports it, and importing any ``nasopt.*`` module imports
``nasopt`` first), so ``opt.save(path)``, ``journal=`` and :func:`nasopt.load` work as
before while the imports flow one way: ``core`` ← ``persist``.
"""

from __future__ import annotations

from typing import Any

from ..core.optimizer import register_persistence
from . import checkpoint, codec, journal
from .checkpoint import from_state_dict, load, save_checkpoint, state_dict
from .journal import JournalWarning, load_journal


class _Layer:
    """The hooks :class:`~nasopt.core.optimizer.Optimizer` calls (see the docstring); each
    looks its function up when called, so a test may patch the module's function."""

    @staticmethod
    def save_checkpoint(opt: Any, path: str) -> None:
        checkpoint.save_checkpoint(opt, path)

    @staticmethod
    def journal_seed(path: str) -> int | None:
        return journal.journal_seed(path)

    @staticmethod
    def attach_journal(opt: Any, path: str) -> Any:
        return journal.Journal.attach(opt, path)


register_persistence(_Layer())

__all__ = ["load", "load_journal", "JournalWarning", "state_dict", "from_state_dict",
           "save_checkpoint"]
