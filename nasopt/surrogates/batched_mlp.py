"""A batched ensemble of small MLPs in numpy (surrogate ``"nn"``, WeakNAS's default predictor)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import ConfigurationError
from ._numpy import NumpySurrogate
from .losses import check_loss, phi_grad


def _rng(random_state: Any) -> np.random.Generator:
    """A numpy Generator from a scikit-learn style ``random_state`` (None, int, a
    ``RandomState`` or a ``Generator``, from which one seed is drawn)."""
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(None if random_state is None else int(random_state))
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(0, 2**31 - 1)))
    if isinstance(random_state, np.random.Generator):
        return np.random.default_rng(int(random_state.integers(2**31 - 1)))
    raise ConfigurationError(f"random_state must be None, an int or a numpy RNG, got {random_state!r}")


def _flat_copy(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """A copy of ``arrays`` (float64) laid end to end in one flat array: that array and a
    view of it shaped like each of ``arrays``."""
    flat = np.empty(sum(a.size for a in arrays))
    views, start = [], 0
    for a in arrays:
        view = flat[start:start + a.size].reshape(a.shape)
        view[...] = a
        views.append(view)
        start += a.size
    return flat, views


def _buffer(workspace: list, k: int, shape: tuple[int, ...]) -> np.ndarray:
    """``workspace[k]`` (float64), replaced by a new array unless it has ``shape``."""
    workspace.extend([None] * (k + 1 - len(workspace)))
    buf = workspace[k]
    if buf is None or buf.shape != shape:
        buf = workspace[k] = np.empty(shape)
    return buf


def _workspace(K: int, n: int, sizes: Sequence[int]):
    """Buffers reused by every step of a fit on ``n`` rows: the activations of each layer
    after the input ``(K, n, width)`` (a slot per layer, the input's filled by
    :func:`_forward`), the backpropagated gradients of the hidden layers and their ReLU
    masks. Reused at every step instead of allocated (the float operations are the same,
    so are the results, bit for bit)."""
    widths = sizes[1:]
    acts = [None] + [np.empty((K, n, w)) for w in widths]
    deltas = [np.empty((K, n, w)) for w in widths[:-1]]
    masks = [np.empty((K, n, w), dtype=bool) for w in widths[:-1]]
    return acts, deltas, masks


def _forward(params: list[np.ndarray], X_k: np.ndarray, acts: list) -> None:
    """Forward pass into ``acts`` (from :func:`_workspace`): ``acts[0]`` the input,
    ``acts[k + 1]`` layer ``k``'s output (ReLU on the hidden layers, linear on the last)."""
    L = len(params) // 2
    acts[0] = X_k
    for k in range(L):
        z = acts[k + 1]
        np.matmul(acts[k], params[2 * k], out=z)
        z += params[2 * k + 1]
        if k < L - 1:
            np.maximum(z, 0.0, out=z)


def _backward(params: list[np.ndarray], acts: list, grad_out: np.ndarray, deltas: list,
              masks: list, grads: list) -> None:
    """Backpropagate ``grad_out`` ``(K, n, 1)`` (the loss gradient of the outputs) through
    the layers of :func:`_forward`; the gradients of ``params`` are written into ``grads``
    (arrays of their shapes)."""
    L = len(params) // 2
    for k in range(L - 1, -1, -1):
        np.matmul(acts[k].transpose(0, 2, 1), grad_out, out=grads[2 * k])
        np.sum(grad_out, axis=1, keepdims=True, out=grads[2 * k + 1])
        if k:
            delta, mask = deltas[k - 1], masks[k - 1]
            np.matmul(grad_out, params[2 * k].transpose(0, 2, 1), out=delta)
            np.greater(acts[k], 0, out=mask)
            delta *= mask
            grad_out = delta


