"""Zero-cost proxies: what an untrained network tells about its final accuracy for free.

Each proxy scores a ``torch.nn.Module`` from one minibatch (or none) without training it:

* ``synflow``: the sum of ``|θ ⊙ ∂R/∂θ|``, ``R`` the summed output of the network with
  absolute-valued parameters on an all-ones input (Tanaka et al., NeurIPS 2020); data-free.
* ``naswot``: the log-determinant of the binary ReLU-code kernel ``K_H`` (Mellor et al.,
  ICML 2021); needs inputs.
* ``jacob_cov``: ``-Σ log(λ+k) + 1/(λ+k)`` over the eigenvalues of the correlation matrix of
  the input Jacobians (Mellor et al., arXiv:2006.04647 v1, 2020); needs inputs.
* ``snip``: the sum of ``|θ ⊙ ∂L/∂θ|`` (Lee et al., ICLR 2019); needs inputs and targets.
* ``grad_norm``: the sum over layers of ``‖∂L/∂W‖₂`` (Abdelfattah et al., ICLR 2021); needs
  inputs and targets.
* ``params``: the number of parameters.
* ``flops``: multiply-accumulates of the convolutions and linear layers for one input.

:func:`compute` runs several at once. Every function leaves the model as it found it (the
proxies run on a deep copy) and is deterministic for given weights and inputs; see
:mod:`nasopt.proxies.zero_cost` for the conventions and docs/proxies.md for the checks.
``import nasopt.proxies`` does not import torch: the functions are loaded on first use.

:func:`load_nb201` reads the packaged table of the proxies of all 15,625 NAS-Bench-201
cells (numpy only; see :mod:`nasopt.proxies.table` and docs/proxies.md).
"""

from __future__ import annotations

import importlib
from typing import Any

#: The proxies :func:`compute` knows, in the order it reports them.
PROXIES: tuple[str, ...] = ("synflow", "naswot", "jacob_cov", "snip", "grad_norm", "params", "flops")

__all__ = ["PROXIES", "compute", *PROXIES, "load_nb201", "NB201ProxyTable", "ProxyPrior"]

#: Where the lazily loaded names live: the table of NB201 proxies (numpy only), else torch's.
_TABLE_NAMES = ("load_nb201", "NB201ProxyTable")


def __getattr__(name: str) -> Any:
    """The proxy functions, imported from :mod:`nasopt.proxies.zero_cost` on first use (and
    :func:`load_nb201` from :mod:`nasopt.proxies.table`, without torch)."""
    if name in _TABLE_NAMES:
        return getattr(importlib.import_module(f"{__name__}.table"), name)
    if name == "ProxyPrior":  # torch is imported when it scores, not before
        return getattr(importlib.import_module(f"{__name__}.prior"), name)
    if name in __all__ and name != "PROXIES":
        return getattr(importlib.import_module(f"{__name__}.zero_cost"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
