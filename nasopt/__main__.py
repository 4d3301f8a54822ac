"""``python -m nasopt``: the ``nasopt`` command (see :mod:`nasopt.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
