"""ReNAS feature tensors (Xu et al., CVPR 2021) for NAS-Bench-101 and NAS-Bench-201 cells.

A cell becomes a stack of square matrices ``M[c, i, j] = A[i, j] * v_c[j]``: the adjacency
``A`` with every edge ``i -> j`` carrying a value ``v_c[j]`` of its *destination* node (or,
on NAS-Bench-201 where operations sit on edges, of the edge itself). Channel 0 is the node
(edge) type; the other channels hold the FLOPs and the parameter count of that node in every
cell of the real network, so the tensor says both what the cell is and what it costs where.

NAS-Bench-101, ``(B, 19, 7, 7)`` (:func:`nb101_tensors`)
    * Node order: nodes sorted by their *depth*, the length of the longest path from the
      input (a DFS over the DAG); ties keep the cell's own vertex order. Input is always
      first (depth 0), output always last (strictly deepest in a pruned cell). Nodes of
      equal depth are never connected, so any permutation of them keeps ``A`` upper
      triangular: that is the training-time augmentation (:func:`nb101_tensors` with
      ``rng=``).
    * Cells with ``n < 7`` nodes are padded by inserting zero rows/columns *before* the
      output node (output stays at index 6).
    * Channel 0: types input=1, conv1x1=2, conv3x3=3, maxpool3x3=4, output=5 (padding 0).
    * Channels ``1 + 2k`` (FLOPs) and ``2 + 2k`` (params) for the network's cell ``k = 3s + m``
      (stack ``s``, cell ``m`` in the stack), from the NAS-Bench-101 network: 3×3 stem conv
      with 128 channels, stacks at 32×32 / 16×16 / 8×8 with 128 / 256 / 512 output channels,
      2×2 max-pool between stacks (the first cell of stacks 1 and 2 therefore reads 128 and
      256 channels). Vertex channels follow NAS-Bench-101's ``compute_vertex_channels``: the
      cell's output channels are split as evenly as possible among the vertices feeding the
      output (the first ``C mod d`` of them, in vertex order, get one extra channel), every
      other interior vertex takes the maximum over the vertices it feeds. A vertex fed by the
      cell input adds a 1×1 conv + BN projection from the cell's input channels; the output
      node is charged the input→output projection when that edge exists.
    * Costs: conv FLOPs ``2·k²·Cin·Cout·H·W``, max-pool ``9·C·H·W``; params = conv weights
      (no bias) + ``2·C`` batch norm. Values are raw counts (float32); the ReNAS predictor
      standardises every element on its training set.
    * Checks (tests/test_renas_features.py): a 3×3 conv 64→64 at 32×32 costs 75,497,472
      FLOPs / 36,992 params; with its input projection from the 128-channel cell input of
      stack 0 (1×1, 128→64), 92,274,688 / 45,312 (figures worked out by hand; a 64→64
      projection would give 83,886,080 / 45,184). Summing the 9 cells plus the stem (3,712) and the classifier
      (5,130) reproduces the 8,555,530 trainable parameters NAS-Bench-101 records for its
      first cell.

NAS-Bench-201, ``(B, 31, 4, 4)`` (:func:`nb201_tensors`)
    * Nodes 0..3 of the fixed cell; the operation of edge ``i -> j`` sits at ``[i, j]``.
    * Channel 0: op code as type (0 none = no edge, 1 skip, 2 conv1x1, 3 conv3x3, 4 avgpool).
    * Channels ``1 + 2k`` / ``2 + 2k``: FLOPs / params of the edge in cell ``k`` of the
      network (``k = 0..14``: 5 cells per stage at C = 16 / 32 / 64 and 32×32 / 16×16 / 8×8).
      ReLU-conv-BN ops cost ``2·k²·C²·H·W`` FLOPs and ``k²·C² + 2·C`` params; avg-pool
      ``9·C·H·W`` FLOPs; none / skip cost nothing.
    * ``kind="type"`` gives the type channel alone, ``(B, 1, 4, 4)`` (ReNAS-1/3/5 ablation).

One-hot type channels (``kind="onehot"``, both spaces; nasopt's default for the ReNAS CNN)
    The paper's channel 0 codes the node / edge type as an integer, so after standardisation
    the network sees "conv3x3 = 3 × skip" as a linear feature. ``kind="onehot"`` replaces it
    by one 0/1 channel per type (NB201: none, skip, conv1x1, conv3x3, avgpool at every edge
    position, 35×4×4; NB101: input, conv1x1, conv3x3, maxpool, output, 23×7×7), followed by
    the same FLOPs / params channels. On NB201 with 90 training architectures (validation
    accuracy, 6–10 random draws) the ReNAS CNN's Kendall τ on the rest of the space rises
    from 0.53 / 0.53 / 0.49 to 0.61 / 0.61 / 0.59 (CIFAR-10 / CIFAR-100 / ImageNet16-120);
    ``benchmarks/predictors.py`` reports it as ``renas-2+`` / ``renas-4+`` / ``renas-6+``.

Space encodings
    ``NB201Space`` and ``NB101Space`` register these tensors as their encodings ``"renas"``,
    ``"renas-type"`` and ``"renas-onehot"`` (NB201 also ``"renas-onehot-live"``) by
    reference (:func:`nasopt.core.space.register_encoding` with ``"module:function"``):
    the space modules never import this one, which is loaded by the first such encode.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..core.errors import InvalidArchitectureError
from .nb201 import live_op_codes

__all__ = [
    "NB101_OPS",
    "NB101_TYPES",
    "NB101_CELLS",
    "nb101_tensors",
    "nb101_cell_costs",
    "nb101_vertex_channels",
    "nb201_tensors",
    "nb201_type_tensors",
    "conv_cost",
    "TENSOR_KINDS",
    "ENCODING_KINDS",
]

NB101_OPS: tuple[str, ...] = ("input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output")
#: type value of each NB101 op in channel 0 (padding is 0)
NB101_TYPES: dict[str, int] = {op: i + 1 for i, op in enumerate(NB101_OPS)}
_KERNEL = {"conv1x1-bn-relu": 1, "conv3x3-bn-relu": 3}
N_NODES = 7
#: The 9 cells of the NAS-Bench-101 network: (input channels, output channels, H·W).
NB101_CELLS: tuple[tuple[int, int, int], ...] = tuple(
    (cin if m == 0 else cout, cout, hw * hw)
    for cin, cout, hw in ((128, 128, 32), (128, 256, 16), (256, 512, 8))
    for m in range(3)
)
_NB101_WIDTHS = (128, 256, 512)
#: Space encoding name -> tensor ``kind`` (NB201Space and NB101Space offer all three).
ENCODING_KINDS: dict[str, str] = {"renas": "full", "renas-type": "type", "renas-onehot": "onehot"}
#: ``kind`` values of the tensor functions: the paper's tensor, its type channel alone, and
#: the tensor with one-hot type channels.
TENSOR_KINDS = tuple(ENCODING_KINDS.values())


def _check_kind(kind: str) -> None:
    if kind not in TENSOR_KINDS:
        raise ValueError(f"kind must be one of {TENSOR_KINDS}, got {kind!r}")


def conv_cost(k: int, cin: int, cout: int, hw: int) -> tuple[int, int]:
    """FLOPs and params of a ``k×k`` conv (no bias) + batch norm at ``hw`` = H·W pixels."""
    return 2 * k * k * cin * cout * hw, k * k * cin * cout + 2 * cout


# ============================================================================ NAS-Bench-101
def nb101_vertex_channels(matrix: Any, out_channels: int, in_channels: int) -> list[int]:
    """Channels of every vertex of a pruned NB101 cell, as NAS-Bench-101's model builds it."""
    a = matrix.tolist() if isinstance(matrix, np.ndarray) else matrix
    n = len(a)
    ch = [0] * n
    ch[0], ch[n - 1] = in_channels, out_channels
    if n == 2:
        return ch
    feeds_out = [v for v in range(1, n - 1) if a[v][n - 1]]
    base, extra = divmod(out_channels, len(feeds_out))
    for rank, v in enumerate(feeds_out):
        ch[v] = base + (1 if rank < extra else 0)
    for v in range(n - 3, 0, -1):
        if not a[v][n - 1]:
            ch[v] = max((ch[d] for d in range(v + 1, n - 1) if a[v][d]), default=0)
    return ch


