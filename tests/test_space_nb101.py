"""NAS-Bench-101 search space: validity, pruning, the official module hash, variation,
sampling and encodings."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nasopt
from nasopt.core.errors import InvalidArchitectureError
from nasopt.core.space import space_from_config
from nasopt.spaces.nb101 import (
    INTERIOR_OPS, MAX_EDGES, OPS, NB101Cell, NB101Space, NB101TableSpace, OP_CODE,
    canonical_keys, enumerate_representations, pad_cells, representation_count,
)
from nasopt.spaces.nb101_hash import on_path_vertices, prune, spec_hash

SPACE = NB101Space()
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
I, C1, C3, MP, O = "input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"


# ------------------------------------------------------------------------------ strategies
@st.composite
def specs(draw, n: int | None = None):
    """A random official-style spec: upper-triangular matrix of 2..7 vertices + ops."""
    n = draw(st.integers(2, 7)) if n is None else n
    bits = draw(st.lists(st.booleans(), min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2))
    mat = np.zeros((n, n), dtype=np.uint8)
    mat[np.triu_indices(n, 1)] = bits
    ops = [I] + [draw(st.sampled_from(INTERIOR_OPS)) for _ in range(n - 2)] + [O]
    return mat, ops


@st.composite
def cells(draw):
    """A valid cell, drawn with the space's own uniform sampler from a hypothesis seed."""
    seed = draw(st.integers(0, 2**32 - 1))
    return SPACE.sample(np.random.default_rng(seed))


def to_graph(cell: NB101Cell) -> nx.DiGraph:
    g = nx.DiGraph()
    for v, op in enumerate(cell.ops):
        g.add_node(v, op=op)
    g.add_edges_from(zip(*(x.tolist() for x in np.nonzero(cell.matrix))))
    return g


def isomorphic(a: NB101Cell, b: NB101Cell) -> bool:
    return nx.is_isomorphic(to_graph(a), to_graph(b), node_match=lambda x, y: x["op"] == y["op"])


def random_topological_relabel(cell: NB101Cell, rng: np.random.Generator) -> NB101Cell:
    """An isomorphic copy of ``cell`` in another topological order (random Kahn's algorithm),
    input first and output last."""
    g = to_graph(cell)
    indeg = dict(g.in_degree())
    order, ready = [], [0]
    while ready:
        v = ready.pop(int(rng.integers(len(ready))))
        order.append(v)
        for w in g.successors(v):
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
    assert order[0] == 0 and order[-1] == cell.n_vertices - 1
    perm = np.array(order)  # new vertex i is old vertex perm[i]
    return NB101Cell(cell.matrix[np.ix_(perm, perm)], [cell.ops[i] for i in perm])


# ------------------------------------------------------------------------------ the official hash
def test_hash_matches_a_published_nasbench101_hash():
    # NASLib's tests (automl/NASLib, tests/test_nb101_search_space.py) map the NAS-Bench-101
    # module hash ff940d27cbe9ed0a639a68a9c3f87283 to this 7-vertex cell of the dataset.
    matrix = [[0, 1, 1, 0, 1, 1, 0],
              [0, 0, 0, 0, 1, 0, 0],
              [0, 0, 0, 1, 0, 0, 0],
              [0, 0, 0, 0, 1, 0, 0],
              [0, 0, 0, 0, 0, 1, 0],
              [0, 0, 0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0, 0, 0]]
    ops = [I, MP, C3, C1, C1, C3, O]
    cell = NB101Cell(matrix, ops)
    assert SPACE.check(cell) is None
    assert SPACE.key(cell) == "ff940d27cbe9ed0a639a68a9c3f87283"


