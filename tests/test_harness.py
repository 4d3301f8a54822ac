"""The experiments' harness (``benchmarks/``, not installed): metrics on a tiny synthetic
benchmark, strategy specs, parallel runs, one tiny end-to-end run of
``benchmarks/search.py``, and a tiny run of every experiment script."""

from __future__ import annotations

import gzip
import importlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from benchmarks.harness.jsonio import read_json, write_json
from benchmarks.harness.metrics import at_budgets, best_so_far, queries_to_optimum, summarize
from benchmarks.harness.runs import StrategySpec, parse_spec, run_many, run_one
from nasopt.benchmarks.tabular import TabularBenchmark
from nasopt.core.errors import ConfigurationError
from nasopt.spaces import ProductSpace


class TinyBench(TabularBenchmark):
    """64 members, objective = a fixed random permutation of 0..63 (unique optimum)."""

    def __init__(self) -> None:
        self.space = ProductSpace({"a": [0, 1, 2, 3], "b": [0, 1, 2, 3], "c": [0, 1, 2, 3]})
        rng = np.random.default_rng(0)
        self.values = rng.permutation(64).astype(np.float64)
        self.test_values = self.values + rng.normal(0, 0.5, 64)
        self.metrics = {}


def test_queries_to_optimum_counts_the_position_at_which_it_was_queried():
    assert queries_to_optimum([5, 3, 9, 7], 9) == 3
    assert queries_to_optimum([5, 3], 9) is None
    assert queries_to_optimum([9], 9) == 1


def test_best_so_far_keeps_the_earliest_of_ties_and_follows_improvements():
    values = np.array([1.0, 5.0, 3.0, 5.0, 7.0])
    assert best_so_far([0, 2, 1, 3, 4], values).tolist() == [0, 2, 1, 1, 4]
    assert best_so_far([3, 1], values).tolist() == [3, 3]
    assert best_so_far([4, 0], -values, maximize=True).tolist() == [4, 0]


def test_at_budgets_reports_the_test_value_of_the_best_by_validation():
    values = np.array([1.0, 2.0, 3.0, 0.0])
    test = np.array([10.0, 30.0, 20.0, 40.0])
    rec = at_budgets([0, 1, 3, 2], values, test, budgets=[1, 2, 3, 4, 10])
    assert rec[1]["test"] == 10.0 and rec[2]["test"] == 30.0 and rec[3]["test"] == 30.0
    assert rec[4]["test"] == 20.0 and 10 not in rec
    assert at_budgets([0, 2], values, test, budgets=[10], complete=True)[10]["test"] == 20.0


def test_summarize_counts_hits_misses_and_regret():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    test = np.array([1.0, 2.5, 3.0, 3.5])
    runs = [
        {"indices": [0, 3], "wall_s": 1.0, "cpu_s": 1.0, "stopped_at_optimum": True},
        {"indices": [0, 1, 2, 3], "wall_s": 2.0, "cpu_s": 2.0, "stopped_at_optimum": True},
        {"indices": [0, 1], "wall_s": 3.0, "cpu_s": 3.0},
    ]
    s = summarize(runs, values, test, optimum=3, budget=2, budgets=[1, 2])
    q = s["queries_to_optimum"]
    assert q["found"] == 1 and q["mean"] == 2.0 and q["found_rate"] == pytest.approx(1 / 3)
    assert q["median"] is None  # 2 of 3 runs missed within the budget of 2
    assert s["at_budget"]["2"]["test_mean_std"][0] == pytest.approx((3.5 + 2.5 + 2.5) / 3)
    assert s["at_budget"]["1"]["test_regret_mean_std"][0] == pytest.approx(2.5)
    assert s["wall_s_mean_std"][0] == pytest.approx(2.0)


def test_run_one_stops_at_the_optimum_and_counts_distinct_queries():
    bench = TinyBench()
    r = run_one(StrategySpec("random", "random"), bench, seed=0, budget=64)
    assert r["stopped_at_optimum"] and r["indices"][-1] == bench.optimum.index
    assert len(set(r["indices"])) == len(r["indices"])
    assert r["values"] == [bench.values[i] for i in r["indices"]]
    short = run_one(StrategySpec("random", "random"), bench, seed=0, budget=5, stop_at_optimum=False)
    assert len(short["indices"]) == 5


def test_run_many_gives_every_strategy_the_same_seeds_serially_and_in_parallel(monkeypatch):
    import benchmarks.harness.runs as h

    bench = TinyBench()
    monkeypatch.setitem(h._BENCH_CACHE, ("nb201", "tiny", "valid"), bench)
    specs = [StrategySpec("rnd", "random"), StrategySpec("rea", "rea", {"population": 4, "tournament": 2}),
             StrategySpec("wk", "weaknas", {"init": 5, "batch": 5, "top_n": 10})]
    serial = run_many(specs, "tiny", seeds=[0, 1, 2], budget=30, workers=1, max_runs={"rea": 2})
    parallel = run_many(specs, "tiny", seeds=[0, 1, 2], budget=30, workers=2, max_runs={"rea": 2})
    assert [r["seed"] for r in serial["rnd"]] == [0, 1, 2] and len(serial["rea"]) == 2
    for label in serial:
        assert [r["indices"] for r in serial[label]] == [r["indices"] for r in parallel[label]]
    with pytest.raises(ConfigurationError, match="distinct"):
        run_many([specs[0], specs[0]], "tiny", seeds=[0], budget=5)


def test_parse_spec_reads_presets_names_and_options():
    presets = {"wk": StrategySpec("wk", "weaknas", {"batch": 5})}
    assert parse_spec("wk", presets) == presets["wk"]
    s = parse_spec("mine=weaknas:ensemble=3,sampling=uniform", presets)
    assert (s.label, s.name, s.options) == ("mine", "weaknas", {"ensemble": 3, "sampling": "uniform"})
    s = parse_spec("wk:top_n=20", presets)
    assert s.name == "weaknas" and s.options == {"batch": 5, "top_n": 20}
    with pytest.raises(ConfigurationError):
        parse_spec("weaknas:batch", presets)


