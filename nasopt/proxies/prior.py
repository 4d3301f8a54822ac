"""Zero-cost proxies as the ``prior=`` of WeakNAS and ReNAS, for any space that builds models.

:class:`ProxyPrior` turns a list of proxy names, a ``model_fn(arch) -> torch.nn.Module``
(default: the space's own ``build``) and one batch into the callable ``arch -> scores`` that
``prior=`` takes. The strategies call it lazily, only for the architectures they rank, and
cache the scores; its cost is reported in ``opt.prior_seconds``, apart from the search's.
Torch is imported when the first architecture is scored, not before.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Sequence

import numpy as np

from ..core.errors import ConfigurationError

#: Proxies scored through their logarithm: synflow spans tens of orders of magnitude between
#: cells, so its raw value standardized would rank by a few outliers.
LOG_PROXIES: tuple[str, ...] = ("synflow",)

def log_scaled(names: Sequence[str], values: np.ndarray) -> np.ndarray:
    """``values`` (proxies in the order of ``names``, on the last axis) with the columns of
    :data:`LOG_PROXIES` replaced by their logarithm (zero floored at the smallest float):
    the form a prior ranks by."""
    out = np.array(values, dtype=np.float64)
    log = np.array([n in LOG_PROXIES for n in names])
    out[..., log] = np.log(np.maximum(out[..., log], np.finfo(float).tiny))
    return out


#: Proxies that read the batch's labels.
NEEDS_TARGETS: tuple[str, ...] = ("snip", "grad_norm")


class ProxyPrior:
    """A prior from zero-cost proxies: ``ProxyPrior(["synflow", "naswot"], inputs=x)(arch)``
    is the array of those proxies of the untrained network ``model_fn(arch)`` on ``inputs``
    (higher is more promising, as ``prior=`` expects; synflow as its logarithm).

    Args:
        proxies: names among :data:`nasopt.proxies.PROXIES`.
        inputs: the batch (a tensor or array ``(B, C, H, W)``); for the data-free proxies
            (synflow, params, flops) only its shape is read.
        targets: class labels of the batch; needed by snip and grad_norm.
        model_fn: ``arch -> torch.nn.Module``; ``None``: ``space.build(arch)`` of the space
            passed to :meth:`bind` (done for you when given as ``prior=`` with a space that
            can build, e.g. ``NB201Space``).
        seed: weights of every network are initialized after ``torch.manual_seed(seed)``,
            so an architecture's scores do not depend on the order they are asked in.

    Raises:
        ConfigurationError: an unknown proxy, no proxy, or snip / grad_norm without targets.

    Example::

        x = torch.randn(16, 3, 32, 32); y = torch.randint(0, 10, (16,))
        opt = nasopt.create("weaknas", NB201Space(),
                            prior=ProxyPrior(["synflow", "naswot"], inputs=x, targets=y))
    """

    def __init__(self, proxies: Sequence[str], inputs: Any, targets: Any = None,
                 model_fn: Callable[[Any], Any] | None = None, seed: int = 0) -> None:
        from . import PROXIES

        names = [proxies] if isinstance(proxies, str) else list(proxies)
        unknown = [n for n in names if n not in PROXIES]
        if unknown or not names:
            raise ConfigurationError(f"ProxyPrior: unknown proxies {unknown or names}; choose from {PROXIES}")
        if targets is None and any(n in NEEDS_TARGETS for n in names):
            raise ConfigurationError(
                f"ProxyPrior: {', '.join(n for n in names if n in NEEDS_TARGETS)} need targets= "
                "(the batch's class labels)")
        if model_fn is not None and not callable(model_fn):
            raise ConfigurationError(f"ProxyPrior: model_fn must be callable, got {model_fn!r}")
        self.proxies = tuple(names)
        self.inputs, self.targets = inputs, targets
        self.model_fn = model_fn
        self.seed = int(seed)
        self.__qualname__ = f"ProxyPrior[{self.identity()}]"  # what files record of it

    def bind(self, space: Any) -> "ProxyPrior":
        """Use ``space.build`` when no ``model_fn`` was given (returns ``self``).

        Raises:
            ConfigurationError: no ``model_fn`` and the space cannot build models.
        """
        if self.model_fn is None:
            from ..core.space import SearchSpace

            if getattr(type(space), "build", SearchSpace.build) is SearchSpace.build:
                raise ConfigurationError(
                    f"ProxyPrior: {space!r} cannot build models: pass model_fn=arch -> torch.nn.Module")
            self.model_fn = space.build
        return self

    def __call__(self, arch: Any) -> np.ndarray:
        """The proxies of ``arch`` (float64 array, one per name)."""
        import torch

        from .zero_cost import compute

        if self.model_fn is None:
            raise ConfigurationError("ProxyPrior: no model_fn (pass one, or a space that builds models)")
        inputs = torch.as_tensor(self.inputs, dtype=torch.float32)
        targets = None if self.targets is None else torch.as_tensor(self.targets, dtype=torch.long)
        torch.manual_seed(self.seed)
        model = self.model_fn(arch)
        values = compute(model, inputs, targets, proxies=self.proxies)
        return log_scaled(self.proxies, [values[n] for n in self.proxies])

    def identity(self) -> str:
        """What identifies this prior in a checkpoint: names, seed and a digest of the batch."""
        digest = hashlib.sha256(np.ascontiguousarray(np.asarray(self.inputs, dtype=np.float32)).tobytes())
        if self.targets is not None:
            digest.update(np.ascontiguousarray(np.asarray(self.targets, dtype=np.int64)).tobytes())
        return f"{','.join(self.proxies)};seed={self.seed};batch={digest.hexdigest()[:16]}"



class BuiltParams:
    """A prior from a space that can build its networks: the parameter count of
    ``space.build(arch)`` (one score per architecture, larger for a larger network, as
    :meth:`~nasopt.core.space.SearchSpace.free_features` counts it where a space offers it in
    closed form). What ``prior="auto"`` of WeakNAS takes on a space that builds models and
    has no free features: on a finite space of at most
    :data:`nasopt.strategies._prior.AUTO_BUILD_LIMIT` members for every member, else for
    the start only, ranked within :data:`~nasopt.strategies._prior.AUTO_BUILD_POOL` uniform
    samples. A network is built per architecture scored (milliseconds each: NAS-Bench-201's
    about 13 ms on one core), once, the cost reported in ``opt.prior_seconds``.

    Args:
        space: the space whose ``build`` makes the networks.

    Raises:
        ConfigurationError: the space cannot build models.
    """

    def __init__(self, space: Any) -> None:
        if not getattr(space, "can_build", False):
            raise ConfigurationError(f"BuiltParams: {space!r} cannot build models (no build())")
        self.space = space
        self.__qualname__ = "BuiltParams"  # what files record of it

    def __call__(self, arch: Any) -> np.ndarray:
        """``[params]`` of the network of ``arch`` (float64)."""
        from .zero_cost import params

        return np.array([float(params(self.space.build(arch)))])
