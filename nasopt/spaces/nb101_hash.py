"""NAS-Bench-101 cell graphs: pruning and the official isomorphism-invariant module hash.

Both follow the definitions of the NAS-Bench-101 code (``model_spec.ModelSpec._prune`` and
``graph_util.hash_module``) so that hashes computed here join with the official dataset:

* **Pruning** keeps the vertices that lie on some path from the input (vertex 0) to the
  output (last vertex) and deletes the others with their edges, keeping the order of the
  survivors. When no such path exists the spec is invalid (``prune`` returns ``None``).
* **Hash** (a Weisfeiler-Lehman-like colour refinement with md5): every vertex starts from
  ``md5(str((out_degree, in_degree, label)))`` where ``label`` is -1 for the input, -2 for
  the output and, for the others, the position of the op in
  ``("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")`` (the official ``available_ops``
  order); then, ``n`` times (``n`` = number of vertices), each vertex becomes
  ``md5(sorted in-neighbour hashes joined + "|" + sorted out-neighbour hashes joined + "|" +
  own hash)``; the module hash is the md5 of the Python ``str`` of the sorted list of vertex
  hashes, as a 32-digit lower-case hex string.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import md5
from operator import itemgetter

import numpy as np

try:  # CPython's own md5: the same digests, less overhead per call on short texts
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover - builds without it
    _md5 = md5

#: Interior ops in the order the official code indexes them for hashing.
HASH_OP_ORDER: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
INPUT_LABEL, OUTPUT_LABEL = -1, -2


def hash_labels(ops: Sequence[str]) -> list[int]:
    """Official integer labelling of a cell's ops: -1 input, -2 output, else the index of the
    op in :data:`HASH_OP_ORDER`."""
    return [INPUT_LABEL] + [HASH_OP_ORDER.index(op) for op in ops[1:-1]] + [OUTPUT_LABEL]


def _joiner(vertices: tuple[int, ...]) -> Callable[[list[bytes]], bytes]:
    """``hashes -> b"".join(sorted(hashes[w] for w in vertices))``, without the sort and the
    join when there are fewer than two vertices (most vertices of a cell)."""
    if not vertices:
        return lambda hashes: b""
    if len(vertices) == 1:
        (w,) = vertices
        return lambda hashes: hashes[w]
    pick, join = itemgetter(*vertices), b"".join
    return lambda hashes: join(sorted(pick(hashes)))


#: Bit mask of a vertex set (vertex ``w`` is bit ``w``) → its :func:`_joiner`.
_MASK_JOINER = [_joiner(tuple(v for v in range(8) if m >> v & 1)) for m in range(256)]


def module_hashes(matrices: np.ndarray, labels: np.ndarray, sizes: np.ndarray) -> list[str]:
    """:func:`module_hash` of each of a batch of cells: ``matrices`` ``(B, N, N)`` 0/1 with
    cell ``k`` in the top-left ``sizes[k] × sizes[k]`` corner (zeros elsewhere), ``labels``
    ``(B, N)`` ints (as :func:`hash_labels`; padding ignored). Degrees and neighbour sets
    are computed for the whole batch with numpy, the first-round hashes are shared between
    cells and each vertex's sorted joins of neighbour hashes are prepared once per cell; the
    md5 rounds themselves are one call per vertex and round."""
    mats = (np.asarray(matrices) != 0).astype(np.int64)  # an edge is any non-zero entry
    if mats.ndim != 3 or mats.shape[1] != mats.shape[2] or mats.shape[1] > 8:
        raise ValueError(f"matrices must be (B, N, N) with N <= 8, got shape {mats.shape}")
    weights = np.int64(1) << np.arange(mats.shape[1], dtype=np.int64)
    pred_masks = (mats * weights[None, :, None]).sum(axis=1).tolist()  # column v: its predecessors
    succ_masks = (mats * weights[None, None, :]).sum(axis=2).tolist()  # row v: its successors
    in_deg, out_deg = mats.sum(axis=1).tolist(), mats.sum(axis=2).tolist()
    labels_l = np.asarray(labels, dtype=np.int64).tolist()
    first: dict[tuple[int, int, int], bytes] = {}
    out: list[str] = []
    for k, n in enumerate(np.asarray(sizes, dtype=np.int64).tolist()):
        rounds = [(_MASK_JOINER[p], _MASK_JOINER[q], v)
                  for v, (p, q) in enumerate(zip(pred_masks[k][:n], succ_masks[k][:n]))]
        hashes = []
        for v in range(n):
            start = (out_deg[k][v], in_deg[k][v], labels_l[k][v])
            h = first.get(start)
            if h is None:
                # str() of a tuple of Python ints, e.g. "(2, 0, -1)": the text the official code hashes.
                h = first[start] = _md5(str(start).encode()).hexdigest().encode()
            hashes.append(h)
        for _ in range(n):  # sorted in-neighbour hashes | sorted out-neighbour hashes | own
            hashes = [_md5(b"|".join((preds(hashes), succs(hashes), hashes[v]))).hexdigest().encode()
                      for preds, succs, v in rounds]
        # Python's str() of a list of str: "['h1', 'h2', ...]".
        out.append(_md5(b"['" + b"', '".join(sorted(hashes)) + b"']" if hashes else b"[]").hexdigest())
    return out


def module_hash(matrix: np.ndarray, labels: Sequence[int]) -> str:
    """Isomorphism-invariant md5 hash of a labelled DAG, computed exactly as NAS-Bench-101's
    ``graph_util.hash_module`` (see the module docstring). ``matrix`` is the (pruned) 0/1
    adjacency matrix, ``labels`` one int per vertex."""
    mat = np.asarray(matrix)
    n = len(mat)
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} vertices")
    return module_hashes(mat.reshape(1, n, n), np.asarray(labels, dtype=np.int64).reshape(1, n),
                         np.array([n]))[0]


def spec_hash(matrix: np.ndarray, ops: Sequence[str]) -> str:
    """Module hash of a *pruned* cell given by its matrix and op names (the value stored as
    ``module_hash`` in the NAS-Bench-101 records)."""
    return module_hash(matrix, hash_labels(ops))


def on_path_vertices(matrix: np.ndarray) -> np.ndarray | None:
    """Boolean mask of the vertices lying on an input→output path (networkx reachability),
    or ``None`` when the output cannot be reached from the input."""
    import networkx as nx  # imported on first use: ``import nasopt`` stays light

    adj = np.asarray(matrix)
    n = adj.shape[0]
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    src, dst = np.nonzero(adj)
    graph.add_edges_from(zip(src.tolist(), dst.tolist()))
    from_input = nx.descendants(graph, 0) | {0}
    if n - 1 not in from_input:
        return None
    to_output = nx.ancestors(graph, n - 1) | {n - 1}
    keep = np.zeros(n, dtype=bool)
    keep[sorted(from_input & to_output)] = True
    return keep


def prune(matrix: np.ndarray, ops: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """Remove the vertices not on any input→output path (as the official ``ModelSpec`` does).

    Returns the pruned ``(matrix, ops)`` (matrix as uint8) or ``None`` when the input and the
    output are disconnected (the official spec is then invalid)."""
    adj = np.asarray(matrix)
    keep = on_path_vertices(adj)
    if keep is None:
        return None
    idx = np.flatnonzero(keep)
    return adj[np.ix_(idx, idx)].astype(np.uint8), tuple(ops[i] for i in idx)