def test_search_benchmark_end_to_end_writes_json_table_and_plot(nb201_data, tmp_path, monkeypatch):
    pytest.importorskip("optuna")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("NASOPT_DATA", str(nb201_data.parent.resolve()))  # the test chdirs
    from benchmarks.search import main, run

    assert main(["--dataset", "cifar10", "--runs", "1", "--budget", "12", "--strategies", "random",
                 "--out", str(tmp_path / "m"), "--no-plot", "--quiet"]) == 0
    out = tmp_path / "s"
    data = run(["--dataset", "cifar100", "--runs", "2", "--budget", "40", "--workers", "1",
                 "--strategies", "weaknas,rea,random,tpe", "--out", str(out), "--quiet"])
    saved = read_json(tmp_path / "s.json.gz")
    assert saved["summary"].keys() == {"weaknas", "rea", "random", "tpe"}
    assert saved["seeds"] == [0, 1]
    opt = saved["optimum"]["index"]
    for label, runs in saved["runs"].items():
        for r in runs:
            assert len(r["indices"]) == len(set(r["indices"])) <= 40
            assert len(r["indices"]) == 40 or opt in r["indices"][-10:]
    md = (tmp_path / "s.md").read_text()
    assert "| weaknas | 2 |" in md and "WeakNAS (paper) | 100 | 78.4" in md
    assert (tmp_path / "s.png").stat().st_size > 1000
    assert data["summary"]["tpe"]["runs"] == 2


def test_search_benchmark_runs_nas_bench_macro_with_the_free_prior(macro_data, tmp_path, monkeypatch):
    monkeypatch.setenv("NASOPT_DATA", str(macro_data.parent.resolve()))  # the test chdirs
    from benchmarks.search import run
    from nasopt.core.errors import ConfigurationError

    data = run(["--dataset", "macro", "--runs", "2", "--budget", "30", "--strategies",
                "weaknas-free,random", "--out", str(tmp_path / "m"), "--no-plot", "--quiet"])
    assert data["benchmark"] == "macro" and data["optimum"]["value"] == pytest.approx(93.1267, abs=1e-3)
    assert data["strategies"][0]["options"] == {"prior": "free", "surrogate_options": {"full_epochs_rows": 64}}
    assert all(len(r["indices"]) <= 30 for runs in data["runs"].values() for r in runs)
    md = (tmp_path / "m.md").read_text()
    assert md.startswith("### NAS-Bench-Macro CIFAR-10: queries to the optimum (mean accuracy argmax)")
    assert "| strategy | 10 | 20 | 30 |" in md and "| weaknas-free | 2 |" in md
    with pytest.raises(ConfigurationError, match="NAS-Bench-Macro has one objective"):
        run(["--dataset", "macro", "--metric", "test", "--runs", "1", "--strategies", "random",
             "--out", str(tmp_path / "t"), "--no-plot", "--quiet"])


def test_result_files_are_read_alike_plain_gzipped_or_by_their_missing_plain_name(tmp_path):
    data = {"runs": {"random": [{"seed": 0, "indices": [3, 1], "values": [0.5, 0.25]}]}, "note": "τ"}
    write_json(tmp_path / "a.json", data)
    write_json(tmp_path / "b.json.gz", data, indent=1)
    assert (tmp_path / "b.json.gz").read_bytes()[:2] == b"\x1f\x8b"  # gzip, not text
    assert gzip.decompress((tmp_path / "b.json.gz").read_bytes()) == json.dumps(data, indent=1).encode()
    assert read_json(tmp_path / "a.json") == read_json(str(tmp_path / "b.json.gz")) == data
    # a command recorded before its input was compressed names X.json: X.json.gz is read
    assert read_json(tmp_path / "b.json") == data
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "c.json")


def test_compressed_result_files_are_byte_identical_for_the_same_data(tmp_path):
    data = {"seeds": list(range(100)), "summary": {"weaknas": {"mean": 83.67}}}
    write_json(tmp_path / "a.json.gz", data)
    os.utime(tmp_path / "a.json.gz", (0, 0))
    write_json(tmp_path / "b.json.gz", data)
    a, b = (tmp_path / "a.json.gz").read_bytes(), (tmp_path / "b.json.gz").read_bytes()
    assert a == b
    assert a[3] & 0x08 == 0 and a[4:8] == b"\0\0\0\0"  # no file name, time stamp 0 (gzip -n)


def test_reuse_of_a_gzipped_result_file_gives_the_rows_of_its_plain_json(nb201_data, tmp_path, monkeypatch):
    monkeypatch.setenv("NASOPT_DATA", str(nb201_data.parent.resolve()))  # the test chdirs
    from benchmarks.search import run

    common = ["--dataset", "cifar10", "--runs", "2", "--budget", "15", "--no-plot", "--quiet"]
    first = run(common + ["--strategies", "random", "--out", str(tmp_path / "a")])
    assert read_json(tmp_path / "a.json.gz") == json.loads(json.dumps(first))  # written compressed
    (tmp_path / "plain.json").write_bytes(gzip.decompress((tmp_path / "a.json.gz").read_bytes()))
    from_gz = run(common + ["--strategies", "random,rea", "--out", str(tmp_path / "b"),
                            "--reuse", str(tmp_path / "a.json.gz")])
    from_plain = run(common + ["--strategies", "random,rea", "--out", str(tmp_path / "c"),
                               "--reuse", str(tmp_path / "plain.json")])
    assert from_gz["runs"]["random"] == from_plain["runs"]["random"] == first["runs"]["random"]
    same = lambda x, y: json.dumps(x, sort_keys=True) == json.dumps(y, sort_keys=True)  # noqa: E731 (NaN)
    assert same(from_gz["summary"]["random"], from_plain["summary"]["random"])
    assert from_gz["reused"] == from_plain["reused"] == {"random": first["command"]}
    row = lambda name: [ln for ln in (tmp_path / name).read_text().splitlines()  # noqa: E731
                        if ln.startswith("| random |")]
    assert row("b.md") == row("c.md") and len(row("b.md")) >= 1


