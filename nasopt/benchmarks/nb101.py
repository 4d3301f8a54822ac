"""NAS-Bench-101 as an objective, read from the official TFRecord file without TensorFlow.

Data: ``nasbench_only108.tfrecord`` (108-epoch runs, ~500 MB) or ``nasbench_full.tfrecord``
(4/12/36/108 epochs, ~2 GB) from https://storage.googleapis.com/nasbench/, found at
``path=`` (the file or its directory) or in ``$NASOPT_DATA``. Each record is the JSON list
``[module_hash, epochs, raw_adjacency, raw_operations, base64(ModelMetrics)]`` where
``raw_adjacency`` is the row-major 0/1 string of the pruned matrix, ``raw_operations`` the
comma-separated op names, and the metrics the serialized protobuf of one training run
(decoded by :mod:`nasopt.benchmarks.tfrecord`). Each cell has 3 runs per epoch budget.

The first load converts the records of the requested ``epochs`` into a compact cache
(``<file stem>.e<epochs>.nasopt.npz``, next to the file when that directory is writable, else
in ``$NASOPT_CACHE`` / ``$XDG_CACHE_HOME/nasopt`` / ``~/.cache/nasopt``); later loads read
only the cache (it is rebuilt when the source file's size or modification time changes).
The cache can also be passed directly as ``path=``.

Cache arrays (row ``i`` = ``i``-th distinct module hash in file order):
``hashes`` (N,) str, ``matrices`` (N, 7, 7) uint8 (cell top-left, output at ``n - 1``),
``ops`` (N, 7) int8 (input 0, conv1x1 1, conv3x3 2, maxpool 3, output 4, padding -1),
``n_vertices`` (N,) uint8, ``valid_acc_runs`` / ``test_acc_runs`` / ``train_acc_runs`` /
``train_time_runs`` (N, R) float64 per run at the end of training (accuracies in percent,
NaN where a run is missing), their means over runs ``valid_acc`` / ``test_acc`` /
``train_acc`` / ``train_time_s``, ``params`` (N,) int64, ``n_runs`` (N,) uint8.
"""

from __future__ import annotations

import base64
import json
import math
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ..core.data import ENV_VAR, load_npz
from ..core.errors import ConfigurationError, DataError
from ..spaces.nb101 import MAX_VERTICES, OP_CODE, OPS, TABLE_ARRAYS, NB101TableSpace
from ..spaces.nb101_hash import spec_hash
from .tabular import TabularBenchmark
from .tfrecord import decode_final_evaluation, iter_records

FILENAMES = ("nasbench_only108.tfrecord", "nasbench_full.tfrecord")
DOWNLOAD = "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord"
CACHE_FORMAT = "nasopt-nb101-cache"
CACHE_VERSION = 1
_RUN_FIELDS = ("valid_acc", "test_acc", "train_acc", "train_time")


