"""Read and write the benchmark harness's JSON result files, gzip-compressed or not.

The raw runs kept in ``results/`` are compressed (``<stem>.json.gz``); the search, ReNAS and
predictor benchmarks write theirs that way, and every reader of a result file (``--reuse``,
``--merge``) takes either form:

- a path ending in ``.gz`` is read and written through gzip;
- a path to a missing ``X.json`` whose ``X.json.gz`` exists is read from the latter, so a
  command recorded before its input was compressed (in a table's ``.md`` or a run's
  ``command`` field) still runs as written.

Compressed files are deterministic: no file name and a zero time stamp in the gzip header
(``gzip -n``), so the same result gives the same bytes.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from typing import Any

__all__ = ["read_json", "write_json"]


def read_json(path: str | os.PathLike[str]) -> Any:
    """The JSON value in ``path``, gunzipped when the path ends in ``.gz``; a missing
    ``X.json`` is read from ``X.json.gz`` when that exists.

    Raises:
        FileNotFoundError: neither ``path`` nor (for ``.json``) ``path + ".gz"`` exists.
    """
    name = os.fspath(path)
    if not os.path.exists(name) and name.endswith(".json") and os.path.exists(name + ".gz"):
        name += ".gz"
    if name.endswith(".gz"):
        with gzip.open(name, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    with open(name, encoding="utf-8") as fh:
        return json.load(fh)


def write_json(path: str | os.PathLike[str], data: Any, indent: int | None = None) -> None:
    """Write ``data`` as JSON to ``path``, gzip-compressed (level 9, no name, time stamp 0)
    when the path ends in ``.gz``."""
    name = os.fspath(path)
    text = json.dumps(data, indent=indent)
    if not name.endswith(".gz"):
        with open(name, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    with open(name, "wb") as fh:
        fh.write(buf.getvalue())
