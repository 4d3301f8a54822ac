"""TFRecord files and the NAS-Bench-101 ``ModelMetrics`` protobuf, without TensorFlow.

**TFRecord framing.** A file is a concatenation of records, each::

    uint64  length                      (little-endian)
    uint32  masked_crc32c(length bytes)
    byte    data[length]
    uint32  masked_crc32c(data)

with ``masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8  (mod 2**32)`` and CRC-32C
(Castagnoli, reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF).
Reading verifies both CRCs; the CRCs are computed with table-driven numpy code that advances
*all the records of a chunk at once* (one vectorised slicing-by-4 step per 32-bit word
position), instead of a per-byte Python loop (~1 MB/s).

**ModelMetrics** (``nasbench/lib/model_metrics.proto``, proto2)::

    message ModelMetrics {
      repeated EvaluationData evaluation_data = 1;
      optional int32 trainable_parameters = 2;
      optional double total_time = 3;
    }
    message EvaluationData {
      optional double current_epoch = 1;   optional double training_time = 2;
      optional double train_accuracy = 3;  optional double validation_accuracy = 4;
      optional double test_accuracy = 5;   optional string checkpoint_path = 6;
    }

decoded and encoded here with a minimal wire-format codec (unknown fields are skipped).
``benchmarks/tfrecord_speed.py`` measures the reading speed on a synthetic file.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import DataError

_POLY = 0x82F63B78
_MASK_DELTA = 0xA282EAD8
_HEADER = 12  # uint64 length + uint32 crc
_FOOTER = 4


def _make_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table[i] = c
    return table


CRC_TABLE = _make_table()
_TABLE_LIST = CRC_TABLE.tolist()


# ---------------------------------------------------------------------------- CRC-32C
def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (pure Python, table-driven; for short strings)."""
    crc = 0xFFFFFFFF
    table = _TABLE_LIST
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask_crc(crc: int) -> int:
    """The TFRecord masking of a CRC."""
    crc &= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def unmask_crc(masked: int) -> int:
    """Inverse of :func:`mask_crc`."""
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def _slice_tables() -> np.ndarray:
    """Slicing-by-4 tables: ``T[k][b]`` is the CRC update of byte ``b`` followed by ``k`` zero bytes."""
    t = np.zeros((4, 256), dtype=np.uint32)
    t[0] = CRC_TABLE
    for k in range(1, 4):
        t[k] = (t[k - 1] >> 8) ^ CRC_TABLE[t[k - 1] & 0xFF]
    return t


_T4 = _slice_tables()
_BLOCK_WORDS = 1 << 23  # 32 MB of uint32 per vectorised block


def _prefix_counts(sorted_desc: np.ndarray) -> list[int]:
    """For a non-increasing array ``x``: ``[#(x > j) for j in range(x[0])]``."""
    if not len(sorted_desc) or sorted_desc[0] <= 0:
        return []
    return np.searchsorted(-sorted_desc, -np.arange(int(sorted_desc[0])), side="left").tolist()


