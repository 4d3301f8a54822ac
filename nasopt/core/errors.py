"""Exceptions raised by nasopt. Every error a user can trigger is a :class:`NasoptError`."""

from __future__ import annotations


class NasoptError(Exception):
    """Base class of every error nasopt raises on purpose."""


class InvalidArchitectureError(NasoptError, ValueError):
    """An architecture does not belong to the search space it was given to."""


class SpaceExhaustedError(NasoptError):
    """A finite search space has fewer unseen architectures left than were asked for."""


class NumericalError(NasoptError, ArithmeticError):
    """A computation on the results gave non-finite numbers (a predictor that diverged);
    reported as such, never as an exhausted space."""


class TrialError(NasoptError, ValueError):
    """A trial was told in a way the optimizer cannot accept (unknown, twice, bad value...)."""


class CheckpointError(NasoptError, ValueError):
    """A checkpoint or journal file is corrupted, foreign or of an unknown format."""


class DataError(NasoptError, OSError):
    """A benchmark data file is missing, truncated or of the wrong shape."""


class ConfigurationError(NasoptError, ValueError):
    """An option is out of range or inconsistent (negative budget, ``top_n < batch``...)."""


class CheckpointIOError(CheckpointError, OSError):
    """A checkpoint or journal could not be read or written (read-only media, permissions,
    full disk). Also an :class:`OSError`, with the ``errno`` of the failure; the message
    names the checkpoint or journal path."""


class MissingDependencyError(NasoptError, ImportError):
    """An optional dependency is not installed; the message names the nasopt extra that
    provides it (``pip install "nasopt[extra]"``)."""


class PriorError(NasoptError, ValueError):
    """A strategy's ``prior`` failed for an architecture (raised, returned non-finite scores
    or a different number of scores); the message names the architecture."""
