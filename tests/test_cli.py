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


def test_help_lists_every_command_with_examples():
    result = subprocess.run([sys.executable, "-m", "nasopt.cli", "--help"], capture_output=True, text=True)
    for word in ("search", "plot", "bench", "strategies", "examples:"):
        assert word in result.stdout


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
