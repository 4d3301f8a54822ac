"""NAS-Bench-101 checks: ``space`` enumerates the space and counts its cells (423,624
distinct module hashes expected, minutes), ``load`` converts a NAS-Bench-101 file and times
it.

    python benchmarks/nb101.py space
    NASOPT_DATA=../shared/data python benchmarks/nb101.py load
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if not __package__:  # run as `python benchmarks/nb101.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.harness.output import output_path  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt.benchmarks.nb101 import NB101  # noqa: E402
from nasopt.spaces.nb101 import MAX_VERTICES, OP_CODE, canonical_keys, enumerate_representations  # noqa: E402
from nasopt.spaces.nb101_hash import HASH_OP_ORDER, module_hash  # noqa: E402


def count_space(out: dict | None = None, log=print) -> dict:
    """Enumerate every valid cell representation (as NAS-Bench-101's generator does), count the
    distinct cells by exact canonical forms and by module hash, per vertex count."""
    labels_of = {OP_CODE[op]: i for i, op in enumerate(HASH_OP_ORDER)}
    out = {} if out is None else out
    t0 = time.perf_counter()
    hashes: set[str] = set()
    for n in range(2, MAX_VERTICES + 1):
        mats, codes = enumerate_representations(n)
        _, first = np.unique(canonical_keys(mats, codes), return_index=True)
        hs = {module_hash(mats[k], [-1] + [labels_of[int(x)] for x in codes[k, 1:-1]] + [-2])
              for k in first}
        hashes |= hs
        out[str(n)] = {"representations": int(len(mats)), "cells": int(len(first)),
                       "distinct_hashes": len(hs)}
        log(f"{n} vertices: {out[str(n)]}")
    out["total_cells"] = sum(v["cells"] for v in out.values() if isinstance(v, dict))
    out["total_distinct_hashes"] = len(hashes)
    out["official_total"] = 423_624
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def main(argv: list[str] | None = None) -> dict:
    """``space``: enumerate the NAS-Bench-101 space and check it has 423,624 cells with
    distinct module hashes; ``load``: convert a NAS-Bench-101 file and time it."""
    ap = argparse.ArgumentParser(prog="python benchmarks/nb101.py", description=main.__doc__)
    ap.add_argument("what", choices=("space", "load"))
    ap.add_argument("--data", default=None, help="NAS-Bench-101 file or directory (load)")
    ap.add_argument("--out", default=None, help="JSON output (default nasopt-bench-out/nb101_<what>.json)")
    args = ap.parse_args(argv)
    if args.what == "space":
        result = count_space()
    else:
        t0 = time.perf_counter()
        bench = NB101(args.data)
        best = bench.optimum
        result = {"source": bench.source, "cache": bench.cache_path, "cells": len(bench),
                  "seconds": round(time.perf_counter() - t0, 1),
                  "best_valid": best.value, "best_valid_test": float(bench.test_values[best.index]),
                  "best_test": bench.test_optimum.value}
    print(json.dumps(result, indent=2))
    out = Path(output_path(args.out, f"nb101_{args.what}.json", "benchmarks/nb101.py"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    main()
