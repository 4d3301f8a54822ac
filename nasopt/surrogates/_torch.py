"""The training / prediction engine shared by the neural surrogates (MLP and ReNAS CNN).

One code path for CPU and CUDA: data, network and optimizer live on ``device``; every random
draw (weight init, shuffling, pair / triplet sampling) comes from a local CPU
``torch.Generator`` seeded from ``random_state``, so a fit never touches torch's global RNG
and a given seed gives the same network on every device's initial state.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..core.errors import ConfigurationError
from ..core.threads import torch_thread_limit
from ._common import TargetScaler, calibration, resolve_device, seed_from
from .losses import check_loss, surrogate_loss


def init_weights(net: torch.nn.Module, generator: torch.Generator) -> None:
    """(Re-)initialise every Linear / Conv layer like torch's default reset, but from
    ``generator`` (Kaiming-uniform weights, uniform(±1/√fan_in) biases)."""
    for m in net.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d)):
            torch.nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
            if m.bias is not None:
                fan_in = m.weight[0].numel()
                bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                torch.nn.init.uniform_(m.bias, -bound, bound, generator=generator)


def batches(perm: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """Split a permutation into mini-batches of ``batch_size``; a trailing batch of a single
    item is merged into the previous one (batch norm cannot train on one sample)."""
    parts = list(torch.split(perm, batch_size))
    if len(parts) > 1 and parts[-1].numel() == 1:
        parts[-2] = torch.cat([parts[-2], parts[-1]])
        parts.pop()
    return parts


@contextmanager
def torch_threads(n: int | None, device: str) -> Iterator[None]:
    """Run the body with ``n`` torch CPU threads (restored afterwards); ``None`` or a CUDA
    device leaves torch's setting alone.

    torch's CPU reductions split work by thread count, so results are bit-identical only for
    a fixed count: pinning it makes a seeded fit independent of the caller's setting.
    (``torch.set_num_threads`` is process-wide: do not fit from several Python threads.)
    """
    if n is None or device != "cpu":
        yield
        return
    with torch_thread_limit(int(n)):
        yield


class TorchSurrogate(RegressorMixin, BaseEstimator):
    """Base class of the torch surrogates; subclasses set ``_allow_nd`` and ``_build(shape)``.

    Fitting standardises every input element on the training set (zero-variance elements
    get scale 1), z-scores the targets, then trains with Adam on ``L = L1 + λ·L2``
    (:mod:`nasopt.surrogates.losses`). With a ranking loss the outputs are mapped back to
    target units by :func:`~nasopt.surrogates._common.calibration` (order-preserving).

    Learned attributes: ``net_`` (the torch module, on ``device``), ``x_mean_`` / ``x_std_``,
    ``y_mean_`` / ``y_std_``, ``out_scale_`` / ``out_shift_``, ``n_features_in_``,
    ``device_``, ``seed_``, ``margin_`` / ``lam_`` (the values used, after cross-validation
    when ``"cv"`` was asked), ``loss_curve_`` (mean training loss per epoch).
    """

    _allow_nd: bool = False

    # -- subclass hooks -------------------------------------------------------------------
    def _build(self, input_shape: tuple[int, ...]) -> torch.nn.Module:  # pragma: no cover
        raise NotImplementedError

    def _check_params(self) -> None:
        """Validate the common constructor options (called at fit time, sklearn-style)."""
        check_loss(self.loss)
        if not (isinstance(self.epochs, (int, np.integer)) and self.epochs >= 1):
            raise ConfigurationError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not (isinstance(self.batch_size, (int, np.integer)) and self.batch_size >= 2):
            raise ConfigurationError(f"batch_size must be an integer >= 2, got {self.batch_size!r}")
        if not (isinstance(self.max_pairs, (int, np.integer)) and self.max_pairs >= 1):
            raise ConfigurationError(f"max_pairs must be an integer >= 1, got {self.max_pairs!r}")
        if not self.lr > 0:
            raise ConfigurationError(f"lr must be > 0, got {self.lr!r}")
        if self.weight_decay < 0:
            raise ConfigurationError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.n_threads is not None and not (
            isinstance(self.n_threads, (int, np.integer)) and self.n_threads >= 1
        ):
            raise ConfigurationError(f"n_threads must be None or an integer >= 1, got {self.n_threads!r}")
        if not (isinstance(self.predict_batch_size, (int, np.integer)) and self.predict_batch_size >= 1):
            raise ConfigurationError(
                f"predict_batch_size must be an integer >= 1, got {self.predict_batch_size!r}"
            )

    def _cv_grid(self) -> dict[str, list[Any]]:
        """The grid searched for parameters set to ``"cv"`` (see :mod:`.cv`)."""
        from .cv import DEFAULT_GRID

        grid = DEFAULT_GRID if self.cv_grid is None else self.cv_grid
        out = {}
        for p in ("margin", "lam"):
            if isinstance(getattr(self, p), str):
                if getattr(self, p) != "cv":
                    raise ConfigurationError(f"{p} must be a number or 'cv', got {getattr(self, p)!r}")
                if p not in grid or len(grid[p]) == 0:
                    raise ConfigurationError(f"{p}='cv' needs a non-empty list of values in cv_grid[{p!r}]")
                out[p] = list(grid[p])
        return out

    # -- sklearn API ----------------------------------------------------------------------
    def check_device(self) -> str:
        """The device the network will be trained on; :class:`ConfigurationError` when this
        machine cannot provide it (CUDA asked for, none available)."""
        return resolve_device(self.device)

    def fit(self, X: Any, y: Any) -> "TorchSurrogate":
        """Train on ``X`` (``(N, F)``; the ReNAS CNN also takes ``(N, C, H, W)``) and ``y``
        (larger is better or any real target). Returns ``self``."""
        self._check_params()
        X, y = validate_data(
            self, X, y, allow_nd=self._allow_nd, dtype=[np.float32, np.float64], y_numeric=True
        )
        if X.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples to fit, got 1 sample"
            )
        grid = self._cv_grid()
        if grid and X.shape[0] < 2 * int(self.cv_folds):
            # Too few samples to cross-validate: use the documented defaults.
            from .cv import FALLBACK

            self.cv_results_ = []
            margin = FALLBACK["margin"] if "margin" in grid else self.margin
            lam = FALLBACK["lam"] if "lam" in grid else self.lam
        elif grid:
            from .cv import select_by_cv

            best, results = select_by_cv(
                self, X, y, grid, cv=int(self.cv_folds), random_state=self.random_state
            )
            self.cv_results_ = results
            margin, lam = best.get("margin", self.margin), best.get("lam", self.lam)
        else:
            margin, lam = self.margin, self.lam
        if not (float(margin) >= 0 and float(lam) >= 0):
            raise ConfigurationError(f"margin and lam must be >= 0, got margin={margin!r}, lam={lam!r}")
        with torch_threads(self.n_threads, resolve_device(self.device)):
            self._fit_once(X, y, float(margin), float(lam))
        return self

    def _fit_once(self, X: np.ndarray, y: np.ndarray, margin: float, lam: float) -> None:
        device = resolve_device(self.device)
        self.device_ = device
        self.margin_, self.lam_ = margin, lam
        seed = seed_from(self.random_state)
        self.seed_ = seed
        gen = torch.Generator().manual_seed(seed)

        X = np.asarray(X, dtype=np.float32)
        self.x_mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.x_std_ = np.where(std > 0, std, 1.0).astype(np.float32)
        scaler = TargetScaler(y)
        self.y_mean_, self.y_std_ = scaler.mean, scaler.std

        with torch.random.fork_rng(devices=[]):  # module constructors draw from the global RNG
            net = self._build(tuple(X.shape[1:]))
        init_weights(net, gen)
        net = net.to(device)
        xt = torch.from_numpy((X - self.x_mean_) / self.x_std_).to(device)
        yt = torch.from_numpy(scaler.transform(y).astype(np.float32)).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay, foreach=True)
        n = X.shape[0]
        curve = []
        net.train()
        for _ in range(int(self.epochs)):
            perm = torch.randperm(n, generator=gen)
            total = torch.zeros((), device=device)
            for idx in batches(perm, int(self.batch_size)):
                idx = idx.to(device)
                pred, feat = net(xt[idx])
                loss = surrogate_loss(
                    pred, yt[idx], feat if lam > 0 else None, loss=self.loss, margin=margin,
                    lam=lam, max_pairs=int(self.max_pairs), generator=gen,
                )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.detach() * idx.numel()  # stays on the device: no sync per step
            curve.append(float(total) / n)
        net.eval()
        self.net_ = net
        self.loss_curve_ = curve
        scores = self._raw_predict(X)
        if self.loss == "mse":
            # a constant training target (raw_std 0) gives a constant prediction
            self.out_scale_, self.out_shift_ = float(scaler.raw_std), float(scaler.mean)
        else:
            self.out_scale_, self.out_shift_ = calibration(scores, y)

    def _raw_predict(self, X: np.ndarray) -> np.ndarray:
        """Network outputs for ``X`` (unstandardised input), computed in chunks of
        ``predict_batch_size`` so the input is never copied whole onto the device."""
        out = np.empty(X.shape[0], dtype=np.float32)
        step = int(self.predict_batch_size)
        mean = torch.from_numpy(np.asarray(self.x_mean_, dtype=np.float32)).to(self.device_)
        std = torch.from_numpy(np.asarray(self.x_std_, dtype=np.float32)).to(self.device_)
        with torch.inference_mode():
            for s in range(0, X.shape[0], step):
                chunk = torch.from_numpy(np.array(X[s : s + step], dtype=np.float32))
                chunk = (chunk.to(self.device_) - mean) / std
                pred, _ = self.net_(chunk)
                out[s : s + step] = pred.float().cpu().numpy()
        return out

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets (float64, shape ``(N,)``); with a ranking loss only their order
        is meaningful, their scale is matched to the training targets."""
        check_is_fitted(self, "net_")
        X = validate_data(
            self, X, reset=False, allow_nd=self._allow_nd, dtype=[np.float32, np.float64]
        )
        if self._allow_nd and X.ndim != len(self.x_mean_.shape) + 1:
            raise ValueError(
                f"X has {X.ndim} dimensions but {type(self).__name__} was fitted on "
                f"{len(self.x_mean_.shape) + 1}-dimensional input"
            )
        if X.shape[1:] != self.x_mean_.shape:
            raise ValueError(f"X has shape {X.shape[1:]} per sample, expected {self.x_mean_.shape}")
        with torch_threads(self.n_threads, self.device_):
            raw = self._raw_predict(X)
        return raw.astype(np.float64) * self.out_scale_ + self.out_shift_
