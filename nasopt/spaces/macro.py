"""The NAS-Bench-Macro space: 8 layers, each an identity or one of two MobileNetV2 blocks.

A :class:`~nasopt.spaces.product.ProductSpace` ``{"layer0": BLOCKS, ..., "layer7": BLOCKS}``
that also knows the networks of its members (Su et al., "Prioritized Architecture Sampling
with Monte-Carlo Tree Search", CVPR 2021; code in xiusu/NAS-Bench-Macro, ``train/model.py``):
a 3x3 stem convolution (3 -> 32 channels) with batch norm and ReLU, three stages of 2, 3
and 3 searched layers with 64, 128 and 256 channels whose first layer has stride 2, a 1x1
convolution to 1280 channels with batch norm, ReLU and global pooling, and a linear
classifier (10 classes, CIFAR-10 32x32 input). A layer is ``identity`` (a 1x1 convolution
and batch norm where it changes the shape, else nothing), ``mb_k3_e3`` or ``mb_k5_e6`` (an
inverted residual: 1x1 expansion by 3 or 6, a 3x3 or 5x5 depthwise convolution, 1x1
projection, each without bias and followed by batch norm). Their parameter counts and FLOPs
(:func:`macro_costs`, in closed form) equal the ``params`` and ``flops`` columns of
``nbmacro.npz`` for all 6,561 networks (checked in tests/test_space_product.py).
"""

from __future__ import annotations

from collections.abc import Sequence
import numpy as np

from ..core.space import register_space
from .product import ProductSpace

#: Block choices of each layer (code 0, 1, 2 of ``nbmacro.npz`` ``layer_ops``).
BLOCKS: tuple[str, ...] = ("identity", "mb_k3_e3", "mb_k5_e6")
N_LAYERS = 8
#: Searched layers per stage; the first of each has stride 2 and doubles the channels.
STAGES: tuple[int, ...] = (2, 3, 3)
STEM_CHANNELS, HEAD_CHANNELS, RESOLUTION, NUM_CLASSES = 32, 1280, 32, 10


def _layer_costs() -> tuple[np.ndarray, np.ndarray, int, int]:
    """Per layer and block ``(8, 3)`` parameter and FLOP tables, and the constant costs of
    the stem, head and classifier (the conventions of :func:`macro_costs`)."""
    params = np.zeros((N_LAYERS, len(BLOCKS)), dtype=np.int64)
    flops = np.zeros_like(params)
    c, s = STEM_CHANNELS, RESOLUTION
    const_params = 9 * 3 * c + 2 * c
    const_flops = 9 * 3 * c * s * s
    layer = 0
    for n in STAGES:
        for j in range(n):
            c_in, c_out, stride = c, (2 * c if j == 0 else c), (2 if j == 0 else 1)
            s_out = s // stride
            if stride != 1 or c_in != c_out:  # identity that changes the shape: 1x1 conv + BN
                params[layer, 0] = c_in * c_out + 2 * c_out
                flops[layer, 0] = c_in * c_out * s_out * s_out
            for b, (t, k) in ((1, (3, 3)), (2, (6, 5))):
                h = c_in * t
                params[layer, b] = c_in * h + h * k * k + h * c_out + 2 * (2 * h + c_out)
                flops[layer, b] = c_in * h * s * s + (h * k * k + h * c_out) * s_out * s_out
            c, s, layer = c_out, s_out, layer + 1
    const_params += c * HEAD_CHANNELS + 2 * HEAD_CHANNELS + HEAD_CHANNELS * NUM_CLASSES + NUM_CLASSES
    const_flops += c * HEAD_CHANNELS * s * s + HEAD_CHANNELS * NUM_CLASSES
    return params, flops, const_params, const_flops


_PARAMS, _FLOPS, _CONST_PARAMS, _CONST_FLOPS = _layer_costs()


def macro_costs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parameter counts and FLOPs of NAS-Bench-Macro networks, vectorised over a batch.

    Counted as the benchmark's ``params`` and ``flops`` columns are: every parameter
    (convolutions have no bias; a batch norm has ``2c``; the classifier its weights and
    biases), and the multiply-accumulates of the convolutions (``c_in/groups · c_out · k²``
    per output pixel) and of the classifier's weights; batch norm, ReLU and pooling count
    no FLOPs.

    Args:
        codes: block codes (indices into :data:`BLOCKS`), shape ``(n, 8)`` or ``(8,)``.

    Returns:
        ``(params, flops)``, two int64 arrays of shape ``(n,)``.
    """
    codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
    layers = np.arange(N_LAYERS)
    return (_CONST_PARAMS + _PARAMS[layers, codes].sum(axis=1),
            _CONST_FLOPS + _FLOPS[layers, codes].sum(axis=1))


@register_space
class MacroSpace(ProductSpace):
    """The 6,561 NAS-Bench-Macro networks (see the module docstring): the product space
    ``{"layer0": BLOCKS, ..., "layer7": BLOCKS}``, with the networks' parameter counts and
    FLOPs as free features (:meth:`free_features`, counted in closed form)."""

    type_name = "nbmacro"
    free_feature_names = ("params", "flops")

    def __init__(self) -> None:
        super().__init__({f"layer{i}": list(BLOCKS) for i in range(N_LAYERS)})

    def free_features(self, archs: Sequence[dict]) -> np.ndarray:
        """Parameter count and FLOPs of each network, ``(len(archs), 2)`` float64 (the
        ``nbmacro.npz`` ``params`` and ``flops`` columns, without the table)."""
        codes = np.array([self.codes(a) for a in archs], dtype=np.int64).reshape(len(archs), N_LAYERS)
        params, flops = macro_costs(codes)
        return np.column_stack([params, flops]).astype(np.float64)

    def config(self) -> dict:
        return {"type": self.type_name}

    @classmethod
    def from_config(cls, config: dict, trusted: bool = False) -> "MacroSpace":
        return cls()

    def __repr__(self) -> str:
        return "MacroSpace()"