def _as_cell(cell: Any) -> tuple[np.ndarray, tuple[str, ...]]:
    if hasattr(cell, "matrix") and hasattr(cell, "ops"):
        matrix, ops = cell.matrix, cell.ops
    else:
        try:
            matrix, ops = cell
        except (TypeError, ValueError):
            raise InvalidArchitectureError(
                f"expected an NB101Cell or a (matrix, ops) pair, got {type(cell).__name__}"
            ) from None
    return np.asarray(matrix), tuple(ops)


_W = N_NODES
#: layout of the compact per-cell record cached by :func:`_cell_graph`
_ADJ, _TYPE, _KER, _POOL, _PROJ, _CH, _GRP = (
    slice(0, 49), slice(49, 56), slice(56, 63), slice(63, 70), slice(70, 77), slice(77, 98), slice(98, 105))


@functools.lru_cache(maxsize=1 << 20)
def _cell_graph(matrix_bytes: bytes, n: int, ops: tuple[str, ...]) -> np.ndarray:
    """Compact int64 record of one cell in canonical (padded) node order: adjacency (7×7),
    type, conv kernel, max-pool flag, fed-by-input flag, channels at the 3 stack widths
    (3×7) and the permutation group of every slot. Costs are computed from it in batch."""
    if n < 2 or n > N_NODES or len(ops) != n:
        raise InvalidArchitectureError(
            f"NB101 cell needs 2..7 nodes and one op per node, got {n}x{n} / {len(ops)} ops")
    interior_ok = all(o in _KERNEL or o == "maxpool3x3" for o in ops[1:-1])
    if ops[0] != "input" or ops[-1] != "output" or not interior_ok:
        raise InvalidArchitectureError(
            f"bad NB101 ops {ops}; ops are {NB101_OPS} with input first, output last")
    m = np.frombuffer(matrix_bytes, dtype=np.uint8).reshape(n, n)
    if np.any(np.tril(m)):
        raise InvalidArchitectureError("NB101 matrix must be strictly upper triangular")
    a = m.tolist()  # plain lists: faster than numpy on 7x7
    has_in = [any(a[u][v] for u in range(n)) for v in range(n)]
    has_out = [any(a[v]) for v in range(n)]
    if not all(has_in[1:]) or not all(has_out[:-1]):
        raise InvalidArchitectureError(
            "NB101 cell is not pruned: every vertex must lie on an input -> output path")
    # depth = longest path from the input (a DFS over the DAG, vertices are topologically ordered)
    depth = [0] * n
    for v in range(1, n):
        depth[v] = max(depth[u] for u in range(v) if a[u][v]) + 1
    order = sorted(range(n), key=lambda v: (depth[v], v))
    slots = list(range(n - 1)) + [N_NODES - 1]  # padding goes before the output
    rec = np.zeros(105, dtype=np.int64)
    adj = rec[_ADJ].reshape(_W, _W)
    for i in range(n):
        for j in range(n):
            if a[order[i]][order[j]]:
                adj[slots[i], slots[j]] = 1
    chans = [nb101_vertex_channels(a, width, 0) for width in _NB101_WIDTHS]
    for i, v in enumerate(order):
        t = slots[i]
        rec[_TYPE.start + t] = NB101_TYPES[ops[v]]
        rec[_KER.start + t] = _KERNEL.get(ops[v], 0)
        rec[_POOL.start + t] = ops[v] == "maxpool3x3"
        rec[_PROJ.start + t] = v != 0 and a[0][v]
        if v != 0:  # the input vertex costs nothing
            for s_ in range(3):
                rec[_CH.start + s_ * _W + t] = chans[s_][v]
    # permutation groups, increasing along the canonical order: equal depth → same group;
    # padding slots and the output each form their own group, so they never move
    groups = list(range(10, 10 + _W))
    for i in range(n - 1):
        groups[i] = depth[order[i]]
    rec[_GRP] = groups
    rec.setflags(write=False)
    return rec


