"""Speed-up of the parallel driver on slow evaluations (see nasopt/integrations/parallel_benchmark.py).

    python benchmarks/parallel.py --workers 2 --trials 40 --sleep 0.2 --out results/parallel.json
"""

import sys

from nasopt.integrations.parallel_benchmark import main

if __name__ == "__main__":
    sys.exit(main())
