"""Losses for the neural surrogates: MSE, the ReNAS pairwise ranking loss L1 and the triplet
continuity term L2 (Eq. 3 and 4 of Xu et al., "ReNAS: Relativistic Evaluation of Neural
Architecture Search", CVPR 2021).

Every ranking loss is written as ``φ(z)`` applied to signed differences:

* pairwise (L1): ``z = (ŷ_i − ŷ_j) · sign(y_i − y_j)`` — positive when the pair is ordered right;
* triplet (L2): ``z = (d_ij − d_ik) · sign(l_ij − l_ik)`` with ``d`` the Euclidean distance
  between penultimate features and ``l = |y_i − y_j|`` — positive when feature distances
  follow accuracy distances.

``φ`` is one of ``"hinge"`` ``(a − z)+`` (paper), ``"logistic"`` ``log(1 + e^{−z})`` (official
code) or ``"exponential"`` ``e^{−z}``. Losses are *means* over the sampled pairs / triplets
(the paper writes sums; a mean keeps the scale independent of the number of pairs, so the
weight ``λ`` and the learning rate do not depend on the batch size).

Sampling is vectorised and bounded: a mini-batch of ``B`` items uses all its ``B(B−1)/2``
pairs when that is at most ``max_pairs``, otherwise ``max_pairs`` pairs drawn uniformly with
replacement; triplets are always ``max_triplets`` random draws. Pairs / triplets whose sign is
0 (ties) carry no ordering information and are dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: Every loss a predictor may be trained with: the one list the strategies and surrogates
#: check against. This module imports torch only inside the torch losses, so the names are
#: cheap to import.
LOSSES: tuple[str, ...] = ("mse", "hinge", "logistic", "exponential")
RANKING_LOSSES: tuple[str, ...] = ("hinge", "logistic", "exponential")

# e^{-z} overflows float32 for z < -88; clamp the exponent so one badly ordered pair cannot
# produce an infinite loss (the gradient is still huge, as the loss intends).
_EXP_CLAMP = 30.0
# The numpy gradients clip ``z`` to this range before ``exp`` (float64 overflows past 709).
_NP_EXP_CLIP = 50.0
# Batches up to this size compute feature distances as one (n, n) matrix.
_DIST_MATRIX_MAX = 2048


def check_loss(loss: str) -> str:
    """Return ``loss`` if it names a known loss, else raise :class:`ConfigurationError`."""
    if loss not in LOSSES:
        raise ConfigurationError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")
    return loss


def phi(z: torch.Tensor, kind: str, margin: float = 1.0) -> torch.Tensor:
    """The per-pair penalty ``φ(z)``, elementwise; small when ``z`` is large and positive."""
    import torch

    if kind == "hinge":
        return torch.relu(margin - z)
    if kind == "logistic":
        return torch.nn.functional.softplus(-z)
    if kind == "exponential":
        return torch.exp(torch.clamp(-z, max=_EXP_CLAMP))
    raise ConfigurationError(
        f"unknown ranking loss {kind!r}; expected one of {', '.join(RANKING_LOSSES)}"
    )


def phi_grad(z: np.ndarray, kind: str, margin: float = 1.0) -> np.ndarray:
    """``dφ/dz`` of the ranking loss ``kind``, elementwise on a float64 numpy array: the
    gradient the numpy surrogates (:class:`~nasopt.surrogates.BatchedMLP`) backpropagate."""
    if kind == "hinge":
        return -(z < margin).astype(np.float64)
    if kind == "exponential":
        return -np.exp(-np.clip(z, -_NP_EXP_CLIP, _NP_EXP_CLIP))
    if kind == "logistic":
        return -1.0 / (1.0 + np.exp(np.clip(z, -_NP_EXP_CLIP, _NP_EXP_CLIP)))
    raise ConfigurationError(
        f"unknown ranking loss {kind!r}; expected one of {', '.join(RANKING_LOSSES)}"
    )


def sample_pairs(
    n: int, max_pairs: int, generator: torch.Generator | None = None, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Index pairs ``(i, j)``, ``i != j`` into a batch of ``n`` items.

    All ``n(n−1)/2`` pairs ``i < j`` when there are at most ``max_pairs`` of them, else
    ``max_pairs`` uniform random pairs (drawn with ``generator`` on the CPU).
    """
    import torch

    if n < 2:
        empty = torch.zeros(0, dtype=torch.long, device=device)
        return empty, empty
    if n * (n - 1) // 2 <= max_pairs:
        i, j = torch.triu_indices(n, n, offset=1)
        return i.to(device), j.to(device)
    i = torch.randint(0, n, (max_pairs,), generator=generator)
    # j uniform over the n-1 other items: shift by 1..n-1 modulo n.
    j = (i + torch.randint(1, n, (max_pairs,), generator=generator)) % n
    return i.to(device), j.to(device)


