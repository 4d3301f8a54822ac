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

from collections.abc import Sequence
from hashlib import md5

import numpy as np

#: Interior ops in the order the official code indexes them for hashing.
HASH_OP_ORDER: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
INPUT_LABEL, OUTPUT_LABEL = -1, -2


def hash_labels(ops: Sequence[str]) -> list[int]:
    """Official integer labelling of a cell's ops: -1 input, -2 output, else the index of the
    op in :data:`HASH_OP_ORDER`."""
    return [INPUT_LABEL] + [HASH_OP_ORDER.index(op) for op in ops[1:-1]] + [OUTPUT_LABEL]


def _hex(text: str) -> str:
    return md5(text.encode("utf-8")).hexdigest()


def module_hash(matrix: np.ndarray, labels: Sequence[int]) -> str:
    """Isomorphism-invariant md5 hash of a labelled DAG, computed exactly as NAS-Bench-101's
    ``graph_util.hash_module`` (see the module docstring). ``matrix`` is the (pruned) 0/1
    adjacency matrix, ``labels`` one int per vertex."""
    rows = np.asarray(matrix).tolist()
    n = len(rows)
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} vertices")
    preds = [[w for w in range(n) if rows[w][v]] for v in range(n)]
    succs = [[w for w in range(n) if rows[v][w]] for v in range(n)]
    # str() of a tuple of Python ints, e.g. "(2, 0, -1)": the exact text the official code hashes.
    hashes = [_hex(str((len(succs[v]), len(preds[v]), int(labels[v])))) for v in range(n)]
    for _ in range(n):
        hashes = [
            _hex("".join(sorted(hashes[w] for w in preds[v])) + "|"
                 + "".join(sorted(hashes[w] for w in succs[v])) + "|" + hashes[v])
            for v in range(n)
        ]
    # Python's str() of a list of str: "['h1', 'h2', ...]".
    return _hex("[" + ", ".join(f"'{h}'" for h in sorted(hashes)) + "]")


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