def _records(cells: Iterable[Any]) -> np.ndarray:
    recs = []
    for cell in cells:
        m, ops = _as_cell(cell)
        m = np.ascontiguousarray(m, dtype=np.uint8)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise InvalidArchitectureError(f"NB101 matrix must be square, got shape {m.shape}")
        recs.append(_cell_graph(m.tobytes(), m.shape[0], ops))
    return np.stack(recs) if recs else np.zeros((0, 105), dtype=np.int64)


def _node_values(rec: np.ndarray) -> np.ndarray:
    """(B, 19, 7) value of every node in every channel, vectorised over the batch."""
    b = len(rec)
    vals = np.zeros((b, 19, _W), dtype=np.float64)
    vals[:, 0] = rec[:, _TYPE]
    ker = rec[:, _KER].astype(np.float64)
    conv = ker > 0
    pool = rec[:, _POOL].astype(bool)
    proj = rec[:, _PROJ].astype(bool)
    ch = rec[:, _CH].reshape(b, 3, _W).astype(np.float64)
    for k, (cin, cout, hw) in enumerate(NB101_CELLS):
        c = ch[:, k // 3]
        flops = 2 * ker * ker * c * c * hw + np.where(pool, 9 * c * hw, 0.0)
        params = ker * ker * c * c + np.where(conv, 2 * c, 0.0)
        # 1x1 projection (+ BN) from the cell input: vertices fed by the input, and the
        # output itself when the input feeds it directly (then c = cout)
        flops += np.where(proj, 2 * cin * c * hw, 0.0)
        params += np.where(proj, cin * c + 2 * c, 0.0)
        vals[:, 1 + 2 * k], vals[:, 2 + 2 * k] = flops, params
    return vals


def nb101_tensors(cells: Sequence[Any], rng: np.random.Generator | None = None,
                  kind: str = "full") -> np.ndarray:
    """ReNAS feature tensors of NAS-Bench-101 cells: float32 ``(B, 19, 7, 7)``.

    Args:
        cells: ``NB101Cell`` objects (anything with ``.matrix`` and ``.ops``) or
            ``(matrix, ops)`` pairs; ``matrix`` pruned, upper triangular, ``n ≤ 7``.
        rng: when given, nodes of equal depth are shuffled independently in every cell
            (training-time augmentation; the label is unchanged). ``None``: canonical order.
        kind: ``"full"`` (19 channels), ``"type"`` (channel 0 only, ``(B, 1, 7, 7)``) or
            ``"onehot"`` (channel 0 as 5 one-hot type channels, in :data:`NB101_OPS` order,
            then the 18 cost channels: ``(B, 23, 7, 7)``).

    Per distinct cell the graph work is cached, so re-encoding is a gather plus a stack.
    """
    _check_kind(kind)
    rec = _records(cells)
    adj = rec[:, _ADJ].reshape(-1, _W, _W).astype(np.float32)
    vals = _node_values(rec).astype(np.float32)
    if kind == "type":
        vals = vals[:, :1]
    elif kind == "onehot":
        types = np.arange(1, len(NB101_OPS) + 1, dtype=np.float32)
        onehot = (vals[:, :1] == types[None, :, None]).astype(np.float32)  # (B, 5, 7)
        vals = np.concatenate([onehot, vals[:, 1:]], axis=1)
    x = adj[:, None, :, :] * vals[:, :, None, :]  # M[c, i, j] = A[i, j] * v_c[j]
    if rng is not None and len(x):
        groups = rec[:, _GRP]
        perm = np.argsort(groups * 2.0 + rng.random(groups.shape), axis=1)  # shuffle within groups
        x = np.take_along_axis(x, perm[:, None, :, None], axis=2)
        x = np.take_along_axis(x, perm[:, None, None, :], axis=3)
    return np.ascontiguousarray(x, dtype=np.float32)


def nb101_cell_costs(cell: Any) -> tuple[int, int]:
    """Total FLOPs and params of the 9 cells of the network built from ``cell``."""
    x = nb101_tensors([cell])[0].astype(np.float64)
    # every node with an incoming edge appears once per incoming edge: take each column once
    col = x.max(axis=1)  # (19, 7): value of each destination node
    return int(round(col[1::2].sum())), int(round(col[2::2].sum()))


# ============================================================================ NAS-Bench-201
_NB201_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
_NB201_STAGES = ((16, 32 * 32), (32, 16 * 16), (64, 8 * 8))


@functools.lru_cache(maxsize=1)
def _nb201_cost_table() -> np.ndarray:
    """(5 ops, 30 channels) FLOPs/params of each op in each of the 15 cells."""
    table = np.zeros((5, 30), dtype=np.float64)
    for s, (c, hw) in enumerate(_NB201_STAGES):
        per_op = [(0, 0), (0, 0), conv_cost(1, c, c, hw), conv_cost(3, c, c, hw), (9 * c * hw, 0)]
        for m in range(5):
            k = 5 * s + m
            for op, (f, p) in enumerate(per_op):
                table[op, 2 * k], table[op, 2 * k + 1] = f, p
    return table


def _check_codes(op_codes: Any) -> np.ndarray:
    codes = np.asarray(op_codes)
    if codes.ndim != 2 or codes.shape[1] != 6:
        raise InvalidArchitectureError(f"op_codes must have shape (B, 6), got {codes.shape}")
    codes = codes.astype(np.int64)
    if codes.size and (codes.min() < 0 or codes.max() > 4):
        raise InvalidArchitectureError("NB201 op codes must be in 0..4")
    return codes


def nb201_tensors(op_codes: Any, kind: str = "full") -> np.ndarray:
    """ReNAS feature tensors of NAS-Bench-201 cells: float32 ``(B, 31, 4, 4)``.

    Args:
        op_codes: ``(B, 6)`` integer op code per edge in the official edge order
            ``0->1, 0->2, 1->2, 0->3, 1->3, 2->3`` (e.g. ``NB201Space.op_codes``).
        kind: ``"full"`` (31 channels), ``"type"`` (``(B, 1, 4, 4)``) or ``"onehot"``
            (one 0/1 channel per op code 0..4 at every edge position, then the 30 cost
            channels: ``(B, 35, 4, 4)``).
    """
    _check_kind(kind)
    codes = _check_codes(op_codes)
    b = len(codes)
    rows = np.array([e[0] for e in _NB201_EDGES])
    cols = np.array([e[1] for e in _NB201_EDGES])
    n_type = 5 if kind == "onehot" else 1
    out = np.zeros((b, n_type + (0 if kind == "type" else 30), 4, 4), dtype=np.float32)
    if kind == "onehot":
        out[:, :n_type, rows, cols] = (codes[:, :, None] == np.arange(n_type)).transpose(0, 2, 1)
    else:
        out[:, 0, rows, cols] = codes
    if kind != "type":
        vals = _nb201_cost_table()[codes]  # (B, 6, 30)
        out[:, n_type:, rows, cols] = vals.transpose(0, 2, 1)
    return out


def nb201_type_tensors(op_codes: Any) -> np.ndarray:
    """Type channel only, ``(B, 1, 4, 4)``: the input of ReNAS-1/3/5."""
    return nb201_tensors(op_codes, kind="type")


# ============================================================================ space encoders
# ``encoder(space, archs)`` functions that nasopt.spaces.nb201 / nb101 register by name.
def _nb201_encoder(kind: str, live: bool = False) -> Callable[[Any, Sequence[str]], np.ndarray]:
    def encode(space: Any, archs: Sequence[str]) -> np.ndarray:
        codes = space.op_codes[space.indices(archs)]
        return nb201_tensors(live_op_codes(codes) if live else codes, kind=kind)

    encode.__doc__ = f"NB201Space encoder: :func:`nb201_tensors` ``kind={kind!r}``" + (
        " of the live op codes." if live else ".")
    return encode


def _nb101_encoder(kind: str) -> Callable[[Any, Sequence[Any]], np.ndarray]:
    def encode(space: Any, archs: Sequence[Any]) -> np.ndarray:
        return nb101_tensors(list(archs), kind=kind)

    encode.__doc__ = f"NB101Space encoder: :func:`nb101_tensors` ``kind={kind!r}``."
    return encode


_nb201_renas = _nb201_encoder("full")
_nb201_renas_type = _nb201_encoder("type")
_nb201_renas_onehot = _nb201_encoder("onehot")
_nb201_renas_onehot_live = _nb201_encoder("onehot", live=True)
_nb101_renas = _nb101_encoder("full")
_nb101_renas_type = _nb101_encoder("type")
_nb101_renas_onehot = _nb101_encoder("onehot")
