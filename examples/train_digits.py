"""Real NAS: NAS-Bench-201 cells built as small PyTorch networks, trained on CPU for a few
epochs on scikit-learn's bundled 8x8 digits images (no download), searched with WeakNAS.

    python examples/train_digits.py --budget 30 --epochs 4
    python examples/train_digits.py --budget 3 --epochs 1   # small run (env: NASOPT_EXAMPLE_BUDGET)

Each proposal is an official NAS-Bench-201 cell string; the network is the official
NAS-Bench-201 network that ``NB201Space().build`` returns (stem, three stages of cells with
residual reduction blocks between them, global average pooling, classifier), with one cell
per stage instead of five and one input channel, so that it trains in seconds on 8x8 images.
The search objective is the validation accuracy; the best cell is finally evaluated once on
the held-out test images.
"""

import argparse
import os
import zlib

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

import nasopt
from nasopt.spaces import NB201Space

#: Channels of the first stage (the official network has 16) and cells per stage (official: 5).
CHANNELS, CELLS_PER_STAGE = 16, 1


def build(arch: str, space: NB201Space) -> nn.Module:
    """The official NAS-Bench-201 network of ``arch`` (``NB201Space.build``), sized for 8x8
    grey-scale digits: 1 input channel, one cell per stage (8x8, 4x4, 2x2 feature maps)."""
    return space.build(arch, num_classes=10, C=CHANNELS, N=CELLS_PER_STAGE, in_channels=1)


def load_data(seed: int = 0):
    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
    y = torch.tensor(y, dtype=torch.long)
    idx = np.arange(len(y))
    train, rest = train_test_split(idx, test_size=0.4, random_state=seed, stratify=y.numpy())
    valid, test = train_test_split(rest, test_size=0.5, random_state=seed, stratify=y.numpy()[rest])
    return {name: (X[i], y[i]) for name, i in (("train", train), ("valid", valid), ("test", test))}


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return 100.0 * (model(X).argmax(1) == y).float().mean().item()


def train(arch: str, data: dict, epochs: int, seed: int, space: NB201Space) -> nn.Module:
    """Train a network with cell ``arch`` (deterministic for a given arch and seed)."""
    torch.manual_seed(seed * 1_000_003 + zlib.crc32(arch.encode()))
    model = build(arch, space)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    X, y = data["train"]
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(y)).split(64):
            opt.zero_grad()
            loss_fn(model(X[batch]), y[batch]).backward()
            opt.step()
    return model


def make_strategy(space, seed: int, budget: int):
    """WeakNAS when available (the initial random sample scaled to the budget), else REA."""
    try:
        import nasopt.strategies.weaknas  # noqa: F401  (registers "weaknas")
    except ImportError:
        return nasopt.create("rea", space, seed=seed)
    init = max(2, min(10, budget // 3))
    return nasopt.create("weaknas", space, seed=seed, init=init, batch=max(1, min(5, init)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=int, default=int(os.environ.get("NASOPT_EXAMPLE_BUDGET", 30)),
                   help="networks to train (default 30)")
    p.add_argument("--epochs", type=int, default=int(os.environ.get("NASOPT_EXAMPLE_EPOCHS", 4)))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(1)

    data = load_data(args.seed)
    space = NB201Space()
    opt = make_strategy(space, args.seed, args.budget)
    print(f"searching {len(space)} cells with {type(opt).__name__}, {args.budget} trainings of {args.epochs} epochs")

    def objective(arch: str) -> float:
        return accuracy(train(arch, data, args.epochs, args.seed, space), *data["valid"])

    while len(opt.trials) < args.budget:
        for trial in opt.ask(min(getattr(opt, "batch", 1), args.budget - len(opt.trials))):
            value = objective(trial.arch)
            opt.tell(trial, value)
            print(f"  #{trial.id:3d} valid {value:6.2f} %  {trial.arch}")

    best = opt.best
    test = accuracy(train(best.arch, data, args.epochs, args.seed, space), *data["test"])
    print(f"best cell: {best.arch}\n  validation {best.value:.2f} %, test {test:.2f} %")


if __name__ == "__main__":
    main()