def test_reuse_takes_rows_from_earlier_files_and_runs_only_the_rest(nb201_data, tmp_path, monkeypatch):
    monkeypatch.setenv("NASOPT_DATA", str(nb201_data.parent.resolve()))  # the test chdirs
    from benchmarks.search import run
    from nasopt.core.errors import ConfigurationError

    common = ["--dataset", "cifar10", "--runs", "2", "--budget", "15", "--no-plot", "--quiet"]
    first = run(common + ["--strategies", "random", "--out", str(tmp_path / "a")])
    merged = run(common + ["--strategies", "random,rea", "--out", str(tmp_path / "b"),
                           "--reuse", str(tmp_path / "a.json.gz")])
    assert merged["runs"]["random"] == first["runs"]["random"]  # taken, not run again
    assert len(merged["runs"]["rea"]) == 2 and merged["reused"] == {"random": first["command"]}
    md = (tmp_path / "b.md").read_text()
    assert f"Rows random: runs reused from `{first['command']}`" in md and "| rea | 2 |" in md
    with pytest.raises(ConfigurationError, match="budget is 15, this run's is 20"):
        run(["--dataset", "cifar10", "--runs", "2", "--budget", "20", "--no-plot", "--quiet",
             "--strategies", "random", "--out", str(tmp_path / "c"), "--reuse", str(tmp_path / "a.json.gz")])



def test_reuse_refuses_runs_made_with_another_spec_or_that_this_code_no_longer_repeats(
        nb201_data, tmp_path, monkeypatch):
    monkeypatch.setenv("NASOPT_DATA", str(nb201_data.parent.resolve()))  # the test chdirs
    from benchmarks.search import run

    common = ["--dataset", "cifar10", "--runs", "2", "--budget", "15", "--no-plot", "--quiet"]
    first = run(common + ["--strategies", "random", "--out", str(tmp_path / "a")])
    with pytest.raises(ConfigurationError, match="runs of 'random' were made with .*'name': 'random'"):
        run(common + ["--strategies", "random=rea", "--out", str(tmp_path / "b"),
                      "--reuse", str(tmp_path / "a.json.gz")])
    ok = run(common + ["--strategies", "random", "--out", str(tmp_path / "c"),
                       "--reuse", str(tmp_path / "a.json.gz"), "--reuse-check", "2"])
    assert ok["reuse_checked_seeds"] == {"random": [0, 1]}
    assert "seed(s) 0, 1 of random run again with this code, identical" in (tmp_path / "c.md").read_text()
    stale = json.loads(json.dumps(first))
    stale["runs"]["random"][0]["indices"][3] = stale["runs"]["random"][1]["indices"][0] + 1
    write_json(tmp_path / "stale.json.gz", stale)
    args = common + ["--strategies", "random", "--out", str(tmp_path / "d"), "--reuse",
                     str(tmp_path / "stale.json.gz")]
    with pytest.raises(ConfigurationError, match="seed 0 .* first difference at query 4; run it again"):
        run(args)
    assert run(args + ["--reuse-check", "0"])["runs"]["random"] == stale["runs"]["random"]



def test_reuse_check_compares_runs_up_to_the_optimum_only(monkeypatch):
    import benchmarks.harness.runs as h
    from benchmarks.search import check_reused

    bench = TinyBench()
    monkeypatch.setitem(h._BENCH_CACHE, ("nb201", "tiny", "valid"), bench)
    spec, opt = StrategySpec("rnd", "random"), bench.optimum.index
    runs = run_many([spec], "tiny", seeds=[0, 1], budget=64)["rnd"]
    assert all(r["indices"][-1] == opt for r in runs)
    rest = [i for i in range(64) if i not in runs[0]["indices"]]
    tail = [{**runs[0], "indices": runs[0]["indices"] + rest[:3]}, runs[1]]  # kept after the optimum
    assert check_reused({"rnd": {"runs": tail, "command": "c"}}, [spec], "nb201", "tiny", "valid", 64,
                        2, opt) == {"rnd": [0, 1]}
    moved = [runs[0], {**runs[1], "indices": runs[1]["indices"][1:] + runs[1]["indices"][:1]}]
    with pytest.raises(ConfigurationError, match="seed 1 .* first difference at query 1"):
        check_reused({"rnd": {"runs": moved, "command": "c"}}, [spec], "nb201", "tiny", "valid", 64, 2, opt)
    assert check_reused({"rnd": {"runs": moved, "command": "c"}}, [spec], "nb201", "tiny", "valid", 64,
                        1, opt) == {"rnd": [0]}  # only the first run is checked


