"""Baseline checks on NAS-Bench-201 (see nasopt/benchmarks/baseline_bench.py).

    NASOPT_DATA=../shared/data python benchmarks/baselines.py --runs 100 --out results/baselines
"""

import sys

from nasopt.benchmarks.baseline_bench import main

if __name__ == "__main__":
    sys.exit(main())
