"""NAS-Bench-101 space enumeration and table loading (nasopt bench nb101 --help)."""

import sys

from nasopt.benchmarks.nb101 import main

if __name__ == "__main__":
    main()
    sys.exit(0)
