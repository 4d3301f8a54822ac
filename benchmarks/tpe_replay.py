"""Replay the multi-objective TPE runs of hardware results files with the incremental sampler.

Every TPE run of ``benchmarks/hardware.py`` now goes through
:class:`~benchmarks.harness.tpe_incremental.IncrementalMOTPESampler`. This script reruns
the TPE runs stored in earlier results files (made with Optuna's own ``TPESampler``) and
checks that each gives the same distinct cells in the same order after the same number of
suggestions; it reports the CPU seconds of both. Example (the table cited in
docs/hardware.md)::

    python benchmarks/tpe_replay.py results/hardware/long_tpe.json.gz \\
        results/hardware/tpe_patient_cifar10_230.json.gz --out results/hardware/tpe_replay

Writes ``<out>.md``; exits 1 if any run differs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if not __package__:  # run as `python benchmarks/tpe_replay.py`: the repository root first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks import hardware as hw  # noqa: E402
from benchmarks.harness.jsonio import read_json  # noqa: E402
from benchmarks.harness.output import output_path, write_markdown  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402


def replay(run: dict) -> tuple[bool, float]:
    """Rerun one stored TPE front run (:func:`benchmarks.hardware.run_front`: its method's
    cap, seed, budget); whether it queried the same cells after as many suggestions, and
    its CPU seconds."""
    res = hw.run_front(run["method"], run["dataset"], run["target"], run["seed"], run["budget"])
    return res["indices"] == run["indices"] and res["suggestions"] == run["suggestions"], res["cpu_s"]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", help="results files of benchmarks/hardware.py (.json.gz)")
    p.add_argument("--out", default=None, help="output prefix (default nasopt-bench-out/tpe_replay)")
    args = p.parse_args(argv)
    out = output_path(args.out, "tpe_replay", "benchmarks/tpe_replay.py")
    lines = ["`python benchmarks/tpe_replay.py " + " ".join(sys.argv[1:] if argv is None else argv) + "`",
             "", "Each multi-objective TPE run of the file (its repeats told their values) rerun "
             "with the incremental sampler: runs giving the same distinct cells in the same "
             "order after as many suggestions; CPU seconds per run, mean (stored: Optuna's "
             "own sampler, when the file was made).", "",
             "| file | runs | same | suggestions per run | CPU s stored | CPU s now |",
             "| --- | --- | --- | --- | --- | --- |"]
    failed = 0
    for path in args.files:
        runs = [r for r in read_json(path)["runs"] if r.get("kind") == "front"
                and hw.FRONT_METHODS.get(r["method"], ("", ""))[1] == "TPESampler"
                and r["method"] not in hw.PRUNED_REPEATS]
        results = [replay(r) for r in runs]
        same = sum(ok for ok, _ in results)
        failed += len(runs) - same
        sugg = [r["suggestions"] for r in runs]
        lines.append(f"| `{Path(path).name}` | {len(runs)} | {same} | {min(sugg)}–{max(sugg)} | "
                     f"{np.mean([r['cpu_s'] for r in runs]):.1f} | "
                     f"{np.mean([c for _, c in results]):.1f} |")
        print(lines[-1], flush=True)
    write_markdown(out, lines + [""])
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    one_thread()
    sys.exit(main())
