"""The default prior of a space that can only build its networks: does it help?

``prior="auto"`` of WeakNAS counts the parameters of the built networks
(:class:`nasopt.proxies.prior.BuiltParams`) on a space that can build models and has no
free features: every member's on a finite space of at most ``AUTO_BUILD_LIMIT`` members,
else only for the start, within ``AUTO_BUILD_POOL`` uniform samples. This script measures
it on such spaces made from NAS-Bench-201: a ``ProductSpace`` of the six cell edges whose
``build`` makes the official NAS-Bench-201 network of the cell (``NB201Space.build``) and
which offers nothing else (no free features, no proxy table), over three of the five
operations (3^6 = 729 cells, ``--parts small``) or all five (15,625 cells, ``large``: a
stand-in network of the same parameter count). Objective: the NB201 validation accuracy of
the cell; reported: distinct queries until the space's validation optimum is found.

Methods, the same held-out seeds:

* ``weaknas`` (``prior="auto"``, the default): the prior that ``auto`` chooses, checked once
  per sub-space to be the parameter counts of the built networks (every one of the 729
  networks is built once, timed), then passed to every seed as that table with the refits
  ``auto`` sets (the same run, as ``tests/test_priors.py`` checks), so that the networks are
  not built again per seed;
* ``weaknas-noprior``: ``prior=None`` (the behaviour before the default took the counts);
* ``random``: nasopt's random search;
* ``params order``: evaluating in decreasing parameter count, no predictor (ties in
  index order): the prior alone.

Run::

    NASOPT_DATA=../shared/data python benchmarks/build_prior.py --seeds 1000-1099 --out results/build_prior
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness.output import output_path, write_markdown  # noqa: E402
from benchmarks.harness.runs import parse_seeds  # noqa: E402
from benchmarks.harness.threads import one_thread  # noqa: E402

#: The sub-spaces: three operations on every edge.
SUBSPACES: dict[str, tuple[str, ...]] = {
    "none/skip/conv3x3": ("none", "skip_connect", "nor_conv_3x3"),
    "skip/conv1x1/pool": ("skip_connect", "nor_conv_1x1", "avg_pool_3x3"),
}
DATASETS = ("cifar10", "cifar100", "imagenet16")
METHODS = ("weaknas", "weaknas-noprior", "random")


def cell_space(ops: tuple[str, ...], stand_in: bool = False):
    """A ``ProductSpace`` of the six edges over ``ops`` that builds NB201 networks (with
    ``stand_in``, a module holding as many parameters as the NB201 network, counted in
    closed form by ``NB201Space.free_features``: the same parameter count, ~1,000 times
    cheaper to make, so that 100 seeds measure the search, not the building)."""
    from nasopt.spaces import NB201Space, ProductSpace
    from nasopt.spaces.nb201 import EDGES, OPS, ops_to_string

    class CellSpace(ProductSpace):
        """Six NB201 cell edges over a few operations; builds the NB201 network."""

        def __init__(self) -> None:
            super().__init__({f"e{k}": list(ops) for k in range(len(EDGES))})
            self._nb201 = NB201Space(path=None)

        def cell(self, arch: dict) -> str:
            return ops_to_string([OPS.index(arch[f"e{k}"]) for k in range(len(EDGES))])

        def build(self, arch: dict, **kw):
            if not stand_in:
                return self._nb201.build(self.cell(arch), **kw)
            import torch

            n = int(self._nb201.free_features([self.cell(arch)])[0, 0])
            module = torch.nn.Module()
            module.weight = torch.nn.Parameter(torch.empty(n))
            return module

    return CellSpace()


def queries_to(order: list[int], best: set[int]) -> int:
    """1-based position of the first member of ``best`` in ``order`` (``len + 1`` if none)."""
    for q, i in enumerate(order, 1):
        if i in best:
            return q
    return len(order) + 1


def search(method: str, space, acc: np.ndarray, best: set[int], seed: int,
           table: np.ndarray | None) -> tuple[int, float]:
    """Queries to the optimum and CPU seconds of one search (``table``: the default's
    prior scores of every member, passed as a table; ``None``: the default as it is)."""
    import nasopt

    kw: dict = {}
    if method == "weaknas" and table is not None:
        kw = {"prior": table, "surrogate_options": {"full_epochs_rows": 64}}
    elif method == "weaknas-noprior":
        kw = {"prior": None}
    name = "random" if method == "random" else "weaknas"
    c0 = time.process_time()
    opt = nasopt.create(name, space, seed=seed, **kw)
    order: list[int] = []
    found = False
    while not found and len(order) < len(space):
        for t in opt.ask(min(10, len(space) - len(order))):
            i = space.index(t.arch)
            order.append(i)
            found = found or i in best
            opt.tell(t, float(acc[i]))
    return queries_to(order, best), time.process_time() - c0


def dataset_rows(space, seeds: list[int], table: np.ndarray | None, label: str):
    """Per dataset: its name, the table cells of :data:`METHODS` on ``space`` (queries to the
    optimum, mean ± s.e.m. / median, CPU) and the positions of the optimum."""
    from nasopt.benchmarks import NB201

    cells = [space.cell(space[i]) for i in range(len(space))]
    for dataset in DATASETS:
        acc = NB201(dataset).values_of(cells)
        best = set(np.flatnonzero(acc == acc.max()).tolist())
        row = []
        for method in METHODS:
            res = np.array([search(method, space, acc, best, s, table) for s in seeds])
            q = res[:, 0]
            row.append(f"{q.mean():.1f} ± {q.std(ddof=1) / np.sqrt(len(q)):.1f} / "
                       f"{np.median(q):.0f} ({res[:, 1].mean():.2f} s)")
            print(label, dataset, method, row[-1], flush=True)
        yield dataset, row, best


def main(argv: list[str] | None = None) -> int:
    import nasopt

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="1000-1099", help="A-B or a,b,c")
    ap.add_argument("--out", default=None, help="path stem of the .md table "
                    "(default: nasopt-bench-out/build_prior)")
    ap.add_argument("--parts", default="small,large",
                    help="small: the 729-cell sub-spaces; large: all 15,625 cells")
    args = ap.parse_args(argv)
    parts = set(args.parts.split(","))
    out = output_path(args.out, "build_prior", "benchmarks/build_prior.py")
    seeds = parse_seeds(args.seeds)
    lines = [f"`python benchmarks/build_prior.py {' '.join(sys.argv[1:] if argv is None else argv)}`", "",
             f"Distinct queries until the sub-space's NB201 validation optimum is found, seeds "
             f"{args.seeds} ({len(seeds)}): mean ± s.e.m. / median; CPU s per search (mean) in "
             "brackets. `params order`: the position of the optimum when evaluating in decreasing "
             "parameter count (the prior alone, no predictor).", ""]
    for label, ops in (SUBSPACES if "small" in parts else {}).items():
        space = cell_space(ops)
        t0 = time.process_time()
        auto = nasopt.create("weaknas", space, seed=0)  # what the default chooses here
        table = auto._prior.all_scores()
        build_s = time.process_time() - t0
        assert auto._prior.auto and auto._prior.name.endswith("BuiltParams"), auto._prior.name
        lines += [f"**{label}** ({len(space)} cells; the default prior: "
                  f"`{auto._prior.name}`, {len(space)} networks built in {build_s:.1f} s CPU, once)", "",
                  "| dataset | " + " | ".join(METHODS) + " | params order |",
                  "| --- | " + " | ".join("---" for _ in METHODS) + " | --- |"]
        order = np.argsort(-table[:, 0], kind="stable").tolist()
        for dataset, row, best in dataset_rows(space, seeds, table, label):
            lines.append(f"| {dataset} | " + " | ".join(row) + f" | {queries_to(order, best)} |")
        lines.append("")
    if "large" in parts:
        from nasopt.spaces.nb201 import OPS
        from nasopt.strategies._prior import AUTO_BUILD_POOL

        space = cell_space(OPS, stand_in=True)
        name = nasopt.create("weaknas", space, seed=0)._prior.name
        lines += [f"**all five operations** ({len(space)} cells, more than the limit; the default "
                  f"prior: `{name}` ranking the start within {AUTO_BUILD_POOL} uniform samples, no "
                  "predictor features; stand-in networks of the same parameter counts)", "",
                  "| dataset | " + " | ".join(METHODS) + " |",
                  "| --- | " + " | ".join("---" for _ in METHODS) + " |"]
        for dataset, row, _ in dataset_rows(space, seeds, None, "all"):
            lines.append(f"| {dataset} | " + " | ".join(row) + " |")
        lines.append("")
    write_markdown(out, lines)
    return 0


if __name__ == "__main__":
    one_thread()
    sys.exit(main())