class CostBench(TinyBench):
    """TinyBench with two cost columns that rank the members in groups of 8 ties, the
    optimum in the best group."""

    def __init__(self) -> None:
        super().__init__()
        self.metrics = {"a": self.values // 8, "b": 2.0 * (self.values // 8) + 1}


def test_prior_only_queries_in_the_order_of_the_prior_ties_in_the_seeds_order():
    from nasopt.strategies._prior import combined

    bench = CostBench()
    spec = StrategySpec("prior-only", "prior-order", {"prior": "table:a,b"})
    score = combined(np.column_stack([bench.metrics["a"], bench.metrics["b"]]))
    runs = [run_one(spec, bench, seed, budget=64, stop_at_optimum=False)["indices"] for seed in (0, 0, 1)]
    assert runs[0] == runs[1] and runs[0] != runs[2]  # same seed, same order; ties by the seed
    for order in runs:
        assert sorted(order) == list(range(64))
        assert np.all(np.diff(score[order]) <= 0)  # best first by the prior's ranking
    top = set(np.flatnonzero(score == score.max()).tolist())
    assert all(set(r[:8]) == top for r in runs) and len(top) == 8
    stopped = run_one(spec, bench, seed=1, budget=64)
    assert stopped["indices"] == runs[2][: runs[2].index(bench.optimum.index) + 1]
    assert stopped["stopped_at_optimum"] and len(stopped["indices"]) <= 8
    assert run_one(spec, bench, seed=1, budget=3, stop_at_optimum=False)["indices"] == runs[2][:3]
    with pytest.raises(ConfigurationError, match="takes the option 'prior' only"):
        run_one(StrategySpec("p", "prior-order", {"prior": "table:a", "top_n": 5}), bench, 0, 10)


def test_search_table_reports_test_accuracy_at_50_and_100_queries_and_the_prior_only_baseline(
        nb201_data, tmp_path, monkeypatch):
    monkeypatch.setenv("NASOPT_DATA", str(nb201_data.parent.resolve()))  # the test chdirs
    from benchmarks.harness.metrics import at_budgets
    from benchmarks.search import PRESETS, run
    from nasopt.benchmarks.nb201 import NB201
    from nasopt.strategies._prior import combined

    data = run(["--dataset", "cifar100", "--runs", "3", "--seed-offset", "1000", "--budget", "120",
                "--strategies", "prior-only,random", "--out", str(tmp_path / "s"), "--no-plot", "--quiet"])
    assert PRESETS["prior-only"].options == {"prior": "free"}
    bench = NB201("cifar100")
    opt = bench.optimum.index
    score = combined(bench.space.free_features([bench.space[i] for i in range(len(bench.space))]))
    ahead = int((score >= score[opt]).sum())  # the optimum and every architecture it may follow
    for r in data["runs"]["prior-only"]:
        assert r["stopped_at_optimum"] and r["indices"][-1] == opt and len(r["indices"]) <= ahead
    md = (tmp_path / "s.md").read_text().splitlines()
    header = next(ln for ln in md if ln.startswith("| strategy | runs |"))
    assert header.endswith("| CPU s / run | wall s / run | test acc. at 50 / 100 queries |")
    for label in ("prior-only", "random"):
        tests = [[at_budgets(r["indices"], bench.values, bench.test_values, [b],
                             complete=r["stopped_at_optimum"])[b]["test"] for r in data["runs"][label]]
                 for b in (50, 100)]
        row = next(ln for ln in md if ln.startswith(f"| {label} | 3 |"))
        assert row.endswith(f"| {np.mean(tests[0]):.2f} / {np.mean(tests[1]):.2f} |")
    assert next(ln for ln in md if ln.startswith("| WeakNAS (paper) |")).count("|") == header.count("|")
    short = run(["--dataset", "cifar100", "--runs", "1", "--budget", "60", "--strategies", "random",
                 "--out", str(tmp_path / "t"), "--no-plot", "--quiet"])
    assert short["summary"]["random"]["runs"] == 1
    assert "| wall s / run | test acc. at 50 queries |" in (tmp_path / "t.md").read_text()

#: Every experiment script that writes through ``output_path`` (``benchmarks/<name>.py``),
#: with arguments small enough for a test.
TINY_BENCH_ARGS = {
    "tfrecord_speed": ["--mb", "0.05", "--repeats", "1"],
    "parallel": ["--workers", "2", "--trials", "2", "--sleep", "0.01", "--repeats", "1"],
    "search": ["--runs", "1", "--budget", "5", "--strategies", "random", "--no-plot", "--quiet"],
    "baselines": ["--runs", "1", "--compare-runs", "2", "--budget", "5"],
    "hardware": ["--costs", "pixel3", "--methods", "random", "--seeds", "2000", "--budget", "5",
                 "--constrained-devices", "pixel3", "--constrained-methods", "random",
                 "--constrained-budget", "5", "--no-plot", "--quiet"],
    "surrogate_speed": ["--surrogates", "rf", "--sizes", "16", "--repeats", "1"],
    "predictors": ["--sizes", "16", "--repeats", "1", "--predictors", "gbrt-mse", "--datasets", "cifar10",
                   "--no-plot", "--quiet"],
    "renas": ["--methods", "random", "--seeds", "0", "--budget", "5", "--agreement-runs", "0"],
    "nb101": ["space"],
    "parallel_equivalence": ["--engines", "dask"],
    "long_runs": ["--strategies", "random", "--sizes", "40", "--window", "10", "--repeats", "1"],
    "small_budget": ["--seeds", "1000"],
    "hardware_tuning": ["--costs", "pixel3", "--seeds", "0", "--budget", "25", "--variants", "default,single"],
    "hardware_prior": ["--devices", "pixel3", "--seeds", "0,1", "--variants", "none"],
    "build_prior": ["--parts", "large", "--seeds", "0,1"],
    "tpe_replay": ["tiny_tpe.json.gz"],  # made by a tiny hardware run first (below)
    "hardware_ert": ["tiny_tpe.json.gz"],
}
BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_every_experiment_writing_to_the_scratch_folder_has_a_tiny_run_below():
    scripts = {p.stem for p in BENCHMARKS.glob("*.py") if "output_path(" in p.read_text(encoding="utf-8")}
    assert set(TINY_BENCH_ARGS) == scripts


@pytest.mark.parametrize("name", sorted(TINY_BENCH_ARGS))
def test_experiments_without_out_write_to_a_scratch_folder_not_results(name, nb201_data, tmp_path,
                                                                      monkeypatch, capsys):
    """Run from the repository root, a command of the docs must not overwrite results/."""
    script = importlib.import_module(f"benchmarks.{name}")
    if (name in ("hardware", "hardware_tuning", "hardware_prior", "tpe_replay", "hardware_ert")
            and not (nb201_data.parent / "nb201_hw_latency.npz").is_file()):
        pytest.skip("nb201_hw_latency.npz not found beside nb201.npz")
    monkeypatch.setenv("NASOPT_DATA", str(nb201_data.parent.resolve()))  # the test chdirs
    if name == "nb101":  # enumerating the 423,624 cells takes minutes: the count is not tested here
        monkeypatch.setattr(script, "count_space", lambda: {"total_cells": 0})
    if name == "parallel_equivalence":  # needs a Dask cluster: the output path is tested here
        monkeypatch.setattr(script, "run_dask", lambda *args: {"same_trajectory": True})
        monkeypatch.setattr(script, "to_markdown", lambda res: "")
    if name == "build_prior":  # the large space on one dataset only (seconds, not minutes)
        monkeypatch.setattr(script, "DATASETS", ("cifar10",))
    if name == "small_budget":  # every init on four tables takes minutes: random search only
        monkeypatch.setattr(script, "SPECS", script.SPECS[:1])
        monkeypatch.setattr(script, "LONG_SPECS", script.LONG_SPECS[:1])
    monkeypatch.chdir(tmp_path)
    if name in ("tpe_replay", "hardware_ert"):  # a results file with TPE runs
        pytest.importorskip("optuna")
        from benchmarks import hardware

        hardware.main(["--costs", "pixel3", "--methods", "optuna-tpe", "--seeds", "2000", "--budget", "15",
                       "--constrained-datasets", "", "--no-plot", "--quiet", "--out", "tiny_tpe"])
    result = script.main(TINY_BENCH_ARGS[name])
    assert result == 0 or isinstance(result, dict)  # nb101 / tfrecord_speed return their record
    assert not (tmp_path / "results").exists()
    written = [p for p in (tmp_path / "nasopt-bench-out").iterdir() if p.name.endswith((".json", ".json.gz", ".md"))]
    assert written, f"benchmarks/{name}.py wrote nothing under nasopt-bench-out/"
    err = capsys.readouterr().err
    assert f"benchmarks/{name}.py: no --out given, writing to {tmp_path / 'nasopt-bench-out'}" in err


def test_search_plot_bands_never_pass_the_optimum(tmp_path, monkeypatch):
    """The shaded band is a percentile band of best-so-far values: it stays at or below the
    optimum, where a mean ± std band crossed it (and filled the axis at the first queries)."""
    pytest.importorskip("matplotlib")
    import matplotlib.axes

    from benchmarks.harness.plots import plot_search

    bench = TinyBench()
    runs = [run_one(StrategySpec("random", "random"), bench, seed=s, budget=40, stop_at_optimum=False)
            for s in range(12)]
    fills = []
    original = matplotlib.axes.Axes.fill_between

    def record(self, x, y1, y2=0, **kw):
        fills.append((np.asarray(y1), np.asarray(y2)))
        return original(self, x, y1, y2, **kw)

    monkeypatch.setattr(matplotlib.axes.Axes, "fill_between", record)
    opt = bench.optimum.value
    plot_search({"random": runs}, bench.values, 40, str(tmp_path / "p.png"), optimum=opt)
    (low, high), = fills
    assert high.max() <= opt and low.min() >= bench.values.min()
    assert np.all(np.diff(low) >= 0) and np.all(np.diff(high) >= 0)  # best-so-far never falls
    assert (tmp_path / "p.png").stat().st_size > 1000


def test_one_thread_limits_the_blas_loaded_and_the_libraries_and_processes_started_later():
    import subprocess
    import sys

    code = ("import json, os, numpy\n"
            "from threadpoolctl import threadpool_info\n"
            "from benchmarks.harness.threads import THREAD_VARS, one_thread\n"
            "one_thread()\n"
            "print(json.dumps([[p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'],\n"
            "                  [os.environ[v] for v in THREAD_VARS]]))\n")
    env = {**os.environ, "PYTHONPATH": str(BENCHMARKS.parent), "OMP_NUM_THREADS": "2",
           "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    blas, variables = json.loads(proc.stdout)
    assert blas and set(blas) == {1} and variables == ["1", "1", "1"]


@pytest.mark.parametrize("script", sorted(p.stem for p in BENCHMARKS.glob("*.py") if p.stem != "__init__"))
def test_every_experiment_limits_its_threads_when_run_as_a_script(script):
    """Each script calls ``one_thread()`` in its ``if __name__ == "__main__":`` block, but
    ``threads.py``, which measures the environments' thread settings themselves."""
    import ast

    tree = ast.parse((BENCHMARKS / f"{script}.py").read_text(encoding="utf-8"))
    main_blocks = [node for node in tree.body if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)]
    calls = {node.func.id for block in main_blocks for node in ast.walk(block)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert len(main_blocks) == 1 and ("one_thread" in calls) == (script != "threads")


# ---------------------------------------------------------------- benchmarks/hardware.py
def test_hardware_scores_put_the_median_accuracy_at_zero_the_best_at_one_and_the_cheapest_cost_at_one():
    from benchmarks.hardware import hv_scores

    acc = np.array([50.0, 60.0, 70.0, 80.0, 90.0])
    cost = np.array([4.0, 2.0, 10.0, 6.0, 10.0])
    s = hv_scores(acc, cost)
    assert s[:, 0].tolist() == [0.0, 0.0, 0.0, 0.5, 1.0]  # median 70 -> 0, below clipped at 0
    assert s[:, 1].tolist() == [0.75, 1.0, 0.0, 0.5, 0.0]  # max cost -> 0, min cost -> 1


def test_hardware_regret_curve_is_the_hypervolume_regret_of_every_prefix():
    from benchmarks.hardware import first_below, regret_curve
    from nasopt.core.pareto import hypervolume

    rng = np.random.default_rng(3)
    scores = rng.random((300, 2)) ** 3
    hv_star = hypervolume(scores)
    order = rng.permutation(300)[:120]
    curve = regret_curve(order, scores, hv_star)
    direct = [1 - hypervolume(scores[order[:n]]) / hv_star for n in range(1, 121)]
    assert np.allclose(curve, direct) and np.all(np.diff(curve) <= 1e-12)
    assert regret_curve(np.arange(300), scores, hv_star)[-1] == pytest.approx(0.0, abs=1e-12)
    assert first_below(np.array([0.5, 0.2, 0.009, 0.0])) == 3 and first_below(np.array([0.5])) is None


def test_hardware_runs_longer_than_200_queries_are_scored_at_500_1000_and_their_budget_too():
    from benchmarks.hardware import BUDGETS, report_points

    assert report_points(60) == report_points(200) == BUDGETS == (50, 100, 200)
    assert report_points(700) == (50, 100, 200, 500, 700)
    assert report_points(1500) == (50, 100, 200, 500, 1000, 1500)


def test_hardware_summary_compares_the_methods_on_the_seeds_every_one_finished():
    from benchmarks.hardware import summarize as hw_summarize

    def run(method, seed, regret):
        return {"kind": "front", "dataset": "cifar10", "target": "pixel3", "mode": None, "method": method,
                "seed": seed, "budget": 100, "cpu_s": 1.0, "regret": {"50": regret, "100": regret},
                "queries_to_target": None, "indices": list(range(100 if seed else 60)), "complete": False}

    records = [run("a", 0, 0.1), run("a", 1, 0.3), run("a", 2, 0.5), run("b", 0, 0.2), run("b", 2, 0.4),
               {"kind": "front", "dataset": "cifar10", "target": "pixel3", "mode": None, "method": "c",
                "seed": 0, "budget": 100, "error": "ConfigurationError: no"}]
    s = hw_summarize(records)
    cell = s["front"]["cifar10"]["pixel3"]
    assert cell["a"]["runs"] == cell["b"]["runs"] == 2  # seed 1 of "a" left out: "b" lacks it
    assert cell["a"]["regret"]["100"][0] == pytest.approx(0.3) and cell["b"]["regret"]["100"][0] == pytest.approx(0.3)
    assert cell["a"]["queries_to_target"]["found"] == 0 and cell["a"]["queries_to_target"]["median"] is None
    assert cell["a"]["short"] == cell["b"]["short"] == 1  # seed 0 stopped at 60 of 100 queries
    assert s["errors"] == {"front/c": "ConfigurationError: no"}


def test_hardware_summary_counts_the_runs_stuck_below_the_accurate_end_at_100_and_200_queries():
    from benchmarks.hardware import STUCK_ACCURACY, summarize as hw_summarize

    accuracy = np.zeros(300)
    accuracy[250] = STUCK_ACCURACY + 0.01  # the one cell of the accurate end

    def run(seed, indices):
        return {"kind": "front", "dataset": "cifar10", "target": "pixel3", "mode": None, "method": "a",
                "seed": seed, "budget": 200, "cpu_s": 1.0, "regret": {"50": 0.1, "100": 0.1, "200": 0.1},
                "queries_to_target": None, "indices": indices, "complete": False}

    found_early = [250] + list(range(199))     # at query 1
    found_late = list(range(150)) + [250] + list(range(150, 199))  # at query 151
    never = list(range(200))
    stopped = [250]  # a run that stopped at its first query (regret 0)
    records = [run(0, found_early), run(1, found_late), run(2, never), run(3, stopped)]
    s = hw_summarize(records, lambda d, cost: accuracy)
    assert s["front"]["cifar10"]["pixel3"]["a"]["stuck"] == {"100": 2, "200": 1}
    assert "stuck" not in hw_summarize(records)["front"]["cifar10"]["pixel3"]["a"]  # no data: no count


def test_hardware_benchmark_end_to_end_counts_distinct_queries_and_keeps_constraints(
        nb201_data, nb201_latency_data, tmp_path, monkeypatch):
    pytest.importorskip("optuna")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("NASOPT_DATA", str(nb201_data.parent.resolve()))
    import benchmarks.hardware as hw

    argv = ["--costs", "pixel3,params", "--methods", "rea,optuna-nsga2", "--seeds", "2000-2001",
            "--budget", "60", "--constrained-devices", "eyeriss", "--constrained-methods",
            "random,optuna-tpe", "--constrained-budget", "40", "--out", str(tmp_path / "h"), "--quiet"]
    data = hw.run(argv)
    runs = data["runs"]
    assert len(runs) == 2 * (2 * 2 + 2 * 2)  # seeds x (costs x methods + methods x modes)
    for r in runs:
        assert len(r["indices"]) == len(set(r["indices"])) <= r["budget"]
        if r["kind"] == "front":
            prob = hw.front_problem("cifar10", r["target"])
            curve = hw.regret_curve(r["indices"], prob.scores, prob.hv_star)
            assert r["regret"]["50"] == pytest.approx(curve[49])
            assert len(r["indices"]) == 60 or r["complete"]
        else:
            prob = hw.constrained_problem("cifar10", "eyeriss")
            infeasible = sum(prob.latency[i] > prob.bound for i in r["indices"])
            assert r["infeasible_queries"] == infeasible
            if r["mode"] == "before":  # a known-before constraint never costs a query
                assert infeasible == 0
            found = r["queries_to_optimum"]
            assert found is None or prob.is_optimum(r["indices"][found - 1])
    md = (tmp_path / "h.md").read_text()
    assert "hypervolume regret at 50 queries" in md and "| pixel3 | 2 |" in md and "| params | 2 |" in md
    assert "| eyeriss | 2 |" in md and (tmp_path / "h.png").stat().st_size > 1000
    # --resume takes every finished run from <out>.runs.jsonl and runs nothing again
    monkeypatch.setattr(hw, "run_job", lambda job: pytest.fail(f"ran {job} again"))
    again = hw.run(argv + ["--resume", "--no-plot"])
    assert again["runs"] == json.loads(json.dumps(runs))
    # ... and its elapsed_s keeps the wall time of the invocation that ran them
    assert again["elapsed_s"] >= data["elapsed_s"] > 0
    # --tables-only tabulates the runs file of a longer command without running the rest
    more = hw.run([a if a != "2000-2001" else "2000-2003" for a in argv] + ["--tables-only", "--no-plot"])
    assert more["runs"] == again["runs"] and "| pixel3 | 2 |" in (tmp_path / "h.md").read_text()


def test_hardware_table_prior_puts_the_packaged_proxies_of_every_cell_in_the_options(
        nb201_data, monkeypatch):
    """``"prior": "proxies"`` (the ``weaknas-proxies`` method) is the five zero-cost proxies
    of every cell, finite where the table failed to measure one; ``"synflow"`` its log-synflow
    column; ``"proxies+function"`` the automatic prior of several objectives; other options
    pass through unchanged."""
    monkeypatch.setenv("NASOPT_DATA", str(nb201_data.parent.resolve()))
    import benchmarks.hardware as hw

    space = hw.bench_of("cifar10").space
    assert hw.FRONT_OPTIONS["weaknas-proxies"]["prior"] == "proxies"
    got = hw.table_prior({"prior": "proxies", "prior_init": 0}, space)
    assert got["prior"].shape == (len(space), len(hw.PROXY_NAMES)) and got["prior_init"] == 0
    assert np.isfinite(got["prior"]).all()
    synflow = hw.table_prior({"prior": "synflow"}, space)["prior"]
    np.testing.assert_array_equal(synflow.ravel(), got["prior"][:, 0])
    assert hw.table_prior({"exploit": 0.2}, space) == {"exploit": 0.2}
    # "proxies+function" is the table the default takes with several objectives
    from nasopt.strategies._prior import resolve_prior

    both = hw.table_prior({"prior": "proxies+function"}, space)["prior"]
    np.testing.assert_array_equal(both, resolve_prior("auto", space, n_objectives=2).all_scores())
    with pytest.raises(hw.ConfigurationError, match="NB201"):
        hw.table_prior({"prior": "function"}, object())


def test_hardware_tuning_cpu_row_says_when_runs_came_from_an_earlier_invocation(
        nb201_data, nb201_latency_data, tmp_path, monkeypatch):
    """The variants' CPU is comparable when they took turns in one invocation; a table that
    joins runs of the log (``--resume``) says how many did not."""
    monkeypatch.setenv("NASOPT_DATA", str(nb201_data.parent.resolve()))
    import benchmarks.hardware_tuning as tuning

    argv = ["--costs", "pixel3", "--seeds", "0", "--budget", "25", "--out", str(tmp_path / "t")]
    tuning.main(argv + ["--variants", "default"])
    assert "the variants took turns on every seed" in (tmp_path / "t.md").read_text()
    tuning.main(argv + ["--variants", "default,i10", "--resume"])
    md = (tmp_path / "t.md").read_text()
    assert "took turns on every seed" not in md
    assert "1 of the 2 runs come from the log of earlier invocations" in md


def test_hardware_tpe_with_pruned_repeats_tells_each_repeat_pruned_and_each_new_cell_its_values(
        nb201_data, nb201_latency_data, monkeypatch):
    """``optuna-tpe-pruned``: a suggestion of a cell told before becomes a PRUNED trial (no
    values), every distinct cell one COMPLETE trial with its accuracy and latency; the plain
    protocol tells every suggestion its values."""
    optuna = pytest.importorskip("optuna")
    monkeypatch.setenv("NASOPT_DATA", str(nb201_data.parent.resolve()))
    import benchmarks.hardware as hw

    studies = []
    create = optuna.create_study
    monkeypatch.setattr(optuna, "create_study", lambda **kw: studies.append(create(**kw)) or studies[-1])
    prob = hw.front_problem("cifar10", "eyeriss")
    for prune in (True, False):
        queried, suggestions = hw.optuna_front("TPESampler", "cifar10", "eyeriss", 2000, 80,
                                               lambda q: False, prune_repeats=prune)
        trials = studies[-1].trials
        assert len(trials) == suggestions and len(queried) == len(set(queried))
        states = [t.state for t in trials]
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        if prune:
            assert suggestions > len(queried), "no repeat suggested: the check proves nothing"
            assert len(complete) == len(queried)
            assert states.count(optuna.trial.TrialState.PRUNED) == suggestions - len(queried)
            assert [c.values for c in complete] == [
                [prob.accuracy[i], prob.cost_values[i]] for i in queried]
        else:
            assert len(complete) == suggestions


def test_hardware_optuna_runs_stop_at_their_cap_of_suggestions_per_query(monkeypatch):
    """An Optuna front run asks at most ``per_query`` suggestions per query of its budget:
    a study that suggests one cell forever stops there with one distinct query, 3 per query
    by default, 20 for ``optuna-tpe-patient`` and 500 for ``optuna-tpe-long``."""
    import benchmarks.hardware as hw

    class OneCell:
        def __init__(self):
            self.asked = 0

        def ask(self):
            self.asked += 1
            return object()

    monkeypatch.setattr(hw, "_suggest_index", lambda trial, dataset: 7)
    for per_query in (hw.MAX_SUGGESTIONS_PER_QUERY, *hw.SUGGESTION_CAPS.values()):
        study = OneCell()
        queried, suggestions = hw.optuna_loop(study, "cifar10", 5, lambda t, i: True,
                                              lambda q: False, per_query=per_query)
        assert queried == [7] and suggestions == study.asked == 5 * per_query
    assert hw.MAX_SUGGESTIONS_PER_QUERY == 3 and hw.FRONT_METHODS["optuna-tpe-patient"] == (
        "optuna", "TPESampler")


def _tpe_trace(sampler, n_objectives: int, n_trials: int, prune_repeats: bool = False) -> list:
    """The cells ``sampler`` suggests in a study of ``n_objectives`` over six categorical
    edges whose values are coarse (many cells share them), repeats told their values (or
    pruned)."""
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    table = np.round(np.random.default_rng(0).random((5 ** 6, n_objectives)), 1)
    directions = ["maximize"] + ["minimize"] * (n_objectives - 1)
    study = optuna.create_study(directions=directions, sampler=sampler)
    seen, trace = set(), []
    for _ in range(n_trials):
        trial = study.ask()
        cell = sum("abcde".index(trial.suggest_categorical(f"e{e}", list("abcde"))) * 5 ** e
                   for e in range(6))
        trace.append(cell)
        if prune_repeats and cell in seen:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, table[cell].tolist() if n_objectives > 1 else float(table[cell, 0]))
        seen.add(cell)
    return trace


@pytest.mark.parametrize("n_objectives,n_trials", [(2, 400), (3, 150)])
def test_incremental_tpe_suggests_exactly_what_optunas_tpe_suggests(n_objectives, n_trials):
    """The benchmark's multi-objective TPE keeps its past trials in running sums, yet every
    suggestion equals Optuna's own TPESampler's with the same seed — through repeats told
    their values, loss vectors shared by several cells, and ties broken by Optuna's rounding."""
    optuna = pytest.importorskip("optuna")
    from benchmarks.harness.tpe_incremental import IncrementalMOTPESampler

    from benchmarks.harness.tpe_incremental import SUPPORTED

    if not SUPPORTED:
        pytest.skip(f"Optuna {optuna.__version__}: the sampler is Optuna's own there")
    for seed in (0, 1):
        sampler = IncrementalMOTPESampler(seed=seed)
        ours = _tpe_trace(sampler, n_objectives, n_trials)
        assert sampler.covered, "the running sums were not used: the check proves nothing"
        assert len(set(ours)) < len(ours), "no repeat suggested: the check proves little"
        assert ours == _tpe_trace(optuna.samplers.TPESampler(seed=seed), n_objectives, n_trials)


def test_incremental_tpe_hands_what_it_does_not_cover_to_optuna():
    """One objective, or a study with pruned trials: the suggestions are still Optuna's."""
    optuna = pytest.importorskip("optuna")
    from benchmarks.harness.tpe_incremental import IncrementalMOTPESampler

    assert _tpe_trace(IncrementalMOTPESampler(seed=3), 1, 60) == _tpe_trace(
        optuna.samplers.TPESampler(seed=3), 1, 60)
    pruned = IncrementalMOTPESampler(seed=3)
    assert _tpe_trace(pruned, 2, 120, prune_repeats=True) == _tpe_trace(
        optuna.samplers.TPESampler(seed=3), 2, 120, prune_repeats=True)
    assert not pruned.covered


def test_hardware_budget_past_gives_each_pair_one_query_past_a_methods_median(tmp_path):
    """``--budget-past FILE:METHOD``: one query more than METHOD's median queries to regret
    0.01 per (dataset, cost) in FILE; pairs without a median are left to ``--budget``."""
    import benchmarks.hardware as hw

    summary = {"front": {"cifar10": {
        "pixel3": {"weaknas": {"queries_to_target": {"median": 518.0}}},
        "eyeriss": {"weaknas": {"queries_to_target": {"median": 224.5}}},
        "fpga": {"weaknas": {"queries_to_target": {"median": None}}}}}}
    path = tmp_path / "long.json.gz"
    write_json(str(path), {"summary": summary})
    budgets = hw.budgets_past(f"{path}:weaknas", ["cifar10", "cifar100"], ["pixel3", "eyeriss", "fpga"])
    assert budgets == {("cifar10", "pixel3"): 519, ("cifar10", "eyeriss"): 225}
    jobs = hw.make_jobs(["cifar10"], ["pixel3", "fpga"], ["optuna-tpe-long"], [], [], [], [0], 200,
                        300, budgets)
    assert [j["budget"] for j in jobs] == [519, 200]
    for bad in (str(path), f"{tmp_path}/missing.json.gz:weaknas"):
        with pytest.raises(ConfigurationError, match="--budget-past"):
            hw.budgets_past(bad, ["cifar10"], ["pixel3"])


def test_expected_running_time_counts_the_queries_of_the_runs_that_never_got_there():
    from benchmarks.harness.metrics import expected_running_time

    # 100 + 300 (all the missing run made) + 200 queries over the two runs that got there
    assert expected_running_time([100, 300, 200], [True, False, True]) == 300.0
    assert expected_running_time([40, 60], [True, True]) == 50.0  # all there: the mean
    assert expected_running_time([100, 300], [False, False]) == float("inf")
    with pytest.raises(ValueError, match="2 query counts for 3 runs"):
        expected_running_time([1, 2], [True, True, False])


def test_hardware_same_search_joins_the_methods_that_differ_only_in_their_cap_on_suggestions():
    import benchmarks.hardware as hw

    assert hw.same_search("optuna-tpe-long") == hw.same_search("optuna-tpe-patient") == "optuna-tpe"
    assert hw.same_search("optuna-tpe-pruned") == "optuna-tpe-pruned"  # repeats handled otherwise
    assert hw.same_search("weaknas-noprior") == "weaknas-noprior"  # other options
    assert hw.same_search("weaknas") == "weaknas"


def _front_run(method: str, seed: int, indices: list[int], reached: int | None, cost: str = "eyeriss",
               suggestions: int | None = None) -> dict:
    return {"kind": "front", "dataset": "cifar10", "target": cost, "method": method, "seed": seed,
            "indices": indices, "queries_to_target": reached, "suggestions": suggestions}


def test_hardware_ert_keeps_a_seeds_longest_run_of_one_search_and_rejects_two_searches(tmp_path):
    from benchmarks import hardware_ert

    short, long = tmp_path / "short.json.gz", tmp_path / "long.json.gz"
    write_json(str(short), {"runs": [_front_run("optuna-tpe", 1, [5, 6], None, suggestions=6)]})
    write_json(str(long), {"runs": [_front_run("optuna-tpe-long", 1, [5, 6, 7, 8], 4, suggestions=900),
                                    {"kind": "constrained", "seed": 1}]})
    for files in ([short, long], [long, short]):
        runs = hardware_ert.merged_runs([str(f) for f in files])
        assert list(runs) == [("cifar10", "eyeriss", "optuna-tpe")]
        assert runs["cifar10", "eyeriss", "optuna-tpe"][1]["indices"] == [5, 6, 7, 8]
    other = tmp_path / "other.json.gz"
    write_json(str(other), {"runs": [_front_run("optuna-tpe-long", 1, [5, 9, 7], None)]})
    with pytest.raises(ValueError, match="seed 1: not one search"):
        hardware_ert.merged_runs([str(short), str(long), str(other)])


def test_hardware_ert_says_whether_the_default_needs_the_fewest_queries_by_ert_and_by_the_median():
    from benchmarks import hardware_ert

    def runs(method, outcomes, cost):  # outcomes: queries to the target, or -queries made
        return {("cifar10", cost, method): {
            s: _front_run(method, s, list(range(abs(q))), q if q > 0 else None, cost)
            for s, q in enumerate(outcomes)}}

    data = {**runs("weaknas", [10, 20], "pixel3"), **runs("optuna-tpe", [-15, -30], "pixel3"),
            **runs("weaknas", [10, 20], "fpga"), **runs("optuna-tpe", [-5, -8], "fpga"),
            **runs("weaknas", [10, 20], "raspi4"), **runs("optuna-tpe", [5, 6], "raspi4")}
    summary = hardware_ert.summarize(data, ["weaknas", "optuna-tpe"])
    pixel3, fpga, raspi4 = (summary["cifar10", c] for c in ("pixel3", "fpga", "raspi4"))
    assert pixel3["methods"]["weaknas"]["ert"] == 15.0 and pixel3["methods"]["optuna-tpe"]["spent"] == 45
    # the misses counted one past their last query: the median is at least (16 + 31) / 2
    assert pixel3["methods"]["optuna-tpe"]["median"] == (23.5, float("inf"))
    assert pixel3["ert_first"] is True and pixel3["median_first"] is True
    assert pixel3["closest"] == ("optuna-tpe", 3.0, False)  # its 45 queries spent: > 3×
    # TPE missed after 5 and 8 queries: it may still get there before weaknas's median
    assert fpga["ert_first"] is True and fpga["median_first"] is None
    assert raspi4["ert_first"] is False and raspi4["median_first"] is False
    text = "\n".join(hardware_ert.markdown(summary, ["weaknas", "optuna-tpe"], "cmd"))
    assert "| pixel3 | 15 (2/2) | > 45 (0/2) | yes | optuna-tpe, > 3.0× |" in text
    assert "| fpga | 15 | ≥ 7.5 | not measured |" in text
    assert "the fewest expected queries (ERT) on 2 of 3 pairs" in text
    assert "by the median on 1, not on 1, not measured on 1." in text


def test_hardware_ert_tabulates_a_method_under_the_search_its_runs_were_merged_into(tmp_path):
    """``--methods optuna-tpe-long`` names the runs merged under ``optuna-tpe``: they are shown."""
    from benchmarks import hardware_ert

    path = tmp_path / "runs.json.gz"
    write_json(str(path), {"runs": [_front_run("weaknas", 1, [1, 2], 2),
                                    _front_run("optuna-tpe-long", 1, [3, 4, 5], None, suggestions=900)]})
    out = tmp_path / "e"
    assert hardware_ert.main([str(path), "--methods", "weaknas,optuna-tpe-long", "--out", str(out)]) == 0
    assert "| eyeriss | 2 (1/1) | > 3 (0/1) | yes | optuna-tpe, > 1.5× |" in (tmp_path / "e.md").read_text()
