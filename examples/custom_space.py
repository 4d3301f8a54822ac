"""Your own search space: a ProductSpace of MLP designs with a validity rule, searched with
real training (scikit-learn MLPs on the bundled 8x8 digits images; no download).

    python examples/custom_space.py --budget 30
    python examples/custom_space.py --budget 4         # small run (env: NASOPT_EXAMPLE_BUDGET)

An architecture is a plain dict, e.g. ``{"depth": 2, "width": 64, "activation": "relu",
"alpha": 1e-4}``; the rule keeps the network under a parameter budget.
"""

import argparse
import os
import warnings
from collections.abc import Callable

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

import nasopt
from nasopt.spaces.product import ProductSpace

MAX_PARAMS = 20_000


def n_params(arch: dict) -> int:
    """Weights of an MLP 64 -> width^depth -> 10."""
    sizes = [64] + [arch["width"]] * arch["depth"] + [10]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def within_budget(arch: dict) -> bool:
    """The validity rule: small enough networks only."""
    return n_params(arch) <= MAX_PARAMS


SPACE = ProductSpace(
    {"depth": [1, 2, 3, 4], "width": [16, 32, 64, 128, 256], "activation": ["relu", "tanh", "logistic"],
     "alpha": [1e-5, 1e-4, 1e-3, 1e-2]},
    valid=within_budget,
)


def make_objective(epochs: int) -> Callable[[dict], float]:
    """``objective(arch)``: validation accuracy (%) of the MLP ``arch`` trained for
    ``epochs`` iterations on 70 % of the digits."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)

    def objective(arch: dict) -> float:
        clf = MLPClassifier(hidden_layer_sizes=(arch["width"],) * arch["depth"],
                            activation=arch["activation"], alpha=arch["alpha"],
                            max_iter=epochs, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X_train, y_train)
        return 100.0 * clf.score(X_valid, y_valid)

    return objective


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=int, default=int(os.environ.get("NASOPT_EXAMPLE_BUDGET", 30)))
    p.add_argument("--strategy", default="rea", help="rea, weaknas, random, ...")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=40, help="training iterations per network")
    args = p.parse_args()
    threadpool_limits(1)  # small matrices: one BLAS thread is fastest and polite
    objective = make_objective(args.epochs)

    print(f"{len(SPACE)} valid designs of {SPACE.total} combinations (<= {MAX_PARAMS} weights)")
    opt = nasopt.create(args.strategy, SPACE, seed=args.seed)
    for _ in range(args.budget):
        trial = opt.ask()
        assert within_budget(trial.arch)  # proposals always satisfy the rule
        opt.tell(trial, objective(trial.arch))
    print(f"best of {args.budget}: {opt.best.arch} ({n_params(opt.best.arch)} weights), "
          f"validation accuracy {opt.best.value:.2f} %")
    values = np.array([t.value for t in opt.completed])
    print(f"mean of the evaluated designs {values.mean():.2f} %")


if __name__ == "__main__":
    main()
