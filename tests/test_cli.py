"""The nasopt command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nasopt.cli import main


def test_search_prints_the_best_the_optimum_and_writes_the_trajectory(nb201_data, tmp_path, capsys):
    out = tmp_path / "run.json"
    code = main(["search", "--space", "nb201", "--dataset", "cifar100", "--strategy", "rea",
                 "--budget", "50", "--seed", "0", "--data", str(nb201_data), "--json", str(out), "--quiet"])
    text = capsys.readouterr().out
    assert code == 0
    assert "best architecture" in text and "regret" in text and "test" in text
    run = json.loads(out.read_text())
    assert len(run["trajectory"]) == 50 and run["optimum"]["value"] == pytest.approx(73.4933, abs=1e-3)
    assert run["best"]["value"] == max(t["value"] for t in run["trajectory"])
    assert run["regret"] == pytest.approx(run["optimum"]["value"] - run["best"]["value"])
    code = main(["plot", str(out), "--out", str(tmp_path / "run.png")])
    assert code == 0 and (tmp_path / "run.png").stat().st_size > 1000


def test_strategy_options_are_passed_through(nb201_data, capsys):
    assert main(["search", "--strategy", "rea", "--option", "population=20", "--budget", "30",
                 "--data", str(nb201_data), "--quiet"]) == 0


def test_bad_options_end_with_a_clear_error(nb201_data, capsys):
    code = main(["search", "--strategy", "rea", "--option", "population=1", "--data", str(nb201_data), "--quiet"])
    assert code == 2 and "population must be" in capsys.readouterr().err


def test_unknown_option_is_a_one_line_error_naming_the_valid_ones(nb201_data):
    result = subprocess.run(
        [sys.executable, "-m", "nasopt.cli", "search", "--strategy", "weaknas", "--option", "batchsize=3",
         "--budget", "5", "--data", str(nb201_data), "--quiet"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("nasopt: error: strategy 'weaknas' has no option 'batchsize'")
    assert "valid options: " in result.stderr and "top_n" in result.stderr


def test_help_lists_every_command_with_examples():
    result = subprocess.run([sys.executable, "-m", "nasopt.cli", "--help"], capture_output=True, text=True)
    for word in ("search", "plot", "bench", "strategies", "examples:"):
        assert word in result.stdout
