"""The nasopt command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nasopt.cli import main

ROOT = Path(__file__).resolve().parents[1]


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


@pytest.mark.parametrize("strategy,option", [("renas", []), ("weaknas", []), ("renas", ["--option", "budget=80"]),
                                             ("rea", [])])
def test_search_tells_the_strategy_its_budget_so_small_runs_are_not_random_search(
        nb201_data, monkeypatch, strategy, option):
    import nasopt

    made = {}
    real = nasopt.create

    def spy(name, space, **options):
        made.update(options)
        return real(name, space, **options)

    monkeypatch.setattr(nasopt, "create", spy)
    assert main(["search", "--strategy", strategy, "--budget", "50", "--data", str(nb201_data),
                 "--quiet", *option]) == 0
    expected = {"rea": None, "renas": 80 if option else 50, "weaknas": 50}[strategy]
    assert made.get("budget") == expected


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
    for word in ("search", "plot", "strategies", "examples:"):
        assert word in result.stdout
    assert not re.search(r"\bbench\b", result.stdout)  # removed: the experiments are benchmarks/*.py scripts


def test_removed_bench_command_names_the_script_that_replaces_it(capsys):
    assert main(["bench", "search", "--runs", "3", "--out", "x"]) == 2
    assert "python benchmarks/search.py --runs 3 --out x" in capsys.readouterr().err
    assert main(["bench", "surrogate-speed"]) == 2
    assert "python benchmarks/surrogate_speed.py" in capsys.readouterr().err
    assert main(["bench", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no experiment 'nope'" in err and "benchmarks/renas.py" in err


def test_every_script_the_bench_command_names_exists():
    from nasopt.cli import BENCH_SCRIPTS

    root = Path(__file__).resolve().parent.parent
    assert [s for s in BENCH_SCRIPTS.values() if not (root / s).is_file()] == []


def _small_run(tmp_path, **options):
    """A finished random search on a 12-member product space, told out of ask order."""
    import nasopt
    from nasopt.spaces import ProductSpace

    space = ProductSpace({"depth": [1, 2, 3], "width": [8, 16, 32, 64]})
    opt = nasopt.create("random", space, seed=3, **options)
    trials = opt.ask(6)
    for t in reversed(trials):
        opt.tell(t, float(t.arch["depth"] * t.arch["width"]))
    return opt, [float(t.arch["depth"] * t.arch["width"]) for t in reversed(trials)]


def test_plot_draws_a_checkpoint_written_by_save(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from nasopt.cli import _read_run

    opt, told = _small_run(tmp_path, maximize=False)
    opt.save(str(tmp_path / "run.json"))
    assert main(["plot", str(tmp_path / "run.json")]) == 0
    assert (tmp_path / "run.png").stat().st_size > 1000
    run = _read_run(str(tmp_path / "run.json"))
    assert run["values"] == told and run["maximize"] is False and run["optimum"] is None
    opt.save(str(tmp_path / "zipped.json.gz"))
    assert main(["plot", str(tmp_path / "zipped.json.gz")]) == 0 and (tmp_path / "zipped.png").is_file()


def test_plot_draws_a_journal_without_touching_it(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    import nasopt
    from nasopt.spaces import ProductSpace

    journal = tmp_path / "run.jsonl"
    opt = nasopt.create("rea", ProductSpace({"a": list(range(8)), "b": list(range(8))}), seed=1,
                        journal=str(journal))
    for _ in range(5):
        t = opt.ask()
        opt.tell(t, float(t.arch["a"] - t.arch["b"]))
    before = journal.read_bytes()  # the run is still open, holding the journal
    assert main(["plot", str(journal), "--out", str(tmp_path / "j.png")]) == 0
    assert (tmp_path / "j.png").stat().st_size > 1000 and journal.read_bytes() == before
    opt.close()


def test_plot_of_a_file_nasopt_did_not_write_is_a_clear_error(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    bad = tmp_path / "other.json"
    bad.write_text('{"hello": 1}')
    assert main(["plot", str(bad)]) == 2
    assert "nasopt: error:" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_plot_without_matplotlib_names_the_extra_to_install(tmp_path, capsys, monkeypatch):
    opt, _ = _small_run(tmp_path)
    opt.save(str(tmp_path / "run.json"))
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert main(["plot", str(tmp_path / "run.json")]) == 2
    err = capsys.readouterr().err
    assert "matplotlib" in err and 'pip install "nasopt[bench]"' in err


def test_version_and_python_dash_m_run_the_cli():
    import nasopt

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "nasopt", "--version"], capture_output=True, text=True,
                            env=env, cwd=str(ROOT))
    assert result.returncode == 0 and result.stdout.strip() == f"nasopt {nasopt.__version__}"
    result = subprocess.run([sys.executable, "-m", "nasopt", "strategies"], capture_output=True, text=True,
                            env=env, cwd=str(ROOT))
    assert result.returncode == 0 and "random" in result.stdout


def test_strategies_shows_whole_first_sentences_without_rest_markup(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["strategies"]) == 0
    text = capsys.readouterr().out
    assert "`" not in text and ":class:" not in text
    entries = re.split(r"\n(?=\S)", text.strip())  # one entry per strategy, wrapped lines joined
    assert all(" ".join(e.split()).endswith((".", "!", "?")) for e in entries)
    assert "the oldest member dies when a new result arrives (sizes: population and tournament)." in " ".join(text.split())
    assert max(map(len, text.splitlines())) <= 80


def test_plain_summary_reduces_rest_markup_and_keeps_abbreviations():
    from nasopt.cli import plain_summary

    doc = """A :class:`~nasopt.spaces.ProductSpace` walk, e.g. over ``depth`` values. Second sentence.

    Details."""
    assert plain_summary(doc) == "A ProductSpace walk, e.g. over depth values."
    assert plain_summary(":func:`nasopt.create` without a full stop") == "nasopt.create without a full stop"
    assert plain_summary(None) == ""


def test_the_wheel_ships_the_py_typed_marker_and_main_module(tmp_path):
    """mypy reads the package's type hints only when the installed package has py.typed."""
    pytest.importorskip("setuptools")
    import shutil
    import zipfile

    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "nasopt", src / "nasopt", ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                             "--no-index", ".", "-w", str(tmp_path / "out")], capture_output=True, text=True,
                            cwd=str(src), timeout=300)
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "out").glob("nasopt-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "nasopt/py.typed" in names and "nasopt/__main__.py" in names


def _two_objective_run(**options):
    """A finished REA run on two conflicting objectives (the first maximized, the second
    minimized), with a told constraint that rules out the largest ``a``."""
    import nasopt
    from nasopt.spaces import ProductSpace

    opt = nasopt.create("rea", ProductSpace({"a": list(range(10)), "b": list(range(10))}), seed=0,
                        population=8, **options)
    for _ in range(40):
        t = opt.ask()
        a, b = t.arch["a"], t.arch["b"]
        opt.tell(t, [a + 0.3 * b, a * a / 10 + b], constraints=[a - 8])
    return opt


@pytest.mark.parametrize("where", ["checkpoint", "journal"])
def test_plot_draws_the_feasible_pareto_front_of_a_two_objective_run(tmp_path, monkeypatch, capsys, where):
    pytest.importorskip("matplotlib")
    import numpy as np

    import nasopt.cli as cli

    path = tmp_path / ("run.jsonl" if where == "journal" else "run.json")
    if where == "journal":
        opt = _two_objective_run(objectives={"acc": "max", "latency": "min"}, journal=str(path))
        opt.close()
    else:
        opt = _two_objective_run(objectives={"acc": "max", "latency": "min"})
        opt.save(str(path))
    drawn = cli.pareto_points(cli._read_run(str(path)))
    front = sorted(t.values for t in opt.pareto_front)
    assert [tuple(p) for p in drawn["front"]] == front and len(front) > 3
    infeasible = sorted(t.values for t in opt.completed if not t.feasible)
    assert infeasible and sorted(map(tuple, drawn["infeasible"])) == infeasible
    assert len(drawn["front"]) + len(drawn["dominated"]) + len(drawn["infeasible"]) == 40
    assert drawn["labels"] == ["acc (max)", "latency (min)"]
    # the staircase passes through every front point, in order, turning at the corner that
    # both neighbours dominate (the earlier one's acc, the later one's latency)
    stairs = drawn["staircase"]
    assert (stairs[0::2] == drawn["front"]).all()
    assert (stairs[1::2] == np.column_stack([drawn["front"][:-1, 0], drawn["front"][1:, 1]])).all()

    figures = []
    real = cli._draw_front
    monkeypatch.setattr(cli, "_draw_front", lambda plt, run: figures.append(real(plt, run)) or figures[-1])
    out = tmp_path / "front.png"
    assert cli.main(["plot", str(path), "--out", str(out)]) == 0
    assert out.stat().st_size > 1000 and f"plot written to {out}" in capsys.readouterr().out
    (ax,) = figures[0].axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("acc (max)", "latency (min)")
    scattered = {c.get_label().split(" (")[0]: c.get_offsets() for c in ax.collections}
    assert sorted(map(tuple, np.asarray(scattered["Pareto front"]))) == front
    assert sorted(map(tuple, np.asarray(scattered["infeasible"]))) == infeasible
    (line,) = ax.get_lines()
    assert (np.asarray(line.get_xydata()) == stairs).all()


def test_plot_names_unnamed_objectives_by_position_and_draws_more_as_a_scatter_matrix(tmp_path):
    pytest.importorskip("matplotlib")
    import nasopt
    from nasopt.cli import _read_run, pareto_points
    from nasopt.spaces import ProductSpace

    opt = _two_objective_run(objectives=["max", "min"])
    opt.save(str(tmp_path / "two.json"))
    assert pareto_points(_read_run(str(tmp_path / "two.json")))["labels"] == [
        "objective 0 (max)", "objective 1 (min)"]
    opt = nasopt.create("random", ProductSpace({"a": list(range(10)), "b": list(range(10))}), seed=0,
                        objectives=["max", "min", "max"])
    for _ in range(30):
        t = opt.ask()
        a, b = t.arch["a"], t.arch["b"]
        opt.tell(t, [a + b, a * b, b - a])
    opt.save(str(tmp_path / "three.json"))
    drawn = pareto_points(_read_run(str(tmp_path / "three.json")))
    assert sorted(map(tuple, drawn["front"])) == sorted(t.values for t in opt.pareto_front)
    assert main(["plot", str(tmp_path / "three.json")]) == 0
    assert (tmp_path / "three.png").stat().st_size > 1000


def test_plot_of_a_front_without_results_or_with_no_place_to_write_is_a_clear_error(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    import nasopt
    from nasopt.spaces import ProductSpace

    opt = nasopt.create("random", ProductSpace({"a": [1, 2, 3]}), seed=0, objectives=["max", "min"])
    opt.tell(opt.ask(), failed=True)
    opt.save(str(tmp_path / "empty.json"))
    assert main(["plot", str(tmp_path / "empty.json")]) == 2
    assert "no completed trial to plot" in capsys.readouterr().err
    assert not (tmp_path / "empty.png").exists()
    _two_objective_run(objectives=["max", "min"]).save(str(tmp_path / "run.json"))
    missing = tmp_path / "nowhere" / "run.png"
    assert main(["plot", str(tmp_path / "run.json"), "--out", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nasopt: error: --out") and "no such directory" in err
