"""MLP surrogate (torch), the WeakNAS predictor."""

from __future__ import annotations

import torch

from ..core.errors import ConfigurationError
from ._torch import TorchSurrogate


class _MLPNet(torch.nn.Module):
    """Linear+ReLU stack; returns ``(prediction, last hidden features)``."""

    def __init__(self, n_in: int, hidden: tuple[int, ...]):
        super().__init__()
        layers: list[torch.nn.Module] = []
        width = n_in
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        self.body = torch.nn.Sequential(*layers)
        self.head = torch.nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feat = self.body(x.reshape(x.shape[0], -1))
        return self.head(feat).squeeze(1), feat


class MLP(TorchSurrogate):
    """Fully connected regressor / ranker on flat encodings (e.g. NB201 one-hot, 30-d).

    Parameters
    ----------
    hidden_layer_sizes : widths of the ReLU hidden layers. Default ``(256, 256)``: small
        enough to fit 90 architectures in about a second and to score all 15,625 NB201
        cells in ~0.05–0.09 s of one CPU core (the paper's 4 × 1000 net costs ~40× more per
        prediction). On NB201 CIFAR-10 one-hot it reaches Kendall τ ≈ 0.64 (MSE) / 0.75
        (hinge) with 424 training architectures. The WeakNAS paper setting is
        ``hidden_layer_sizes=(1000,) * 4, epochs=100`` (see :data:`PAPER_SETTINGS`).
    loss : ``"mse"`` (default) or a ranking loss ``"hinge"`` / ``"logistic"`` /
        ``"exponential"`` (:mod:`nasopt.surrogates.losses`).
    margin : hinge margin ``a`` (in z-scored target units), or ``"cv"``.
    lam : weight ``λ`` of the triplet continuity term on the last hidden layer (0 = off),
        or ``"cv"``.
    epochs, batch_size, lr, weight_decay : Adam training; defaults 100 epochs, batch 32,
        lr 1e-3, no weight decay (the WeakNAS settings, batch chosen for small sets).
    max_pairs : at most this many pairs / triplets per mini-batch for ranking losses.
    device : ``"cpu"``, ``"cuda"`` (error if unavailable) or ``"auto"``.
    random_state : seed (None, int or RandomState) for init, shuffling and pair sampling.
    predict_batch_size : rows per forward pass when predicting.
    n_threads : torch CPU threads during fit / predict (default 1). Seeded results are
        bit-identical for a given value, whatever ``torch.get_num_threads()`` says; ``None``
        uses torch's current setting (faster on idle multi-core machines, but results then
        vary in the last bits with the thread count).
    cv_folds, cv_grid : folds and ``{"margin": [...], "lam": [...]}`` grid used for the
        options set to ``"cv"`` (default grid :data:`nasopt.surrogates.cv.DEFAULT_GRID`);
        the procedure is :func:`nasopt.surrogates.select_by_cv` on the training set only,
        and its table is kept in ``cv_results_``.
    """

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (256, 256),
        *,
        loss: str = "mse",
        margin: float | str = 0.1,
        lam: float | str = 0.0,
        epochs: int = 100,
        batch_size: int = 32,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        max_pairs: int = 4096,
        device: str = "cpu",
        random_state: object = None,
        predict_batch_size: int = 65536,
        n_threads: int | None = 1,
        cv_folds: int = 3,
        cv_grid: dict | None = None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.loss = loss
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
        self.n_threads = n_threads
        self.cv_folds = cv_folds
        self.cv_grid = cv_grid

    def _build(self, input_shape: tuple[int, ...]) -> torch.nn.Module:
        hidden = tuple(int(h) for h in self.hidden_layer_sizes)
        if not hidden or min(hidden) < 1:
            raise ConfigurationError(
                "hidden_layer_sizes must be a non-empty tuple of positive ints, "
                f"got {self.hidden_layer_sizes!r}"
            )
        n_in = 1
        for d in input_shape:
            n_in *= int(d)
        return _MLPNet(n_in, hidden)


#: Options reproducing the WeakNAS paper's MLP (4 × 1000 ReLU, Adam 1e-3, 100 epochs).
PAPER_SETTINGS: dict[str, object] = {"hidden_layer_sizes": (1000, 1000, 1000, 1000), "epochs": 100}