class BatchedMLP(NumpySurrogate):
    """``members`` independent ReLU MLPs trained together, full batch, with Adam (numpy).

    One array holds every member's weights, so an ensemble costs little more than a single
    network; at these sizes (a few hundred samples, tens of units) plain numpy with
    hand-written backpropagation is several times faster than an autograd framework, and
    float64 keeps the result independent of the thread count. It imports numpy only.

    Parameters
    ----------
    members : networks trained at once (each from its own random initialisation); the
        ensemble's :meth:`predict` is their mean, :meth:`predict_members` gives each.
    hidden : widths of the ReLU hidden layers (default ``(64, 64)``).
    epochs : full-batch Adam steps (200).
    lr : Adam learning rate (1e-2); ``weight_decay`` : L2 term added to the gradients.
    loss : ``"mse"`` (default) or a pairwise ranking loss ``"hinge"`` / ``"logistic"`` /
        ``"exponential"`` (:data:`nasopt.surrogates.losses.LOSSES`) on ``pairs`` random
        pairs per member per step; ``margin`` is the hinge margin. Targets are used as
        given: standardise them first (WeakNAS z-scores them). With a ranking loss the
        predictions are scores whose order is learned, not their scale (they are not
        calibrated to the targets' units as :class:`~nasopt.surrogates.MLP` does).
    random_state : seed (None, int or numpy RNG) of the initial weights and the pairs.
    init_weights : start from these weights (as in :attr:`weights_`, e.g. a previous fit's)
        instead of random ones when their shapes match the network; the random draws are
        made either way, so the pair sampling does not depend on it. ``None``: random.
    warm_epochs : Adam steps of a fit that starts from ``init_weights`` (their shapes
        matching), instead of ``epochs``: a network warm-started from a previous fit on
        most of the same rows needs fewer steps (``None``, default: ``epochs``).
    full_epochs_rows : fewer steps once the training set is large: with ``n`` rows above
        this, a fit runs ``ceil(steps * full_epochs_rows / n)`` Adam steps instead of
        ``steps`` (``epochs``, or ``warm_epochs`` when warm-started), so its cost (rows
        times steps) stops growing with ``n``; ``None`` (default): always ``steps``.
    device : ``"cpu"`` only (numpy); anything else raises
        :class:`~nasopt.core.errors.ConfigurationError`. For a GPU use the torch ``"mlp"``.
    input_groups : the columns of ``X`` are this many inputs side by side (equal widths),
        and the members as many consecutive groups (equal sizes): group ``g`` reads input
        ``g`` only (e.g. a predictor per objective, each on its own encoding, in one batched
        fit; with ``y`` of one column per member). Default 1: every member reads every column.

    Learned attributes: ``weights_`` (per layer, weights ``(members, in, out)`` then biases
    ``(members, 1, out)``), ``n_steps_`` (the Adam steps the fit ran), ``n_features_in_``.
    """

    _allow_nd = True  # inputs are flattened per sample

    def __init__(
        self,
        members: int = 1,
        hidden: Sequence[int] = (64, 64),
        epochs: int = 200,
        lr: float = 1e-2,
        weight_decay: float = 0.0,
        loss: str = "mse",
        pairs: int = 2048,
        margin: float = 0.1,
        random_state: Any = None,
        init_weights: list | None = None,
        warm_epochs: int | None = None,
        full_epochs_rows: int | None = None,
        device: str = "cpu",
        input_groups: int = 1,
    ) -> None:
        self.members = members
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.loss = loss
        self.pairs = pairs
        self.margin = margin
        self.random_state = random_state
        self.init_weights = init_weights
        self.warm_epochs = warm_epochs
        self.full_epochs_rows = full_epochs_rows
        self.device = device
        self.input_groups = input_groups

    def _check_params(self) -> None:
        for name, low in (("members", 1), ("epochs", 0), ("pairs", 1), ("input_groups", 1)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise ConfigurationError(f"{name} must be an integer >= {low}, got {value!r}")
        for name, low in (("warm_epochs", 0), ("full_epochs_rows", 1)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, np.integer))
                                      or isinstance(value, bool) or value < low):
                raise ConfigurationError(
                    f"{name} must be None or an integer >= {low}, got {value!r}")
        hidden = tuple(self.hidden) if isinstance(self.hidden, (list, tuple)) else None
        if hidden is None or not all(isinstance(h, (int, np.integer)) and h >= 1 for h in hidden):
            raise ConfigurationError(f"hidden must be a sequence of positive ints, got {self.hidden!r}")
        check_loss(self.loss)
        self.check_device()
        if int(self.members) % int(self.input_groups):
            raise ConfigurationError(
                f"input_groups ({self.input_groups}) must divide members ({self.members})")

    def _member_inputs(self, X: np.ndarray) -> np.ndarray:
        """``X`` ``(n, d)`` as the input of each member: ``(members, n, d)`` (a view when
        every member reads every column), group ``g`` of the members reading the ``g``-th
        block of ``d / input_groups`` columns."""
        K, G = int(self.members), int(self.input_groups)
        n, d = X.shape
        if G == 1:
            return np.broadcast_to(X, (K, n, d))
        if d % G:
            raise ValueError(f"X has {d} columns: input_groups={G} needs a multiple of {G}")
        blocks = X.reshape(n, G, d // G).transpose(1, 0, 2)
        return np.repeat(blocks, K // G, axis=0)

    def fit(self, X: Any, y: Any) -> "BatchedMLP":
        """Train on ``X`` ``(N, ...)`` (flattened per sample) and ``y`` ``(N,)``, or ``y``
        ``(N, members)``: one target column per member (several objectives learned in one
        batched fit); returns ``self``."""
        self._check_params()
        Y = np.asarray(y)  # array-likes that refuse numpy functions (sklearn's checks) too
        if Y.ndim == 2 and Y.shape[1] > 1:
            Y = Y.astype(np.float64)
            if Y.shape[1] != int(self.members):
                raise ValueError(f"y has {Y.shape[1]} target columns: one per member needs "
                                 f"{self.members}")
            if not np.isfinite(Y).all():
                raise ValueError("Input y contains NaN or infinity.")
            X, _ = self._validate_fit(X, Y[:, 0])
            y = np.ascontiguousarray(Y.T)  # (members, N)
        else:
            X, y = self._validate_fit(X, y)
        rng = _rng(self.random_state)
        X = X.reshape(len(X), -1)
        n, K = len(X), int(self.members)
        X_k = self._member_inputs(X)
        sizes = (X_k.shape[2], *(int(h) for h in self.hidden), 1)
        params: list[np.ndarray] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(a)
            params.append(rng.uniform(-bound, bound, size=(K, a, b)))
            params.append(rng.uniform(-bound, bound, size=(K, 1, b)))
        steps = int(self.epochs)
        if self.init_weights is not None and [p.shape for p in params] == [
            np.shape(s) for s in self.init_weights
        ]:
            params = [np.array(s, dtype=np.float64) for s in self.init_weights]
            if self.warm_epochs is not None:
                steps = int(self.warm_epochs)
        steps = self._steps(steps, n)
        self.n_steps_ = steps
        # every parameter, gradient and Adam moment is a view of one flat array, so that
        # each Adam step is a few whole-array operations (elementwise: the same values)
        w_flat, params = _flat_copy(params)
        m1, m2 = np.zeros_like(w_flat), np.zeros_like(w_flat)
        g_flat, grads = _flat_copy(params)  # the values are overwritten by each step
        b1, b2, eps = 0.9, 0.999, 1e-8
        rank = self.loss != "mse" and n >= 2
        pairs = int(self.pairs)
        members = np.arange(K)[:, None]  # row index of each member's pairs
        acts, deltas, masks = _workspace(K, n, sizes)
        for step in range(1, steps + 1):
            _forward(params, X_k, acts)
            out = acts[-1][..., 0]  # (K, n)
            if not rank:
                g = 2.0 * (out - y) / n
            else:
                i = rng.integers(n, size=(K, pairs))
                j = rng.integers(n, size=(K, pairs))
                # positions in the flattened (K, n) outputs: member k's i then j, per row
                flat = np.concatenate((i, j), 1)
                flat += members * n
                fi, fj = flat[:, :pairs], flat[:, pairs:]
                if y.ndim == 1:
                    s = np.sign(y[i] - y[j])
                else:  # a target per member: row k of y
                    s = np.sign(y.take(fi) - y.take(fj))
                dz = phi_grad((out.take(fi) - out.take(fj)) * s, self.loss, self.margin)
                dz = dz * s / pairs  # s == 0 (ties) gives no gradient
                g = np.bincount(flat.ravel(), weights=np.concatenate((dz, -dz), 1).ravel(),
                                minlength=K * n)
                g = g.reshape(K, n)
            _backward(params, acts, g[..., None], deltas, masks, grads)
            lr_t = self.lr * math.sqrt(1 - b2**step) / (1 - b1**step)
            gr = g_flat + self.weight_decay * w_flat if self.weight_decay else g_flat
            m1 *= b1
            m1 += (1 - b1) * gr
            m2 *= b2
            m2 += (1 - b2) * gr * gr
            w_flat -= lr_t * m1 / (np.sqrt(m2) + eps)
        self.weights_ = params
        return self

    def _steps(self, steps: int, n: int) -> int:
        """Adam steps of a fit on ``n`` rows: ``steps``, shrunk in proportion to
        ``full_epochs_rows / n`` above ``full_epochs_rows`` rows (at least 1 when
        ``steps`` is)."""
        rows = self.full_epochs_rows
        if rows is None or n <= rows or steps == 0:
            return steps
        return max(1, -(-steps * int(rows) // n))

    def predict_members(self, X: Any, workspace: list | None = None) -> np.ndarray:
        """Predictions of every member, shape ``(members, len(X))`` (float64).

        ``workspace``: optional, a list the caller keeps from call to call (start with
        ``[]``); the hidden layers' activations are computed into the arrays it holds when
        their shapes match (they are replaced when not). Large fresh arrays cost their
        page faults at every call (measured: a third of the time of scoring NB201's
        15,625 cells); the results are the same, bit for bit."""
        self._check_fitted("weights_")
        h = self._validate_predict(X)
        n = len(h)
        h = h.reshape(n, -1)
        G = int(self.input_groups)
        L = len(self.weights_) // 2
        for k in range(L):  # in place after each product: no second (K, N, width) array
            W = self.weights_[2 * k]
            if k == 0 and G > 1:  # group g of the members on the g-th block of columns
                shape = (W.shape[0], n, W.shape[2])
                last = workspace is None or k == L - 1
                out = np.empty(shape) if last else _buffer(workspace, k, shape)
                size, width = W.shape[0] // G, h.shape[1] // G
                for g in range(G):
                    np.matmul(h[:, g * width:(g + 1) * width], W[g * size:(g + 1) * size],
                              out=out[g * size:(g + 1) * size])
                h = out
            elif workspace is None or k == L - 1:
                h = h @ W
            else:
                h = np.matmul(h, W, out=_buffer(workspace, k, (W.shape[0], n, W.shape[2])))
            h += self.weights_[2 * k + 1]
            if k < L - 1:
                np.maximum(h, 0.0, out=h)
        return h[..., 0]

    def predict(self, X: Any) -> np.ndarray:
        """The members' mean prediction, shape ``(len(X),)`` (float64)."""
        return self.predict_members(X).mean(0)
