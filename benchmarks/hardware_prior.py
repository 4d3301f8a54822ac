"""Does a prior help WeakNAS with several objectives? Hypervolume regret at 100 queries.

NAS-Bench-201 validation accuracy (maximized) × latency on a device (minimized), the
normalisation and regret of ``benchmarks/hardware.py``; WeakNAS with
``objectives=["max", "min"]`` and its defaults, with these priors:

* ``none``: no prior (what ``prior="auto"`` gave with several objectives until it took the
  proxies and the function features as predictor inputs);
* ``syn-feat``: log synflow of the packaged proxy table as predictor input only
  (``prior_init=0``);
* ``free-feat``: the space's params + FLOPs (``prior="free"``) as input only;
* ``syn-half``: log synflow for half the random start and as input (the single-objective
  default's use of it).

Run on the tuning seeds (the choice it informs is a default)::

    NASOPT_DATA=../shared/data python benchmarks/hardware_prior.py --devices pixel3,raspi4 --seeds 0-9 --out results/hardware/prior_tuning
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness.output import output_path, write_markdown  # noqa: E402
from benchmarks.harness.runs import parse_list, parse_seeds  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402
from benchmarks.hardware_tuning import search  # noqa: E402

#: The WeakNAS options of each variant (``"synflow"``: the packaged log-synflow table).
VARIANTS: dict[str, dict] = {
    "none": {"prior": None},
    "syn-feat": {"prior": "synflow", "prior_init": 0.0},
    "free-feat": {"prior": "free", "prior_init": 0.0},
    "syn-half": {"prior": "synflow", "prior_init": 0.5},
}
QUERIES = 100


def regret(variant: str, device: str, seed: int) -> tuple[float, float]:
    """Regret at :data:`QUERIES` queries and CPU seconds of one search."""
    res = search(VARIANTS[variant], "cifar10", device, seed, QUERIES)
    return res["regret"][str(QUERIES)], res["cpu_s"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", default="pixel3,raspi4")
    ap.add_argument("--seeds", default="0-9", help="A-B or a,b,c")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--out", default=None, help="path stem of the .md table "
                    "(default: nasopt-bench-out/hardware_prior)")
    args = ap.parse_args(argv)
    out = output_path(args.out, "hardware_prior", "benchmarks/hardware_prior.py")
    seeds = parse_seeds(args.seeds)
    devices, variants = parse_list(args.devices), parse_list(args.variants)
    rows = []
    for variant in variants:
        cells = []
        for device in devices:
            res = np.array([regret(variant, device, s) for s in seeds])
            r = res[:, 0]
            cells.append(f"{r.mean():.3f} ± {r.std(ddof=1) / np.sqrt(len(r)):.3f} ({res[:, 1].mean():.2f} s)")
            print(variant, device, cells[-1], flush=True)
        rows.append(f"| `{variant}` | " + " | ".join(cells) + " |")
    cmd = "python benchmarks/hardware_prior.py " + " ".join(sys.argv[1:] if argv is None else argv)
    md = [f"`{cmd}`", "",
          f"Hypervolume regret at {QUERIES} queries (mean ± s.e.m. over seeds {args.seeds}; CPU s "
          "per search in brackets), NB201 CIFAR-10 validation accuracy × latency, WeakNAS with "
          "several objectives and the listed prior.", "",
          "| prior | " + " | ".join(devices) + " |",
          "| --- | " + " | ".join("---" for _ in devices) + " |", *rows, ""]
    write_markdown(out, md)
    return 0


if __name__ == "__main__":
    one_thread()
    sys.exit(main())
