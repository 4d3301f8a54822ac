"""The library and the lab stay apart: ``nasopt/`` holds what users import, the experiments
that reproduce the documentation's tables are scripts in the top-level ``benchmarks/``
(not installed), and no library module imports them."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The objective tables and their file readers / converters: all ``nasopt.benchmarks`` holds.
TABLE_MODULES = {"__init__", "tabular", "nb201", "nb101", "macro", "tfrecord", "convert"}
SCRIPTS = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py") if p.stem != "__init__")


def _imported_modules(path: Path) -> list[str]:
    """Absolute module names ``path`` imports: import statements (relative ones excluded)
    and ``importlib.import_module`` / ``__import__`` calls with a literal name."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names.append(node.args[0].value)
    return names


def test_no_library_module_imports_the_experiments():
    offenders = [f"{path.relative_to(ROOT)}: {name}" for path in sorted((ROOT / "nasopt").rglob("*.py"))
                 for name in _imported_modules(path) if name == "benchmarks" or name.startswith("benchmarks.")]
    assert offenders == []


def test_the_import_check_sees_an_import_of_the_experiments(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import importlib\nfrom benchmarks.harness import runs\n"
                     "importlib.import_module('benchmarks.search')\nfrom . import benchmarks\n")
    assert _imported_modules(probe) == ["importlib", "benchmarks.harness", "benchmarks.search"]


def test_nasopt_benchmarks_holds_only_the_objective_tables():
    folder = ROOT / "nasopt" / "benchmarks"
    assert {p.stem for p in folder.glob("*.py")} == TABLE_MODULES
    assert [p.name for p in folder.iterdir() if p.is_dir() and p.name != "__pycache__"] == []


def test_the_experiments_are_not_installed_with_the_package():
    tomllib = pytest.importorskip("tomllib")
    find_packages = pytest.importorskip("setuptools").find_packages

    with open(ROOT / "pyproject.toml", "rb") as fh:
        include = tomllib.load(fh)["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = find_packages(where=str(ROOT), include=include)
    assert "nasopt" in packages and "nasopt.benchmarks" in packages
    assert [p for p in packages if p.split(".")[0] != "nasopt"] == []
    assert "benchmarks" in find_packages(where=str(ROOT))  # what the include keeps out


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_experiment_runs_as_a_plain_script_from_anywhere(script, tmp_path):
    """``python benchmarks/<name>.py`` needs no PYTHONPATH and no particular working folder:
    the script puts the repository root on ``sys.path`` itself."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{script}.py"), "--help"],
                          capture_output=True, text=True, cwd=str(tmp_path), env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("usage:")
