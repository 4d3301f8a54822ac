"""The ensemble mechanism shared by WeakNAS and ReNAS (nasopt.surrogates.ensemble)."""

from __future__ import annotations

import numpy as np
import pytest

from nasopt.core.errors import ConfigurationError
from nasopt.surrogates import BatchedMLP, Quadratic
from nasopt.surrogates.ensemble import Ensemble, fit_ensemble, member_seeds, new_surrogate


class Recorder:
    """A fake surrogate that remembers its training rows and predicts ``scale * x[:, 0]``."""

    def __init__(self, random_state=None, scale=1.0):
        self.random_state, self.scale = random_state, scale

    def get_params(self, deep=True):
        return {"random_state": self.random_state, "scale": self.scale}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X, y):
        self.X_, self.y_ = np.array(X), np.array(y)
        return self

    def predict(self, X):
        return self.scale * np.asarray(X, dtype=np.float64)[:, 0] + (self.random_state or 0)


def _data(n=40):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, X[:, 0] + 0.1 * rng.normal(size=n)


def test_member_seeds_are_one_draw_equal_to_drawing_them_one_by_one():
    a, b = np.random.default_rng(4), np.random.default_rng(4)
    seeds = member_seeds(a, 3)
    assert seeds == [int(b.integers(2**31 - 1)) for _ in range(3)]
    assert a.random() == b.random()  # the strategy's RNG advanced the same way
    assert all(isinstance(s, int) and 0 <= s < 2**31 - 1 for s in seeds)


def test_bootstrap_members_see_the_resample_drawn_from_their_own_seed():
    X, y = _data()
    ens = fit_ensemble(lambda seed: Recorder(seed), X, y, [11, 12], bootstrap=True)
    for model, seed in zip(ens.models, (11, 12)):
        idx = np.random.default_rng(seed).integers(len(X), size=len(X))
        np.testing.assert_array_equal(model.X_, X[idx])
        np.testing.assert_array_equal(model.y_, y[idx])
    plain = fit_ensemble(lambda seed: Recorder(seed), X, y, [11])
    np.testing.assert_array_equal(plain.models[0].X_, X)


def test_raw_members_are_stacked_and_averaged():
    X, y = _data()
    ens = fit_ensemble(lambda seed: Recorder(seed), X, y, [1, 5])
    rows = ens.predict_members(X[:7])
    np.testing.assert_array_equal(rows, np.stack([X[:7, 0] + 1, X[:7, 0] + 5]))
    np.testing.assert_allclose(ens.predict(X[:7]), X[:7, 0] + 3)
    assert ens.centres is None and ens.scales is None


def test_standardised_members_are_centred_and_scaled_on_the_training_set():
    X, y = _data()
    ens = fit_ensemble(lambda seed: Recorder(seed, scale=10.0 * seed), X, y, [1, 3],
                       standardize=True)
    z = (X[:, 0] - X[:, 0].mean()) / X[:, 0].std()
    for row in ens.predict_members(X):  # each member's output scale is gone
        np.testing.assert_allclose(row, z, atol=1e-12)
    np.testing.assert_allclose(ens.predict(X), z, atol=1e-12)
    flat = fit_ensemble(lambda seed: Recorder(seed, scale=0.0), X, y, [2], standardize=True)
    assert flat.scales == [1.0]  # a constant member is centred, not divided by zero
    np.testing.assert_array_equal(flat.predict(X), np.zeros(len(X)))


def test_a_batched_model_counts_as_its_members():
    X, y = _data()
    ens = fit_ensemble(lambda seed: BatchedMLP(members=3, hidden=(8,), epochs=20, random_state=seed),
                       X, y, [0], standardize=True)
    assert len(ens.models) == 1 and len(ens.centres) == 3
    assert ens.predict_members(X).shape == (3, len(X))


def test_new_surrogate_by_name_or_clone_sets_the_seed_where_there_is_one():
    model = new_surrogate("nn", 7, hidden=(4,))
    assert isinstance(model, BatchedMLP) and model.random_state == 7 and model.hidden == (4,)
    assert isinstance(new_surrogate("quadratic", 7, alpha=2.0), Quadratic)
    template = BatchedMLP(epochs=3)
    member = new_surrogate(template, 9, lr=0.1)
    assert member is not template and (member.random_state, member.lr, member.epochs) == (9, 0.1, 3)
    assert template.random_state is None and template.lr == 1e-2
    with pytest.raises(ConfigurationError, match="random_state is set per ensemble member"):
        new_surrogate("nn", 7, random_state=1)


def test_ensemble_of_given_models_combines_them():
    X, _ = _data()
    ens = Ensemble([Recorder(0).fit(X, X[:, 0]), Recorder(2).fit(X, X[:, 0])], [0.0, 2.0], [1.0, 1.0])
    np.testing.assert_allclose(ens.predict(X), X[:, 0])
