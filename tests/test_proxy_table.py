"""The table of zero-cost proxies of the NAS-Bench-201 cells: ``nasopt.proxies.load_nb201``
(lookups by index and architecture, NaN for cells not computed, clear errors) and the
script that writes it (``benchmarks/nb201_proxies.py``: a tiny subset, resumed)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nasopt.core.errors import ConfigurationError, DataError, InvalidArchitectureError
from nasopt.proxies import load_nb201
from nasopt.spaces.nb201 import OPS, SIZE

def arch_of_codes(codes) -> str:
    """The architecture string of op codes, written out here (not the library's helper)."""
    o = [OPS[int(c)] for c in codes]
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"

@pytest.fixture
def small_table(tmp_path):
    """A table in the packaged format: cells in a shuffled order, ``a`` everywhere but
    cells 3 and 7 (NaN), ``b`` only on the first 10 cells, ``c`` -inf on cell 0."""
    rng = np.random.default_rng(0)
    base5 = (np.arange(SIZE)[:, None] // 5 ** np.arange(6)) % 5
    ops = base5[rng.permutation(SIZE)].astype(np.int8)
    a = np.arange(SIZE, dtype=np.float32)
    a[[3, 7]] = np.nan
    b = np.full(SIZE, np.nan, dtype=np.float32)
    b[:10] = 1.5
    c = np.zeros(SIZE, dtype=np.float64)
    c[0] = -np.inf
    path = tmp_path / "t.npz"
    np.savez_compressed(path, ops=ops, proxy_names=np.array(["a", "b", "c"]), a=a, b=b, c=c,
                        meta=np.array(json.dumps({"input": "test"})))
    return path, ops

def test_lookup_by_index_and_by_architecture(small_table):
    path, ops = small_table
    table = load_nb201(path)
    assert table.names == ("a", "b", "c") and table.info == {"input": "test"}
    assert table["a"].shape == (SIZE,) and table["a"].dtype == np.float64
    arch = arch_of_codes(ops[1234])
    assert table.index(arch) == 1234 and table.arch(1234) == arch
    assert table.values("a", arch) == 1234.0 == table.values("a", 1234)
    assert table.values("a", np.int64(5)) == 5.0
    np.testing.assert_array_equal(table.values("a", [arch, 9, arch_of_codes(ops[20])]), [1234, 9, 20])
    np.testing.assert_array_equal(table.values("a", np.array([2, 1])), [2, 1])
    assert table.values("c", 0) == -math.inf  # -inf is a value, not a missing cell

def test_cells_not_computed_are_nan_and_reported(small_table):
    table = load_nb201(small_table[0])
    assert table.coverage == {"a": SIZE - 2, "b": 10, "c": SIZE}
    np.testing.assert_array_equal(table.missing("a"), [3, 7])
    assert math.isnan(table.values("a", 7)) and np.isnan(table.values("b", [0, 10])).tolist() == [False, True]
    assert f"b 10/{SIZE}" in repr(table)
    with pytest.raises(DataError, match=r"no a for .*index 7; 1 of the 2 cells asked"):
        table.values("a", [1, 7], allow_missing=False)
    assert table.values("b", [0, 9], allow_missing=False).tolist() == [1.5, 1.5]

def test_the_table_is_read_only(small_table):
    table = load_nb201(small_table[0])
    with pytest.raises(ValueError):
        table["a"][0] = 1.0

@pytest.mark.parametrize("call,error,match", [
    (lambda t: t["zen"], ConfigurationError, r"proxy 'zen' is not in the NB201 proxy table .*it holds a, b, c"),
    (lambda t: t.values("snip", 0), ConfigurationError, "proxy 'snip' is not in"),
    (lambda t: t.values("a", "|conv~0|"), InvalidArchitectureError, "not an NB201 architecture"),
    (lambda t: t.values("a", SIZE), InvalidArchitectureError, "out of range"),
    (lambda t: t.values("a", np.array([0, -1])), InvalidArchitectureError, "index -1 out of range"),
    (lambda t: t.values("a", [1.5]), InvalidArchitectureError, "string or index"),
    (lambda t: t.values("a", True), InvalidArchitectureError, "string or index"),
])
def test_bad_lookups_raise_clear_errors(small_table, call, error, match):
    with pytest.raises(error, match=match):
        call(load_nb201(small_table[0]))

def test_a_missing_or_malformed_file_is_a_data_error(tmp_path, small_table):
    with pytest.raises(DataError, match="no NB201 proxy table at"):
        load_nb201(tmp_path / "absent.npz")
    path, ops = small_table
    bad = tmp_path / "bad.npz"
    np.savez(bad, ops=ops, proxy_names=np.array(["a"]), meta=np.array("{}"))
    with pytest.raises(DataError, match=r"lists \['a'\] but the file has no such arrays"):
        load_nb201(bad)
    np.savez(bad, ops=np.zeros_like(ops), proxy_names=np.array([], dtype=str), meta=np.array("{}"))
    with pytest.raises(DataError, match="does not list each of the 15625 cells once"):
        load_nb201(bad)

# ----------------------------------------------------------------------------- the script
@pytest.fixture
def script():
    """The script's module (it needs torch and scikit-learn)."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from benchmarks import nb201_proxies

    return nb201_proxies

def test_the_script_computes_a_subset_and_resumes_it(script, tmp_path, nb201_data, capsys):
    chunks, out = tmp_path / "chunks", tmp_path / "t.npz"
    args = ["--proxies", "params,synflow,naswot", "--chunk-size", "2", "--chunks", str(chunks),
            "--table", str(out), "--data", str(nb201_data)]
    script.main(["--cells", "0,1,2,3", *args])
    first = {p.name: p.stat().st_mtime_ns for p in chunks.glob("chunk-*.npz")}
    assert len(first) == 2
    table = load_nb201(out)
    assert table.coverage == {"synflow": 4, "naswot": 4, "params": 4}
    assert table.values("params", [0, 1]).tolist() == [129_306, 802_426]
    (chunks / "chunk-0123.npz.tmp.npz").write_bytes(b"an interrupted write")  # ignored
    capsys.readouterr()
    script.main(["--cells", "0:6", *args])  # the 4 finished cells are skipped
    err = capsys.readouterr().err
    assert "6 cells × synflow,naswot,params: 2 cells in 1 chunks to compute (4 done already)" in err
    assert {p.name: p.stat().st_mtime_ns for p in chunks.glob("chunk-*.npz") if p.name in first} == first
    again = load_nb201(out)
    assert again.coverage == {"synflow": 6, "naswot": 6, "params": 6}
    np.testing.assert_array_equal(again["synflow"][:4], table["synflow"][:4])
    # the weights depend on the cell only: a one-cell run gives the same values
    script.main(["--cells", "2", *args[:-6], "--chunks", str(tmp_path / "other"), "--table",
                 str(tmp_path / "o.npz"), "--data", str(nb201_data)])
    assert load_nb201(tmp_path / "o.npz").values("synflow", 2) == again.values("synflow", 2)

def test_the_script_refuses_chunks_of_another_batch(script, tmp_path, nb201_data):
    args = ["--proxies", "params", "--cells", "0", "--chunks", str(tmp_path), "--table", str(tmp_path / "t.npz"),
            "--data", str(nb201_data)]
    script.main(args)
    with pytest.raises(SystemExit, match="computed with --seed 0 --batch 16, not --seed 0 --batch 8"):
        script.main([*args, "--batch", "8"])

def test_cell_selections_follow_one_seeded_order(script):
    select_cells = script.select_cells
    order = script.cell_order(0)
    assert sorted(order.tolist()) == list(range(SIZE))
    np.testing.assert_array_equal(select_cells("random:50", 0), order[:50])
    np.testing.assert_array_equal(select_cells("all", 0), order)
    assert sorted(select_cells("10:20", 0).tolist()) == list(range(10, 20))
    assert sorted(select_cells("5,3,3", 0).tolist()) == [3, 5]
    for bad in ("random:0", "20:10", "1,x", f"{SIZE}"):
        with pytest.raises(SystemExit, match="--cells"):
            select_cells(bad, 0)

def test_the_report_gives_each_proxy_its_correlations(script, tmp_path, nb201_data):
    out = tmp_path / "t.npz"
    common = ["--chunks", str(tmp_path / "c"), "--table", str(out), "--data", str(nb201_data)]
    script.main(["--proxies", "params,flops", "--cells", "random:12", *common])
    script.main(["--proxies", "synflow", "--cells", "random:6", *common])
    text = script.report(out, str(nb201_data))
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [r.split("|")[1].strip() for r in rows] == ["`synflow`", "`params`", "`flops`"] * 2
    assert "| 6 |" in rows[0] and "(0.737 zero-cost-nas)" in rows[0]
    assert "| 12 |" in rows[1] and "(0.747 NB-Suite-Zero)" in rows[1]
    assert "On the 6 cells every proxy covers:" in text and "| 6 |" in rows[4]
