"""``import nasopt`` stays light: the heavy libraries (torch, scikit-learn, scipy, XGBoost,
pandas, networkx, tqdm, matplotlib, Optuna) are imported only when a feature needs them.

Each check runs in a fresh interpreter, since this test session has imported them already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "sklearn", "scipy", "xgboost", "pandas", "networkx", "tqdm", "matplotlib",
         "optuna")


def heavy_modules_after(code: str) -> list[str]:
    """The HEAVY top-level modules in ``sys.modules`` after a clean interpreter ran ``code``."""
    probe = textwrap.dedent(code) + textwrap.dedent(f"""
        import json as _json, sys as _sys
        print(_json.dumps(sorted(m for m in {HEAVY!r} if m in _sys.modules)))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, cwd=str(ROOT), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_nasopt_loads_no_heavy_library():
    assert heavy_modules_after("import nasopt") == []


def test_loss_names_import_without_torch():
    """The strategies check losses against ``nasopt.surrogates.losses.LOSSES``; reading that
    list must not load torch (only the torch losses themselves need it)."""
    assert heavy_modules_after("from nasopt.surrogates.losses import LOSSES, check_loss") == []


@pytest.mark.parametrize("strategy", ["random", "rea"])
def test_search_on_product_space_with_save_load_and_journal_loads_no_heavy_library(strategy, tmp_path):
    loaded = heavy_modules_after(f"""
        import nasopt
        from nasopt.spaces import ProductSpace

        space = ProductSpace({{"depth": [2, 4, 6, 8], "width": [32, 64, 128, 256],
                              "kernel": [3, 5, 7]}})
        opt = nasopt.create({strategy!r}, space, seed=0)
        for _ in range(30):
            trial = opt.ask()
            opt.tell(trial, trial.arch["depth"] * trial.arch["width"] / trial.arch["kernel"])
        opt.save({str(tmp_path / "run.json")!r})
        resumed = nasopt.load({str(tmp_path / "run.json")!r})
        assert len(resumed.trials) == 30
        nasopt.optimize(lambda arch: float(arch["depth"]), resumed, n_trials=10, progress=False)
        assert len(resumed.trials) == 40
        journaled = nasopt.create({strategy!r}, space, seed=1, journal={str(tmp_path / "run.jsonl")!r})
        nasopt.optimize(lambda arch: float(arch["width"]), journaled, n_trials=20, progress=False)
        journaled.close()
        assert len(nasopt.load({str(tmp_path / "run.jsonl")!r}).trials) == 20
    """)
    assert loaded == []


@pytest.mark.parametrize("surrogate", ["nn", "quadratic"])
def test_weaknas_with_its_numpy_predictors_loads_no_heavy_library(surrogate):
    """WeakNAS's default predictor and the quadratic model are registered surrogates written
    in numpy: a search with them (an ensemble of 2, bootstrapped for the quadratic model)
    loads neither torch nor scikit-learn."""
    loaded = heavy_modules_after(f"""
        import nasopt
        from nasopt.spaces import ProductSpace

        space = ProductSpace({{"depth": [2, 4, 6, 8], "width": [32, 64, 128, 256],
                              "kernel": [3, 5, 7]}})
        opt = nasopt.create("weaknas", space, seed=0, init=10, surrogate={surrogate!r},
                            ensemble=2)
        for _ in range(30):
            trial = opt.ask()
            opt.tell(trial, trial.arch["depth"] * trial.arch["width"] / trial.arch["kernel"])
        assert opt._fits > 0
    """)
    assert loaded == []


@pytest.mark.parametrize("argv", [["--help"], ["strategies"], ["search", "--help"]])
def test_cli_help_and_strategies_load_no_heavy_library(argv):
    loaded = heavy_modules_after(f"""
        import contextlib, io
        from nasopt.cli import main

        with contextlib.redirect_stdout(io.StringIO()):
            try:
                main({argv!r})
            except SystemExit:
                pass
    """)
    assert loaded == []


def test_public_names_still_resolve_lazily():
    """The lazy names are the real classes (attribute access and ``from ... import``)."""
    import nasopt
    from nasopt.benchmarks import NB201
    from nasopt.surrogates import GBRT, LOSSES, MLP, RandomForest, ReNASPredictor, select_by_cv

    assert nasopt.benchmarks.NB201 is NB201
    assert nasopt.surrogates.MLP is MLP and MLP.__module__ == "nasopt.surrogates.mlp"
    assert nasopt.surrogates.GBRT is GBRT and nasopt.surrogates.RandomForest is RandomForest
    assert nasopt.surrogates.ReNASPredictor is ReNASPredictor
    assert callable(select_by_cv) and "mse" in LOSSES
    assert type(nasopt.surrogates.make_surrogate("mlp")) is MLP
    assert set(nasopt.surrogates.__all__) <= set(dir(nasopt.surrogates))
    assert set(nasopt.__all__) <= set(dir(nasopt))
    with pytest.raises(AttributeError, match="no_such_name"):
        nasopt.surrogates.no_such_name  # noqa: B018
    with pytest.raises(AttributeError, match="no_such_name"):
        nasopt.no_such_name  # noqa: B018


def test_proxy_names_import_without_torch():
    """``nasopt.proxies`` lists its proxies without torch; the functions load it on use."""
    assert heavy_modules_after("import nasopt.proxies as p\nassert 'synflow' in p.PROXIES") == []
    assert "torch" in heavy_modules_after("from nasopt.proxies import synflow")


def test_the_nb201_proxy_table_loads_without_torch():
    assert heavy_modules_after("import nasopt.proxies as p\nt = p.load_nb201()\nassert 'synflow' in t") == []
