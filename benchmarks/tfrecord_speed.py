"""Speed of nasopt's TFRecord reader (:mod:`nasopt.benchmarks.tfrecord`, CRC-verified and
not) on a synthetic NAS-Bench-101-like file.

    python benchmarks/tfrecord_speed.py --mb 64
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

if not __package__:  # run as `python benchmarks/tfrecord_speed.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.harness.output import output_path  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from nasopt.benchmarks.tfrecord import iter_records, write_records  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    """Measure TFRecord reading speed (CRC-verified) on a synthetic NAS-Bench-101-like file.

    Writes a JSON summary to ``--out`` (default ``nasopt-bench-out/tfrecord_speed.json``;
    ``--out ''`` writes none)."""
    ap = argparse.ArgumentParser(prog="python benchmarks/tfrecord_speed.py", description=main.__doc__)
    ap.add_argument("--mb", type=float, default=8.0, help="size of the synthetic file in MB")
    ap.add_argument("--record-bytes", type=int, default=400,
                    help="mean payload size (NAS-Bench-101 records are ~400 bytes)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    args.out = output_path(args.out, "tfrecord_speed.json", "benchmarks/tfrecord_speed.py")
    rng = np.random.default_rng(0)
    n = max(1, int(args.mb * 1e6 / (args.record_bytes + 16)))
    sizes = rng.integers(args.record_bytes // 2, args.record_bytes * 3 // 2 + 1, size=n)
    blob = rng.integers(0, 256, size=int(sizes.sum()), dtype=np.uint8).tobytes()
    cuts = np.concatenate([[0], np.cumsum(sizes)])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.tfrecord"
        write_records(path, (blob[cuts[i]:cuts[i + 1]] for i in range(n)))
        mb = path.stat().st_size / 1e6
        times, cpu = {}, {}
        for verify in (True, False):
            best = best_cpu = float("inf")
            for _ in range(args.repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                count = sum(1 for _ in iter_records(path, verify=verify))
                best = min(best, time.perf_counter() - t0)
                best_cpu = min(best_cpu, time.process_time() - c0)
            if count != n:
                raise RuntimeError(f"read {count} records, wrote {n}")
            times[verify], cpu[verify] = best, best_cpu
    result = {
        "file_mb": round(mb, 3), "records": n,
        "verified_s": round(times[True], 4), "verified_mb_per_s": round(mb / times[True], 2),
        "verified_cpu_s": round(cpu[True], 4), "verified_mb_per_cpu_s": round(mb / cpu[True], 2),
        "unverified_s": round(times[False], 4), "unverified_mb_per_s": round(mb / times[False], 2),
        "estimated_500mb_verified_s": round(500 / (mb / times[True]), 1),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    main()
