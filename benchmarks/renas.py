"""ReNAS on NAS-Bench-201 next to REA, random search, WeakNAS and Optuna TPE
(see nasopt/benchmarks/renas_bench.py).

    NASOPT_DATA=../shared/data nice -n 10 python benchmarks/renas.py --seeds 0-19 --workers 2
"""

import sys

from nasopt.benchmarks.renas_bench import main

if __name__ == "__main__":
    sys.exit(main())
