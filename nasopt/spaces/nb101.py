"""NAS-Bench-101: cells of at most 7 vertices and 9 edges, ops on the vertices.

An architecture is an :class:`NB101Cell`: a *pruned* upper-triangular 0/1 adjacency matrix
(``n × n``, ``2 ≤ n ≤ 7``, uint8) and one op name per vertex, ``"input"`` first, ``"output"``
last and ``"conv1x1-bn-relu"``, ``"conv3x3-bn-relu"`` or ``"maxpool3x3"`` in between. Build
one from any official-style spec (e.g. a 7×7 matrix with dangling vertices) with
:meth:`NB101Cell.from_spec`, which prunes as the official ``ModelSpec`` does.

:class:`NB101Space` is the open space (``is_finite`` False): validity rules, the official
module hash as canonical key, sampling, mutation and crossover as in the NAS-Bench-101
baselines, and batched encodings. :class:`NB101TableSpace` is the finite space of the cells
of a benchmark table (row ``i`` is ``space[i]``), built by :class:`nasopt.benchmarks.nb101.NB101`.

Encodings (``encode``, float32):

* ``"adjacency"`` (default, 45-d, the WeakNAS encoding): on the pruned cell padded to 7
  vertices (the output stays at column ``n - 1``), for each column ``c = 1..6`` the entries
  ``A[r][c]`` for ``r < c`` followed by the one-hot of node ``c``'s op over
  (conv1x1, conv3x3, maxpool, output); columns ``≥ n`` are zero.
* ``"adjacency_full"`` (84-d): the padded 7×7 matrix flattened, then a 7×5 one-hot of the ops
  over (input, conv1x1, conv3x3, maxpool, output); padding vertices are all zero.
* ``"renas"``, ``"renas-type"``, ``"renas-onehot"``: the ReNAS feature tensors of
  :mod:`nasopt.spaces.renas_features`, registered by reference (``register_encoding``).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InvalidArchitectureError
from ..core.space import SearchSpace, register_encoding, register_space
from .nb101_hash import HASH_OP_ORDER, module_hashes, on_path_vertices, prune, spec_hash

INPUT, CONV1X1, CONV3X3, MAXPOOL3X3, OUTPUT = OPS = (
    "input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output")
#: Ops allowed on the interior vertices.
INTERIOR_OPS: tuple[str, ...] = (CONV1X1, CONV3X3, MAXPOOL3X3)
#: Op name → code used by the cached tables and encodings (input 0 … output 4; padding -1).
OP_CODE: dict[str, int] = {op: i for i, op in enumerate(OPS)}
MAX_VERTICES = 7
MAX_EDGES = 9
_TRIU_R, _TRIU_C = np.triu_indices(MAX_VERTICES, k=1)  # the 21 possible edges
N_EDGE_SLOTS = len(_TRIU_R)

__all__ = [
    "NB101Cell", "NB101Space", "NB101TableSpace", "OPS", "INTERIOR_OPS", "OP_CODE",
    "MAX_VERTICES", "MAX_EDGES", "HASH_OP_ORDER", "pad_cells", "encode_padded", "representation_count",
    "enumerate_representations", "canonical_keys",
]


class NB101Cell:
    """Immutable NAS-Bench-101 cell: ``matrix`` (read-only uint8 ``n × n``) and ``ops``
    (tuple of op names). Equality and ``hash()`` compare the exact content (same matrix,
    same ops, same vertex order); isomorphic cells share :attr:`spec_hash` instead.

    The constructor stores what it is given (after converting to uint8); use
    :meth:`from_spec` to prune an official-style spec first. Validity is checked by the
    space (:meth:`NB101Space.check`).
    """

    __slots__ = ("matrix", "ops", "_hash", "_key")

    def __init__(self, matrix: Any, ops: Sequence[str]) -> None:
        arr = np.asarray(matrix)
        if arr.ndim != 2:
            raise InvalidArchitectureError(f"NB101Cell matrix must be 2-D, got shape {arr.shape}")
        if arr.size and not (arr.dtype == bool or np.issubdtype(arr.dtype, np.integer)
                             or np.all(np.mod(arr, 1) == 0)):
            raise InvalidArchitectureError("NB101Cell matrix entries must be 0 or 1")
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            raise InvalidArchitectureError("NB101Cell matrix entries must be 0 or 1")
        if isinstance(ops, str) or not all(isinstance(o, str) for o in ops):
            raise InvalidArchitectureError(f"NB101Cell ops must be a sequence of op names, got {ops!r}")
        mat = arr.astype(np.uint8, copy=True)
        mat.flags.writeable = False
        object.__setattr__(self, "matrix", mat)
        object.__setattr__(self, "ops", tuple(ops))
        object.__setattr__(self, "_hash", None)
        object.__setattr__(self, "_key", None)

    @classmethod
    def from_spec(cls, matrix: Any, ops: Sequence[str]) -> "NB101Cell":
        """Prune an official-style spec (vertices off every input→output path are removed,
        as ``nasbench.api.ModelSpec`` does) and return the cell.

        Raises:
            InvalidArchitectureError: not square, ops/matrix size mismatch, or the input and
                output are disconnected.
        """
        arr = np.asarray(matrix)
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            raise InvalidArchitectureError(f"matrix must be square, got shape {arr.shape}")
        if len(ops) != arr.shape[0]:
            raise InvalidArchitectureError(f"{len(ops)} ops for a {arr.shape[0]}-vertex matrix")
        if arr.shape[0] < 2:
            raise InvalidArchitectureError("a cell needs at least the input and output vertices")
        if not _is_upper(arr):
            raise InvalidArchitectureError("matrix is not upper-triangular (cycle)")
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            raise InvalidArchitectureError("matrix entries must be 0 or 1")
        pruned = prune(arr, list(ops))
        if pruned is None:
            raise InvalidArchitectureError("input and output are disconnected")
        return cls(*pruned)

    @classmethod
    def _checked(cls, matrix: np.ndarray, ops: tuple[str, ...], key: str) -> "NB101Cell":
        """A cell from parts the caller has already checked (a read-only uint8 matrix, the op
        names) with its module hash: the batched decoder of :meth:`NB101Space.from_data_many`."""
        cell = object.__new__(cls)
        for name, value in (("matrix", matrix), ("ops", ops), ("_hash", None), ("_key", key)):
            object.__setattr__(cell, name, value)
        return cell

    # ------------------------------------------------------------------ value semantics
    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("NB101Cell is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NB101Cell):
            return NotImplemented
        return self.ops == other.ops and self.matrix.shape == other.matrix.shape and bool(
            np.array_equal(self.matrix, other.matrix))

    def __hash__(self) -> int:
        if self._hash is None:
            object.__setattr__(self, "_hash", hash((self.ops, self.matrix.shape, self.matrix.tobytes())))
        return self._hash  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"NB101Cell(matrix={self.matrix.tolist()}, ops={list(self.ops)})"

    def __reduce__(self):  # pickling (e.g. to worker processes)
        return (NB101Cell, (self.matrix.copy(), self.ops))

    # ------------------------------------------------------------------ accessors
    @property
    def n_vertices(self) -> int:
        """Number of vertices, input and output included."""
        return int(self.matrix.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.matrix.sum())

    @property
    def spec_hash(self) -> str:
        """The official NAS-Bench-101 module hash (isomorphism-invariant; see
        :mod:`nasopt.spaces.nb101_hash`). Only meaningful for valid, pruned cells."""
        if self._key is None:
            object.__setattr__(self, "_key", spec_hash(self.matrix, self.ops))
        return self._key  # type: ignore[return-value]

    def to_data(self) -> dict:
        """``{"matrix": [[0, 1, ...], ...], "ops": ["input", ..., "output"]}``."""
        return {"matrix": self.matrix.tolist(), "ops": list(self.ops)}

    @classmethod
    def from_data(cls, data: Any) -> "NB101Cell":
        """Inverse of :meth:`to_data` (no pruning, no validity check)."""
        if not isinstance(data, Mapping) or "matrix" not in data or "ops" not in data:
            raise InvalidArchitectureError(
                f"NB101 cell data must be a dict with 'matrix' and 'ops', got {data!r}")
        return cls(data["matrix"], data["ops"])


def _is_upper(arr: np.ndarray) -> bool:
    return not np.any(np.tril(arr) != 0)


#: Op code (:data:`OP_CODE`) → the official hash label (:func:`~nasopt.spaces.nb101_hash.hash_labels`).
_HASH_LABEL = np.array([-1] + [HASH_OP_ORDER.index(op) for op in OPS[1:-1]] + [-2], dtype=np.int64)
_LOWER = np.tril(np.ones((MAX_VERTICES, MAX_VERTICES), dtype=bool))


def _decode_regular(datas: Sequence[Any]) -> tuple[list[int], list[NB101Cell]]:
    """The batched part of :meth:`NB101Space.from_data_many`: the items that are plain
    ``{"matrix": n × n list of 0/1 ints, "ops": n names}`` of *valid, pruned* cells, decoded
    and hashed together. Returns their positions and cells; every other item (an unpruned
    spec, odd types, an invalid cell) is left to the per-item path, which prunes it or
    raises the error it always raised."""
    pos: list[int] = []
    flat: list[Any] = []
    op_lists: list[list[str]] = []
    for k, d in enumerate(datas):
        if type(d) is not dict:
            continue
        m, ops = d.get("matrix"), d.get("ops")
        if type(m) is not list or type(ops) is not list:
            continue
        n = len(m)
        if not 2 <= n <= MAX_VERTICES or len(ops) != n or not all(
                type(row) is list and len(row) == n for row in m):
            continue
        if not all(type(op) is str for op in ops):
            continue
        pos.append(k)
        op_lists.append(ops)
        for row in m:
            flat.extend(row)
    if not pos:
        return [], []
    try:
        values = np.array(flat)
    except (ValueError, TypeError, OverflowError):  # nested entries: per item
        return [], []
    if values.dtype.kind not in "iub":  # floats, strings, huge values: per item
        return [], []
    sizes = np.array([len(ops) for ops in op_lists], dtype=np.int64)
    b = len(pos)
    # entry e of item i sits at (r, c) = divmod(e - offset_i, n_i) of that item's matrix
    counts = sizes * sizes
    item = np.repeat(np.arange(b), counts)
    within = np.arange(len(values)) - np.repeat(np.cumsum(counts) - counts, counts)
    rows, cols = within // sizes[item], within % sizes[item]
    values = values.astype(np.int64)
    binary = np.ones(b, dtype=bool)
    np.logical_and.at(binary, item, (values >= 0) & (values <= 1))
    mats = np.zeros((b, MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    mats[item, rows, cols] = np.clip(values, 0, 1)
    codes = np.full((b, MAX_VERTICES), -1, dtype=np.int64)
    vert = np.concatenate([np.arange(n) for n in sizes.tolist()])
    codes[np.repeat(np.arange(b), sizes), vert] = [
        OP_CODE.get(op, -2) for ops in op_lists for op in ops]
    span = np.arange(MAX_VERTICES)[None, :]
    inside = span < sizes[:, None]
    last = sizes - 1
    interior = (span > 0) & (span < last[:, None])
    ops_ok = ((codes[:, 0] == OP_CODE[INPUT]) & (codes[np.arange(b), last] == OP_CODE[OUTPUT])
              & np.all(~interior | ((codes >= OP_CODE[CONV1X1]) & (codes <= OP_CODE[MAXPOOL3X3])), axis=1))
    upper = ~np.any(mats.astype(bool) & _LOWER, axis=(1, 2))
    adj = mats.astype(bool)
    fwd = span == 0  # reached from the input
    bwd = span == last[:, None]  # reaching the output
    for _ in range(MAX_VERTICES - 1):
        fwd = fwd | np.any(fwd[:, :, None] & adj, axis=1)
        bwd = bwd | np.any(adj & bwd[:, None, :], axis=2)
    on_path = np.all(~inside | (fwd & bwd), axis=1)
    few_edges = mats.reshape(b, -1).sum(axis=1) <= MAX_EDGES
    good = np.flatnonzero(binary & ops_ok & upper & on_path & few_edges)
    labels = _HASH_LABEL[np.maximum(codes[good], 0)]
    keys = module_hashes(mats[good], labels, sizes[good])
    cells = []
    for g, key in zip(good.tolist(), keys):
        n = int(sizes[g])
        mat = mats[g, :n, :n].copy()
        mat.flags.writeable = False
        cells.append(NB101Cell._checked(mat, tuple(op_lists[g]), key))
    return [pos[g] for g in good.tolist()], cells


def pad_cells(cells: Sequence[NB101Cell]) -> tuple[np.ndarray, np.ndarray]:
    """Pack cells into ``(B, 7, 7)`` uint8 matrices (cell in the top-left corner, so the
    output vertex stays at index ``n - 1``) and ``(B, 7)`` int8 op codes (:data:`OP_CODE`,
    -1 for padding)."""
    b = len(cells)
    mats = np.zeros((b, MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    codes = np.full((b, MAX_VERTICES), -1, dtype=np.int8)
    for k, cell in enumerate(cells):
        n = cell.matrix.shape[0]
        mats[k, :n, :n] = cell.matrix
        codes[k, :n] = [OP_CODE[o] for o in cell.ops]
    return mats, codes


# WeakNAS 45-d layout: for column c = 1..6, c adjacency entries then a 4-way op one-hot.
_ADJ_R = np.concatenate([np.arange(c) for c in range(1, MAX_VERTICES)])
_ADJ_C = np.concatenate([np.full(c, c) for c in range(1, MAX_VERTICES)])
_starts = np.cumsum([0] + [c + 4 for c in range(1, MAX_VERTICES)])[:-1]
_ADJ_POS = np.concatenate([s + np.arange(c) for s, c in zip(_starts, range(1, MAX_VERTICES))])
_OH_POS = np.stack([s + c + np.arange(4) for s, c in zip(_starts, range(1, MAX_VERTICES))])  # (6, 4)
ADJ_DIM = int(_starts[-1] + MAX_VERTICES - 1 + 4)  # 45


def encode_padded(mats: np.ndarray, codes: np.ndarray, encoding: str) -> np.ndarray:
    """Vectorised encodings of padded cells (see the module docstring)."""
    b = mats.shape[0]
    if encoding == "adjacency":
        out = np.zeros((b, ADJ_DIM), dtype=np.float32)
        out[:, _ADJ_POS] = mats[:, _ADJ_R, _ADJ_C]
        onehot = codes[:, 1:, None] == np.arange(1, 5, dtype=np.int8)[None, None, :]  # (B, 6, 4)
        out[:, _OH_POS.ravel()] = onehot.reshape(b, -1)
        return out
    if encoding == "adjacency_full":
        onehot = codes[:, :, None] == np.arange(len(OPS), dtype=np.int8)[None, None, :]
        return np.concatenate([mats.reshape(b, -1), onehot.reshape(b, -1)], axis=1).astype(np.float32)
    raise ValueError(f"unknown NB101 encoding {encoding!r}")

SAMPLINGS = ("uniform", "nasbench")
_N_CHOICES = np.arange(2, MAX_VERTICES + 1)
# Uniform proposal over representations with <= 9 edges: vertex count n with weight
# (number of n-vertex upper-triangular matrices with <= 9 edges) x 3^(n-2) op labellings,
# then the edge count e with weight C(n(n-1)/2, e), then a uniform e-subset of the slots.
_E_COUNTS = np.array([[math.comb(n * (n - 1) // 2, e) for e in range(MAX_EDGES + 1)] for n in _N_CHOICES],
                     dtype=np.float64)
_P_N = _E_COUNTS.sum(axis=1) * 3.0 ** (_N_CHOICES - 2)
_P_N /= _P_N.sum()
_E_CDF = np.cumsum(_E_COUNTS / _E_COUNTS.sum(axis=1, keepdims=True), axis=1)
_SLOT_VERTS = np.maximum(_TRIU_R, _TRIU_C)  # a slot belongs to the n-vertex matrix iff its end < n
_INTERIOR_PERMS: dict[int, np.ndarray] = {}
_PROPOSAL_BATCH = 256


def _interior_perms(n: int) -> np.ndarray:
    """All permutations of the vertices of an ``n``-vertex cell fixing input and output."""
    if n not in _INTERIOR_PERMS:
        perms = [(0, *p, n - 1) for p in itertools.permutations(range(1, n - 1))]
        _INTERIOR_PERMS[n] = np.array(perms, dtype=np.int64).reshape(len(perms), n)
    return _INTERIOR_PERMS[n]


def representation_count(matrix: np.ndarray, codes: np.ndarray) -> int:
    """Number of distinct upper-triangular ``(matrix, ops)`` representations of a cell's
    isomorphism class (vertex orders that keep the input first, the output last and every
    edge pointing forward). ``codes`` are integer op codes."""
    n = matrix.shape[0]
    perms = _interior_perms(n)
    pm = np.asarray(matrix)[perms[:, :, None], perms[:, None, :]]  # (P, n, n): new i = old perm[i]
    r, c = np.tril_indices(n)
    upper = ~np.any(pm[:, r, c] != 0, axis=1)
    ur, uc = np.triu_indices(n, k=1)
    edge_bits = (pm[upper][:, ur, uc].astype(np.int64) << np.arange(len(ur), dtype=np.int64)).sum(axis=1)
    op_codes = np.asarray(codes, dtype=np.int64)[perms[upper]]
    op_bits = (op_codes << (2 * np.arange(n, dtype=np.int64))).sum(axis=1)
    return int(len(np.unique((op_bits << len(ur)) | edge_bits)))


def enumerate_representations(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every valid ``n``-vertex cell *representation*: all pruned upper-triangular matrices with
    at most 9 edges (every vertex on an input→output path) times all interior op labellings.

    Returns ``(matrices (M, n, n) uint8, op codes (M, n) int8)``; isomorphic representations
    are all listed (group them by :func:`~nasopt.spaces.nb101_hash.spec_hash` to get cells).
    This is how NAS-Bench-101 generated its 423,624 cells.
    """
    if not 2 <= n <= MAX_VERTICES:
        raise ValueError(f"n must be in [2, {MAX_VERTICES}], got {n}")
    r, c = np.triu_indices(n, k=1)
    bits = np.arange(2 ** len(r), dtype=np.int64)
    present = ((bits[:, None] >> np.arange(len(r))) & 1).astype(np.uint8)
    present = present[present.sum(axis=1) <= MAX_EDGES]
    mats = np.zeros((len(present), n, n), dtype=np.uint8)
    mats[:, r, c] = present
    full = (mats[:, :-1, :].any(axis=2).all(axis=1)) & (mats[:, :, 1:].any(axis=1).all(axis=1))
    mats = mats[full]
    combos = list(itertools.product((1, 2, 3), repeat=n - 2))
    labels = np.array(combos, dtype=np.int8).reshape(len(combos), n - 2)
    codes = np.concatenate([np.zeros((len(labels), 1), np.int8), labels,
                            np.full((len(labels), 1), OP_CODE[OUTPUT], np.int8)], axis=1)
    return (np.repeat(mats, len(codes), axis=0), np.tile(codes, (len(mats), 1)))


