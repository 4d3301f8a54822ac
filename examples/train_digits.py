"""Real NAS: NAS-Bench-201 cells built as small PyTorch networks, trained on CPU for a few
epochs on scikit-learn's bundled 8x8 digits images (no download), searched with WeakNAS.

    python examples/train_digits.py --budget 30 --epochs 4
    python examples/train_digits.py --budget 3 --epochs 1   # small run (env: NASOPT_EXAMPLE_BUDGET)

Each proposal is an official NAS-Bench-201 cell string; the network is a 3x3 stem
convolution, ``--cells`` copies of the cell, global average pooling and a linear classifier.
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
from nasopt.spaces.nb201 import EDGES, OPS


def make_op(name: str, channels: int) -> nn.Module | None:
    """One NAS-Bench-201 operation (None for the zero op)."""
    if name == "none":
        return None
    if name == "skip_connect":
        return nn.Identity()
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    k = 1 if name == "nor_conv_1x1" else 3
    return nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, k, padding=k // 2, bias=False),
                         nn.BatchNorm2d(channels))


class Cell(nn.Module):
    """The 4-node NAS-Bench-201 DAG: node j sums op(i -> j)(node i) over i < j."""

    def __init__(self, ops: list[str], channels: int) -> None:
        super().__init__()
        self.edges = [(i, j) for (i, j) in EDGES]
        self.ops = nn.ModuleList([make_op(o, channels) or nn.Identity() for o in ops])
        self.zero = [o == "none" for o in ops]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for j in (1, 2, 3):
            total = torch.zeros_like(x)
            for e, (i, jj) in enumerate(self.edges):
                if jj == j and not self.zero[e]:
                    total = total + self.ops[e](nodes[i])
            nodes.append(total)
        return nodes[3]


class Net(nn.Module):
    def __init__(self, arch: str, channels: int = 16, cells: int = 2) -> None:
        super().__init__()
        ops = [OPS[int(c)] for c in NB201Space().op_codes[NB201Space().index(arch)]]
        self.stem = nn.Sequential(nn.Conv2d(1, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        self.cells = nn.Sequential(*[Cell(ops, channels) for _ in range(cells)])
        self.head = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(channels, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cells(self.stem(x)))


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


def train(arch: str, data: dict, epochs: int, seed: int) -> nn.Module:
    """Train a network with cell ``arch`` (deterministic for a given arch and seed)."""
    torch.manual_seed(seed * 1_000_003 + zlib.crc32(arch.encode()))
    model = Net(arch)
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
        return accuracy(train(arch, data, args.epochs, args.seed), *data["valid"])

    while len(opt.trials) < args.budget:
        for trial in opt.ask(min(getattr(opt, "batch", 1), args.budget - len(opt.trials))):
            value = objective(trial.arch)
            opt.tell(trial, value)
            print(f"  #{trial.id:3d} valid {value:6.2f} %  {trial.arch}")

    best = opt.best
    test = accuracy(train(best.arch, data, args.epochs, args.seed), *data["test"])
    print(f"best cell: {best.arch}\n  validation {best.value:.2f} %, test {test:.2f} %")


if __name__ == "__main__":
    main()
