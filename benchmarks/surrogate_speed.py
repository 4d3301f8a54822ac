"""Fit and scoring times of every surrogate on NAS-Bench-201 (writes <out>/surrogate_speed.{json,md}).

    NASOPT_DATA=../shared/data python benchmarks/surrogate_speed.py --repeats 3 --out results
"""

import sys

from nasopt.benchmarks.surrogate_speed import main

if __name__ == "__main__":
    sys.exit(main())
