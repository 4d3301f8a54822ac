"""TFRecord reader speed (nasopt bench tfrecord --help)."""

import sys

from nasopt.benchmarks.tfrecord import main

if __name__ == "__main__":
    main()
    sys.exit(0)
