"""The ReNAS predictor: a LeNet-5-style CNN on ReNAS feature tensors (Xu et al., "ReNAS:
Relativistic Evaluation of Neural Architecture Search", CVPR 2021, and its official code)."""

from __future__ import annotations

import numpy as np
import torch

from ..core.checks import check_bool
from ..core.errors import ConfigurationError
from ._renas_dedup import dedup_forward
from ._torch import TorchSurrogate

#: Rows evaluated at once on CPU when ``dedup_predict`` is on (the NAS-Bench-201 pool in one),
#: and the fewest for which the tabulation is tried (below, planning costs more than it saves).
DEDUP_BLOCK = 32768
DEDUP_MIN_ROWS = 512


class _ReNASNet(torch.nn.Module):
    """Official ReNAS CNN: conv C→2C (3×3, pad 1, no bias) + BN + ReLU, conv 2C→128 (same)
    + BN + ReLU, FC 128·H·W → 120 → 84 → 1 with ReLU between; returns
    ``(prediction, 84-d features before the last FC layer)``."""

    def __init__(self, c: int, h: int, w: int, mid: int = 128):
        super().__init__()
        self.conv = torch.nn.Sequential(
            torch.nn.Conv2d(c, 2 * c, 3, padding=1, bias=False),
            torch.nn.BatchNorm2d(2 * c),
            torch.nn.ReLU(),
            torch.nn.Conv2d(2 * c, mid, 3, padding=1, bias=False),
            torch.nn.BatchNorm2d(mid),
            torch.nn.ReLU(),
        )
        self.fc = torch.nn.Sequential(
            torch.nn.Linear(mid * h * w, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU()
        )
        self.head = torch.nn.Linear(84, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feat = self.fc(self.conv(x).flatten(1))
        return self.head(feat).squeeze(1), feat


class ReNASPredictor(TorchSurrogate):
    """ReNAS ranking predictor on feature tensors ``X`` of shape ``(N, C, H, W)``
    (``nasopt.spaces.renas_features``: NB101 19×7×7, NB201 31×4×4, or with one-hot type
    channels 23×7×7 / 35×4×4, the input the ReNAS strategy gives it by default).

    A 2-D input ``(N, F)`` is accepted as ``F`` channels of 1×1 "images" (then the network is
    an MLP with batch norm), a 3-D input ``(N, H, W)`` as one channel.

    Defaults follow the paper (ReNAS-6: tensor input, pairwise hinge L1 + λ·triplet L2):
    Adam lr 1e-3, weight decay 5e-4, batch 1024, 200 epochs. Every input element is
    standardised on the training set (official code).

    Parameters
    ----------
    loss : ``"hinge"`` (paper, default), ``"logistic"`` (official code), ``"exponential"`` or
        ``"mse"`` (ReNAS-1/2 ablation).
    margin : hinge margin ``a`` in z-scored target units, or ``"cv"`` to pick it from
        :data:`nasopt.surrogates.cv.DEFAULT_GRID` by 3-fold CV (Kendall τ) on the training set.
    lam : weight ``λ`` of the triplet continuity term L2 (0 disables it: ReNAS-3/4), or ``"cv"``.

    The defaults ``margin=1.0, lam=0.5`` are what :func:`~nasopt.surrogates.select_by_cv`
    chose (3-fold CV, Kendall τ on held-out folds, grid ``a ∈ {0.05, 0.1, 0.5, 1}`` ×
    ``λ ∈ {0, 0.1, 0.5, 1}``) on a random NB201 CIFAR-10 training set of 90 architectures
    (validation accuracy; the rest of the space was not used). Fold τ ranged only
    0.50–0.55 over the grid, ``λ > 0`` and ``a ≥ 0.5`` scored best; pass ``"cv"`` to redo
    the selection on your own training set (costs ``|grid| × 3`` extra fits). Redone on the
    one-hot-type tensor (grid ``a ∈ {0.1, 0.5, 1, 2}`` × ``λ ∈ {0, 0.1, 0.5, 1}``, one random
    training set of 90 per dataset) the grid is just as flat: fold τ 0.58–0.61, best
    ``a = 0.5, λ = 0`` on CIFAR-10 and ``a = 1, λ = 0.1`` on CIFAR-100, so the defaults stay.
    epochs, batch_size, lr, weight_decay, max_pairs, device, random_state,
    conv_channels : output channels of the second convolution (official code: 128). The
        official network costs about 1.7 M multiply-adds per NB201 cell (31×4×4) and
        3.2 M per NB101 cell (19×7×7); a smaller value trades accuracy for scoring speed.
    dedup_predict : on CPU, evaluate prediction batches of at least 512 rows (in blocks of up
        to 32,768) with :mod:`nasopt.surrogates._renas_dedup`, which computes every receptive
        field once per distinct input pattern: the same outputs up to float32 rounding, about
        3× faster on the NAS-Bench-201 pool; batches without repeated patterns fall back to the
        plain network.
    predict_batch_size, n_threads, cv_folds, cv_grid : as :class:`~nasopt.surrogates.MLP`.
    """

    _allow_nd = True

    def __init__(
        self,
        *,
        loss: str = "hinge",
        conv_channels: int = 128,
        margin: float | str = 1.0,
        lam: float | str = 0.5,
        epochs: int = 200,
        batch_size: int = 1024,
        lr: float = 1e-3,
        weight_decay: float = 5e-4,
        max_pairs: int = 16384,
        device: str = "cpu",
        random_state: object = None,
        predict_batch_size: int = 1024,
        dedup_predict: bool = True,
        n_threads: int | None = 1,
        cv_folds: int = 3,
        cv_grid: dict | None = None,
    ):
        self.loss = loss
        self.conv_channels = conv_channels
        self.margin = margin
        self.lam = lam
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_pairs = max_pairs
        self.device = device
        self.random_state = random_state
        self.predict_batch_size = predict_batch_size
        self.dedup_predict = dedup_predict
        self.n_threads = n_threads
        self.cv_folds = cv_folds
        self.cv_grid = cv_grid

    def _check_params(self) -> None:
        super()._check_params()
        check_bool("dedup_predict", self.dedup_predict)

    def _build(self, input_shape: tuple[int, ...]) -> torch.nn.Module:
        if len(input_shape) == 1:
            c, h, w = input_shape[0], 1, 1
        elif len(input_shape) == 2:
            c, h, w = 1, input_shape[0], input_shape[1]
        elif len(input_shape) == 3:
            c, h, w = input_shape
        else:
            raise ValueError(f"ReNASPredictor expects (N, C, H, W) input, got sample shape {input_shape}")
        if not (isinstance(self.conv_channels, (int, np.integer)) and self.conv_channels >= 1):
            raise ConfigurationError(f"conv_channels must be an integer >= 1, got {self.conv_channels!r}")
        net = _ReNASNet(int(c), int(h), int(w), int(self.conv_channels))
        net.sample_shape = (int(c), int(h), int(w))
        return _Reshape(net)

    def _raw_predict(self, X: np.ndarray) -> np.ndarray:
        # getattr: estimators pickled before the option existed predict as they did then
        dedup = getattr(self, "dedup_predict", False)
        if self.device_ != "cpu" or not dedup:
            return super()._raw_predict(X)
        net = self.net_.net
        shape = net.sample_shape
        mean = np.asarray(self.x_mean_, dtype=np.float32).reshape(shape)
        std = np.asarray(self.x_std_, dtype=np.float32).reshape(shape)
        out = np.empty(X.shape[0], dtype=np.float32)
        with torch.inference_mode():
            for s in range(0, X.shape[0], DEDUP_BLOCK):
                block = X[s : s + DEDUP_BLOCK]
                pred = None
                if block.shape[0] >= DEDUP_MIN_ROWS:
                    pred = dedup_forward(net, block.reshape(-1, *shape), mean, std, int(self.predict_batch_size))
                out[s : s + DEDUP_BLOCK] = super()._raw_predict(block) if pred is None else pred.numpy()
        return out


class _Reshape(torch.nn.Module):
    """Views any sample shape as ``(C, H, W)`` before the CNN."""

    def __init__(self, net: _ReNASNet):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net(x.reshape(x.shape[0], *self.net.sample_shape))
