"""Zero-cost proxies of an untrained ``torch.nn.Module`` (see :mod:`nasopt.proxies`).

Conventions shared by the proxies:

* The model is never changed: each proxy runs on a ``copy.deepcopy`` of it (synflow takes
  absolute values of the weights, the data-dependent proxies update batch-norm statistics
  and gradients), so ``model.state_dict()`` and its gradients are the same afterwards.
* ``model(inputs)`` must return the logits; when it returns a tuple or list (the official
  NAS-Bench-201 models return ``(features, logits)``), its last element is taken.
* The parameter-wise proxies (synflow, snip, grad_norm) sum over the weights of the
  ``Conv2d`` and ``Linear`` layers (the prunable weights of the papers, as in
  SamsungLabs/zero-cost-nas); biases and batch-norm parameters are not scored.
* synflow runs the copy in eval mode (batch norm as a fixed affine map); naswot, jacob_cov,
  snip and grad_norm in train mode (batch statistics), as in the papers' code.
* Given the same weights and inputs, every proxy returns the same value (build the model
  after ``torch.manual_seed(seed)`` for the same weights); ``seed=`` of :func:`compute`
  additionally seeds torch before each proxy, for models with random layers (dropout).

Values are Python floats (``params`` and ``flops``: ints).
"""

from __future__ import annotations

import copy
import math
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..core.errors import ConfigurationError
from . import PROXIES

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

#: ``k`` of the jacob_cov score (Mellor et al. 2020, v1).
JACOB_COV_K = 1e-5
#: Conventions of :func:`flops`.
FLOP_COUNTS = ("macs", "nb201")


# ----------------------------------------------------------------------------- helpers
def _check_model(model: Any, proxy: str) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ConfigurationError(f"{proxy} needs a torch.nn.Module, got {type(model).__name__}")
    return model


def _check_inputs(inputs: Any, proxy: str, min_batch: int = 1) -> torch.Tensor:
    if not isinstance(inputs, torch.Tensor) or inputs.ndim < 2 or not inputs.is_floating_point():
        raise ConfigurationError(
            f"{proxy} needs a floating-point input batch tensor (batch, ...), got "
            f"{type(inputs).__name__}{tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else ''}"
        )
    if len(inputs) < min_batch:
        raise ConfigurationError(f"{proxy} needs a batch of at least {min_batch} inputs, got {len(inputs)}")
    return inputs


def _sample_shape(inputs: Any, proxy: str) -> tuple[int, ...]:
    """The shape of one input: of a batch tensor's samples, or ``inputs`` itself when it
    is a sequence of positive integers such as ``(3, 32, 32)``."""
    if isinstance(inputs, torch.Tensor):
        return tuple(_check_inputs(inputs, proxy).shape[1:])
    try:
        shape = tuple(operator.index(s) for s in inputs)
    except TypeError:
        shape = ()
    if not shape or min(shape) < 1:
        raise ConfigurationError(
            f"{proxy} needs an input batch tensor or the shape of one input, e.g. (3, 32, 32); got {inputs!r}"
        )
    return shape


def _logits(output: Any) -> torch.Tensor:
    """The logits of a model's output (the last element of a tuple / list)."""
    return output[-1] if isinstance(output, (tuple, list)) else output


