"""Zero-cost proxies: what an untrained network tells about its final accuracy for free.

Each proxy scores a ``torch.nn.Module`` from one minibatch (or none) without training it:

=============  ==================================================================  ==========
name           definition                                                          needs
=============  ==================================================================  ==========
``synflow``    sum of ``|θ ⊙ ∂R/∂θ|``, ``R`` the summed output of the |θ|-network  input shape
               on an all-ones input (Tanaka et al., NeurIPS 2020)
``naswot``     log-determinant of the binary ReLU-code kernel ``K_H``              inputs
               (Mellor et al., ICML 2021)
``jacob_cov``  ``-Σ log(λ+k) + 1/(λ+k)`` over the eigenvalues of the correlation    inputs
               of the input Jacobians (Mellor et al., 2020, arXiv v1)
``snip``       sum of ``|θ ⊙ ∂L/∂θ|`` (Lee et al., ICLR 2019)                      inputs, targets
``grad_norm``  sum over layers of ``‖∂L/∂W‖₂`` (Abdelfattah et al., ICLR 2021)     inputs, targets
``params``     number of parameters                                                --
``flops``      multiply-accumulates of the convolutions and linear layers          input shape
=============  ==================================================================  ==========

:func:`compute` runs several at once. Every function leaves the model as it found it (the
proxies run on a deep copy) and is deterministic for given weights and inputs; see
:mod:`nasopt.proxies.zero_cost` for the conventions and docs/proxies.md for the checks.
``import nasopt.proxies`` does not import torch: the functions are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

#: The proxies :func:`compute` knows, in the order it reports them.
PROXIES: tuple[str, ...] = ("synflow", "naswot", "jacob_cov", "snip", "grad_norm", "params", "flops")

__all__ = ["PROXIES", "compute", *PROXIES]


def __getattr__(name: str) -> Any:
    """The proxy functions, imported from :mod:`nasopt.proxies.zero_cost` on first use."""
    if name in __all__ and name != "PROXIES":
        return getattr(importlib.import_module(f"{__name__}.zero_cost"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
