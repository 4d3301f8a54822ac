"""TFRecord framing, the ModelMetrics protobuf codec and the NB101 benchmark loader, on small
files written in the official NAS-Bench-101 format."""

from __future__ import annotations

import base64
import json
import os
import struct

import numpy as np
import pytest
from nb101_fixture import distinct_cells, fake_metrics, record_payload, write_nb101_file

import nasopt
from nasopt.benchmarks import nb101 as nb101_module
from nasopt.benchmarks.nb101 import NB101
from nasopt.benchmarks.tfrecord import (
    EvaluationData, ModelMetrics, crc32c, crc32c_batch, decode_model_metrics, encode_model_metrics,
    encode_record, iter_records, mask_crc, read_records, unmask_crc, write_records,
)
from nasopt.core.errors import ConfigurationError, DataError
from nasopt.core.space import space_from_config
from nasopt.spaces.nb101 import NB101Space, NB101TableSpace
from nasopt.spaces.nb101_hash import spec_hash

N_CELLS = 30


# ------------------------------------------------------------------------------ CRC-32C
def test_crc32c_matches_the_rfc3720_check_values():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(b"") == 0


@pytest.mark.parametrize("block_words", [1 << 23, 50])
def test_vectorised_crc_equals_the_scalar_one_on_ragged_ranges(monkeypatch, block_words):
    import nasopt.benchmarks.tfrecord as tfrecord

    monkeypatch.setattr(tfrecord, "_BLOCK_WORDS", block_words)  # 50: many small slices
    rng = np.random.default_rng(0)
    buf = rng.integers(0, 256, size=5000, dtype=np.uint8)
    starts = rng.integers(0, 4000, size=200)
    lengths = rng.integers(0, 1000, size=200)
    got = crc32c_batch(buf, starts, lengths)
    raw = buf.tobytes()
    assert got.tolist() == [crc32c(raw[s:s + n]) for s, n in zip(starts, lengths)]


def test_mask_is_tensorflows_rotation_plus_delta_and_invertible():
    assert mask_crc(0) == 0xA282EAD8
    assert mask_crc(1) == (1 << 17) + 0xA282EAD8
    for v in (0, 1, 0x12345678, 0xFFFFFFFF):
        assert unmask_crc(mask_crc(v)) == v


# ------------------------------------------------------------------------------ TFRecord framing
def test_record_framing_layout():
    rec = encode_record(b"abc")
    assert len(rec) == 8 + 4 + 3 + 4
    assert struct.unpack("<Q", rec[:8])[0] == 3
    assert struct.unpack("<I", rec[8:12])[0] == mask_crc(crc32c(rec[:8]))
    assert rec[12:15] == b"abc"
    assert struct.unpack("<I", rec[15:])[0] == mask_crc(crc32c(b"abc"))


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_records_round_trip_across_chunk_boundaries(tmp_path, chunk):
    rng = np.random.default_rng(1)
    payloads = [rng.integers(0, 256, size=int(n), dtype=np.uint8).tobytes() for n in rng.integers(0, 300, 60)]
    payloads.append(b"")
    path = tmp_path / "x.tfrecord"
    assert write_records(path, payloads) == len(payloads)
    assert list(iter_records(path, chunk_bytes=chunk)) == payloads
    assert read_records(path, verify=False) == payloads


def test_empty_file_has_no_records(tmp_path):
    (tmp_path / "e.tfrecord").write_bytes(b"")
    assert read_records(tmp_path / "e.tfrecord") == []


def _corrupt(path, at, xor=0x01):
    data = bytearray(path.read_bytes())
    data[at] ^= xor
    path.write_bytes(bytes(data))


def test_payload_corruption_is_reported_as_a_crc_mismatch(tmp_path):
    path = tmp_path / "x.tfrecord"
    write_records(path, [b"first record", b"second record", b"third"])
    _corrupt(path, 12 + 12 + 4 + 12 + 3)  # inside the payload of record #1
    with pytest.raises(DataError, match=r"CRC mismatch in the data of record #1 at byte 28"):
        read_records(path)
    assert len(read_records(path, verify=False)) == 3  # framing intact, CRC not checked


def test_length_corruption_is_reported_as_a_crc_mismatch(tmp_path):
    path = tmp_path / "x.tfrecord"
    write_records(path, [b"a" * 10, b"b" * 10])
    _corrupt(path, 26 + 0, xor=0x02)  # length field of record #1 (10 -> 8)
    with pytest.raises(DataError, match=r"CRC mismatch in the length of record #1"):
        read_records(path)
    path2 = tmp_path / "y.tfrecord"
    write_records(path2, [b"a" * 10])
    _corrupt(path2, 5, xor=0x40)  # an absurd length: caught before reading 2**46 bytes
    with pytest.raises(DataError, match=r"CRC mismatch in the length of record #0"):
        read_records(path2)


