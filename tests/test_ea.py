"""The predictor-guided EA (nasopt.strategies.ea) on custom, product and NB201 spaces."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from nasopt.core.errors import ConfigurationError
from nasopt.core.space import SearchSpace
from nasopt.spaces import NB201Space, ProductSpace
from nasopt.strategies.ea import EAResult, evolve

N_BITS, MAX_ONES = 10, 4


class BitSpace(SearchSpace):
    """Bit strings with at most MAX_ONES ones. Its operators do NOT repair: mutation and
    crossover may return invalid strings, which the EA must reject."""

    type_name = "test-bits"

    def check(self, arch):
        if not (isinstance(arch, tuple) and len(arch) == N_BITS and set(arch) <= {0, 1}):
            return "not a bit tuple"
        return None if sum(arch) <= MAX_ONES else "too many ones"

    def key(self, arch):
        return "".join(map(str, arch))

    def sample(self, rng):
        ones = rng.choice(N_BITS, size=int(rng.integers(MAX_ONES + 1)), replace=False)
        return tuple(int(i in ones) for i in range(N_BITS))

    def mutate(self, arch, rng):
        a = list(arch)
        j = int(rng.integers(N_BITS))
        a[j] = 1 - a[j]
        return tuple(a)

    def crossover(self, a, b, rng):
        return tuple(int(x) for x in np.where(rng.random(N_BITS) < 0.5, a, b))

    def encode(self, archs, encoding=None):
        return np.array(archs, dtype=np.float32)

    def to_data(self, arch):
        return list(arch)

    def from_data(self, data):
        return self.validate(tuple(data))


WEIGHTS = np.array([3.0, -1.0, 2.5, 0.5, -2.0, 4.0, 1.0, -0.5, 2.0, 0.1])


def bit_fitness(archs):
    return np.asarray(archs, dtype=float) @ WEIGHTS


def test_ea_rejects_invalid_offspring_and_finds_the_constrained_optimum():
    space = BitSpace()
    calls = []

    def fitness(archs):
        assert all(space.is_valid(a) for a in archs), "an invalid architecture was scored"
        calls.append(len(archs))
        return bit_fitness(archs)

    res = evolve(space, fitness, np.random.default_rng(0), population=16, generations=60)
    assert res.n_invalid > 0  # the operators did produce invalid children
    best = np.zeros(N_BITS, dtype=int)
    best[np.argsort(-WEIGHTS)[:MAX_ONES]] = 1
    assert res.best == tuple(best)
    assert len(set(res.keys)) == len(res.keys) == sum(calls)  # each arch scored once
    assert len(set(res.population)) == 16
    assert np.all(np.diff(res.best_history) >= 0)


def test_ea_on_product_space_with_rule_keeps_distinct_valid_members():
    space = ProductSpace({"a": [0, 1, 2, 3], "b": ["x", "y", "z"], "c": [1, 2, 4, 8], "d": [0, 1]},
                         valid=lambda d: not (d["a"] == 3 and d["c"] == 8))
    value = {"x": 0.0, "y": 2.0, "z": 1.0}

    def fitness(archs):
        return np.array([a["a"] + value[a["b"]] + np.log2(a["c"]) + a["d"] for a in archs])

    res = evolve(space, fitness, np.random.default_rng(1), population=12, generations=30)
    assert all(space.is_valid(a) for a in res.archs)
    assert len(set(res.population)) == 12
    assert res.best in ({"a": 3, "b": "y", "c": 4, "d": 1}, {"a": 2, "b": "y", "c": 8, "d": 1})
    ranked = res.ranking(limit=5)
    assert fitness(ranked).tolist() == sorted(fitness(ranked).tolist(), reverse=True)


@pytest.fixture(scope="module")
def nb201():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # without data the space uses base-5 order
        space = NB201Space()
        space.op_codes
    return space


def test_ea_on_nb201_finds_the_argmax_of_an_additive_score(nb201):
    rng = np.random.default_rng(3)
    table = rng.normal(size=(6, 5))
    all_scores = table[np.arange(6), nb201.op_codes.astype(int)].sum(axis=1)

    def fitness(archs):
        return all_scores[nb201.indices(archs)]

    res = evolve(nb201, fitness, np.random.default_rng(0), population=64, generations=100)
    assert nb201.index(res.best) == int(np.argmax(all_scores))
    assert all(nb201.is_valid(a) for a in res.archs)
    assert len(set(res.keys)) == len(res.keys)
    assert res.fitness_calls <= 101  # one vectorised call per generation at most
    # ranking excludes what is asked to be excluded
    top = res.ranking(limit=3)
    assert res.ranking(exclude={nb201.key(top[0])}, limit=2) == top[1:3]


def test_ea_is_deterministic_given_the_generator(nb201):
    def fitness(archs):
        return nb201.op_codes[nb201.indices(archs)].astype(float) @ np.arange(6)

    a = evolve(nb201, fitness, np.random.default_rng(7), population=8, generations=20)
    b = evolve(nb201, fitness, np.random.default_rng(7), population=8, generations=20)
    assert a.keys == b.keys and np.array_equal(a.scores, b.scores)


def test_ea_seeds_enter_the_initial_population(nb201):
    seeds = [nb201[i] for i in range(5)]
    res = evolve(nb201, lambda a: np.zeros(len(a)), np.random.default_rng(0), population=8,
                 generations=0, seeds=seeds)
    assert res.archs[:5] == seeds and len(res.archs) == 8
    assert isinstance(res, EAResult)


def test_ea_rejects_a_fitness_of_the_wrong_length(nb201):
    with pytest.raises(ValueError, match="scores"):
        evolve(nb201, lambda a: np.zeros(1), np.random.default_rng(0), population=4, generations=1)


@pytest.mark.parametrize("kw", [
    {"population": 1}, {"population": 2.5}, {"generations": -1}, {"p_select": 1.0},
    {"p_select": 0.0}, {"p_crossover": 1.5}, {"p_crossover": 0.0, "p_mutation": 0.0},
    {"p_mutation": True},
])
def test_ea_validates_its_options(nb201, kw):
    with pytest.raises(ConfigurationError):
        evolve(nb201, lambda a: np.zeros(len(a)), np.random.default_rng(0), **kw)


@pytest.mark.slow
def test_ea_with_the_renas_cnn_runs_500_generations_in_seconds(nb201):
    """Smoke check of the real configuration (64 × 500 with the CNN predictor); the speed
    target itself is measured in benchmarks/renas.py, not asserted here."""
    torch = pytest.importorskip("torch")
    from nasopt.spaces.renas_features import nb201_tensors
    from nasopt.surrogates import make_surrogate

    rng = np.random.default_rng(0)
    idx = rng.choice(len(nb201), 40, replace=False)
    model = make_surrogate("renas", epochs=2, random_state=0)
    model.fit(nb201_tensors(nb201.op_codes[idx]), rng.normal(size=40))
    torch.set_num_threads(1)

    def fitness(archs):
        return model.predict(nb201_tensors(nb201.op_codes[nb201.indices(archs)]))

    t0 = time.perf_counter()
    res = evolve(nb201, fitness, rng, population=64, generations=500)
    elapsed = time.perf_counter() - t0
    assert len(res.best_history) == 500 and res.fitness_calls <= 501
    print(f"EA 64 x 500 with the CNN predictor: {elapsed:.1f} s")
