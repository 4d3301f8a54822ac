"""The NAS-Bench-201 network in PyTorch, as :meth:`NB201Space.build` returns it.

A transcription of the official ``TinyNetwork`` / ``InferCell`` of NAS-Bench-201 (Dong &
Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture Search", ICLR
2020; code in D-X-Y/AutoDL-Projects, ``xautodl/models/cell_infers``): a 3x3 stem convolution
and batch norm, three stages of ``N`` cells with ``C``, ``2C`` and ``4C`` channels separated
by residual reduction blocks (a ResNet basic block of stride 2 whose shortcut is a 2x2
average pool and a 1x1 convolution), then batch norm, ReLU, global average pooling and a
linear classifier. In a cell, node ``j`` sums ``op(i -> j)(node i)`` over ``i < j`` and the
cell outputs node 3; the ops are ``none`` (zero), ``skip_connect`` (identity),
``nor_conv_1x1`` / ``nor_conv_3x3`` (ReLU-Conv-BN, no conv bias) and ``avg_pool_3x3``
(stride 1, padding 1, ``count_include_pad=False``).

With ``C=16, N=5`` its parameter count equals the ``*_params_M`` columns of the
NAS-Bench-201 table (checked in tests/test_nb201_model.py). This module imports torch; the
space imports it only when :meth:`~nasopt.spaces.nb201.NB201Space.build` is called.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .nb201 import EDGES, OPS


class ReLUConvBN(nn.Sequential):
    """ReLU, convolution without bias, batch norm (the official ``ReLUConvBN``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(c_out))


class Zero(nn.Module):
    """The ``none`` op: zeros of the input's shape (the official ``Zero``, ``x.mul(0.)``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    """One cell operation on ``channels`` channels, stride 1 (all ops of an NB201 cell)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    if name in ("nor_conv_1x1", "nor_conv_3x3"):
        return ReLUConvBN(channels, channels, 1 if name == "nor_conv_1x1" else 3)
    raise ValueError(f"unknown NAS-Bench-201 operation {name!r}; ops are {OPS}")


class Cell(nn.Module):
    """The 4-node NAS-Bench-201 cell: node ``j`` sums ``op(i -> j)(node i)`` over ``i < j``."""

    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        self.edge_ops = nn.ModuleList(make_op(name, channels) for name in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for j in (1, 2, 3):
            nodes.append(sum(op(nodes[i]) for op, (i, to) in zip(self.edge_ops, EDGES) if to == j))
        return nodes[3]


class ResNetBasicBlock(nn.Module):
    """The reduction block between stages: two ReLU-Conv-BN 3x3 (the first of stride 2) plus
    a shortcut of 2x2 average pooling and a 1x1 convolution (the official
    ``ResNetBasicblock(C_in, C_out, stride=2)``)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Sequential(nn.AvgPool2d(kernel_size=2, stride=2),
                                        nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """The NAS-Bench-201 network of one cell (see the module docstring).

    Args:
        ops: the op name of each of the 6 cell edges, in architecture-string order.
        num_classes: outputs of the classifier (10 CIFAR-10, 100 CIFAR-100, 120 ImageNet16-120).
        C: channels of the first stage (the second has ``2C``, the third ``4C``).
        N: cells per stage.
        in_channels: channels of the input images (3 for RGB).
    """

    def __init__(self, ops: Sequence[str], num_classes: int = 10, C: int = 16, N: int = 5,
                 in_channels: int = 3) -> None:
        super().__init__()
        self.ops = tuple(ops)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        layers: list[nn.Module] = []
        for stage, width in enumerate((C, 2 * C, 4 * C)):
            if stage:
                layers.append(ResNetBasicBlock(width // 2, width))
            layers.extend(Cell(self.ops, width) for _ in range(N))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * C), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * C, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, num_classes)`` of images ``(batch, in_channels, H, W)``."""
        out = self.global_pooling(self.lastact(self.cells(self.stem(x))))
        return self.classifier(out.flatten(1))
