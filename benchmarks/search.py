"""Search strategies side by side on NAS-Bench-201 (see nasopt/benchmarks/search_bench.py).

    NASOPT_DATA=../shared/data python benchmarks/search.py --dataset cifar100 --runs 100 \
        --budget 1000 --strategies weaknas,rea,random,tpe --workers 2 --out results/search_cifar100
"""

import sys

from nasopt.benchmarks.search_bench import main

if __name__ == "__main__":
    sys.exit(main())