def canonical_keys(mats: np.ndarray, codes: np.ndarray, batch: int = 5000) -> np.ndarray:
    """A canonical int64 key per representation (``(M, n, n)`` matrices and ``(M, n)`` op codes
    of ``n``-vertex cells): the smallest packed (ops, edges) code over the vertex orders that
    keep the matrix upper-triangular. Equal keys ⇔ isomorphic cells (exact, no hashing)."""
    mats = np.asarray(mats)
    n = mats.shape[1]
    perms = _interior_perms(n)
    r, c = np.tril_indices(n)
    ur, uc = np.triu_indices(n, k=1)
    out = np.empty(len(mats), dtype=np.int64)
    for s in range(0, len(mats), batch):
        pm = mats[s:s + batch][:, perms[:, :, None], perms[:, None, :]]  # (B, P, n, n)
        upper = ~np.any(pm[:, :, r, c] != 0, axis=2)
        edges = (pm[:, :, ur, uc].astype(np.int64) << np.arange(len(ur))).sum(axis=2)
        ops = (np.asarray(codes[s:s + batch], dtype=np.int64)[:, perms] << (2 * np.arange(n))).sum(axis=2)
        key = (ops << len(ur)) | edges
        key[~upper] = np.iinfo(np.int64).max
        out[s:s + batch] = key.min(axis=1)
    return out


