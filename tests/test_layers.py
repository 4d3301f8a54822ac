"""The package's layers: imports flow one way.

Every module under ``nasopt/`` is parsed with :mod:`ast` (imports at module level and
inside functions alike; relative imports resolved; imports under ``if TYPE_CHECKING:``
are left out, as they never run) and placed in a layer::

    core  <-  persist  <-  spaces  <-  objective tables, proxies  <-  surrogates  <-  strategies
          <-  driver, integrations, cli (and the package's __init__)

A module may import its own layer and those below it, never one above (an "upward"
import); the objective tables (``nasopt/benchmarks/``: tabular, nb201, nb101, macro,
tfrecord) therefore never import surrogates or strategies. The graph of the layer units
(one per subpackage; the top layer's driver, integrations and cli apart) has no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "nasopt"

#: Layer of each unit (the first component under nasopt, or a top-level module).
LAYERS = {
    "core": 0,
    "persist": 1,
    "spaces": 2,
    "benchmarks": 3,  # the objective tables
    "proxies": 3,  # zero-cost proxies of torch models (strategies use them as priors)
    "surrogates": 4,
    "strategies": 5,
    "driver": 6, "integrations": 6, "cli": 6, "__main__": 6, "__init__": 6,
    "testing": 7,  # the conformance suite: drives every layer, imported by no library module
}

#: Modules the graph leaves out (none: the experiment harness lives in the top-level
#: benchmarks/, outside the package; tests/test_layout.py checks nothing imports it).
LEAVING: set[str] = set()

#: Upward imports tolerated, as ``(importer, imported)`` module pairs: none. A pair added here
#: needs a reason beside it; the test also fails when a listed pair is gone.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
                (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
                or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")):
            for child in node.body:
                inside.update(id(n) for n in ast.walk(child))
    return inside


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The nasopt modules that module ``name`` imports (anywhere in it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _type_checking_nodes(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[:len(base_parts) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # nasopt.core.errors.X -> the module
                target = target.rpartition(".")[0]
            if target.startswith("nasopt"):
                found.add(target)
    return found


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()
            if name not in LEAVING}


GRAPH = _graph()


def test_every_module_is_in_a_layer():
    assert {_unit(m) for m in GRAPH} <= set(LAYERS), "a new subpackage needs a layer in LAYERS"


def test_no_module_imports_a_layer_above_its_own():
    upward = {
        (importer, imported)
        for importer, targets in GRAPH.items() for imported in targets
        if imported in LEAVING or LAYERS[_unit(imported)] > LAYERS[_unit(importer)]
    }
    assert upward - KNOWN_VIOLATIONS == set(), "upward imports (importer, imported)"
    assert KNOWN_VIOLATIONS - upward == set(), "fixed: remove these from KNOWN_VIOLATIONS"


def test_objective_tables_never_import_surrogates_or_strategies():
    tables = [m for m in GRAPH if _unit(m) == "benchmarks"]
    assert "nasopt.benchmarks.nb201" in tables and "nasopt.benchmarks.tabular" in tables
    bad = {(m, t) for m in tables for t in GRAPH[m] if _unit(t) in ("surrogates", "strategies")}
    assert bad == set()


def test_core_imports_nothing_above_it():
    core = {m: {t for t in GRAPH[m] if _unit(t) != "core"} for m in GRAPH if _unit(m) == "core"}
    assert {m: t for m, t in core.items() if t} == {}


def test_no_import_cycle_between_subpackages():
    units: dict[str, set[str]] = {}
    for importer, targets in GRAPH.items():
        units.setdefault(_unit(importer), set()).update(
            _unit(t) for t in targets if _unit(t) != _unit(importer))
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(unit: str, path: list[str]) -> None:
        state[unit] = 1
        for nxt in sorted(units.get(unit, ())):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[unit] = 2

    for unit in sorted(units):
        if unit not in state:
            visit(unit, [unit])
    assert cycles == []


@pytest.mark.parametrize("source,expected", [
    ("from ..core import errors\n", {"nasopt.core.errors"}),
    ("from .. import spaces\n", {"nasopt.spaces"}),
    ("def f():\n    from ..strategies.weaknas import WeakNAS\n", {"nasopt.strategies.weaknas"}),
    ("import nasopt.core.trial as t\n", {"nasopt.core.trial"}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..driver import optimize\n",
     set()),
])
def test_the_graph_sees_relative_function_level_imports(tmp_path, source, expected):
    path = tmp_path / "mod.py"
    path.write_text(source)
    assert _imports("nasopt.persist.mod", path, _modules()) == expected