def user_cache_dir() -> Path:
    """``$NASOPT_CACHE``, else ``$XDG_CACHE_HOME/nasopt``, else ``~/.cache/nasopt``."""
    if os.environ.get("NASOPT_CACHE"):
        return Path(os.environ["NASOPT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nasopt"


def locate(path: str | os.PathLike | None = None, epochs: int = 108) -> Path:
    """The NAS-Bench-101 file to read: ``path`` (a ``.tfrecord``/cache ``.npz`` file, or a
    directory holding one of :data:`FILENAMES` or an ``epochs`` cache), else ``$NASOPT_DATA``.

    Raises:
        DataError: nothing found (the message says where it looked and where to download).
    """
    dirs: list[Path] = []
    if path is not None:
        p = Path(path)
        if p.is_file():
            return p
        if not p.is_dir():
            raise DataError(f"NAS-Bench-101 data not found: {p} does not exist")
        dirs.append(p)
    elif os.environ.get(ENV_VAR):
        dirs.append(Path(os.environ[ENV_VAR]))
    for d in dirs:
        for name in FILENAMES:
            if (d / name).is_file():
                return d / name
        caches = sorted(d.glob(f"nasbench_*.e{epochs}.nasopt.npz"))
        if caches:
            return caches[0]
    where = ", ".join(str(d) for d in dirs) or f"(no path= given and ${ENV_VAR} is unset)"
    raise DataError(
        f"NAS-Bench-101 data not found in {where}: looked for {' or '.join(FILENAMES)}. "
        f"Download {DOWNLOAD} (~500 MB) and pass path= or set ${ENV_VAR} to its directory.")


def _fingerprint(source: Path) -> tuple[int, int]:
    st = source.stat()
    return int(st.st_size), int(st.st_mtime_ns)


def cache_candidates(source: Path, epochs: int, cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where the cache of ``source`` may live, in lookup order."""
    name = f"{source.stem}.e{epochs}.nasopt.npz"
    if cache_dir is not None:
        return [Path(cache_dir) / name]
    return [source.parent / name, user_cache_dir() / name]


def _load_cache(path: Path, source: Path | None, epochs: int) -> dict | None:
    """The cached arrays, or None when the cache is absent, stale or of another format."""
    if not path.is_file():
        return None
    try:
        arrays = load_npz(path, {**TABLE_ARRAYS, "valid_acc": (None,), "test_acc": (None,)})
    except DataError:
        return None
    meta = arrays.get("meta")
    if meta is None:
        return None
    try:
        info = json.loads(str(meta))
    except ValueError:
        return None
    if (info.get("format"), info.get("version"), info.get("epochs")) != (CACHE_FORMAT, CACHE_VERSION, epochs):
        return None
    if source is not None and list(_fingerprint(source)) != info.get("source_fingerprint"):
        return None
    return arrays


def build_table(source: Path, epochs: int = 108, verify_crc: bool = True) -> dict[str, np.ndarray]:
    """Read the official records of ``epochs`` from ``source`` into the cache arrays.

    Raises:
        DataError: unreadable, truncated or corrupt file, malformed records, or no record with
            ``epochs``.
    """
    row_of: dict[str, int] = {}
    hashes: list[str] = []
    mats: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    n_vert: list[int] = []
    params: list[int] = []
    runs: list[list[tuple[float, float, float, float]]] = []
    seen_epochs: set[int] = set()
    for k, payload in enumerate(iter_records(source, verify=verify_crc)):
        try:
            module_hash, ep, raw_adj, raw_ops, raw_metrics = json.loads(payload)
            ep = int(ep)
            seen_epochs.add(ep)
            if ep != epochs:
                continue
            row = row_of.get(module_hash)
            n_params, final = decode_final_evaluation(base64.b64decode(raw_metrics, validate=True))
            if row is None:
                n = math.isqrt(len(raw_adj))
                ops = raw_ops.split(",")
                if n * n != len(raw_adj) or not 2 <= n <= MAX_VERTICES or len(ops) != n:
                    raise ValueError(f"adjacency of {len(raw_adj)} entries with {len(ops)} ops")
                mat = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
                digits = np.frombuffer(raw_adj.encode("ascii"), dtype=np.uint8) - ord("0")
                mat[:n, :n] = digits.reshape(n, n)
                if mat.max() > 1:
                    raise ValueError("adjacency entries must be 0 or 1")
                code = np.full(MAX_VERTICES, -1, dtype=np.int8)
                code[:n] = [OP_CODE[o] for o in ops]
                row = row_of[module_hash] = len(hashes)
                hashes.append(str(module_hash))
                mats.append(mat)
                codes.append(code)
                n_vert.append(n)
                params.append(n_params)
                runs.append([])
            runs[row].append((final.validation_accuracy, final.test_accuracy,
                              final.train_accuracy, final.training_time))
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - any malformed content
            raise DataError(f"{source}: record #{k} is not a NAS-Bench-101 record "
                            f"({type(exc).__name__}: {exc})") from exc
    if not hashes:
        raise DataError(f"{source}: no records with {epochs} epochs "
                        f"(epochs present: {sorted(seen_epochs) or 'none, the file is empty'})")
    width = max(len(r) for r in runs)
    per_run = np.full((len(hashes), width, 4), np.nan)
    for i, r in enumerate(runs):
        per_run[i, :len(r)] = r
    per_run[..., :3] *= 100.0  # accuracies in percent
    out: dict[str, np.ndarray] = {
        "hashes": np.array(hashes, dtype="U32"),
        "matrices": np.stack(mats),
        "ops": np.stack(codes),
        "n_vertices": np.array(n_vert, dtype=np.uint8),
        "params": np.array(params, dtype=np.int64),
        "n_runs": np.array([len(r) for r in runs], dtype=np.uint8),
    }
    for j, name in enumerate(_RUN_FIELDS):
        out[f"{name}_runs"] = per_run[..., j]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[name if name != "train_time" else "train_time_s"] = np.nanmean(per_run[..., j], axis=1)
    return out


def _save_cache(arrays: dict, candidates: list[Path], source: Path, epochs: int) -> Path | None:
    meta = json.dumps({"format": CACHE_FORMAT, "version": CACHE_VERSION, "epochs": epochs,
                       "source": source.name, "source_fingerprint": list(_fingerprint(source))})
    for path in candidates:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".nb101-", suffix=".npz")
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, meta=np.array(meta), **arrays)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
            return path
        except OSError:
            try:
                os.unlink(tmp)  # type: ignore[possibly-undefined]
            except (OSError, NameError):
                pass
            continue
    warnings.warn(f"could not write the NAS-Bench-101 cache to any of {[str(c) for c in candidates]}; "
                  "the next load will read the TFRecord file again", stacklevel=3)
    return None


class NB101(TabularBenchmark):
    """NAS-Bench-101 objective: mean over the 3 runs of the final accuracy of each cell.

    Args:
        path: ``nasbench_only108.tfrecord`` / ``nasbench_full.tfrecord``, a cache ``.npz``
            written by this class, or a directory holding one; default ``$NASOPT_DATA``.
        epochs: training budget to read (108; the full file also has 4, 12 and 36).
        metric: ``"valid"`` (search on validation accuracy, default) or ``"test"``.
        cache_dir: where to write/read the cache (default: next to the file, else the user
            cache directory, see the module docstring).
        verify_crc: check the TFRecord CRCs while converting (default True).
        check_hashes: recompute the module hash of every cell while converting and fail on
            any mismatch with the file's hash (slow on the full table: about a minute).

    ``bench.space`` is an :class:`~nasopt.spaces.nb101.NB101TableSpace` whose ``space[i]``
    is row ``i``; ``bench.values`` the mean validation accuracy in percent,
    ``bench.test_values`` the mean test accuracy, ``bench.metrics``: ``params``,
    ``train_time_s``, ``train_acc``; ``bench.table`` all cached arrays.
    """

    def __init__(self, path: str | os.PathLike | None = None, epochs: int = 108, metric: str = "valid",
                 cache_dir: str | os.PathLike | None = None, verify_crc: bool = True,
                 check_hashes: bool = False) -> None:
        if metric not in ("valid", "test"):
            raise ConfigurationError(f"metric must be 'valid' or 'test', got {metric!r}")
        if epochs not in (4, 12, 36, 108):
            raise ConfigurationError(f"NAS-Bench-101 epochs are 4, 12, 36 or 108, got {epochs!r}")
        self.epochs, self.metric_name = int(epochs), metric
        found = locate(path, self.epochs)
        cache_path: Path | None
        if found.suffix == ".npz":
            arrays = _load_cache(found, None, self.epochs)
            if arrays is None:
                raise DataError(f"{found}: not a NAS-Bench-101 cache written by nasopt for {epochs} epochs")
            cache_path, self.source = found, str(found)
        else:
            self.source = str(found)
            candidates = cache_candidates(found, self.epochs, cache_dir)
            arrays, cache_path = None, None
            for c in candidates:
                arrays = _load_cache(c, found, self.epochs)
                if arrays is not None:
                    cache_path = c
                    break
            if arrays is None:
                arrays = build_table(found, self.epochs, verify_crc=verify_crc)
                if check_hashes:
                    _check_hashes(found, arrays)
                cache_path = _save_cache(arrays, candidates, found, self.epochs)
        self.cache_path = None if cache_path is None else str(cache_path)
        self.table = arrays
        self.space = NB101TableSpace(arrays, cache=self.cache_path)
        self.values = np.asarray(arrays["valid_acc" if metric == "valid" else "test_acc"], dtype=np.float64)
        self.test_values = np.asarray(arrays["test_acc"], dtype=np.float64)
        self.metrics = {m: np.asarray(arrays[m], dtype=np.float64)
                        for m in ("params", "train_time_s", "train_acc") if m in arrays}

    def __repr__(self) -> str:
        return f"NB101(epochs={self.epochs}, metric={self.metric_name!r}, cells={len(self)})"


def _check_hashes(source: Path, arrays: dict) -> None:
    for i, (h, n) in enumerate(zip(arrays["hashes"].tolist(), arrays["n_vertices"].tolist())):
        mat = arrays["matrices"][i, :n, :n]
        ops = [OPS[c] for c in arrays["ops"][i, :n]]
        got = spec_hash(mat, ops)
        if got != h:
            raise DataError(f"{source}: cell #{i} has module hash {h} in the file but {got} "
                            f"recomputed from its matrix and ops")