@pytest.mark.parametrize("cut", [1, 4, 10, 20])
def test_truncated_files_are_reported(tmp_path, cut):
    path = tmp_path / "x.tfrecord"
    write_records(path, [b"0123456789" * 3, b"abcdefghij" * 3])
    data = path.read_bytes()
    path.write_bytes(data[:-cut])
    with pytest.raises(DataError, match="truncated"):
        read_records(path)


# ------------------------------------------------------------------------------ protobuf
def test_model_metrics_round_trip():
    rng = np.random.default_rng(0)
    m = fake_metrics(rng, 108)
    assert decode_model_metrics(encode_model_metrics(m)) == m
    neg = ModelMetrics(evaluation_data=[EvaluationData(test_accuracy=0.5)], trainable_parameters=-5)
    assert decode_model_metrics(encode_model_metrics(neg)) == neg
    with pytest.raises(DataError, match="truncated"):
        decode_model_metrics(encode_model_metrics(m)[:-3])


def test_codec_agrees_with_the_protobuf_library():
    pytest.importorskip("google.protobuf")
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    f = descriptor_pb2.FileDescriptorProto(name="nasopt_test_model_metrics.proto", package="nasbench",
                                           syntax="proto2")
    T = descriptor_pb2.FieldDescriptorProto
    ev = f.message_type.add(name="EvaluationData")
    for num, name in [(1, "current_epoch"), (2, "training_time"), (3, "train_accuracy"),
                      (4, "validation_accuracy"), (5, "test_accuracy")]:
        ev.field.add(name=name, number=num, type=T.TYPE_DOUBLE, label=T.LABEL_OPTIONAL)
    ev.field.add(name="checkpoint_path", number=6, type=T.TYPE_STRING, label=T.LABEL_OPTIONAL)
    mm = f.message_type.add(name="ModelMetrics")
    mm.field.add(name="evaluation_data", number=1, type=T.TYPE_MESSAGE, label=T.LABEL_REPEATED,
                 type_name=".nasbench.EvaluationData")
    mm.field.add(name="trainable_parameters", number=2, type=T.TYPE_INT32, label=T.LABEL_OPTIONAL)
    mm.field.add(name="total_time", number=3, type=T.TYPE_DOUBLE, label=T.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("nasbench.ModelMetrics"))

    ours = fake_metrics(np.random.default_rng(3), 108)
    theirs = cls.FromString(encode_model_metrics(ours))
    assert theirs.trainable_parameters == ours.trainable_parameters
    assert [e.validation_accuracy for e in theirs.evaluation_data] == \
        [e.validation_accuracy for e in ours.evaluation_data]
    assert theirs.evaluation_data[2].checkpoint_path == ours.evaluation_data[2].checkpoint_path

    msg = cls(trainable_parameters=-7, total_time=2.5)
    e = msg.evaluation_data.add(current_epoch=108, training_time=1.5, train_accuracy=1.0,
                                validation_accuracy=0.9376, test_accuracy=0.9312)
    assert e.test_accuracy == 0.9312
    back = decode_model_metrics(msg.SerializeToString())
    assert back.trainable_parameters == -7 and back.total_time == 2.5
    assert back.evaluation_data[0].validation_accuracy == 0.9376
    assert back.evaluation_data[0].checkpoint_path == ""


# ------------------------------------------------------------------------------ NB101 loader
@pytest.fixture(scope="module")
def nb101_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("nb101")
    cells = distinct_cells(N_CELLS, seed=0)
    expected = write_nb101_file(d / "nasbench_full.tfrecord", cells, epochs=(4, 108), repeats=3, seed=1)
    return d, cells, expected


def test_loader_reads_the_official_format(nb101_dir, tmp_path):
    d, cells, expected = nb101_dir
    bench = NB101(d / "nasbench_full.tfrecord", cache_dir=tmp_path, check_hashes=True)
    assert len(bench) == N_CELLS and len(bench.space) == N_CELLS
    assert isinstance(bench.space, NB101TableSpace)
    exp = expected[108]
    assert list(bench.table["hashes"]) == list(exp)  # rows in file order
    for i, cell in enumerate(cells):
        h = spec_hash(cell.matrix, cell.ops)
        row = exp[h]
        assert bench.space[i] == cell and bench.space.key_of_index(i) == h
        assert bench(cell) == pytest.approx(100 * np.mean(row["valid"]))
        assert bench.test(cell) == pytest.approx(100 * np.mean(row["test"]))
        assert bench.metric("params", cell) == row["params"]
        assert bench.metric("train_time_s", cell) == pytest.approx(np.mean(row["time"]))
        np.testing.assert_allclose(bench.table["valid_acc_runs"][i], 100 * np.array(row["valid"]))
    assert (bench.table["n_runs"] == 3).all()
    best = max(exp, key=lambda h: np.mean(exp[h]["valid"]))
    assert bench.optimum.arch.spec_hash == best
    assert bench.optimum.value == pytest.approx(100 * np.mean(exp[best]["valid"]))
    assert bench.test_values.shape == (N_CELLS,)
    test_bench = NB101(d / "nasbench_full.tfrecord", cache_dir=tmp_path, metric="test")
    np.testing.assert_allclose(test_bench.values, bench.test_values)


