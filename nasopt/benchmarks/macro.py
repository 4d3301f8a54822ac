"""NAS-Bench-Macro: 6,561 MobileNetV2-style networks (8 layers × 3 block choices) on CIFAR-10.

The benchmark is an objective over a :class:`~nasopt.spaces.ProductSpace`
``{"layer0": [...], ..., "layer7": [...]}`` (:class:`~nasopt.spaces.macro.MacroSpace`, which
adds the networks' parameter counts and FLOPs as free features).
NAS-Bench-Macro has no validation split: the objective is the CIFAR-10 test accuracy averaged
over the 3 trainings of each network (``metric="mean"``), or a single training run
(``metric="run0"|"run1"|"run2"``, a noisy objective) with the mean as ``.test``.
"""

from __future__ import annotations

import numpy as np

from ..core.data import find_data_file, load_npz
from ..core.errors import ConfigurationError, DataError
from ..spaces.macro import BLOCKS, N_LAYERS, MacroSpace
from .tabular import TabularBenchmark

SIZE = 3 ** N_LAYERS


def macro_space() -> MacroSpace:
    """The NAS-Bench-Macro space: 8 layers, each an identity or a MobileNetV2 block (a
    :class:`~nasopt.spaces.ProductSpace` whose free features are the networks' parameter
    counts and FLOPs)."""
    return MacroSpace()


class Macro(TabularBenchmark):
    """NAS-Bench-Macro objective (reads ``nbmacro.npz`` from ``path=`` or ``$NASOPT_DATA``).

    Extra metrics: ``params`` and ``flops`` (counts), ``test_acc_std``.
    """

    def __init__(self, metric: str = "mean", path: str | None = None) -> None:
        if metric not in ("mean", "run0", "run1", "run2"):
            raise ConfigurationError(f"metric must be 'mean' or 'run0'..'run2', got {metric!r}")
        found = find_data_file("nbmacro.npz", path)
        if found is None:
            raise DataError("nbmacro.npz not found: pass path= or set $NASOPT_DATA")
        arrays = load_npz(found, {"layer_ops": (SIZE, N_LAYERS), "test_acc": (SIZE,),
                                  "test_acc_runs": (SIZE, 3)})
        self.space = macro_space()
        # table rows -> positions in the space's enumeration (first layer varies slowest)
        pos = arrays["layer_ops"].astype(np.int64) @ (3 ** np.arange(N_LAYERS - 1, -1, -1))
        if len(np.unique(pos)) != SIZE:
            raise DataError(f"{found}: layer_ops does not list each of the {SIZE} networks once")
        order = np.argsort(pos)

        def arr(name: str) -> np.ndarray:
            return arrays[name][order].astype(np.float64)

        mean = arr("test_acc")
        self.values = mean if metric == "mean" else arrays["test_acc_runs"][order, int(metric[-1])].astype(np.float64)
        self.test_values = mean
        self.metrics = {m: arr(m) for m in ("params", "flops", "test_acc_std") if m in arrays}
        self.metric_name, self.source = metric, str(found)

    def __repr__(self) -> str:
        return f"Macro(metric={self.metric_name!r})"
