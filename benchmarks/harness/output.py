"""Where the experiment scripts write their results.

Without ``--out`` an experiment writes under ``./nasopt-bench-out/`` and says so on stderr,
never into ``results/``: a command of the docs rerun from the repository root must not
overwrite the committed results. The commands that regenerate those pass
``--out results/...`` explicitly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

#: Folder (relative to the working directory) of the results of a run without ``--out``.
SCRATCH_DIR = "nasopt-bench-out"


def output_path(out: str | None, default: str, command: str) -> str:
    """``out`` when the user gave one, else ``nasopt-bench-out/<default>``, announced on
    stderr (``command``, the script's name, e.g. ``benchmarks/search.py``, opens that line)."""
    if out is not None:
        return out
    path = os.path.join(SCRATCH_DIR, default)
    print(f"{command}: no --out given, writing to {os.path.abspath(path)}"
          f"{'' if default else os.sep} (--out chooses where)", file=sys.stderr)
    return path


def write_markdown(out: str, lines: Iterable[str]) -> None:
    """Write ``lines`` to ``<out>.md`` (its folder made if needed) and say so on stdout."""
    path = Path(out + ".md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print(f"wrote {path}")