def sample_triplets(
    n: int, max_triplets: int, generator: torch.Generator | None = None,
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``max_triplets`` random index triplets ``(i, j, k)`` with ``j != i`` and ``k != i``
    (``j == k`` gives a tie and is dropped by the loss)."""
    import torch

    if n < 3:
        empty = torch.zeros(0, dtype=torch.long, device=device)
        return empty, empty, empty
    i = torch.randint(0, n, (max_triplets,), generator=generator)
    j = (i + torch.randint(1, n, (max_triplets,), generator=generator)) % n
    k = (i + torch.randint(1, n, (max_triplets,), generator=generator)) % n
    return i.to(device), j.to(device), k.to(device)


def mse_loss(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error."""
    import torch

    return torch.mean((pred - y) ** 2)


def pairwise_loss(
    pred: torch.Tensor, y: torch.Tensor, kind: str = "hinge", margin: float = 1.0,
    max_pairs: int = 65536, generator: torch.Generator | None = None,
) -> torch.Tensor:
    """ReNAS L1: mean over sampled pairs of ``φ((ŷ_i − ŷ_j)·sign(y_i − y_j))``; tied pairs
    are ignored. Returns 0 (with a gradient path) when no informative pair exists."""
    import torch

    i, j = sample_pairs(pred.shape[0], max_pairs, generator, pred.device)
    s = torch.sign(y[i] - y[j])
    z = (pred[i] - pred[j]) * s
    w = (s != 0).to(pred.dtype)
    return (phi(z, kind, margin) * w).sum() / w.sum().clamp_min(1.0)


def triplet_loss(
    features: torch.Tensor, y: torch.Tensor, kind: str = "hinge", margin: float = 1.0,
    max_triplets: int = 65536, generator: torch.Generator | None = None,
) -> torch.Tensor:
    """ReNAS L2 (continuity): mean over sampled triplets of
    ``φ((d_ij − d_ik)·sign(|y_i − y_j| − |y_i − y_k|))`` with ``d`` the Euclidean distance
    between rows of ``features`` (the penultimate layer)."""
    import torch

    n = features.shape[0]
    i, j, k = sample_triplets(n, max_triplets, generator, features.device)
    if n <= _DIST_MATRIX_MAX:
        # One (n, n) distance matrix by matmul, then gathers of scalars: much cheaper than
        # gathering 2·K feature rows and scattering their gradients back.
        sq = (features * features).sum(dim=1)
        d2 = (sq[:, None] + sq[None, :] - 2.0 * features @ features.T).clamp_min(0.0)
        dist = torch.sqrt(d2 + 1e-12)  # epsilon keeps the gradient finite at coinciding rows
        d_ij, d_ik = dist[i, j], dist[i, k]
    else:
        fi = features[i]
        d_ij = torch.sqrt(((fi - features[j]) ** 2).sum(dim=1) + 1e-12)
        d_ik = torch.sqrt(((fi - features[k]) ** 2).sum(dim=1) + 1e-12)
    s = torch.sign((y[i] - y[j]).abs() - (y[i] - y[k]).abs())
    w = (s != 0).to(features.dtype)
    z = (d_ij - d_ik) * s
    return (phi(z, kind, margin) * w).sum() / w.sum().clamp_min(1.0)


def surrogate_loss(
    pred: torch.Tensor, y: torch.Tensor, features: torch.Tensor | None = None, *,
    loss: str = "mse", margin: float = 1.0, lam: float = 0.0, max_pairs: int = 65536,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The training objective ``L = L1 + λ·L2`` of a mini-batch.

    ``L1`` is :func:`mse_loss` for ``loss="mse"``, else :func:`pairwise_loss` with that
    ``φ``; ``L2`` (:func:`triplet_loss` on ``features``, same ``φ`` and margin — with MSE the
    hinge is used) is added when ``lam > 0``.
    """
    if loss == "mse":
        total = mse_loss(pred, y)
    else:
        total = pairwise_loss(pred, y, loss, margin, max_pairs, generator)
    if lam > 0:
        if features is None:
            raise ConfigurationError("lam > 0 needs the penultimate features")
        kind = "hinge" if loss == "mse" else loss
        total = total + lam * triplet_loss(features, y, kind, margin, max_pairs, generator)
    return total
