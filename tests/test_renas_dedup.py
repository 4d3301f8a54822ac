"""The tabulated ReNAS CNN evaluation (``nasopt.surrogates._renas_dedup``) gives the plain
network's outputs (to float32 rounding) on every input geometry and pattern structure, uses
itself on the NAS-Bench-201 pool, and steps aside where it would not pay."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nasopt.core.errors import ConfigurationError
from nasopt.spaces.renas_features import nb101_tensors, nb201_tensors
from nasopt.surrogates import ReNASPredictor
from nasopt.surrogates import _renas_dedup as dedup
from nasopt.surrogates.renas import _ReNASNet

ALL_NB201 = np.array(np.meshgrid(*[np.arange(5)] * 6, indexing="ij")).reshape(6, -1).T


def _random_net(c: int, h: int, w: int, mid: int, seed: int) -> _ReNASNet:
    """A network in eval mode with random weights and random batch-norm statistics."""
    torch.manual_seed(seed)
    net = _ReNASNet(c, h, w, mid)
    gen = torch.Generator().manual_seed(seed)
    for bn in (net.conv[1], net.conv[4]):
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=gen))
        bn.running_var.copy_(torch.rand(bn.num_features, generator=gen) + 0.5)
        bn.weight.data.copy_(torch.randn(bn.num_features, generator=gen))
        bn.bias.data.copy_(torch.randn(bn.num_features, generator=gen))
    return net.eval()


def _plain(net: torch.nn.Module, x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return net(torch.from_numpy((x - mean) / std))[0].numpy()


def _tabulated(net, x, mean, std, chunk=64):
    with torch.inference_mode():
        out = dedup.dedup_forward(net, x, mean, std, chunk)
    return None if out is None else out.numpy()


def _assert_same_outputs(got: np.ndarray, want: np.ndarray) -> None:
    scale = max(float(np.abs(want).max()), 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * scale)


@st.composite
def patterned_batches(draw):
    """Inputs built like architecture tensors: each position takes one of a few value vectors
    (some positions constant, some tied to another position), on any grid from 1×1 to 5×6."""
    c, h, w = draw(st.integers(1, 4)), draw(st.integers(1, 5)), draw(st.integers(1, 6))
    n = draw(st.integers(1, 120))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    npos = h * w
    menu_size = rng.integers(1, draw(st.integers(1, 5)) + 1, npos)
    menu = rng.standard_normal((npos, 5, c)).astype(np.float32)
    picks = rng.integers(0, 5, (n, npos)) % menu_size
    tied = rng.random(npos) < 0.3
    picks[:, tied] = picks[:, [0]] % menu_size[tied]
    values = menu[np.arange(npos), picks]  # (n, P, C)
    x = np.ascontiguousarray(values.transpose(0, 2, 1).reshape(n, c, h, w))
    mean = rng.standard_normal((c, h, w)).astype(np.float32)
    std = (rng.random((c, h, w)) + 0.5).astype(np.float32)
    return x, mean, std, seed


@settings(max_examples=60, deadline=None)
@given(batch=patterned_batches(), limit_fraction=st.sampled_from([0.05, 0.25, 1.0]))
def test_tabulated_evaluation_matches_the_network_on_any_pattern_structure(batch, limit_fraction):
    x, mean, std, seed = batch
    net = _random_net(x.shape[1], x.shape[2], x.shape[3], mid=8, seed=seed % 1000)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dedup, "MIN_GAIN", 0.0)  # always use the plan, whatever it saves
        mp.setattr(dedup, "LIMIT_FRACTION", limit_fraction)
        got = _tabulated(net, x, mean, std, chunk=17)
    assert got is not None
    _assert_same_outputs(got, _plain(net, x, mean, std))


def test_colliding_projections_are_regrouped_exactly(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (200, 2, 3, 3)).astype(np.float32)
    mean, std = np.zeros((2, 3, 3), np.float32), np.ones((2, 3, 3), np.float32)
    net = _random_net(2, 3, 3, mid=8, seed=0)
    monkeypatch.setattr(dedup, "MIN_GAIN", 0.0)
    monkeypatch.setattr(dedup, "_project", lambda values: np.zeros(values.shape[:2], np.float32))
    ids = dedup.PatternIds(np.ascontiguousarray(x.reshape(200, 2, 9).transpose(0, 2, 1)))
    assert ids.pos_k == [len(np.unique(x[:, :, s // 3, s % 3], axis=0)) for s in range(9)]
    _assert_same_outputs(_tabulated(net, x, mean, std), _plain(net, x, mean, std))


@pytest.mark.slow  # the network on all 15,625 NB201 cells: ~8 s per kind under load
@pytest.mark.parametrize("kind", ["full", "onehot"])
def test_the_nb201_pool_is_scored_by_the_tables_and_matches_the_network(kind):
    x = nb201_tensors(ALL_NB201, kind=kind)
    est = ReNASPredictor(epochs=2, random_state=0).fit(x[::37], np.arange(len(x[::37]), dtype=float))
    net = est.net_.net
    mean, std = est.x_mean_, est.x_std_
    got = _tabulated(net, x, mean, std, chunk=1024)
    assert got is not None, "the NB201 pool repeats its patterns: the tables must pay"
    _assert_same_outputs(got, _plain(net, x, mean, std))


def test_inputs_without_repeated_patterns_fall_back_to_the_network():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 31, 4, 4)).astype(np.float32)
    net = _random_net(31, 4, 4, mid=128, seed=0)
    assert _tabulated(net, x, np.zeros((31, 4, 4), np.float32), np.ones((31, 4, 4), np.float32)) is None


def test_nb101_tensors_on_the_seven_by_seven_grid_match_the_network(monkeypatch):
    from nb101_fixture import distinct_cells

    x = nb101_tensors(distinct_cells(150, seed=1))
    net = _random_net(19, 7, 7, mid=16, seed=1)
    mean, std = x.mean(0), np.where(x.std(0) > 0, x.std(0), 1.0).astype(np.float32)
    monkeypatch.setattr(dedup, "MIN_GAIN", 0.0)
    _assert_same_outputs(_tabulated(net, x, mean, std), _plain(net, x, mean, std))


def test_predictor_outputs_agree_with_and_without_tabulation_and_repeat_exactly():
    x = nb201_tensors(ALL_NB201)
    y = np.random.default_rng(0).random(300)
    est = ReNASPredictor(epochs=5, loss="mse", random_state=0).fit(x[:300], y)
    fast = est.predict(x)
    np.testing.assert_array_equal(est.predict(x), fast)  # deterministic
    plain = est.set_params(dedup_predict=False).predict(x)
    np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=1e-5 * np.abs(plain).max())


def test_dedup_predict_must_be_a_bool():
    with pytest.raises(ConfigurationError, match="dedup_predict"):
        ReNASPredictor(epochs=1, dedup_predict="yes").fit(np.ones((4, 2)), np.arange(4.0))
