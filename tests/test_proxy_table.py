"""The table of zero-cost proxies of the NAS-Bench-201 cells: ``nasopt.proxies.load_nb201``
(lookups by index and architecture, NaN for cells not computed, clear errors) and the
script that writes it (``benchmarks/nb201_proxies.py``: a tiny subset, resumed)."""

from __future__ import annotations

import json
import math
import subprocess
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest

from nasopt.core.errors import ConfigurationError, DataError, InvalidArchitectureError
from nasopt.proxies import load_nb201
from nasopt.proxies.table import DEFAULT_PATH
from nasopt.spaces.nb201 import OPS, SIZE

ROOT = Path(__file__).resolve().parent.parent

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

# ----------------------------------------------------------------------------- the packaged table
def test_the_packaged_table_matches_its_metadata():
    table = load_nb201()
    assert table.path == DEFAULT_PATH and DEFAULT_PATH.stat().st_size < 600_000
    assert set(table.names) == {"synflow", "naswot", "jacob_cov", "snip", "grad_norm", "params", "flops"}
    assert table.coverage == table.info["cells"]
    # the costly proxies were computed on cells that have the cheap ones (docs/proxies.md)
    cheap = np.logical_and.reduce([~np.isnan(table[p]) for p in ("params", "flops", "synflow", "naswot")])
    for name in ("jacob_cov", "snip", "grad_norm"):
        assert cheap[~np.isnan(table[name])].all(), name


def test_the_packaged_table_ships_with_the_package():
    tomllib = pytest.importorskip("tomllib")
    with open(ROOT / "pyproject.toml", "rb") as fh:
        globs = tomllib.load(fh)["tool"]["setuptools"]["package-data"]["nasopt"]
    assert any(fnmatch(DEFAULT_PATH.relative_to(ROOT / "nasopt").as_posix(), g) for g in globs)
    ignored = subprocess.run(["git", "check-ignore", "-q", str(DEFAULT_PATH)], cwd=ROOT)
    assert ignored.returncode == 1  # not ignored: *.npz is, this file is excepted


def test_the_packaged_params_are_the_benchmark_tables(nb201_data):
    table = load_nb201()
    covered = ~np.isnan(table["params"])
    params = np.load(nb201_data)["cifar10_valid_params_M"] * 1e6
    np.testing.assert_allclose(table["params"][covered], params[covered], rtol=1e-6)


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


def test_the_packaged_values_follow_the_documented_recipe(script, nb201_data):
    """One cell with every proxy, recomputed as docs/proxies.md says the table was."""
    import torch

    from nasopt.proxies import compute
    from nasopt.spaces import NB201Space

    table = load_nb201()
    index = int(np.flatnonzero(~np.isnan(table["jacob_cov"]))[0])
    x, y = script.digits_batch(table.info["batch"])
    torch.manual_seed(table.info["seed"] + index)
    model = NB201Space(path=str(nb201_data)).build(table.arch(index), num_classes=10)
    expected = {**compute(model, x, y, ["naswot", "jacob_cov", "snip", "grad_norm", "params"]),
                **compute(model, (3, 32, 32), None, ["synflow", "flops"])}
    got = {p: table.values(p, index) for p in table.names}
    assert got == pytest.approx(expected, rel=1e-6)