def test_other_epoch_budgets_are_read_separately(nb101_dir, tmp_path):
    d, cells, expected = nb101_dir
    bench = NB101(d, epochs=4, cache_dir=tmp_path)
    h = bench.space.key_of_index(0)
    assert bench.values[0] == pytest.approx(100 * np.mean(expected[4][h]["valid"]))
    with pytest.raises(DataError, match=r"no records with 36 epochs \(epochs present: \[4, 108\]\)"):
        NB101(d, epochs=36, cache_dir=tmp_path)
    with pytest.raises(ConfigurationError):
        NB101(d, epochs=100)


def test_cache_is_written_once_and_then_read_alone(nb101_dir, tmp_path, monkeypatch):
    d, _, _ = nb101_dir
    first = NB101(d / "nasbench_full.tfrecord", cache_dir=tmp_path)
    assert first.cache_path == str(tmp_path / "nasbench_full.e108.nasopt.npz")
    assert os.path.isfile(first.cache_path)

    def no_tfrecord(*a, **k):
        raise AssertionError("the TFRecord file was read although the cache is valid")

    monkeypatch.setattr(nb101_module, "build_table", no_tfrecord)
    monkeypatch.setattr(nb101_module, "iter_records", no_tfrecord)
    again = NB101(d / "nasbench_full.tfrecord", cache_dir=tmp_path)
    np.testing.assert_array_equal(again.values, first.values)
    direct = NB101(first.cache_path)  # the cache alone is a valid data file
    np.testing.assert_array_equal(direct.test_values, first.test_values)
    assert len(NB101(tmp_path)) == N_CELLS  # a directory holding only the cache
    monkeypatch.undo()

    # the source changes -> the cache is stale and rebuilt
    src = d / "nasbench_full.tfrecord"
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    calls = []
    real = nb101_module.build_table
    monkeypatch.setattr(nb101_module, "build_table", lambda *a, **k: calls.append(1) or real(*a, **k))
    NB101(src, cache_dir=tmp_path)
    assert calls == [1]


def test_default_cache_goes_next_to_the_file_or_to_the_user_cache(tmp_path, monkeypatch):
    cells = distinct_cells(5, seed=2)
    write_nb101_file(tmp_path / "nasbench_only108.tfrecord", cells)
    bench = NB101(tmp_path)
    assert bench.cache_path == str(tmp_path / "nasbench_only108.e108.nasopt.npz")
    monkeypatch.setenv("NASOPT_DATA", str(tmp_path))
    assert len(NB101()) == 5  # found through $NASOPT_DATA
    # the data directory cannot take the cache (here: a directory squats its name):
    # it goes to the user cache directory, $NASOPT_CACHE
    other = tmp_path / "other"
    other.mkdir()
    write_nb101_file(other / "nasbench_only108.tfrecord", cells)
    (other / "nasbench_only108.e108.nasopt.npz").mkdir()
    monkeypatch.setenv("NASOPT_CACHE", str(tmp_path / "user-cache"))
    b = NB101(other)
    assert b.cache_path == str(tmp_path / "user-cache" / "nasbench_only108.e108.nasopt.npz")
    assert NB101(other).cache_path == b.cache_path


