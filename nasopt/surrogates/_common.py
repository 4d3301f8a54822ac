"""Helpers shared by the surrogates: device choice, seeds, target scaling, score calibration."""

from __future__ import annotations

import numpy as np

from ..core.errors import ConfigurationError

DEVICES: tuple[str, ...] = ("cpu", "cuda", "auto")


def cuda_available() -> bool:
    """Whether torch sees a CUDA device (False when torch is a CPU build)."""
    import torch

    return bool(torch.cuda.is_available())


def resolve_device(device: str | None) -> str:
    """``"cpu"``, ``"cuda"`` / ``"cuda:N"`` or ``"auto"`` (CUDA when available) → a concrete
    device string; asking for CUDA on a machine without it is a :class:`ConfigurationError`."""
    if device is None or device == "cpu":
        return "cpu"
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if not isinstance(device, str) or not (device == "cuda" or device.startswith("cuda:")):
        raise ConfigurationError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")
    if not cuda_available():
        import torch

        raise ConfigurationError(
            f"device={device!r} was requested but CUDA is not available "
            f"(torch {torch.__version__}, torch.cuda.is_available() is False); use device='cpu'"
        )
    return device


def seed_from(random_state: object) -> int:
    """A 31-bit integer seed drawn from a scikit-learn ``random_state`` (None, int, RandomState)."""
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(0, 2**31 - 1))


class TargetScaler:
    """z-scores targets; a constant target gets scale 1 so nothing divides by zero."""

    def __init__(self, y: np.ndarray):
        y = np.asarray(y, dtype=np.float64)
        self.mean = float(y.mean())
        self.raw_std = float(y.std())
        self.std = self.raw_std if self.raw_std > 0 else 1.0

    def transform(self, y: np.ndarray) -> np.ndarray:
        return (np.asarray(y, dtype=np.float64) - self.mean) / self.std


def calibration(train_scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Affine map ``(scale, shift)`` sending ranking scores to the target's units.

    A ranking loss only fixes the order of the outputs, not their scale. The map matches the
    mean and standard deviation of the scores on the training set to those of ``y``; its
    slope is never negative, so the predicted order is exactly the order of the scores.
    """
    s = np.asarray(train_scores, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    s_std = float(s.std())
    scale = float(y.std()) / s_std if s_std > 0 else 0.0
    shift = float(y.mean()) - scale * float(s.mean())
    return scale, shift