def _scored_layers(model: nn.Module) -> Iterator[nn.Module]:
    """The Conv2d / Linear layers (the weights the parameter-wise proxies score)."""
    return (m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


def _loss_gradients(model: nn.Module, inputs: torch.Tensor, targets: Any, loss_fn: Loss | None,
                    proxy: str) -> nn.Module:
    """A train-mode copy of ``model`` after one backward pass of the loss on the batch."""
    inputs = _check_inputs(inputs, proxy)
    if not isinstance(targets, torch.Tensor) or len(targets) != len(inputs):
        raise ConfigurationError(
            f"{proxy} needs targets, a tensor with one entry per input ({len(inputs)}), got "
            f"{type(targets).__name__}{tuple(targets.shape) if isinstance(targets, torch.Tensor) else ''}"
        )
    net = copy.deepcopy(_check_model(model, proxy)).train()
    net.zero_grad(set_to_none=True)
    loss = (loss_fn or nn.functional.cross_entropy)(_logits(net(inputs)), targets)
    loss.backward()
    return net


# ----------------------------------------------------------------------------- proxies
def synflow(model: nn.Module, inputs: torch.Tensor | Sequence[int]) -> float:
    """SynFlow: ``Σ |θ ⊙ ∂R/∂θ|`` with ``R = 1ᵀ f_|θ|(1)``.

    Tanaka, Kunin, Yamins & Ganguli, "Pruning neural networks without any data by
    iteratively conserving synaptic flow", NeurIPS 2020 (as a NAS proxy: Abdelfattah et al.,
    "Zero-Cost Proxies for Lightweight NAS", ICLR 2021). Every parameter and buffer of a
    copy of the model is replaced by its absolute value, the copy runs in double precision
    and eval mode on one all-ones input of the batch's shape, ``R`` is the sum of its
    outputs, and the score sums ``|θ ⊙ ∂R/∂θ|`` over the Conv2d / Linear weights. Data-free.

    Args:
        model: the untrained network (not modified).
        inputs: a batch whose sample shape is used (its values are not), or that shape
            itself, e.g. ``(3, 32, 32)``.
    """
    shape = _sample_shape(inputs, "synflow")
    net = copy.deepcopy(_check_model(model, "synflow")).double().eval()
    with torch.no_grad():
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    net.zero_grad(set_to_none=True)
    _logits(net(torch.ones((1, *shape), dtype=torch.float64))).sum().backward()
    total = 0.0
    for layer in _scored_layers(net):
        if layer.weight.grad is not None:
            total += float((layer.weight.detach() * layer.weight.grad).abs().sum())
    return total


def naswot(model: nn.Module, inputs: torch.Tensor) -> float:
    """NASWOT: ``log |det K_H|`` of the binary activation-code kernel.

    Mellor, Turner, Storkey & Crowley, "Neural Architecture Search without Training",
    ICML 2021. Each input of the batch gets a binary code: whether each ReLU unit's input
    is positive, over every ``nn.ReLU`` module of the network. ``K_H[i, j]`` counts the
    units where the codes of inputs ``i`` and ``j`` agree,
    ``K = c cᵀ + (1 - c)(1 - c)ᵀ``, and the score is its log-determinant
    (``numpy.linalg.slogdet``, in float64). The copy runs in train mode, as in the
    paper's code. Two identical codes make ``K`` singular: the score is then ``-inf``.

    Raises:
        ConfigurationError: the model has no ``nn.ReLU`` module (functional ReLUs are not
            seen), or the batch has fewer than 2 inputs.
    """
    inputs = _check_inputs(inputs, "naswot", min_batch=2)
    net = copy.deepcopy(_check_model(model, "naswot")).train()
    relus = [m for m in net.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ConfigurationError("naswot needs a model with nn.ReLU modules (it reads their inputs)")
    kernel = torch.zeros((len(inputs), len(inputs)), dtype=torch.float64)

    def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        nonlocal kernel
        codes = (args[0].detach().reshape(len(inputs), -1) > 0).double()
        kernel = kernel + codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T

    handles = [m.register_forward_hook(hook) for m in relus]
    try:
        with torch.no_grad():
            net(inputs)
    finally:
        for h in handles:
            h.remove()
    sign, logdet = np.linalg.slogdet(kernel.numpy())
    return float(logdet) if sign > 0 else -math.inf


def jacob_cov(model: nn.Module, inputs: torch.Tensor) -> float:
    """jacob_cov: ``-Σ_i [log(λ_i + k) + 1 / (λ_i + k)]``, ``k = 1e-5``.

    Mellor, Turner, Storkey & Crowley, "Neural Architecture Search without Training",
    arXiv:2006.04647 **v1** (2020), the score later replaced by NASWOT. The Jacobian of
    the summed outputs with respect to each input of the batch is flattened; ``λ_i`` are
    the eigenvalues of the correlation matrix of these rows (``numpy.corrcoef``; round-off
    negatives clipped at 0). Higher is better (correlations near the identity). The copy
    runs in train mode, as in the paper's code.

    Returns:
        The score; ``-inf`` (the lowest) when a Jacobian row is constant, so that its
        correlation is undefined (NaN in the paper's code): the network's output does not
        depend on the input there, as for NAS-Bench-201 cells with no path from input to
        output.
    """
    inputs = _check_inputs(inputs, "jacob_cov", min_batch=2)
    net = copy.deepcopy(_check_model(model, "jacob_cov")).train()
    x = inputs.detach().clone().requires_grad_(True)
    out = _logits(net(x))
    out.backward(torch.ones_like(out))
    jac = x.grad.detach().reshape(len(x), -1).double().numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.corrcoef(jac)
    if not np.all(np.isfinite(corr)):
        return -math.inf
    lam = np.clip(np.linalg.eigvalsh(corr), 0.0, None) + JACOB_COV_K
    return float(-np.sum(np.log(lam) + 1.0 / lam))


def snip(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss_fn: Loss | None = None) -> float:
    """SNIP: ``Σ |θ ⊙ ∂L/∂θ|`` over the Conv2d / Linear weights.

    Lee, Ajanthan & Torr, "SNIP: Single-shot Network Pruning based on Connection
    Sensitivity", ICLR 2019 (summed over the network as a NAS proxy by Abdelfattah et al.,
    ICLR 2021). ``L`` is ``loss_fn(logits, targets)``, by default the mean cross-entropy,
    on one batch through a train-mode copy.
    """
    return _snip_of(_loss_gradients(model, inputs, targets, loss_fn, "snip"))


def _snip_of(net: nn.Module) -> float:
    """snip of a copy that holds the loss gradients (:func:`_loss_gradients`)."""
    return float(sum((m.weight.detach() * m.weight.grad).abs().sum() for m in _scored_layers(net)
                     if m.weight.grad is not None))


def grad_norm(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss_fn: Loss | None = None) -> float:
    """grad_norm: ``Σ_layers ‖∂L/∂W‖₂`` over the Conv2d / Linear weights.

    Abdelfattah, Mehrotra, Dudziak & Lane, "Zero-Cost Proxies for Lightweight NAS", ICLR
    2021: the Euclidean norm of each layer's weight gradient, summed over layers. ``L`` as
    in :func:`snip`.
    """
    return _grad_norm_of(_loss_gradients(model, inputs, targets, loss_fn, "grad_norm"))


def _grad_norm_of(net: nn.Module) -> float:
    """grad_norm of a copy that holds the loss gradients (:func:`_loss_gradients`)."""
    return float(sum(m.weight.grad.detach().norm() for m in _scored_layers(net) if m.weight.grad is not None))


def params(model: nn.Module) -> int:
    """The number of parameters (every entry of ``model.parameters()``)."""
    return int(sum(p.numel() for p in _check_model(model, "params").parameters()))


def flops(model: nn.Module, inputs: torch.Tensor | Sequence[int], count: str = "macs") -> int:
    """Multiply-accumulates of one input, counted by forward hooks.

    ``count="macs"``: one per multiply-accumulate of every ``Conv2d`` (``out elements ×
    in_channels / groups × kernel area``, plus one per output element for a bias) and
    ``Linear`` (``in × out``, plus ``out`` for a bias). ``count="nb201"``: the NAS-Bench-201
    table's convention (``nb201.npz`` ``*_flops_M`` × 10⁶): the same MACs of the convolutions,
    linear layers without the bias term, plus 2 per output element of a ``BatchNorm2d`` and 1
    per input element of an ``AdaptiveAvgPool2d``; pooling layers and ReLUs count 0. Neither
    doubles the MACs (1 MAC = 1 FLOP, as NAS-Bench-201 reports them).

    Args:
        model: the network (not modified; a copy runs in eval mode).
        inputs: a batch whose sample shape is used, or that shape, e.g. ``(3, 32, 32)``.
        count: ``"macs"`` or ``"nb201"``.
    """
    if count not in FLOP_COUNTS:
        raise ConfigurationError(f"flops count must be one of {FLOP_COUNTS}, got {count!r}")
    shape = _sample_shape(inputs, "flops")
    net = copy.deepcopy(_check_model(model, "flops")).eval()
    nb201 = count == "nb201"
    total = 0

    def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            per_out = module.in_channels // module.groups * math.prod(module.kernel_size)
            total += output.numel() * (per_out + (module.bias is not None))
        elif isinstance(module, nn.Linear):
            total += output.numel() * (module.in_features + (module.bias is not None and not nb201))
        elif nb201 and isinstance(module, nn.BatchNorm2d):
            total += 2 * output.numel()
        elif nb201 and isinstance(module, nn.AdaptiveAvgPool2d):
            total += args[0].numel()

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    try:
        with torch.no_grad():
            net(torch.zeros((1, *shape), dtype=next(net.parameters(), torch.zeros(())).dtype))
    finally:
        for h in handles:
            h.remove()
    return total


def compute(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None = None,
            proxies: Sequence[str] = PROXIES, seed: int | None = None,
            loss_fn: Loss | None = None) -> dict[str, float]:
    """Several proxies of ``model`` on one batch, ``{name: value}`` in the order asked.

    Args:
        model: the untrained network (not modified).
        inputs: the batch (its shape only for synflow and flops).
        targets: class labels of the batch, needed by snip and grad_norm.
        proxies: names among :data:`~nasopt.proxies.PROXIES`.
        seed: when given, ``torch.manual_seed(seed)`` before each proxy (for models with
            random layers such as dropout); the proxies are otherwise deterministic.
        loss_fn: the loss of snip and grad_norm (default: mean cross-entropy). Asked
            together, they share one forward / backward pass (same values as
            :func:`snip` and :func:`grad_norm` one by one).

    Raises:
        ConfigurationError: an unknown proxy name, or snip / grad_norm without targets.
    """
    names = [proxies] if isinstance(proxies, str) else list(proxies)
    unknown = [n for n in names if n not in PROXIES]
    if unknown:
        raise ConfigurationError(f"unknown proxies {unknown}; choose from {PROXIES}")
    shared: dict[str, nn.Module] = {}

    def loss_gradients(proxy: str) -> nn.Module:
        # snip and grad_norm read the same gradients: one forward / backward pass for both
        if "net" not in shared:
            shared["net"] = _loss_gradients(model, inputs, targets, loss_fn, proxy)
        return shared["net"]

    calls: dict[str, Callable[[], float]] = {
        "synflow": lambda: synflow(model, inputs),
        "naswot": lambda: naswot(model, inputs),
        "jacob_cov": lambda: jacob_cov(model, inputs),
        "snip": lambda: _snip_of(loss_gradients("snip")),
        "grad_norm": lambda: _grad_norm_of(loss_gradients("grad_norm")),
        "params": lambda: params(model),
        "flops": lambda: flops(model, inputs),
    }
    out: dict[str, float] = {}
    for name in names:
        if seed is not None:
            torch.manual_seed(seed)
        out[name] = calls[name]()
    return out