def test_missing_data_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("NASOPT_DATA", raising=False)
    with pytest.raises(DataError, match="nasbench_only108.tfrecord.*Download"):
        NB101()
    with pytest.raises(DataError, match="not found"):
        NB101(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        NB101(tmp_path / "nope.tfrecord")


def test_corrupt_and_truncated_files_give_clear_errors(tmp_path):
    cells = distinct_cells(6, seed=3)
    path = tmp_path / "nasbench_only108.tfrecord"
    write_nb101_file(path, cells)
    good = path.read_bytes()
    path.write_bytes(good[:-5])
    with pytest.raises(DataError, match="truncated"):
        NB101(path, cache_dir=tmp_path / "c1")
    data = bytearray(good)
    data[len(good) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="CRC mismatch"):
        NB101(path, cache_dir=tmp_path / "c2")
    write_records(path, [b'["abc", 108, "0110", "input,output"]'])
    with pytest.raises(DataError, match="record #0 is not a NAS-Bench-101 record"):
        NB101(path, cache_dir=tmp_path / "c3")
    bad_cache = tmp_path / "nasbench_x.e108.nasopt.npz"
    bad_cache.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a NAS-Bench-101 cache"):
        NB101(bad_cache)


def test_check_hashes_catches_a_record_whose_hash_does_not_match_its_cell(tmp_path):
    cells = distinct_cells(3, seed=4)
    rng = np.random.default_rng(0)
    payloads = [record_payload(c, 108, fake_metrics(rng, 108)) for c in cells]
    payloads.append(record_payload(distinct_cells(4, seed=9)[-1], 108, fake_metrics(rng, 108),
                                   module_hash="0" * 32))
    path = tmp_path / "nasbench_only108.tfrecord"
    write_records(path, payloads)
    with pytest.raises(DataError, match="cell #3 has module hash 0000"):
        NB101(path, cache_dir=tmp_path, check_hashes=True)
    assert len(NB101(path, cache_dir=tmp_path / "unchecked")) == 4


def test_records_are_plain_json_with_base64_metrics(nb101_dir):
    d, cells, _ = nb101_dir
    first = next(iter_records(d / "nasbench_full.tfrecord"))
    h, ep, adj, ops, raw = json.loads(first)
    assert h == cells[0].spec_hash and ep in (4, 108)
    assert adj == "".join(str(x) for x in cells[0].matrix.ravel()) and ops.split(",") == list(cells[0].ops)
    assert len(decode_model_metrics(base64.b64decode(raw)).evaluation_data) == 3


def test_search_on_the_nb101_table_and_checkpoint_round_trip(nb101_dir, tmp_path):
    d, _, _ = nb101_dir
    bench = NB101(d, cache_dir=tmp_path)
    assert bench.space.type_name == "nb101"
    assert space_from_config(json.loads(json.dumps(bench.space.config()))) == bench.space
    for name in ("random", "rea"):
        opts = {"population": 5, "tournament": 2} if name == "rea" else {}
        opt = nasopt.create(name, bench.space, seed=0, **opts)
        for _ in range(3):
            for t in opt.ask(4):
                opt.tell(t, bench(t.arch))
        opt.save(tmp_path / "ckpt.json")
        loaded = nasopt.load(str(tmp_path / "ckpt.json"))
        assert isinstance(loaded.space, NB101TableSpace) and len(loaded.space) == N_CELLS
        keys = [bench.space.key(t.arch) for t in opt.ask(3)]
        assert keys == [bench.space.key(t.arch) for t in loaded.ask(3)]
    rs = nasopt.create("random", bench.space, seed=1)
    seen = []
    for _ in range(N_CELLS):
        t = rs.ask()
        seen.append(bench.space.key(t.arch))
        rs.tell(t, bench(t.arch))
    assert sorted(seen) == sorted(bench.table["hashes"].tolist())  # exhausts the table, no repeats
    assert rs.best.value == pytest.approx(bench.optimum.value)
    np.testing.assert_array_equal(bench.space.encode_indices(np.arange(N_CELLS)),
                                  NB101Space().encode([bench.space[i] for i in range(N_CELLS)]))


REAL = os.environ.get("NASOPT_DATA") and os.path.isfile(
    os.path.join(os.environ["NASOPT_DATA"], "nasbench_only108.tfrecord"))


@pytest.mark.slow
@pytest.mark.skipif(not REAL, reason="nasbench_only108.tfrecord not in $NASOPT_DATA")
def test_real_nasbench_only108_file():  # pragma: no cover - needs the 500 MB official file
    from test_space_nb101 import COLAB_QUERY

    bench = NB101()
    assert len(bench) == 423_624
    cell = bench.space.from_data({"matrix": COLAB_QUERY[0], "ops": COLAB_QUERY[1]})
    i = bench.space.index(cell)
    # the official colab printed one of the 3 runs of this cell
    assert bench.table["params"][i] == 2_694_282
    assert np.isclose(bench.table["valid_acc_runs"][i], 93.76001358032227).any()


def test_command_line_load_reports_the_table(nb101_dir, tmp_path, monkeypatch):
    d, _, expected = nb101_dir
    monkeypatch.setenv("NASOPT_CACHE", str(tmp_path))
    out = tmp_path / "load.json"
    from benchmarks.nb101 import main

    result = main(["load", "--data", str(d / "nasbench_full.tfrecord"), "--out", str(out)])
    assert json.loads(out.read_text()) == result
    assert result["cells"] == N_CELLS
    best = max(100 * np.mean(r["valid"]) for r in expected[108].values())
    assert result["best_valid"] == pytest.approx(best)


def test_tfrecord_speed_benchmark_runs(tmp_path):
    from benchmarks.tfrecord_speed import main

    result = main(["--mb", "0.05", "--repeats", "1", "--out", str(tmp_path / "speed.json")])
    assert result["records"] > 0 and result["verified_mb_per_s"] > 0
    assert json.loads((tmp_path / "speed.json").read_text())["file_mb"] == result["file_mb"]
