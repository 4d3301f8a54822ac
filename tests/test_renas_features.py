"""ReNAS feature tensors: NB101 19×7×7 and NB201 31×4×4, checked against hand counts,
the SPEC worked figures, a parameter count recorded in NAS-Bench-101 and the NB201 table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasopt.core.errors import InvalidArchitectureError
from nasopt.spaces.renas_features import (
    conv_cost,
    nb101_cell_costs,
    nb101_tensors,
    nb101_vertex_channels,
    nb201_tensors,
)

C1, C3, MP = "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3"


def cell(edges, ops):
    n = len(ops) + 2
    m = np.zeros((n, n), dtype=np.uint8)
    for i, j in edges:
        m[i, j] = 1
    return m, ("input", *ops, "output")


def test_conv_cost_reproduces_spec_worked_figures():
    assert conv_cost(3, 64, 64, 32 * 32) == (75_497_472, 36_992)
    f, p = conv_cost(3, 64, 64, 32 * 32)
    # the SPEC figure "with a 1x1 input projection" is the first-stack case: the projection
    # reads the cell's 128 input channels and writes the vertex's 64
    pf, pp = conv_cost(1, 128, 64, 32 * 32)
    assert (f + pf, p + pp) == (92_274_688, 45_312)


def test_spec_worked_vertex_appears_in_the_tensor():
    # two 3x3 vertices both fed by the input and both feeding the output: in stack 0 each
    # gets 128 / 2 = 64 channels and a 128 -> 64 projection
    x = nb101_tensors([cell([(0, 1), (0, 2), (1, 3), (2, 3)], [C3, C3])])[0]
    assert x.shape == (19, 7, 7) and x.dtype == np.float32
    for k in range(3):  # the three cells of stack 0
        assert x[1 + 2 * k, 0, 1] == 92_274_688 and x[2 + 2 * k, 0, 1] == 45_312
    assert x[0, 0, 1] == 3 and x[0, 1, 6] == 5 and x[0, 2, 6] == 5
    assert np.all(x[:, 3:6, :] == 0) and np.all(x[:, :, 3:6] == 0)  # padding before output


def test_hand_checked_cell_every_stack():
    # 0 in -> 1 conv3x3 -> 3 maxpool -> 4 out ; 0 -> 2 conv1x1 -> 4 ; 0 -> 4 (projection)
    c = cell([(0, 1), (0, 2), (1, 3), (2, 4), (3, 4), (0, 4)], [C3, C1, MP])
    x = nb101_tensors([c])[0].astype(np.int64)
    # canonical order by longest path: in(0) | conv3x3(1) conv1x1(1) | maxpool(2) | pad pad | out
    t = x[0]
    assert t[0, 1] == 3 and t[0, 2] == 2 and t[1, 3] == 4 and t[2, 6] == 5 and t[3, 6] == 5
    assert t[0, 6] == 5 and t.sum() == 3 + 2 + 4 + 5 + 5 + 5
    # stack 0, cell 0: Cin 128, Cout 128, 32x32; vertices 2 (conv1x1) and 3 (maxpool) feed
    # the output -> 64 channels each; vertex 1 feeds the maxpool -> 64
    hw = 1024
    conv3 = 2 * 9 * 64 * 64 * hw + 2 * 128 * 64 * hw       # conv + projection 128->64
    conv1 = 2 * 64 * 64 * hw + 2 * 128 * 64 * hw
    pool = 9 * 64 * hw
    outp = 2 * 128 * 128 * hw
    assert x[1, 0, 1] == conv3 == 92_274_688 and x[1, 0, 2] == conv1 == 25_165_824
    assert x[1, 1, 3] == pool == 589_824 and x[1, 3, 6] == x[1, 2, 6] == x[1, 0, 6] == outp
    assert x[2, 0, 1] == 36_864 + 128 + 8_192 + 128 and x[2, 0, 2] == 4_096 + 128 + 8_320
    assert x[2, 1, 3] == 0 and x[2, 0, 6] == 16_384 + 256
    # stack 2, cell 0 (network cell 6): Cin 256, Cout 512, 8x8 -> 256 channels per vertex
    hw = 64
    assert x[13, 0, 1] == 2 * 9 * 256 * 256 * hw + 2 * 256 * 256 * hw
    assert x[14, 0, 1] == 9 * 256 * 256 + 512 + 256 * 256 + 512
    assert x[13, 1, 3] == 9 * 256 * hw and x[14, 0, 6] == 256 * 512 + 1024
    # stack 2, cells 1-2: Cin 512
    assert x[16, 0, 2] == x[18, 0, 2] == 256 * 256 + 512 + 512 * 256 + 512


def test_uneven_channel_split_gives_extra_channels_to_first_vertices():
    a = np.zeros((5, 5), dtype=np.uint8)
    a[0, 1:4] = 1
    a[1:4, 4] = 1
    assert nb101_vertex_channels(a, 128, 128) == [128, 43, 43, 42, 128]
    x = nb101_tensors([(a, ("input", C1, C1, C1, "output"))])[0].astype(np.int64)
    assert x[2, 0, 1] == 43 * 43 + 86 + 128 * 43 + 86 and x[2, 0, 3] == 42 * 42 + 84 + 128 * 42 + 84


def test_recorded_nasbench101_parameter_count():
    # first record of nasbench_only108.tfrecord: trainable_parameters = 8,555,530
    m = np.array([[0, 1, 0, 0, 1, 1, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 1],
                  [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1],
                  [0, 0, 0, 0, 0, 0, 0]], dtype=np.uint8)
    ops = ("input", C3, MP, C3, C3, C1, "output")
    _, params = nb101_cell_costs((m, ops))
    stem = 3 * 3 * 3 * 128 + 2 * 128
    dense = 512 * 10 + 10
    assert params + stem + dense == 8_555_530


def test_objects_with_matrix_and_ops_are_accepted_and_cached_results_are_read_only_safe():
    class Cell:
        def __init__(self, m, o):
            self.matrix, self.ops = m, o

    m, o = cell([(0, 1), (1, 2)], [C3])
    a = nb101_tensors([Cell(m, o), (m, o)])
    a[0, 0, 0, 0] = 99.0  # the returned array is a fresh, writable copy
    b = nb101_tensors([(m, o)])
    assert b[0, 0, 0, 0] == 0 and np.array_equal(a[1], b[0])
    assert nb101_tensors([(m, o)], kind="type").shape == (1, 1, 7, 7)
    assert nb101_tensors([]).shape == (0, 19, 7, 7)


@pytest.mark.parametrize(
    "bad",
    [
        (np.zeros((8, 8), np.uint8), ("input",) + (C3,) * 6 + ("output",)),
        (np.ones((3, 3), np.uint8), ("input", C3, "output")),
        (np.triu(np.ones((3, 3), np.uint8), 1), ("input", "conv5x5", "output")),
        (np.triu(np.ones((3, 3), np.uint8), 1), ("input", C3)),
        (np.array([[0, 1, 1], [0, 0, 0], [0, 0, 0]], np.uint8), ("input", C3, "output")),  # dead end
        (np.array([[0, 0, 1], [0, 0, 1], [0, 0, 0]], np.uint8), ("input", C3, "output")),  # unreachable
        (np.zeros((2, 2), np.uint8), ("input", "output")),  # disconnected
        "not a cell",
    ],
)
def test_invalid_cells_raise(bad):
    with pytest.raises(InvalidArchitectureError):
        nb101_tensors([bad])


def test_augmentation_permutes_equal_depth_nodes_only():
    c = cell([(0, 1), (0, 2), (1, 3), (2, 3)], [C3, C1])  # two depth-1 nodes
    base = nb101_tensors([c])[0]
    swap = [0, 2, 1, 3, 4, 5, 6]
    swapped = base[:, swap][:, :, swap]
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(20):
        x = nb101_tensors([c], rng=rng)[0]
        if np.array_equal(x, base):
            seen.add("id")
        elif np.array_equal(x, swapped):
            seen.add("swap")
        else:
            pytest.fail("augmentation produced something other than an equal-depth permutation")
    assert seen == {"id", "swap"}
    # a chain has no equal-depth nodes: augmentation is the identity
    chain = cell([(0, 1), (1, 2), (2, 3)], [C3, C1])
    assert np.array_equal(nb101_tensors([chain], rng=rng), nb101_tensors([chain]))


@st.composite
def pruned_cells(draw):
    n = draw(st.integers(3, 7))
    m = np.zeros((n, n), dtype=np.uint8)
    for v in range(1, n - 1):  # every interior vertex on an input -> output path
        m[draw(st.integers(0, v - 1)), v] = 1
        m[v, draw(st.integers(v + 1, n - 1))] = 1
    for i in range(n):
        for j in range(i + 1, n):
            if draw(st.integers(0, 4)) == 0:
                m[i, j] = 1
    ops = tuple(draw(st.sampled_from([C1, C3, MP])) for _ in range(n - 2))
    return m, ("input", *ops, "output")


@settings(max_examples=60, deadline=None)
@given(pruned_cells())
def test_onehot_kind_splits_the_type_channel_and_keeps_the_costs(c):
    """kind="onehot": channel k (k = 0..4) marks the edges into a node of type k + 1 (input,
    conv1x1, conv3x3, maxpool, output), exactly where the paper's type channel holds k + 1;
    the 18 cost channels are unchanged."""
    full, onehot = nb101_tensors([c])[0], nb101_tensors([c], kind="onehot")[0]
    assert onehot.shape == (23, 7, 7)
    for k in range(5):
        np.testing.assert_array_equal(onehot[k], (full[0] == k + 1).astype(np.float32))
    np.testing.assert_array_equal(onehot[5:], full[1:])


@settings(max_examples=60, deadline=None)
@given(pruned_cells())
def test_tensor_properties_of_random_cells(c):
    m, ops = c
    x = nb101_tensors([c])[0]
    t = x[0]
    assert np.all(np.tril(t) == 0) and np.all(x[:, 6, :] == 0)  # upper triangular, output sink
    assert np.count_nonzero(t) == m.sum()  # one entry per edge, none lost by padding
    assert np.all(x >= 0) and set(np.unique(t[:, 6])) <= {0, 5}
    # channels never grow along an interior edge, and the output fan-in adds up to Cout
    n = len(ops)
    for width in (128, 256, 512):
        ch = nb101_vertex_channels(m, width, 1)
        assert sum(ch[v] for v in range(1, n - 1) if m[v, n - 1]) in (0, width)
        for i in range(1, n - 1):
            for j in range(i + 1, n - 1):
                if m[i, j]:
                    assert ch[i] >= ch[j]


# ----------------------------------------------------------------------------- NB201
def _nb201_reference(codes):
    """Straightforward per-cell loop, for comparison with the vectorised code."""
    edges = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    out = np.zeros((len(codes), 31, 4, 4))
    for b, row in enumerate(codes):
        for e, (i, j) in enumerate(edges):
            op = int(row[e])
            out[b, 0, i, j] = op
            for k in range(15):
                c, hw = [(16, 1024), (32, 256), (64, 64)][k // 5]
                f, p = {0: (0, 0), 1: (0, 0), 2: conv_cost(1, c, c, hw), 3: conv_cost(3, c, c, hw),
                        4: (9 * c * hw, 0)}[op]
                out[b, 1 + 2 * k, i, j], out[b, 2 + 2 * k, i, j] = f, p
    return out


def test_nb201_tensors_match_a_per_cell_reference():
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 5, size=(40, 6))
    x = nb201_tensors(codes)
    assert x.shape == (40, 31, 4, 4) and x.dtype == np.float32
    np.testing.assert_array_equal(x, _nb201_reference(codes))
    np.testing.assert_array_equal(nb201_tensors(codes, kind="type"), x[:, :1])
    onehot = nb201_tensors(codes, kind="onehot")
    assert onehot.shape == (40, 35, 4, 4)
    np.testing.assert_array_equal(onehot[:, 5:], x[:, 1:])  # same cost channels
    edge = np.zeros((4, 4), dtype=bool)
    edge[[0, 0, 1, 0, 1, 2], [1, 2, 2, 3, 3, 3]] = True
    for op in range(5):  # one channel per op code, set on the edges that carry it (none too)
        np.testing.assert_array_equal(onehot[:, op], ((x[:, 0] == op) & edge).astype(np.float32))
    assert np.all(onehot[:, :5].sum(axis=1) == edge)  # exactly one type per edge
    with pytest.raises(ValueError, match="kind"):
        nb201_tensors(codes, kind="one-hot")
    with pytest.raises(InvalidArchitectureError):
        nb201_tensors(np.full((2, 6), 5))
    with pytest.raises(InvalidArchitectureError):
        nb201_tensors(np.zeros((2, 5)))


def test_nb201_costs_agree_with_the_benchmark_table(nb201_data):
    """Cell params + a constant skeleton = the table's parameter count, for all 15,625 cells;
    FLOPs agree once the table's convention (MACs + 2·C·H·W per BN) is applied."""
    d = np.load(nb201_data)
    codes = d["ops"]
    x = nb201_tensors(codes).astype(np.float64)
    params = x[:, 2::2].sum(axis=(1, 2, 3))
    skeleton = d["cifar10_valid_params_M"].astype(np.float64) * 1e6 - params
    assert np.ptp(skeleton) < 4  # float32 rounding of the table only
    conv = np.isin(x[:, 0], (2, 3))[:, None]  # (B, 1, 4, 4) conv edges
    macs_bn = np.zeros(len(codes))
    for k in range(15):
        c, hw = [(16, 1024), (32, 256), (64, 64)][k // 5]
        macs_bn += (np.where(conv[:, 0], x[:, 1 + 2 * k] / 2 + 2 * c * hw, 0)).sum(axis=(1, 2))
    rest = d["cifar10_valid_flops_M"].astype(np.float64) * 1e6 - macs_bn
    assert np.ptp(rest) < 64  # float32 rounding of values up to 2.2e8
