"""ProductSpace: user-defined categorical spaces with a validity rule."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nasopt
from nasopt.core.errors import ConfigurationError, InvalidArchitectureError
from nasopt.spaces import ProductSpace, space_from_config


def at_most_two_identities(arch: dict) -> bool:
    """Validity rule used by the tests (importable, so checkpoints can name it)."""
    return sum(v == "identity" for v in arch.values()) <= 2


BLOCKS = ["identity", "k3", "k5"]
SPACE = ProductSpace({f"layer{i}": BLOCKS for i in range(5)}, valid=at_most_two_identities)
seeds = st.integers(0, 2**32 - 1)


def test_enumeration_is_the_valid_part_of_the_product_in_itertools_order():
    expected = [dict(zip(SPACE.names, combo)) for combo in itertools.product(BLOCKS, repeat=5)]
    expected = [a for a in expected if at_most_two_identities(a)]
    assert len(SPACE) == len(expected) and [SPACE[i] for i in range(len(SPACE))] == expected
    assert all(SPACE.index(a) == i for i, a in enumerate(expected))


@given(seeds)
def test_sampling_mutation_and_crossover_respect_the_rule(seed):
    rng = np.random.default_rng(seed)
    a, b = SPACE.sample(rng), SPACE.sample(rng)
    child = SPACE.mutate(a, rng)
    assert SPACE.is_valid(a) and SPACE.is_valid(child) and child != a
    assert sum(child[n] != a[n] for n in SPACE.names) == 1
    assert SPACE.is_valid(SPACE.crossover(a, b, rng))


@given(st.integers(0, 3**5 - 1))
def test_encode_decode_round_trip(flat):
    i = flat % len(SPACE)
    arch = SPACE[i]
    assert SPACE.from_data(SPACE.to_data(arch)) == arch
    onehot = SPACE.encode([arch])[0]
    decoded = {n: BLOCKS[int(k)] for n, k in zip(SPACE.names, onehot.reshape(5, 3).argmax(1))}
    assert decoded == arch
    assert np.array_equal(SPACE.encode_indices(np.array([i]))[0], onehot)


@given(st.integers(0, 3**5 - 1))
def test_categorical_form_is_the_parameters_and_round_trips(flat):
    arch = SPACE[flat % len(SPACE)]
    assert SPACE.categorical_params() == {n: tuple(BLOCKS) for n in SPACE.names}
    assert SPACE.to_categorical(arch) == arch
    assert SPACE.from_categorical(SPACE.to_categorical(arch)) == arch
    assert SPACE.from_categorical({"lr": 0.1, **arch}) == arch  # other parameters ignored


@given(st.dictionaries(st.sampled_from(["x", "y"]), st.sampled_from([1, 1.0, True, "1", None, 2])))
def test_from_categorical_keeps_choice_types_apart_and_refuses_the_rest(params):
    space = ProductSpace({"x": [1, 1.0, True, "1", None], "y": [True, None]})
    known = all(k in params and any(type(params[k]) is type(c) and params[k] == c for c in space.choices[k])
                for k in ("x", "y"))
    if known:
        arch = space.from_categorical(params)
        assert arch == params and [type(arch[k]) for k in ("x", "y")] == [type(params[k]) for k in ("x", "y")]
    else:
        with pytest.raises(InvalidArchitectureError, match="no choice for parameter|is not a choice of"):
            space.from_categorical(params)


def test_from_categorical_leaves_the_validity_rule_to_check():
    arch = {n: "identity" for n in SPACE.names}
    assert SPACE.from_categorical(arch) == arch and "rule" in SPACE.check(arch)


def test_mixed_choice_types_are_kept_apart():
    space = ProductSpace({"x": [1, 1.0, True, "1", None]})
    assert len(space) == 5 and len({space.key(space[i]) for i in range(5)}) == 5
    assert space.index({"x": True}) == 2


@pytest.mark.parametrize(
    "choices, message",
    [
        ({}, "non-empty mapping"),
        ({"a": []}, "has no choices"),
        ({"a": [1, 1]}, "twice"),
        ({"a": "abc"}, "must be a list"),
        ({"": [1]}, "non-empty strings"),
        ({"a": [[1, 2]]}, "must be str, int"),
        ({"a": [float("nan")]}, "finite float"),
    ],
)
def test_empty_or_inconsistent_definitions_are_refused(choices, message):
    with pytest.raises(ConfigurationError, match=message):
        ProductSpace(choices)


def test_a_rule_that_rejects_everything_is_reported():
    space = ProductSpace({"a": [1, 2]}, valid=lambda arch: False)
    with pytest.raises(ConfigurationError, match="rejects every combination"):
        space.sample(np.random.default_rng(0))


@pytest.mark.parametrize(
    "arch, reason",
    [
        ({"layer0": "k3"}, "missing"),
        ({**{f"layer{i}": "k3" for i in range(5)}, "extra": 1}, "unknown ['extra']"),
        ({f"layer{i}": "k7" for i in range(5)}, "is not one of"),
        ({f"layer{i}": "identity" for i in range(5)}, "rejected by the validity rule"),
        (["k3"] * 5, "expected a dict"),
        ({**{f"layer{i}": "k3" for i in range(4)}, "layer4": ["k3"]}, "layer4=['k3'] is not one of"),
        ({**{f"layer{i}": "k3" for i in range(4)}, "layer4": {"k": 3}}, "is not one of"),
    ],
)
def test_non_members_are_rejected_with_the_reason(arch, reason):
    assert reason in SPACE.check(arch)
    with pytest.raises(InvalidArchitectureError, match="ProductSpace"):
        SPACE.validate(arch)


def _rule_for_a_0_or_1(arch: dict) -> bool:
    """A buggy rule: it knows a=0 and a=1 only (KeyError for a=2)."""
    return {0: True, 1: True}[arch["a"]]


@pytest.mark.parametrize("max_enumerate", [2_000_000, 0], ids=["enumerated", "sampled"])
@pytest.mark.parametrize("name", ["random", "rea"])
def test_a_rule_that_raises_fails_ask_with_the_rule_and_the_architecture_named(name, max_enumerate):
    space = ProductSpace({"a": [0, 1, 2], "b": [0, 1]}, valid=_rule_for_a_0_or_1,
                         max_enumerate=max_enumerate)
    opt = nasopt.create(name, space, seed=0)
    before = nasopt.persist.checkpoint.state_dict(opt)
    message = (r"the validity rule [\w.]*test_space_product:_rule_for_a_0_or_1 of ProductSpace\(.*\) "
               r"raised KeyError: 2 on \{'a': 2, 'b': [01]\}; a rule must return True or False")
    with pytest.raises(ConfigurationError, match=message) as info:
        for _ in range(20):  # sampling may meet a=2 at once or a few draws later
            opt.tell(opt.ask(), 1.0)
            before = nasopt.persist.checkpoint.state_dict(opt)
    assert isinstance(info.value.__cause__, KeyError)
    assert nasopt.persist.checkpoint.state_dict(opt) == before  # the failed ask changed nothing
    # check() gives the same cause as its reason; tell(arch) refuses the architecture
    assert "raised KeyError: 2 on {'a': 2, 'b': 0}" in space.check({"a": 2, "b": 0})
    with pytest.raises(InvalidArchitectureError, match="raised KeyError: 2"):
        opt.tell({"a": 2, "b": 0}, 1.0)


def test_a_rule_that_starts_raising_fails_rea_mutation_and_changes_nothing():
    broken = {"on": False}

    def rule(arch: dict) -> bool:
        if broken["on"]:
            raise RuntimeError("rule lost its lookup table")
        return True

    space = ProductSpace({f"p{i}": list(range(4)) for i in range(4)}, valid=rule)
    opt = nasopt.create("rea", space, seed=0, population=4, tournament=2)
    for _ in range(4):
        t = opt.ask()
        opt.tell(t, float(sum(t.arch.values())))
    broken["on"] = True  # the next ask mutates a parent: the rule is asked about the child
    before = nasopt.persist.checkpoint.state_dict(opt)
    with pytest.raises(ConfigurationError, match=r"rule of ProductSpace.* raised RuntimeError: rule lost"):
        opt.ask()
    assert nasopt.persist.checkpoint.state_dict(opt) == before
    broken["on"] = False
    assert opt.ask().arch in space


def test_config_names_an_importable_rule_and_rebuilds_the_space_only_when_trusted(tmp_path):
    assert space_from_config(SPACE.config(), trusted=True) == SPACE
    opt = nasopt.create("rea", SPACE, seed=0)
    for _ in range(15):
        t = opt.ask()
        opt.tell(t, float(sum(v == "k5" for v in t.arch.values())))
    opt.save(tmp_path / "run.json")
    assert nasopt.load(tmp_path / "run.json", space=SPACE).best == opt.best
    assert nasopt.load(tmp_path / "run.json", trusted=True).best == opt.best
    with pytest.raises(nasopt.CheckpointError, match="runs no code"):
        nasopt.load(tmp_path / "run.json")


def test_a_lambda_rule_needs_the_space_passed_to_load(tmp_path):
    space = ProductSpace({"a": [1, 2, 3]}, valid=lambda arch: arch["a"] != 2)
    opt = nasopt.RandomSearch(space, seed=0)
    opt.tell(opt.ask(), 1.0)
    opt.save(tmp_path / "run.json")
    with pytest.raises(nasopt.CheckpointError, match="pass the space explicitly"):
        nasopt.load(tmp_path / "run.json")
    assert nasopt.load(tmp_path / "run.json", space=space).best.value == 1.0


def test_large_products_are_searched_without_enumeration():
    space = ProductSpace({f"p{i}": list(range(10)) for i in range(12)})  # 10**12 combinations
    assert not space.is_finite
    opt = nasopt.create("rea", space, seed=0)
    for _ in range(30):
        t = opt.ask()
        opt.tell(t, float(sum(t.arch.values())))
    assert len({space.key(t.arch) for t in opt.trials}) == 30


# ------------------------------------------------------------------ NAS-Bench-Macro space
def test_macro_space_free_features_are_the_table_params_and_flops_of_every_network(macro_data):
    from nasopt.benchmarks import Macro
    from nasopt.spaces import MacroSpace
    from nasopt.spaces.macro import macro_costs

    bench = Macro(path=macro_data)
    space = bench.space
    assert isinstance(space, MacroSpace) and isinstance(space, ProductSpace)
    F = space.free_features([space[i] for i in range(len(space))])
    assert space.free_feature_names == ("params", "flops") and F.shape == (6561, 2)
    assert F[:, 0].tolist() == bench.metrics["params"].tolist()
    assert F[:, 1].tolist() == bench.metrics["flops"].tolist()
    table = np.load(macro_data)
    p, f = macro_costs(table["layer_ops"])  # the table's own row order, vectorised
    assert p.tolist() == table["params"].tolist() and f.tolist() == table["flops"].tolist()


def test_macro_space_rebuilds_from_its_config_and_enumerates_as_the_product():
    from nasopt.spaces import MacroSpace

    space = MacroSpace()
    again = space_from_config(space.config())
    assert isinstance(again, MacroSpace) and again == space and space.config() == {"type": "nbmacro"}
    plain = ProductSpace({f"layer{i}": ["identity", "mb_k3_e3", "mb_k5_e6"] for i in range(8)})
    assert len(space) == 6561 and [space[i] for i in (0, 1234, 6560)] == [plain[i] for i in (0, 1234, 6560)]
    assert plain.free_features([plain[0]]) is None and plain.free_feature_names == ()