#: The Inception-like query of the official NASBench.ipynb colab and the module the official
#: API returned for it (printed in the notebook's output): different vertex orders of the
#: same cell, so they must share the module hash.
COLAB_QUERY = ([[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0],
                [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
               [I, C1, C3, C3, C3, MP, O])
COLAB_MODULE = ([[0, 1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
                 [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
                [I, C3, C1, MP, C3, C3, O])


def test_query_and_returned_module_of_the_official_colab_share_the_hash():
    query, module = NB101Cell.from_spec(*COLAB_QUERY), NB101Cell.from_spec(*COLAB_MODULE)
    assert query != module and isomorphic(query, module)
    assert SPACE.key(query) == SPACE.key(module)


def test_hash_is_md5_hex_and_distinguishes_op_swaps_on_a_chain():
    a = NB101Cell([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], [I, C1, C3, O])
    b = NB101Cell([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], [I, C3, C1, O])
    assert len(SPACE.key(a)) == 32 and int(SPACE.key(a), 16) >= 0
    assert SPACE.key(a) != SPACE.key(b)  # direction matters on a chain
    # ...but the two branches of a diamond commute
    d1 = NB101Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [I, C1, C3, O])
    d2 = NB101Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [I, C3, C1, O])
    assert SPACE.key(d1) == SPACE.key(d2)


@SETTINGS
@given(cells(), st.integers(0, 2**32 - 1))
def test_hash_is_invariant_under_topological_relabelling(cell, seed):
    copy = random_topological_relabel(cell, np.random.default_rng(seed))
    assert SPACE.check(copy) is None
    assert isomorphic(cell, copy)
    assert SPACE.key(copy) == SPACE.key(cell)


@SETTINGS
@given(cells(), cells())
def test_equal_hashes_iff_isomorphic(a, b):
    assert (SPACE.key(a) == SPACE.key(b)) == isomorphic(a, b)


@pytest.mark.slow
def test_exhaustive_small_cells_hash_groups_are_exactly_the_isomorphism_classes():
    # every valid representation with up to 5 vertices: within a hash group all are isomorphic
    # (no collision), and the group holds exactly representation_count() members (no split)
    for n in range(2, 6):
        mats, codes = enumerate_representations(n)
        groups: dict[str, list[int]] = {}
        for k in range(len(mats)):
            groups.setdefault(spec_hash(mats[k], [OPS[c] for c in codes[k]]), []).append(k)
        keys = canonical_keys(mats, codes)
        assert len(np.unique(keys)) == len(groups)
        for members in groups.values():
            assert len(set(keys[members].tolist())) == 1
            first = NB101Cell(mats[members[0]], [OPS[c] for c in codes[members[0]]])
            assert representation_count(mats[members[0]], codes[members[0]]) == len(members)
            for k in members[1:]:
                assert isomorphic(first, NB101Cell(mats[k], [OPS[c] for c in codes[k]]))


def test_hash_collisions_absent_on_many_random_pairs():
    rng = np.random.default_rng(1)
    pool = [SPACE.sample(rng) for _ in range(300)]
    pool += [SPACE.mutate(c, rng) for c in pool[:200]]  # near neighbours: the hard cases
    by_key: dict[str, NB101Cell] = {}
    for cell in pool:
        other = by_key.setdefault(SPACE.key(cell), cell)
        assert isomorphic(cell, other), (cell, other)


# ------------------------------------------------------------------------------ pruning, validity
def test_from_spec_prunes_dangling_vertices_like_the_official_modelspec():
    # vertex 2 has no input path, vertex 4 no output path
    matrix = [[0, 1, 0, 0, 1, 0],
              [0, 0, 0, 1, 0, 0],
              [0, 0, 0, 1, 0, 0],
              [0, 0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0, 0],
              [0, 0, 0, 0, 0, 0]]
    cell = NB101Cell.from_spec(matrix, [I, C1, C3, MP, C3, O])
    assert cell.ops == (I, C1, MP, O)
    assert cell.matrix.tolist() == [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert SPACE.check(cell) is None
    assert "not pruned: vertices [2, 4]" in SPACE.check(NB101Cell(matrix, [I, C1, C3, MP, C3, O]))


@SETTINGS
@given(specs())
def test_pruning_keeps_exactly_the_vertices_on_input_output_paths(spec):
    mat, ops = spec
    g = nx.from_numpy_array(mat, create_using=nx.DiGraph)
    n = len(ops)
    expected = [v for v in range(n) if nx.has_path(g, 0, v) and nx.has_path(g, v, n - 1)]
    pruned = prune(mat, ops)
    if not nx.has_path(g, 0, n - 1):
        assert pruned is None
        with pytest.raises(InvalidArchitectureError, match="disconnected"):
            NB101Cell.from_spec(mat, ops)
        return
    pm, pops = pruned
    assert list(pops) == [ops[v] for v in expected]
    assert pm.tolist() == mat[np.ix_(expected, expected)].tolist()
    assert on_path_vertices(pm).all()
    cell = NB101Cell(pm, pops)
    reason = SPACE.check(cell)
    assert (reason is None) == (pm.sum() <= MAX_EDGES)


@pytest.mark.parametrize("matrix, ops, reason", [
    ([[0, 1, 1, 1, 0, 0, 0], [0, 0, 1, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0],
      [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
     [I, C3, C1, MP, C3, C3, O], None),  # 9 edges: the maximum
    ([[0, 1, 1, 1, 1, 0, 0], [0, 0, 1, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0],
      [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
     [I, C3, C3, C3, C3, C3, O], "10 edges > 9"),
    ([[0, 1, 0], [0, 0, 1], [0, 1, 0]], [I, C3, O], "not upper-triangular (cycle): edge 2->1"),
    ([[0, 1, 0], [0, 1, 1], [0, 0, 0]], [I, C3, O], "not upper-triangular (self-loop): edge 1->1"),
    ([[0, 1], [0, 0]], [C3, O], "first op must be 'input'"),
    ([[0, 1], [0, 0]], [I, C3], "last op must be 'output'"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [I, "conv5x5", O], "op 'conv5x5' at vertex 1 not allowed"),
    ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], [I, C3, O], "input and output are disconnected"),
    ([[0, 1, 1], [0, 0, 0], [0, 0, 0]], [I, C3, O], "not pruned: vertices [1]"),
    (np.eye(8, k=1, dtype=int), [I] + [C3] * 6 + [O], "8 vertices > 7"),
    ([[0, 1], [0, 0]], [I, C3, O], "3 ops for a 2-vertex matrix"),
    ([[0, 1, 0], [0, 0, 1]], [I, O], "matrix must be square"),
    ([[0]], [I], "at least the input and output"),
])
def test_invalid_cells_give_the_expected_reason(matrix, ops, reason):
    cell = NB101Cell(matrix, ops)
    got = SPACE.check(cell)
    if reason is None:
        assert got is None
    else:
        assert got is not None and reason in got
        with pytest.raises(InvalidArchitectureError, match="NB101Space"):
            SPACE.validate(cell)


def test_non_cells_and_bad_entries_are_rejected():
    assert "expected an NB101Cell" in SPACE.check({"matrix": [[0, 1], [0, 0]], "ops": [I, O]})
    with pytest.raises(InvalidArchitectureError, match="0 or 1"):
        NB101Cell([[0, 2], [0, 0]], [I, O])
    with pytest.raises(InvalidArchitectureError, match="2-D"):
        NB101Cell([0, 1], [I, O])


# ------------------------------------------------------------------------------ value object
def test_cell_is_an_immutable_value_object():
    a = NB101Cell([[0, 1], [0, 0]], (I, O))
    b = NB101Cell(np.array([[0, 1], [0, 0]], dtype=np.int64), [I, O])
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.matrix.dtype == np.uint8 and a.ops == (I, O)
    with pytest.raises(AttributeError):
        a.ops = (I, O)  # type: ignore[misc]
    with pytest.raises(ValueError):
        a.matrix[0, 1] = 0
    assert a != NB101Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [I, C1, O])


@SETTINGS
@given(cells())
def test_to_data_from_data_round_trips_through_json(cell):
    data = json.loads(json.dumps(SPACE.to_data(cell)))
    assert data == {"matrix": cell.matrix.tolist(), "ops": list(cell.ops)}
    back = SPACE.from_data(data)
    assert back == cell and SPACE.key(back) == SPACE.key(cell)


def test_from_data_prunes_official_unpruned_specs_and_rejects_invalid():
    data = {"matrix": [[0, 1, 1], [0, 0, 0], [0, 0, 0]], "ops": [I, C3, O]}
    assert SPACE.from_data(data) == NB101Cell([[0, 1], [0, 0]], [I, O])
    with pytest.raises(InvalidArchitectureError, match="disconnected"):
        SPACE.from_data({"matrix": [[0, 0], [0, 0]], "ops": [I, O]})
    with pytest.raises(InvalidArchitectureError, match="'matrix' and 'ops'"):
        SPACE.from_data([1, 2])


# Ways a cell's data can be damaged or unusual in a file; the batched decoder must treat
# each one exactly as the per-item path does (decode it, prune it, or raise the same error).
DAMAGES = ("none", "lower", "two", "float", "float-int", "bool", "str-entry", "bad-op", "op-type",
           "ops-short", "no-ops", "ragged", "str-matrix", "eight", "not-dict", "huge", "nested")


def damaged(data: dict, how: str):
    m = [list(row) for row in data["matrix"]]
    ops = list(data["ops"])
    n = len(m)
    if how == "lower":
        m[n - 1][0] = 1
    elif how == "two":
        m[0][n - 1] = 2
    elif how == "float":
        m[0][n - 1] = 0.5
    elif how == "float-int":
        m[0][n - 1] = float(m[0][n - 1])
    elif how == "bool":
        m[0] = [bool(x) for x in m[0]]
    elif how == "str-entry":
        m[0][n - 1] = "1"
    elif how == "bad-op":
        ops[-1] = "conv5x5"
    elif how == "op-type":
        ops[0] = 0
    elif how == "ops-short":
        ops = ops[:-1]
    elif how == "no-ops":
        return {"matrix": m}
    elif how == "ragged":
        m[0] = m[0][:-1]
    elif how == "str-matrix":
        return {"matrix": "[[0, 1], [0, 0]]", "ops": ops}
    elif how == "eight":
        m = np.eye(8, k=1, dtype=int).tolist()
        ops = [I] + [C3] * 6 + [O]
    elif how == "not-dict":
        return [m, ops]
    elif how == "huge":
        m[0][n - 1] = 2**70
    elif how == "nested":
        m[0][n - 1] = [1]
    return {"matrix": m, "ops": ops}


def per_item(space, data):
    """The per-item path (``from_data`` then ``validate``): the cell and its key, or the error."""
    try:
        cell = space.validate(space.from_data(data))
    except Exception as exc:  # noqa: BLE001 - whatever it raises, the batch must raise too
        return f"{type(exc).__name__}: {exc}"
    return cell, spec_hash(cell.matrix, cell.ops)


@st.composite
def cell_data_batches(draw):
    """A batch of cell data: valid pruned cells, official unpruned specs and damaged items."""
    items = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["cell", "cell", "spec", "damaged"]))
        if kind == "cell":
            items.append(SPACE.to_data(draw(cells())))
        else:
            mat, ops = draw(specs())
            data = {"matrix": mat.tolist(), "ops": ops}
            items.append(data if kind == "spec" else damaged(data, draw(st.sampled_from(DAMAGES))))
    return items


@SETTINGS
@given(cell_data_batches())
def test_batched_decode_equals_the_per_item_path(batch):
    """``from_data_many`` (numpy checks and hashes over the batch, used to reload files) gives
    the cells and keys of ``from_data`` + ``validate`` item by item, or the first item's error."""
    expected = [per_item(SPACE, d) for d in json.loads(json.dumps(batch))]
    errors = [e for e in expected if isinstance(e, str)]
    if errors:
        with pytest.raises(Exception) as info:
            SPACE.from_data_many(batch)
        assert f"{info.type.__name__}: {info.value}" == errors[0]
        return
    got = SPACE.from_data_many(batch)
    assert got == [cell for cell, _ in expected]
    assert all(a.matrix.dtype == np.uint8 and not a.matrix.flags.writeable for a in got)
    assert [a.ops for a in got] == [cell.ops for cell, _ in expected]
    assert SPACE.keys(got) == [key for _, key in expected]


@pytest.mark.parametrize("how", DAMAGES)
def test_batched_decode_of_each_damage_matches_the_per_item_path(how):
    good = SPACE.to_data(SPACE.sample(np.random.default_rng(3)))
    data = damaged(good, how)
    batch = [good, data, good]
    expected = per_item(SPACE, data)
    if isinstance(expected, str):
        with pytest.raises(Exception) as info:
            SPACE.from_data_many(batch)
        assert f"{info.type.__name__}: {info.value}" == expected
    else:
        cells_ = SPACE.from_data_many(batch)
        assert cells_[1] == expected[0] and SPACE.keys(cells_)[1] == expected[1]


def test_keys_of_a_batch_of_all_cell_sizes_are_the_module_hashes():
    rng = np.random.default_rng(0)
    batch = [NB101Cell([[0, 1], [0, 0]], [I, O])] + [SPACE.sample(rng) for _ in range(300)]
    for n in (3, 4):
        mats, codes = enumerate_representations(n)
        for k in rng.choice(len(mats), size=min(20, len(mats)), replace=False):
            batch.append(NB101Cell(mats[k], [OPS[c] for c in codes[k]]))
    fresh = [NB101Cell(c.matrix, c.ops) for c in batch]  # no cached hash
    assert {c.n_vertices for c in batch} == set(range(2, 8))
    assert SPACE.keys(fresh) == [spec_hash(c.matrix, c.ops) for c in batch]
    assert SPACE.keys([]) == []


# ------------------------------------------------------------------------------ variation
@SETTINGS
@given(cells(), st.integers(0, 2**32 - 1))
def test_mutation_gives_a_valid_different_cell(cell, seed):
    child = SPACE.mutate(cell, np.random.default_rng(seed))
    assert SPACE.check(child) is None
    assert SPACE.key(child) != SPACE.key(cell)


@SETTINGS
@given(cells(), cells(), st.integers(0, 2**32 - 1))
def test_crossover_gives_a_valid_cell(a, b, seed):
    child = SPACE.crossover(a, b, np.random.default_rng(seed))
    assert SPACE.check(child) is None


def test_crossover_of_a_cell_with_itself_keeps_its_edges():
    rng = np.random.default_rng(0)
    cell = SPACE.sample(rng)
    for _ in range(5):
        assert SPACE.key(SPACE.crossover(cell, cell, rng)) == SPACE.key(cell)


def test_mutation_changes_few_things_on_average():
    rng = np.random.default_rng(0)
    cell = NB101Cell.from_spec(np.eye(7, k=1, dtype=int), [I, C3, C3, C3, C3, C3, O])  # a chain
    diffs = []
    for _ in range(200):
        child = SPACE.mutate(cell, rng)
        diffs.append(abs(child.n_edges - cell.n_edges) + (child.n_vertices != cell.n_vertices))
    assert np.mean(diffs) < 4  # local moves, not fresh random cells


def test_variation_is_deterministic_given_the_rng():
    a = [SPACE.mutate(SPACE.sample(np.random.default_rng(5)), np.random.default_rng(6)) for _ in range(2)]
    assert a[0] == a[1]


# ------------------------------------------------------------------------------ sampling
def _brute_force_representations(cell: NB101Cell) -> int:
    """Distinct upper-triangular relabellings = topological orders / automorphisms."""
    g = to_graph(cell)
    match = nx.algorithms.isomorphism.DiGraphMatcher(g, g, node_match=lambda x, y: x["op"] == y["op"])
    automorphisms = sum(1 for _ in match.isomorphisms_iter())
    orders = sum(1 for _ in nx.all_topological_sorts(g))
    return orders // automorphisms


def test_representation_count_matches_topological_orders_over_automorphisms():
    rng = np.random.default_rng(3)
    for cell in [SPACE.sample(rng) for _ in range(40)] + [
            NB101Cell([[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
                      [I, C3, C3, C3, O])]:
        codes = np.array([OP_CODE[o] for o in cell.ops])
        assert representation_count(cell.matrix, codes) == _brute_force_representations(cell)


def _class_count(n: int) -> int:
    """Number of distinct n-vertex cells, by exact canonical forms."""
    return len(np.unique(canonical_keys(*enumerate_representations(n))))


@pytest.mark.slow
def test_uniform_sampler_draws_cell_sizes_in_proportion_to_their_numbers():
    counts = {n: _class_count(n) for n in range(2, 7)}
    counts[7] = 423_624 - sum(counts.values())  # NAS-Bench-101's published number of cells
    total = sum(counts.values())
    rng = np.random.default_rng(11)
    draws = 400
    sizes = np.array([SPACE.sample(rng).n_vertices for _ in range(draws)])
    for n in (6, 7):
        p = counts[n] / total
        assert abs(np.mean(sizes == n) - p) < 4 * np.sqrt(p * (1 - p) / draws), (n, np.mean(sizes == n), p)


def test_uniform_sampling_is_valid_deterministic_and_differs_from_nasbench_sampling():
    rng = np.random.default_rng(0)
    uniform = [SPACE.sample(rng) for _ in range(150)]
    assert all(SPACE.check(c) is None for c in uniform)
    assert [SPACE.key(c) for c in SPACE.sample_many(np.random.default_rng(7), 5)] == \
        [SPACE.key(c) for c in SPACE.sample_many(np.random.default_rng(7), 5)]
    official = NB101Space(sampling="nasbench")
    rng = np.random.default_rng(0)
    nasbench = [official.sample(rng) for _ in range(150)]
    assert all(official.check(c) is None for c in nasbench)
    # uniform over distinct cells: most cells have 7 vertices; the official random_spec
    # (prune a random 7-vertex spec) mostly yields smaller cells
    assert np.mean([c.n_vertices == 7 for c in uniform]) > 0.6
    assert np.mean([c.n_vertices == 7 for c in nasbench]) < 0.1


# ------------------------------------------------------------------------------ encodings
def test_adjacency_encoding_follows_the_weaknas_layout():
    cell = NB101Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [I, C1, MP, O])
    x = SPACE.encode([cell])
    assert x.shape == (1, 45) and x.dtype == np.float32
    expected = np.zeros(45, dtype=np.float32)
    # column 1: A[0][1] | onehot(conv1x1)
    expected[0:5] = [1, 1, 0, 0, 0]
    # column 2: A[0][2] A[1][2] | onehot(maxpool)
    expected[5:11] = [1, 0, 0, 0, 1, 0]
    # column 3 (the output, at n-1): A[0..2][3] | onehot(output)
    expected[11:18] = [0, 1, 1, 0, 0, 0, 1]
    # columns 4..6 beyond n: zeros
    np.testing.assert_array_equal(x[0], expected)


@SETTINGS
@given(st.lists(cells(), min_size=1, max_size=8))
def test_encodings_of_a_batch_equal_those_of_single_cells(batch):
    for enc in SPACE.encodings:
        full = SPACE.encode(batch, enc)
        rows = np.concatenate([SPACE.encode([c], enc) for c in batch])
        np.testing.assert_array_equal(full, rows)
    full = SPACE.encode(batch, "adjacency_full")
    assert full.shape == (len(batch), 84)
    mats, codes = pad_cells(batch)
    np.testing.assert_array_equal(full[:, :49].reshape(-1, 7, 7), mats)
    assert (full[:, 49:].sum(axis=1) == np.array([c.n_vertices for c in batch])).all()
    with pytest.raises(ValueError, match="no encoding"):
        SPACE.encode(batch, "onehot")


# ------------------------------------------------------------------------------ protocol
def test_space_config_round_trip_and_finite_flag():
    assert not SPACE.is_finite
    for space in (NB101Space(), NB101Space(mutation_rate=2.0, sampling="nasbench")):
        assert space_from_config(json.loads(json.dumps(space.config()))) == space
    with pytest.raises(TypeError):
        len(SPACE)


def _table_space(n=25, seed=0) -> NB101TableSpace:
    rng = np.random.default_rng(seed)
    found: dict[str, NB101Cell] = {}
    while len(found) < n:
        c = SPACE.sample(rng)
        found.setdefault(c.spec_hash, c)
    cl = list(found.values())
    mats, codes = pad_cells(cl)
    return NB101TableSpace({"hashes": np.array([c.spec_hash for c in cl]), "matrices": mats, "ops": codes,
                            "n_vertices": np.array([c.n_vertices for c in cl])}), cl


def test_table_space_enumerates_its_rows():
    space, cl = _table_space()
    assert space.is_finite and len(space) == len(cl)
    for i, c in enumerate(cl):
        assert space[i] == c and space.index(c) == i and space.key_of_index(i) == spec_hash(c.matrix, c.ops)
    relabelled = random_topological_relabel(cl[3], np.random.default_rng(0))
    assert space.index(relabelled) == 3  # isomorphic copies are the same member
    np.testing.assert_array_equal(space.indices(cl[::-1]), np.arange(len(cl))[::-1])
    for enc in space.encodings:
        np.testing.assert_array_equal(space.encode_indices(np.arange(len(cl)), enc), SPACE.encode(cl, enc))
    outside = next(c for c in (SPACE.sample(np.random.default_rng(s)) for s in range(100, 200))
                   if c.spec_hash not in space.row_of_hash)
    assert "not in this NAS-Bench-101 table" in space.check(outside)
    assert space.from_data_many([space.to_data(c) for c in cl]) == cl
    with pytest.raises(InvalidArchitectureError, match="not in this NAS-Bench-101 table"):
        space.from_data_many([space.to_data(cl[0]), space.to_data(outside)])
    rng = np.random.default_rng(1)
    for _ in range(10):
        a, b = space.sample(rng), space.sample(rng)
        assert space.check(space.mutate(a, rng)) is None
        assert space.key(space.mutate(a, rng)) != space.key(a)
        assert space.check(space.crossover(a, b, rng)) is None


def test_strategies_run_on_the_nb101_space_and_checkpoints_round_trip(tmp_path):
    for name in ("random", "rea"):
        opt = nasopt.create(name, NB101Space(), seed=0)
        for _ in range(4):
            for trial in opt.ask(4):
                opt.tell(trial, float(trial.arch.n_edges + 0.1 * trial.arch.n_vertices))
        pending = opt.ask(2)
        opt.save(tmp_path / f"{name}.json")
        loaded = nasopt.load(str(tmp_path / f"{name}.json"))
        assert [t.arch for t in loaded.pending] == [t.arch for t in pending]
        assert [SPACE.key(t.arch) for t in opt.ask(3)] == [SPACE.key(t.arch) for t in loaded.ask(3)]