def _sample_uniform(rng: np.random.Generator) -> "NB101Cell":
    """One cell drawn uniformly from the distinct valid cells (see NB101Space)."""
    idx = np.arange(MAX_VERTICES)
    while True:
        b = _PROPOSAL_BATCH
        n_pos = rng.choice(len(_N_CHOICES), size=b, p=_P_N)
        ns = _N_CHOICES[n_pos]
        n_edges = (rng.random(b)[:, None] > _E_CDF[n_pos]).sum(axis=1)
        keys = rng.random((b, N_EDGE_SLOTS))
        keys[_SLOT_VERTS[None, :] >= ns[:, None]] = np.inf  # slots outside the n x n matrix
        ranks = np.argsort(np.argsort(keys, axis=1), axis=1)
        mats = np.zeros((b, MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
        mats[:, _TRIU_R, _TRIU_C] = ranks < n_edges[:, None]
        ops = rng.integers(1, 4, size=(b, MAX_VERTICES), dtype=np.int8)  # interior op codes 1..3
        out_ok = (mats.sum(axis=2) > 0) | (idx[None, :] >= ns[:, None] - 1)
        in_ok = (mats.sum(axis=1) > 0) | (idx[None, :] == 0) | (idx[None, :] >= ns[:, None])
        ok = out_ok.all(axis=1) & in_ok.all(axis=1)
        accept = rng.random(b)
        for k in np.flatnonzero(ok):
            n = int(ns[k])
            mat = mats[k, :n, :n]
            codes = np.concatenate([[OP_CODE[INPUT]], ops[k, 1:n - 1], [OP_CODE[OUTPUT]]])
            if accept[k] * representation_count(mat, codes) < 1.0:
                return NB101Cell(mat, [OPS[c] for c in codes])


@register_space
class NB101Space(SearchSpace):
    """The NAS-Bench-101 cell space (not enumerable; see :class:`NB101TableSpace`).

    Validity (:meth:`check` names the first rule broken): square 0/1 matrix with one op per
    vertex, 2 to 7 vertices, upper-triangular (a DAG in topological order), ``"input"``
    first, ``"output"`` last, interior ops from :data:`INTERIOR_OPS`, input and output
    connected, pruned (every vertex on an input→output path), at most 9 edges.

    Sampling (:meth:`sample`):

    * ``sampling="uniform"`` (default): exactly uniform over the distinct valid cells
      (isomorphism classes, i.e. the 423,624 NAS-Bench-101 cells), by rejection: propose a
      uniformly random *representation* (vertex count ``n`` drawn in proportion to the
      number of ``n``-vertex upper-triangular matrices × op labellings, then a uniform
      matrix and ops) and keep it if it is a pruned cell with ≤ 9 edges (so proposals are
      uniform over all valid representations), then accept it with probability ``1/k``
      where ``k`` is the number of distinct upper-triangular representations of its class
      (counted by permuting the interior vertices). Needs no table.
    * ``sampling="nasbench"``: NAS-Bench-101's ``random_spec``: each of the 21 upper edges of
      a 7-vertex matrix present with probability 1/2, interior ops uniform, pruned, redrawn
      until valid. Uniform over labelled 7-vertex *specs*, not over cells: after pruning,
      small cells dominate (about 0.4 % of its draws have 7 vertices).

    Mutation (:meth:`mutate`) is that of the NAS-Bench-101 evolution baseline: the cell is
    re-padded to 7 vertices (extra dangling vertices get random ops), each of the 21 edge
    slots flips with probability ``mutation_rate / 7`` and each of the 5 interior ops is
    replaced, with probability ``mutation_rate / 5``, by a different op; the result is
    pruned and the draw repeated until the cell is valid and has a different hash.

    Crossover (:meth:`crossover`): both parents padded to 7 vertices, each edge slot and
    each interior op taken from either parent with probability 1/2, pruned; retried up to
    ``CROSSOVER_TRIES`` times until valid, else a mutation of a random parent.

    Args:
        mutation_rate: expected-change scale of :meth:`mutate` (official default 1.0).
        sampling: ``"uniform"`` (default) or ``"nasbench"``, see above.
    """

    type_name = "nb101"
    #: Built in; the ReNAS tensors are registered after the class (:func:`register_encoding`).
    encodings = ("adjacency", "adjacency_full")
    CROSSOVER_TRIES = 100
    MUTATION_TRIES = 10_000

    def __init__(self, mutation_rate: float = 1.0, sampling: str = "uniform") -> None:
        if not 0 < float(mutation_rate) <= MAX_VERTICES:
            raise ValueError(f"mutation_rate must be in (0, 7], got {mutation_rate}")
        if sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
        self.mutation_rate = float(mutation_rate)
        self.sampling = sampling

    # --------------------------------------------------------------- membership, identity
    def check(self, arch: Any) -> str | None:
        if not isinstance(arch, NB101Cell):
            return f"expected an NB101Cell, got {type(arch).__name__}"
        m, ops = arch.matrix, arch.ops
        n = m.shape[0]
        if m.shape[0] != m.shape[1]:
            return f"matrix must be square, got shape {m.shape}"
        if len(ops) != n:
            return f"{len(ops)} ops for a {n}-vertex matrix"
        if n < 2:
            return "a cell needs at least the input and output vertices"
        if n > MAX_VERTICES:
            return f"{n} vertices > {MAX_VERTICES}"
        low = np.argwhere(np.tril(m) != 0)
        if len(low):
            r, c = (int(x) for x in low[0])
            kind = "self-loop" if r == c else "cycle"
            return f"not upper-triangular ({kind}): edge {r}->{c}"
        if ops[0] != INPUT:
            return f"first op must be {INPUT!r}, got {ops[0]!r}"
        if ops[-1] != OUTPUT:
            return f"last op must be {OUTPUT!r}, got {ops[-1]!r}"
        for i, op in enumerate(ops[1:-1], start=1):
            if op not in INTERIOR_OPS:
                return f"op {op!r} at vertex {i} not allowed; interior ops are {INTERIOR_OPS}"
        keep = on_path_vertices(m)
        if keep is None:
            return "input and output are disconnected"
        if not keep.all():
            dangling = np.flatnonzero(~keep).tolist()
            return (f"not pruned: vertices {dangling} are not on an input->output path "
                    "(NB101Cell.from_spec prunes)")
        edges = int(m.sum())
        if edges > MAX_EDGES:
            return f"{edges} edges > {MAX_EDGES}"
        return None

    def key(self, arch: NB101Cell) -> str:
        """The official NAS-Bench-101 module hash of the (pruned) cell."""
        return arch.spec_hash

    def keys(self, archs: Sequence[NB101Cell]) -> list[str]:
        """:meth:`key` of each cell; the hashes not yet known are computed in one batch."""
        todo = [a for a in archs if isinstance(a, NB101Cell) and a._key is None]
        if todo:
            mats, codes = pad_cells(todo)
            sizes = np.array([a.n_vertices for a in todo], dtype=np.int64)
            for a, h in zip(todo, module_hashes(mats, _HASH_LABEL[np.maximum(codes, 0)], sizes)):
                object.__setattr__(a, "_key", h)
        return [self.key(a) for a in archs]

    # --------------------------------------------------------------- sampling, variation
    def _valid_from_spec(self, matrix: np.ndarray, ops: Sequence[str]) -> NB101Cell | None:
        pruned = prune(matrix, ops)
        if pruned is None or int(pruned[0].sum()) > MAX_EDGES:
            return None
        return NB101Cell(*pruned)

    def sample(self, rng: np.random.Generator) -> NB101Cell:
        if self.sampling == "uniform":
            return _sample_uniform(rng)
        while True:
            mat = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
            mat[_TRIU_R, _TRIU_C] = rng.integers(0, 2, size=N_EDGE_SLOTS)
            ops = [INPUT] + [INTERIOR_OPS[i] for i in rng.integers(0, 3, size=MAX_VERTICES - 2)] + [OUTPUT]
            cell = self._valid_from_spec(mat, ops)
            if cell is not None:
                return cell

    def _pad7(self, cell: NB101Cell, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
        """Embed a cell into 7 vertices: interior vertices keep their slots, the output moves to
        slot 6, the new vertices between are dangling with random ops."""
        n = cell.n_vertices
        slots = list(range(n - 1)) + [MAX_VERTICES - 1]
        mat = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
        mat[np.ix_(slots, slots)] = cell.matrix
        extra = [INTERIOR_OPS[i] for i in rng.integers(0, 3, size=MAX_VERTICES - n)]
        return mat, list(cell.ops[:-1]) + extra + [OUTPUT]

    def mutate(self, arch: NB101Cell, rng: np.random.Generator) -> NB101Cell:
        parent_key = self.key(arch)
        p_edge = self.mutation_rate / MAX_VERTICES
        p_op = self.mutation_rate / (MAX_VERTICES - 2)
        for _ in range(self.MUTATION_TRIES):
            mat, ops = self._pad7(arch, rng)
            flips = rng.random(N_EDGE_SLOTS) < p_edge
            mat[_TRIU_R[flips], _TRIU_C[flips]] ^= 1
            change = rng.random(MAX_VERTICES - 2) < p_op
            shift = rng.integers(1, 3, size=MAX_VERTICES - 2)  # to one of the 2 other ops
            for i in np.flatnonzero(change):
                v = int(i) + 1
                ops[v] = INTERIOR_OPS[(INTERIOR_OPS.index(ops[v]) + int(shift[i])) % 3]
            child = self._valid_from_spec(mat, ops)
            if child is not None and child.spec_hash != parent_key:
                return child
        raise InvalidArchitectureError(  # pragma: no cover - needs ~10^4 unlucky draws
            f"could not mutate {arch!r} into a different valid cell")

    def _crossover_once(self, a: NB101Cell, b: NB101Cell, rng: np.random.Generator) -> NB101Cell | None:
        ma, oa = self._pad7(a, rng)
        mb, ob = self._pad7(b, rng)
        for _ in range(self.CROSSOVER_TRIES):
            take_a = rng.random(N_EDGE_SLOTS) < 0.5
            mat = np.zeros_like(ma)
            mat[_TRIU_R, _TRIU_C] = np.where(take_a, ma[_TRIU_R, _TRIU_C], mb[_TRIU_R, _TRIU_C])
            op_a = rng.random(MAX_VERTICES) < 0.5
            ops = [x if t else y for x, y, t in zip(oa, ob, op_a)]
            child = self._valid_from_spec(mat, ops)
            if child is not None:
                return child
        return None

    def crossover(self, a: NB101Cell, b: NB101Cell, rng: np.random.Generator) -> NB101Cell:
        child = self._crossover_once(a, b, rng)
        return child if child is not None else self.mutate(a if rng.random() < 0.5 else b, rng)

    # --------------------------------------------------------------- encodings
    def encode(self, archs: Sequence[NB101Cell], encoding: str | None = None) -> np.ndarray:
        encoding = self._check_encoding(encoding)
        if self._registered_encoder(encoding) is not None:
            return super().encode(archs, encoding)
        mats, codes = pad_cells(archs)
        return encode_padded(mats, codes, encoding)

    # --------------------------------------------------------------- plain data
    def to_data(self, arch: NB101Cell) -> dict:
        return arch.to_data()

    def from_data(self, data: Any) -> NB101Cell:
        """Build a cell from ``{"matrix", "ops"}`` (official unpruned specs are pruned first)
        and validate it."""
        cell = NB101Cell.from_data(data)
        if cell.matrix.shape[0] == cell.matrix.shape[1] == len(cell.ops) >= 2 and _is_upper(cell.matrix):
            pruned = prune(cell.matrix, cell.ops)
            if pruned is not None:
                cell = NB101Cell(*pruned)
        return self.validate(cell)

    def from_data_many(self, datas: Sequence[Any]) -> list[NB101Cell]:
        """:meth:`from_data` of each item, batched: the pruned, valid cells that files hold
        are checked with numpy over the whole batch (0/1 upper-triangular matrix, op names,
        every vertex on an input→output path, at most 9 edges) and their module hashes
        computed together (the keys come with the cells). Any other item (an official
        unpruned spec, an invalid cell, odd types) goes through :meth:`from_data`, so the
        cells and the errors are those of the per-item path."""
        fast = dict(zip(*_decode_regular(datas)))
        out = []
        for k, d in enumerate(datas):
            cell = fast.get(k)
            out.append(cell if cell is not None and self._admits(cell) else self.from_data(d))
        return out

    def _admits(self, cell: NB101Cell) -> bool:
        """Whether a valid cell decoded by :meth:`from_data_many` is a member (all are)."""
        return True

    def config(self) -> dict:
        cfg: dict[str, Any] = {"type": self.type_name}
        if self.mutation_rate != 1.0:
            cfg["mutation_rate"] = self.mutation_rate
        if self.sampling != "uniform":
            cfg["sampling"] = self.sampling
        return cfg

    @classmethod
    def from_config(cls, config: dict) -> "NB101Space":
        if "table" in config:  # an NB101TableSpace (same type name, so strategies treat it as NB101)
            return NB101TableSpace.from_config(config)
        return cls(mutation_rate=config.get("mutation_rate", 1.0), sampling=config.get("sampling", "uniform"))

    def __repr__(self) -> str:
        args = [f"{k}={v!r}" for k, v in self.config().items() if k != "type"]
        return f"{type(self).__name__}({', '.join(args)})"


# The ReNAS feature tensors, imported from their module by the first encode that needs them.
register_encoding(NB101Space, "renas", "nasopt.spaces.renas_features:_nb101_renas")
register_encoding(NB101Space, "renas-type", "nasopt.spaces.renas_features:_nb101_renas_type")
register_encoding(NB101Space, "renas-onehot", "nasopt.spaces.renas_features:_nb101_renas_onehot")

#: Arrays an NB101TableSpace needs (row i = cell i), with their shapes.
TABLE_ARRAYS: dict[str, tuple[int | None, ...]] = {
    "hashes": (None,),
    "matrices": (None, MAX_VERTICES, MAX_VERTICES),
    "ops": (None, MAX_VERTICES),
    "n_vertices": (None,),
}


class NB101TableSpace(NB101Space):
    """The finite space of the cells listed in a NAS-Bench-101 table; ``space[i]`` is row ``i``.

    Built from arrays (:data:`TABLE_ARRAYS`): ``hashes`` (official module hashes),
    ``matrices`` (``(N, 7, 7)`` uint8, cell in the top-left corner), ``ops`` (``(N, 7)``
    int8 op codes, -1 padding) and ``n_vertices``; usually by
    :class:`nasopt.benchmarks.nb101.NB101` from its cache file, whose path (``cache``) makes
    the space rebuildable from :meth:`config`.

    ``sample`` is uniform over the rows (i.e. over distinct cells); ``mutate`` and
    ``crossover`` retry until the child is in the table (``TABLE_TRIES`` attempts), then
    fall back to a uniformly drawn different row.

    Its ``type_name`` is ``"nb101"`` like :class:`NB101Space` (code that specialises on
    NAS-Bench-101 treats both alike); its config carries ``"table"`` (the cache path), which
    :func:`~nasopt.core.space.space_from_config` uses to rebuild it.
    """
    TABLE_TRIES = 20

    def __init__(self, table: Mapping[str, np.ndarray], *, cache: str | None = None,
                 mutation_rate: float = 1.0) -> None:
        super().__init__(mutation_rate=mutation_rate, sampling="uniform")
        for name, shape in TABLE_ARRAYS.items():
            if name not in table:
                raise ValueError(f"NB101TableSpace needs array {name!r}")
            got = np.shape(table[name])
            if len(got) != len(shape) or any(s is not None and s != g for s, g in zip(shape, got)):
                raise ValueError(f"NB101TableSpace array {name!r} has shape {got}, expected {shape}")
        self.hashes = np.asarray(table["hashes"]).astype(str)
        self.matrices = np.asarray(table["matrices"], dtype=np.uint8)
        self.op_codes = np.asarray(table["ops"], dtype=np.int8)
        self.n_vertices = np.asarray(table["n_vertices"], dtype=np.int64)
        if not (len(self.hashes) == len(self.matrices) == len(self.op_codes) == len(self.n_vertices)):
            raise ValueError("NB101TableSpace arrays have different lengths")
        self.cache = None if cache is None else os.fspath(cache)
        self._row: dict[str, int] | None = None

    @property
    def row_of_hash(self) -> dict[str, int]:
        """Official module hash → row."""
        if self._row is None:
            self._row = {h: i for i, h in enumerate(self.hashes.tolist())}
        return self._row

    # --------------------------------------------------------------- enumeration
    @property
    def is_finite(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(self.hashes)

    def __getitem__(self, i: int) -> NB101Cell:
        size = len(self.hashes)
        if not -size <= i < size:
            raise IndexError(f"NB101TableSpace index {i} out of range [0, {size})")
        n = int(self.n_vertices[i])
        cell = NB101Cell(self.matrices[i, :n, :n], [OPS[c] for c in self.op_codes[i, :n]])
        object.__setattr__(cell, "_key", str(self.hashes[i]))  # the table's hash (checked at load)
        return cell

    def index(self, arch: NB101Cell) -> int:
        self.validate(arch)
        return self.row_of_hash[arch.spec_hash]

    def indices(self, archs: Sequence[NB101Cell]) -> np.ndarray:
        rows = self.row_of_hash
        out = np.empty(len(archs), dtype=np.int64)
        for k, a in enumerate(archs):
            r = rows.get(a.spec_hash) if isinstance(a, NB101Cell) else None
            out[k] = self.index(a) if r is None else r
        return out

    def key_of_index(self, i: int) -> str:
        return str(self.hashes[i])

    def _admits(self, cell: NB101Cell) -> bool:
        return self._in_table(cell)

    def check(self, arch: Any) -> str | None:
        reason = super().check(arch)
        if reason is None and arch.spec_hash not in self.row_of_hash:
            return f"valid cell, but not in this NAS-Bench-101 table (hash {arch.spec_hash})"
        return reason

    # --------------------------------------------------------------- sampling, variation
    def sample(self, rng: np.random.Generator) -> NB101Cell:
        return self[int(rng.integers(len(self)))]

    def sample_many(self, rng: np.random.Generator, n: int) -> list[NB101Cell]:
        return [self[int(i)] for i in rng.integers(len(self), size=n)]

    def _in_table(self, cell: NB101Cell) -> bool:
        return cell.spec_hash in self.row_of_hash

    def _other_row(self, arch: NB101Cell, rng: np.random.Generator) -> NB101Cell:
        if len(self) < 2:
            raise InvalidArchitectureError("the NB101 table has a single cell: nothing to mutate to")
        own = self.row_of_hash.get(arch.spec_hash, -1)
        while True:
            i = int(rng.integers(len(self)))
            if i != own:
                return self[i]

    def mutate(self, arch: NB101Cell, rng: np.random.Generator) -> NB101Cell:
        for _ in range(self.TABLE_TRIES):
            child = super().mutate(arch, rng)
            if self._in_table(child):
                return self[self.row_of_hash[child.spec_hash]]
        return self._other_row(arch, rng)

    def crossover(self, a: NB101Cell, b: NB101Cell, rng: np.random.Generator) -> NB101Cell:
        for _ in range(self.TABLE_TRIES):
            child = self._crossover_once(a, b, rng)
            if child is not None and self._in_table(child):
                return self[self.row_of_hash[child.spec_hash]]
        return self.mutate(a if rng.random() < 0.5 else b, rng)

    # --------------------------------------------------------------- encodings
    def encode_indices(self, idx: np.ndarray, encoding: str | None = None) -> np.ndarray:
        encoding = self._check_encoding(encoding)
        idx = np.asarray(idx, dtype=np.int64).ravel()
        if self._registered_encoder(encoding) is not None:
            return self.encode([self[int(i)] for i in idx], encoding)
        return encode_padded(self.matrices[idx], self.op_codes[idx], encoding)

    # --------------------------------------------------------------- plain data, config
    def config(self) -> dict:
        cfg = super().config()
        cfg["table"] = self.cache
        return cfg

    @classmethod
    def from_config(cls, config: dict) -> "NB101TableSpace":
        from ..core.data import load_npz
        from ..core.errors import DataError

        cache = config.get("table")
        if not cache:
            raise DataError("this NB101TableSpace was built in memory (no cache file): "
                            "pass space= explicitly")
        arrays = load_npz(Path(cache), TABLE_ARRAYS)
        return cls(arrays, cache=cache, mutation_rate=config.get("mutation_rate", 1.0))

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and self.config() == other.config()  # type: ignore[union-attr]
                and np.array_equal(self.hashes, other.hashes))  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash((type(self).__name__, len(self)))

    def __repr__(self) -> str:
        return f"NB101TableSpace({len(self)} cells)"