def crc32c_batch(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """CRC-32C of many byte ranges of ``buf`` at once: ``buf[starts[k]:starts[k] + lengths[k]]``.

    Vectorised over the ranges: ranges are grouped by the alignment of their start and sorted
    by length, so at step ``j`` the ranges still running are a prefix; each step advances all
    of them by one 32-bit word (slicing-by-4 tables), then the last 0-3 bytes one at a time.
    Fast when there are many ranges of similar length (TFRecord records); a single very long
    range degenerates to one lane (~1 µs per word).
    """
    buf = np.ascontiguousarray(buf, dtype=np.uint8)
    starts = np.asarray(starts, dtype=np.int64).ravel()
    lengths = np.asarray(lengths, dtype=np.int64).ravel()
    crc = np.full(len(starts), 0xFFFFFFFF, dtype=np.uint32)
    t0, t1, t2, t3 = _T4
    words = lengths // 4
    for align in range(4):
        group = np.flatnonzero((starts % 4 == align) & (words > 0))
        if not len(group):
            continue
        usable = (len(buf) - align) // 4
        view = buf[align:align + 4 * usable].view("<u4")
        ordered = group[np.argsort(-words[group], kind="stable")]
        i = 0
        while i < len(ordered):  # slices whose padded word block stays under _BLOCK_WORDS
            order = ordered[i:i + max(1, _BLOCK_WORDS // int(words[ordered[i]]))]
            i += len(order)
            base = (starts[order] - align) // 4
            counts = _prefix_counts(words[order])
            c = crc[order]
            # word j of every range as row j: read each range sequentially, then transpose
            block = view[np.minimum(base[:, None] + np.arange(len(counts)), usable - 1)].T.copy()
            for j, k in enumerate(counts):
                x = c[:k] ^ block[j, :k]
                c[:k] = t3[x & 0xFF] ^ t2[(x >> 8) & 0xFF] ^ t1[(x >> 16) & 0xFF] ^ t0[x >> 24]
            crc[order] = c
    tail = lengths % 4
    order = np.argsort(-tail, kind="stable")
    pos = starts[order] + 4 * words[order]
    c = crc[order]
    for j, k in enumerate(_prefix_counts(tail[order])):
        c[:k] = t0[(c[:k] ^ buf[pos[:k] + j]) & 0xFF] ^ (c[:k] >> 8)
    crc[order] = c
    return crc ^ np.uint32(0xFFFFFFFF)


def _mask_array(crc: np.ndarray) -> np.ndarray:
    crc = crc.astype(np.uint64)
    return ((((crc >> np.uint64(15)) | (crc << np.uint64(17))) + np.uint64(_MASK_DELTA))
            & np.uint64(0xFFFFFFFF)).astype(np.uint32)


# ---------------------------------------------------------------------------- TFRecord I/O
def encode_record(payload: bytes) -> bytes:
    """One framed TFRecord record."""
    length = struct.pack("<Q", len(payload))
    return (length + struct.pack("<I", mask_crc(crc32c(length))) + payload
            + struct.pack("<I", mask_crc(crc32c(payload))))


def write_records(path: str | os.PathLike, payloads: Iterable[bytes]) -> int:
    """Write ``payloads`` as a TFRecord file; returns the number of records."""
    count = 0
    with open(path, "wb") as fh:
        for p in payloads:
            fh.write(encode_record(bytes(p)))
            count += 1
    return count


def iter_records(path: str | os.PathLike, verify: bool = True,
                 chunk_bytes: int = 64 << 20) -> Iterator[bytes]:
    """Yield the payloads of a TFRecord file, in order.

    The file is read in chunks of about ``chunk_bytes``; with ``verify`` both CRCs of every
    record are checked (vectorised per chunk) before its payloads are yielded.

    Raises:
        DataError: the file is truncated (a record runs past its end) or a CRC does not match
            (the message gives the record number and byte offset).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        buf, offset, record_no, eof = b"", 0, 0, False
        while True:
            if not eof:
                chunk = fh.read(max(int(chunk_bytes), 1))
                eof = not chunk
                buf += chunk
            starts, lengths, consumed = _frame(buf)
            if starts:
                if verify:
                    _verify(path, np.frombuffer(buf, dtype=np.uint8), np.asarray(starts, dtype=np.int64),
                            np.asarray(lengths, dtype=np.int64), offset, record_no)
                for a, n in zip(starts, lengths):
                    yield buf[a + _HEADER:a + _HEADER + n]
                record_no += len(starts)
                offset += consumed
                buf = buf[consumed:]
                continue
            if len(buf) >= _HEADER and verify:  # a pending record: is its length field intact?
                head = np.frombuffer(buf[:_HEADER], dtype=np.uint8)
                stored = int(_read_u32(head, np.array([8]))[0])
                if int(_mask_array(crc32c_batch(head, [0], [8]))[0]) != stored:
                    raise DataError(f"{path}: CRC mismatch in the length of record #{record_no} at byte "
                                    f"{offset}: the file is corrupt")
            if eof:
                if not buf:
                    return
                if len(buf) < _HEADER:
                    raise DataError(f"{path}: truncated: {len(buf)} stray bytes at byte {offset} after "
                                    f"record #{record_no - 1} (a record header needs {_HEADER})")
                (length,) = struct.unpack_from("<Q", buf, 0)
                raise DataError(f"{path}: truncated: record #{record_no} at byte {offset} needs "
                                f"{_HEADER + length + _FOOTER} bytes, only {len(buf)} left")


def _frame(buf: bytes) -> tuple[list[int], list[int], int]:
    """Start offsets and payload lengths of the complete records at the start of ``buf``, and
    the number of bytes they span."""
    starts: list[int] = []
    lengths: list[int] = []
    pos, n = 0, len(buf)
    unpack = struct.unpack_from
    while pos + _HEADER <= n:
        (length,) = unpack("<Q", buf, pos)
        end = pos + _HEADER + length + _FOOTER
        if end > n:
            break
        starts.append(pos)
        lengths.append(length)
        pos = end
    return starts, lengths, pos


def _verify(path: Path, arr: np.ndarray, st: np.ndarray, ln: np.ndarray, offset: int, record_no: int) -> None:
    len_crc = _mask_array(crc32c_batch(arr, st, np.full(len(st), 8)))
    stored_len = _read_u32(arr, st + 8)
    bad = np.flatnonzero(len_crc != stored_len)
    if len(bad):
        k = int(bad[0])
        raise DataError(f"{path}: CRC mismatch in the length of record #{record_no + k} at byte "
                        f"{offset + int(st[k])}: the file is corrupt")
    data_crc = _mask_array(crc32c_batch(arr, st + _HEADER, ln))
    stored = _read_u32(arr, st + _HEADER + ln)
    bad = np.flatnonzero(data_crc != stored)
    if len(bad):
        k = int(bad[0])
        raise DataError(f"{path}: CRC mismatch in the data of record #{record_no + k} at byte "
                        f"{offset + int(st[k])}: the file is corrupt")


def _read_u32(arr: np.ndarray, at: np.ndarray) -> np.ndarray:
    b = arr[at[:, None] + np.arange(4)].astype(np.uint32)
    return b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16) | (b[:, 3] << 24)


def read_records(path: str | os.PathLike, verify: bool = True) -> list[bytes]:
    """All payloads of a TFRecord file (see :func:`iter_records`)."""
    return list(iter_records(path, verify=verify))


# ---------------------------------------------------------------------------- protobuf
@dataclass
class EvaluationData:
    """One evaluation of a NAS-Bench-101 training run (``EvaluationData`` message)."""

    current_epoch: float = 0.0
    training_time: float = 0.0
    train_accuracy: float = 0.0
    validation_accuracy: float = 0.0
    test_accuracy: float = 0.0
    checkpoint_path: str = ""


@dataclass
class ModelMetrics:
    """Metrics of one NAS-Bench-101 training run (``ModelMetrics`` message)."""

    evaluation_data: list[EvaluationData] = field(default_factory=list)
    trainable_parameters: int = 0
    total_time: float = 0.0


_EVAL_DOUBLES = {1: "current_epoch", 2: "training_time", 3: "train_accuracy",
                 4: "validation_accuracy", 5: "test_accuracy"}
_F64 = struct.Struct("<d")


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise DataError("protobuf: truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise DataError("protobuf: varint too long")


def _fields(buf: bytes) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value) of each field; value is an int, bytes or float-bits."""
    pos, n = 0, len(buf)
    while pos < n:
        key, pos = _varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, pos = _varint(buf, pos)
        elif wt == 1:
            if pos + 8 > n:
                raise DataError("protobuf: truncated 64-bit field")
            val, pos = buf[pos:pos + 8], pos + 8
        elif wt == 2:
            ln, pos = _varint(buf, pos)
            if pos + ln > n:
                raise DataError("protobuf: truncated length-delimited field")
            val, pos = buf[pos:pos + ln], pos + ln
        elif wt == 5:
            if pos + 4 > n:
                raise DataError("protobuf: truncated 32-bit field")
            val, pos = buf[pos:pos + 4], pos + 4
        else:
            raise DataError(f"protobuf: unsupported wire type {wt} (field {num})")
        yield num, wt, val


def decode_evaluation_data(buf: bytes) -> EvaluationData:
    """Parse a serialized ``EvaluationData``."""
    ev = EvaluationData()
    for num, wt, val in _fields(buf):
        if num in _EVAL_DOUBLES and wt == 1:
            setattr(ev, _EVAL_DOUBLES[num], _F64.unpack(val)[0])  # type: ignore[arg-type]
        elif num == 6 and wt == 2:
            ev.checkpoint_path = bytes(val).decode("utf-8")  # type: ignore[arg-type]
    return ev


def decode_model_metrics(buf: bytes) -> ModelMetrics:
    """Parse a serialized ``ModelMetrics``.

    Raises:
        DataError: malformed wire data.
    """
    mm = ModelMetrics()
    for num, wt, val in _fields(buf):
        if num == 1 and wt == 2:
            mm.evaluation_data.append(decode_evaluation_data(val))  # type: ignore[arg-type]
        elif num == 2 and wt == 0:
            v = int(val)  # type: ignore[arg-type]
            mm.trainable_parameters = v - (1 << 64) if v >= 1 << 63 else v  # int32 sign-extended
        elif num == 3 and wt == 1:
            mm.total_time = _F64.unpack(val)[0]  # type: ignore[arg-type]
    return mm


def decode_final_evaluation(buf: bytes) -> tuple[int, EvaluationData]:
    """Fast path for loaders: ``(trainable_parameters, last evaluation_data)`` of a serialized
    ``ModelMetrics``, decoding only the last ``EvaluationData`` (the end of training).

    Raises:
        DataError: malformed wire data, or no evaluation_data.
    """
    params, last = 0, None
    for num, wt, val in _fields(buf):
        if num == 1 and wt == 2:
            last = val
        elif num == 2 and wt == 0:
            v = int(val)  # type: ignore[arg-type]
            params = v - (1 << 64) if v >= 1 << 63 else v
    if last is None:
        raise DataError("ModelMetrics without evaluation_data")
    return params, decode_evaluation_data(last)  # type: ignore[arg-type]


def _enc_varint(v: int) -> bytes:
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode_evaluation_data(ev: EvaluationData) -> bytes:
    """Serialize an ``EvaluationData`` (every field written, in field order)."""
    out = bytearray()
    for num, name in _EVAL_DOUBLES.items():
        out += _enc_varint(num << 3 | 1) + _F64.pack(float(getattr(ev, name)))
    if ev.checkpoint_path:
        raw = ev.checkpoint_path.encode("utf-8")
        out += _enc_varint(6 << 3 | 2) + _enc_varint(len(raw)) + raw
    return bytes(out)


def encode_model_metrics(mm: ModelMetrics) -> bytes:
    """Serialize a ``ModelMetrics``."""
    out = bytearray()
    for ev in mm.evaluation_data:
        raw = encode_evaluation_data(ev)
        out += _enc_varint(1 << 3 | 2) + _enc_varint(len(raw)) + raw
    out += _enc_varint(2 << 3 | 0) + _enc_varint(int(mm.trainable_parameters))
    out += _enc_varint(3 << 3 | 1) + _F64.pack(float(mm.total_time))
    return bytes(out)
