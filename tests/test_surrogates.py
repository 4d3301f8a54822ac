"""Surrogate estimators: construction by name, shapes, determinism, devices, losses, CV."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from nasopt.core.errors import ConfigurationError
from nasopt.surrogates import (
    GBRT, MLP, BatchedMLP, Quadratic, RandomForest, ReNASPredictor, available_surrogates, kendall_tau,
    make_surrogate, select_by_cv,
)

FAST = {
    "mlp": dict(hidden_layer_sizes=(32, 32), epochs=15),
    "gbrt": dict(n_estimators=30, max_depth=4),
    "rf": dict(n_estimators=20),
    "renas": dict(epochs=15, batch_size=128),
    "nn": dict(hidden=(32,), epochs=100),
    "quadratic": dict(),
}
NEURAL = ("mlp", "renas")
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available on this machine")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none here)")


def _data(n=120, d=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = X[:, 0] - 0.5 * X[:, 1] ** 2 + 0.3 * X[:, 2] * X[:, 3] + 0.05 * rng.normal(size=n)
    return X, y


def _tensors(n=96, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5, 4, 4)).astype(np.float32)
    y = X[:, 0, 0, 1] + X[:, 1, 2, 3] - 0.3 * X[:, 3, 1, 2] ** 2
    return X, y


def _inputs(name, **kw):
    return _tensors(**kw) if name == "renas" else _data(**kw)


def test_every_name_builds_its_class():
    assert available_surrogates() == ["gbrt", "mlp", "nn", "quadratic", "renas", "rf"]
    classes = {"mlp": MLP, "gbrt": GBRT, "rf": RandomForest, "renas": ReNASPredictor,
               "nn": BatchedMLP}
    for name, cls in classes.items():
        est = make_surrogate(name, random_state=3)
        assert type(est) is cls and est.random_state == 3
    # the ridge model is deterministic: no seed to set
    assert type(make_surrogate("quadratic", alpha=0.5)) is Quadratic
    assert "random_state" not in Quadratic().get_params()


def test_unknown_name_or_option_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="available: gbrt, mlp, nn, quadratic, renas, rf"):
        make_surrogate("svm")
    with pytest.raises(ConfigurationError, match="no option"):
        make_surrogate("rf", margin=0.1)


@pytest.mark.parametrize("name", ["mlp", "gbrt", "rf", "renas", "nn", "quadratic"])
def test_fit_returns_self_and_predict_gives_one_float_per_row(name):
    X, y = _inputs(name)
    est = make_surrogate(name, **FAST[name])
    assert est.fit(X, y) is est
    pred = est.predict(X[:17])
    assert pred.shape == (17,) and pred.dtype == np.float64 and np.all(np.isfinite(pred))
    assert est.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("name", ["mlp", "gbrt", "rf", "renas", "nn", "quadratic"])
def test_every_surrogate_learns_the_toy_target(name):
    X, y = _inputs(name, n=300)
    opts = {**FAST[name], "epochs": 60} if name in NEURAL else FAST[name]
    est = make_surrogate(name, **opts)
    est.fit(X[:200], y[:200])
    assert kendall_tau(y[200:], est.predict(X[200:])) > 0.4


@pytest.mark.parametrize("name", ["mlp", "gbrt", "rf", "renas", "nn"])
def test_same_seed_same_predictions_different_seed_different(name):
    X, y = _inputs(name)
    opts = dict(FAST[name], subsample=0.7) if name == "gbrt" else FAST[name]
    a = make_surrogate(name, random_state=5, **opts).fit(X, y).predict(X)
    b = make_surrogate(name, random_state=5, **opts).fit(X, y).predict(X)
    c = make_surrogate(name, random_state=6, **opts).fit(X, y).predict(X)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", NEURAL)
@pytest.mark.parametrize("loss", ["mse", "hinge"])
def test_results_do_not_depend_on_torch_thread_count(name, loss):
    X, y = _inputs(name)
    before = torch.get_num_threads()
    try:
        out = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            est = make_surrogate(name, random_state=1, loss=loss, lam=0.2, **FAST[name])
            out.append(est.fit(X, y).predict(X))
            assert torch.get_num_threads() == threads  # restored after fit / predict
    finally:
        torch.set_num_threads(before)
    assert np.array_equal(out[0], out[1])


@pytest.mark.parametrize("name", NEURAL)
def test_fit_leaves_torch_global_rng_alone(name):
    X, y = _inputs(name)
    state = torch.random.get_rng_state()
    make_surrogate(name, random_state=0, **FAST[name]).fit(X, y)
    assert torch.equal(state, torch.random.get_rng_state())


@pytest.mark.parametrize("name", NEURAL)
def test_prediction_in_small_chunks_matches_one_pass(name):
    X, y = _inputs(name)
    est = make_surrogate(name, random_state=0, **FAST[name]).fit(X, y)
    whole = est.predict(X)
    est.set_params(predict_batch_size=7)
    np.testing.assert_allclose(est.predict(X), whole, rtol=1e-5, atol=1e-6)


def test_ranking_loss_beats_mse_on_a_skewed_toy_problem():
    # y is a steep monotone function of a linear score: MSE chases the few huge targets,
    # a ranking loss only has to get the order right.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8)).astype(np.float32)
    y = np.exp(4 * X @ rng.normal(size=8) / np.sqrt(8))
    taus = {}
    for loss in ("mse", "hinge", "logistic"):
        fits = [MLP((32,), epochs=40, loss=loss, random_state=s).fit(X[:100], y[:100]) for s in range(2)]
        taus[loss] = np.mean([kendall_tau(y[100:], est.predict(X[100:])) for est in fits])
    assert taus["hinge"] > taus["mse"] + 0.05
    assert taus["logistic"] > taus["mse"] + 0.05


def test_ranking_predictions_keep_the_score_order_and_the_target_scale():
    X, y = _data()
    est = MLP((32,), epochs=20, loss="logistic", random_state=0).fit(X, y)
    pred = est.predict(X)
    assert pred.mean() == pytest.approx(y.mean(), abs=1e-6 + 1e-6 * abs(y.mean()))
    assert pred.std() == pytest.approx(y.std(), rel=1e-4)
    assert est.out_scale_ > 0  # order-preserving


def test_gbrt_pairwise_ranking_objective_learns_the_order():
    X, y = _data(n=300)
    est = GBRT(n_estimators=50, loss="logistic", random_state=0).fit(X[:200], y[:200])
    assert kendall_tau(y[200:], est.predict(X[200:])) > 0.4


def test_gbrt_default_pair_count_grows_with_the_training_set_up_to_64():
    from nasopt.surrogates import default_pairs_per_sample

    assert [default_pairs_per_sample(n) for n in (2, 16, 17, 32, 90, 128, 129, 4688)] == [
        8, 8, 8, 16, 45, 64, 64, 64]
    # the default is the same fit as asking for that count explicitly
    X, y = _data(n=90)
    auto = GBRT(n_estimators=20, loss="logistic", random_state=0).fit(X, y).predict(X)
    same = GBRT(n_estimators=20, loss="logistic", pairs_per_sample=45, random_state=0).fit(X, y).predict(X)
    other = GBRT(n_estimators=20, loss="logistic", pairs_per_sample=8, random_state=0).fit(X, y).predict(X)
    np.testing.assert_array_equal(auto, same)
    assert not np.array_equal(auto, other)


@pytest.mark.parametrize("pairs", [0, -3, 2.5, "many"])
def test_gbrt_rejects_a_pair_count_that_is_not_a_positive_integer(pairs):
    X, y = _data(n=40)
    with pytest.raises(ConfigurationError, match="pairs_per_sample"):
        GBRT(n_estimators=5, loss="logistic", pairs_per_sample=pairs).fit(X, y)


@pytest.mark.parametrize(
    "name,loss", [("gbrt", "hinge"), ("rf", "logistic"), ("mlp", "l1"), ("renas", "rank"),
                  ("nn", "l1"), ("quadratic", "hinge")]
)
def test_unsupported_loss_is_a_configuration_error(name, loss):
    X, y = _inputs(name)
    with pytest.raises(ConfigurationError, match="loss"):
        make_surrogate(name, loss=loss, **FAST[name]).fit(X, y)


@no_cuda
@pytest.mark.parametrize("name", ["mlp", "renas", "gbrt"])
def test_cuda_without_a_gpu_is_a_clear_error(name):
    X, y = _inputs(name)
    with pytest.raises(ConfigurationError, match="CUDA"):
        make_surrogate(name, device="cuda", **FAST[name]).fit(X, y)


@pytest.mark.parametrize("cls", [RandomForest, BatchedMLP, Quadratic])
@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_cpu_only_surrogates_refuse_other_devices(cls, device):
    X, y = _data()
    with pytest.raises(ConfigurationError, match="CPU"):
        cls(device=device).fit(X, y)
    if cls is not RandomForest:  # the numpy ones name the way out
        with pytest.raises(ConfigurationError, match=r"runs on the CPU only \(numpy\), got "
                                                     rf"device='{device}'; use device='cpu'"):
            cls(device=device).check_device()
    assert cls(device="cpu").check_device() == "cpu"


def test_batched_mlp_members_are_separate_networks_and_predict_is_their_mean():
    X, y = _data()
    est = BatchedMLP(members=3, hidden=(16,), epochs=50, loss="hinge", random_state=0).fit(X, y)
    rows = est.predict_members(X[:20])
    assert rows.shape == (3, 20) and rows.dtype == np.float64
    assert not np.array_equal(rows[0], rows[1])  # different initial weights
    np.testing.assert_array_equal(est.predict(X[:20]), rows.mean(0))
    assert [w.shape for w in est.weights_] == [(3, 12, 16), (3, 1, 16), (3, 16, 1), (3, 1, 1)]


@pytest.mark.parametrize("loss", ["mse", "hinge"])
def test_batched_mlp_with_a_target_column_per_member_learns_each_members_own_target(loss):
    """y of shape (n, members): member k fits column k (two opposite targets here), in one
    batched fit; a column count other than ``members`` is refused."""
    X, y = _data()
    Y = np.column_stack([y, -y])
    est = BatchedMLP(members=2, hidden=(16,), epochs=150, loss=loss, random_state=0).fit(X, Y)
    rows = est.predict_members(X)
    assert np.corrcoef(rows[0], y)[0, 1] > 0.8 and np.corrcoef(rows[1], -y)[0, 1] > 0.8
    with pytest.raises(ValueError, match="3 target columns.*2"):
        BatchedMLP(members=2, epochs=1).fit(X, np.column_stack([y, y, y]))


@pytest.mark.parametrize("workspace", [None, []])
def test_batched_mlp_input_groups_give_each_group_of_members_its_own_block_of_columns(workspace):
    """input_groups=2: members 0-1 read the first block of columns only, members 2-3 the
    second (each learns its own target from its own block); changing one block moves only
    its group's predictions."""
    X, y = _data(n=80, d=4)
    Z = np.random.default_rng(5).normal(size=X.shape)
    z = Z[:, 0] - Z[:, 1]
    est = BatchedMLP(members=4, hidden=(16,), epochs=150, input_groups=2,
                     random_state=0).fit(np.hstack([X, Z]), np.column_stack([y, y, z, z]))
    rows = est.predict_members(np.hstack([X, Z]), workspace=workspace)
    assert min(np.corrcoef(rows[k], y)[0, 1] for k in (0, 1)) > 0.8
    assert min(np.corrcoef(rows[k], z)[0, 1] for k in (2, 3)) > 0.8
    moved = est.predict_members(np.hstack([X, Z[::-1]]))
    assert np.array_equal(moved[:2], rows[:2]) and not np.allclose(moved[2:], rows[2:])
    with pytest.raises(ConfigurationError, match=r"input_groups \(3\) must divide members \(4\)"):
        BatchedMLP(members=4, input_groups=3).fit(np.hstack([X, Z]), y)


def test_batched_mlp_starts_from_init_weights_of_matching_shape_only():
    X, y = _data()
    first = BatchedMLP(hidden=(16,), epochs=30, random_state=0).fit(X, y)
    weights = [w.tolist() for w in first.weights_]
    # zero further steps: the network is exactly the given weights
    again = BatchedMLP(hidden=(16,), epochs=0, random_state=1, init_weights=weights).fit(X, y)
    np.testing.assert_array_equal(again.predict(X), first.predict(X))
    # weights of another shape are ignored: a random start, as with no init_weights
    other = BatchedMLP(hidden=(8,), epochs=0, random_state=1, init_weights=weights).fit(X, y)
    fresh = BatchedMLP(hidden=(8,), epochs=0, random_state=1).fit(X, y)
    np.testing.assert_array_equal(other.predict(X), fresh.predict(X))


def test_batched_mlp_runs_fewer_steps_once_the_training_set_exceeds_full_epochs_rows():
    X, y = _data(n=120)
    small = BatchedMLP(hidden=(8,), epochs=40, full_epochs_rows=120, random_state=0).fit(X, y)
    assert small.n_steps_ == 40  # up to full_epochs_rows rows: every step
    large = BatchedMLP(hidden=(8,), epochs=40, full_epochs_rows=30, random_state=0).fit(X, y)
    assert large.n_steps_ == 10  # 40 * 30 / 120 rows
    odd = BatchedMLP(hidden=(8,), epochs=40, full_epochs_rows=7, random_state=0).fit(X, y)
    assert odd.n_steps_ == 3  # ceil(40 * 7 / 120): rounded up, never 0
    # the shorter fit is the first n_steps_ steps of the full one
    same = BatchedMLP(hidden=(8,), epochs=10, random_state=0).fit(X, y)
    np.testing.assert_array_equal(large.predict(X), same.predict(X))


def test_batched_mlp_warm_started_fit_runs_warm_epochs_and_a_random_start_runs_epochs():
    X, y = _data()
    first = BatchedMLP(hidden=(16,), epochs=30, random_state=0).fit(X, y)
    weights = [w.tolist() for w in first.weights_]
    warm = BatchedMLP(hidden=(16,), epochs=30, warm_epochs=5, random_state=1,
                      init_weights=weights).fit(X, y)
    assert warm.n_steps_ == 5
    # the same 5 steps as epochs=5 from those weights
    ref = BatchedMLP(hidden=(16,), epochs=5, random_state=1, init_weights=weights).fit(X, y)
    np.testing.assert_array_equal(warm.predict(X), ref.predict(X))
    # without usable init_weights (none, or another shape) the fit is a random start: epochs
    assert BatchedMLP(hidden=(16,), epochs=30, warm_epochs=5).fit(X, y).n_steps_ == 30
    assert BatchedMLP(hidden=(8,), epochs=30, warm_epochs=5,
                      init_weights=weights).fit(X, y).n_steps_ == 30
    # full_epochs_rows shrinks the warm steps too
    both = BatchedMLP(hidden=(16,), epochs=30, warm_epochs=8, full_epochs_rows=30,
                      init_weights=weights).fit(X, y)
    assert both.n_steps_ == 2  # ceil(8 * 30 / 120)


def test_batched_mlp_without_step_options_runs_epochs_steps_unchanged():
    X, y = _data()
    plain = BatchedMLP(hidden=(16,), epochs=25, loss="hinge", random_state=3).fit(X, y)
    unset = BatchedMLP(hidden=(16,), epochs=25, loss="hinge", random_state=3, warm_epochs=None,
                       full_epochs_rows=None).fit(X, y)
    assert plain.n_steps_ == unset.n_steps_ == 25
    np.testing.assert_array_equal(plain.predict(X), unset.predict(X))
    # a training set no larger than full_epochs_rows: the very same fit
    capped = BatchedMLP(hidden=(16,), epochs=25, loss="hinge", random_state=3,
                        full_epochs_rows=len(X)).fit(X, y)
    np.testing.assert_array_equal(plain.predict(X), capped.predict(X))


def _reference_batched_mlp(X, y, members, hidden, epochs, loss, seed, weight_decay=0.0,
                           pairs=2048, margin=0.1):
    """BatchedMLP's training written plainly (a fresh array per operation, one Adam update
    per parameter): the weights the optimised loop must reproduce bit for bit."""
    from nasopt.surrogates.batched_mlp import _rng, phi_grad

    rng = _rng(seed)
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    y = np.asarray(y, dtype=np.float64)
    y = np.ascontiguousarray(y.T) if y.ndim == 2 else y
    n, K = len(X), members
    sizes = (X.shape[1], *hidden, 1)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(a)
        params += [rng.uniform(-bound, bound, size=(K, a, b)),
                   rng.uniform(-bound, bound, size=(K, 1, b))]
    m1, m2 = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    L, rows = len(params) // 2, np.arange(K)[:, None]
    for step in range(1, epochs + 1):
        acts = [np.broadcast_to(X, (K, n, X.shape[1]))]
        for k in range(L):
            z = acts[-1] @ params[2 * k] + params[2 * k + 1]
            acts.append(np.maximum(z, 0.0) if k < L - 1 else z)
        out = acts[-1][..., 0]
        if loss == "mse":
            g = 2.0 * (out - y) / n
        else:
            i, j = rng.integers(n, size=(K, pairs)), rng.integers(n, size=(K, pairs))
            s = np.sign(y[i] - y[j]) if y.ndim == 1 else np.sign(y[rows, i] - y[rows, j])
            dz = phi_grad((out[rows, i] - out[rows, j]) * s, loss, margin) * s / pairs
            flat = (rows * n + np.concatenate((i, j), 1)).ravel()
            g = np.bincount(flat, weights=np.concatenate((dz, -dz), 1).ravel(),
                            minlength=K * n).reshape(K, n)
        grad_out, grads = g[..., None], [None] * len(params)
        for k in range(L - 1, -1, -1):
            grads[2 * k] = acts[k].transpose(0, 2, 1) @ grad_out
            grads[2 * k + 1] = grad_out.sum(1, keepdims=True)
            if k:
                grad_out = (grad_out @ params[2 * k].transpose(0, 2, 1)) * (acts[k] > 0)
        lr_t = 1e-2 * np.sqrt(1 - 0.999**step) / (1 - 0.9**step)
        for p, gr, a, v in zip(params, grads, m1, m2):
            gr = gr + weight_decay * p if weight_decay else gr
            a *= 0.9
            a += (1 - 0.9) * gr
            v *= 0.999
            v += (1 - 0.999) * gr * gr
            p -= lr_t * a / (np.sqrt(v) + 1e-8)
    return params


@pytest.mark.parametrize("loss, members, hidden, weight_decay, columns", [
    ("hinge", 2, (64, 64), 0.0, False),
    ("mse", 1, (16,), 1e-3, False),
    ("logistic", 3, (8, 8, 8), 0.0, True),
])
def test_batched_mlp_fit_matches_the_plain_training_loop_bit_for_bit(
        loss, members, hidden, weight_decay, columns):
    # the fit's buffers and in-place updates are a speed-up only: the same float operations
    # in the same order, so WeakNAS's trajectories do not move (tests/test_determinism.py)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(57, 11)).astype(np.float32)
    y = rng.normal(size=(57, members)) if columns else rng.normal(size=57)
    est = BatchedMLP(members=members, hidden=hidden, epochs=20, loss=loss, random_state=9,
                     weight_decay=weight_decay).fit(X, y)
    ref = _reference_batched_mlp(X, y, members, hidden, 20, loss, 9, weight_decay)
    for got, want in zip(est.weights_, ref):
        assert got.tobytes() == want.tobytes()
    h = np.asarray(X, dtype=np.float64)
    for k in range(len(ref) // 2):  # the predictions too
        h = h @ ref[2 * k] + ref[2 * k + 1]
        h = np.maximum(h, 0.0) if k < len(ref) // 2 - 1 else h
    assert est.predict_members(X).tobytes() == h[..., 0].tobytes()


def test_batched_mlp_predictions_with_a_workspace_are_the_same_and_reuse_its_arrays():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 7))
    est = BatchedMLP(members=2, hidden=(16, 8), epochs=5, random_state=0).fit(X[:50], X[:50, 0])
    workspace: list = []
    first = est.predict_members(X, workspace=workspace)
    kept = [id(a) for a in workspace]
    assert [a.shape for a in workspace] == [(2, 300, 16), (2, 300, 8)]
    again = est.predict_members(X, workspace=workspace)
    assert [id(a) for a in workspace] == kept  # the same arrays, not new ones
    assert first.tobytes() == again.tobytes() == est.predict_members(X).tobytes()
    fewer = est.predict_members(X[:100], workspace=workspace)  # other shapes: replaced
    assert [a.shape for a in workspace] == [(2, 100, 16), (2, 100, 8)]
    assert fewer.tobytes() == est.predict_members(X[:100]).tobytes()
    assert first.tobytes() == again.tobytes()  # results never alias the workspace


@pytest.mark.parametrize("options, message", [
    ({"members": 0}, "members must be an integer >= 1"),
    ({"hidden": (16, 0)}, "hidden must be a sequence of positive ints"),
    ({"epochs": 2.5}, "epochs must be an integer >= 0"),
    ({"pairs": 0, "loss": "hinge"}, "pairs must be an integer >= 1"),
    ({"warm_epochs": -1}, "warm_epochs must be None or an integer >= 0"),
    ({"full_epochs_rows": 0}, "full_epochs_rows must be None or an integer >= 1"),
    ({"full_epochs_rows": 2.5}, "full_epochs_rows must be None or an integer >= 1"),
])
def test_batched_mlp_rejects_bad_settings_at_fit(options, message):
    X, y = _data()
    with pytest.raises(ConfigurationError, match=message):
        BatchedMLP(**options).fit(X, y)


def test_quadratic_fits_a_pairwise_interaction_exactly():
    X, _ = _data(n=200, d=4)
    y = 1.0 + X[:, 0] - 2.0 * X[:, 1] * X[:, 2]
    est = Quadratic(alpha=1e-8).fit(X, y)
    np.testing.assert_allclose(est.predict(X), y, atol=1e-5)
    with pytest.raises(ConfigurationError, match="alpha must be a number >= 0"):
        Quadratic(alpha=-1).fit(X, y)


def test_numpy_surrogates_load_neither_torch_nor_sklearn():
    import json
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from nasopt.surrogates import make_surrogate\n"
        "X = np.random.default_rng(0).normal(size=(30, 5)); y = X[:, 0]\n"
        "for name in ('nn', 'quadratic'):\n"
        "    make_surrogate(name).fit(X, y).predict(X)\n"
        "print(__import__('json').dumps([m for m in ('torch', 'sklearn', 'scipy') if m in sys.modules]))\n"
    )
    from pathlib import Path

    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         check=True, cwd=root, env={**__import__("os").environ, "PYTHONPATH": root})
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_auto_device_falls_back_to_cpu_without_cuda():
    X, y = _data()
    est = MLP((8,), epochs=2, device="auto", random_state=0).fit(X, y)
    assert est.device_ == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("name", ["mlp", "renas", "gbrt"])
def test_cuda_path_fits_and_ranks_like_cpu(name):
    X, y = _inputs(name, n=300)
    opts = {**FAST[name], "epochs": 60} if name in NEURAL else FAST[name]
    cpu = make_surrogate(name, random_state=0, device="cpu", **opts).fit(X[:200], y[:200])
    gpu = make_surrogate(name, random_state=0, device="cuda", **opts).fit(X[:200], y[:200])
    p_cpu, p_gpu = cpu.predict(X[200:]), gpu.predict(X[200:])
    assert p_gpu.shape == (100,) and np.all(np.isfinite(p_gpu))
    assert kendall_tau(p_cpu, p_gpu) > 0.8
    assert kendall_tau(y[200:], p_gpu) > 0.4


def test_renas_accepts_flat_and_image_inputs_and_checks_the_shape():
    X, y = _tensors()
    est = ReNASPredictor(epochs=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError):
        est.predict(X[:, :, :3, :])
    with pytest.raises(ValueError):
        est.predict(X.reshape(len(X), -1))
    flat = ReNASPredictor(epochs=3, random_state=0).fit(X.reshape(len(X), -1), y)
    assert flat.predict(X.reshape(len(X), -1)).shape == (len(X),)
    assert ReNASPredictor(epochs=3, random_state=0).fit(X[:, 0], y).predict(X[:5, 0]).shape == (5,)


def test_renas_network_is_the_official_lenet_layout():
    X, y = _tensors()
    net = ReNASPredictor(epochs=1, random_state=0).fit(X, y).net_.net
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding, c.bias) for c in convs] == [
        (5, 10, (3, 3), (1, 1), None), (10, 128, (3, 3), (1, 1), None)]
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules()) == 2
    fcs = [(m.in_features, m.out_features) for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert fcs == [(128 * 16, 120), (120, 84), (84, 1)]


def test_renas_standardises_every_input_element_on_the_training_set():
    X, y = _tensors()
    X = X * 1000 + 7
    est = ReNASPredictor(epochs=2, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.x_mean_, X.mean(0), rtol=1e-5)
    np.testing.assert_allclose(est.x_std_, X.std(0), rtol=1e-4)
    const = np.zeros_like(X)
    assert np.all(ReNASPredictor(epochs=1).fit(const, y).x_std_ == 1)


def test_constant_target_gives_a_constant_prediction():
    X, _ = _data()
    y = np.full(len(X), 3.5)
    for est in (MLP((8,), epochs=3, loss="hinge", random_state=0), MLP((8,), epochs=3, random_state=0)):
        np.testing.assert_allclose(est.fit(X, y).predict(X), 3.5, atol=1e-6)


def test_fitted_surrogates_pickle_round_trip():
    X, y = _tensors()
    est = ReNASPredictor(epochs=2, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))


def test_cv_picks_margin_and_lambda_from_the_grid_on_training_folds():
    X, y = _tensors(n=60)
    grid = {"margin": [0.1, 1.0], "lam": [0.0, 0.5]}
    est = ReNASPredictor(margin="cv", lam="cv", cv_grid=grid, epochs=5, random_state=0).fit(X, y)
    assert est.margin_ in grid["margin"] and est.lam_ in grid["lam"]
    assert len(est.cv_results_) == 4 and all(len(r["taus"]) == 3 for r in est.cv_results_)
    best = max(est.cv_results_, key=lambda r: r["tau"])
    assert (est.margin_, est.lam_) == (best["params"]["margin"], best["params"]["lam"])
    # the helper gives the same choice
    params, _ = select_by_cv(ReNASPredictor(epochs=5, random_state=0), X, y, grid, random_state=0)
    assert params == best["params"]


def test_cv_with_too_few_samples_falls_back_to_the_documented_defaults():
    from nasopt.surrogates.cv import FALLBACK

    X, y = _data(n=5)
    est = MLP((8,), epochs=2, loss="hinge", margin="cv", lam="cv", random_state=0).fit(X, y)
    assert (est.margin_, est.lam_) == (FALLBACK["margin"], FALLBACK["lam"])


def test_select_by_cv_never_sees_the_held_out_rows_while_fitting():
    seen = []

    class Spy(MLP):
        def fit(self, X, y):
            seen.append(len(X))
            return super().fit(X, y)

    X, y = _data(n=30)
    select_by_cv(Spy((8,), epochs=2), X, y, {"margin": [0.1]}, cv=3, random_state=0)
    assert seen == [20, 20, 20]


def test_bad_options_raise_configuration_errors():
    X, y = _data()
    for bad in (dict(epochs=0), dict(batch_size=1), dict(lr=0.0), dict(margin="auto"), dict(n_threads=0)):
        with pytest.raises(ConfigurationError):
            MLP(**bad).fit(X, y)


def test_speed_benchmark_writes_json_and_markdown(nb201_data, tmp_path):
    import json

    from benchmarks.surrogate_speed import main

    main(["--surrogates", "gbrt", "--sizes", "16", "--repeats", "1", "--data", str(nb201_data),
          "--out", str(tmp_path)])
    rows = json.loads((tmp_path / "surrogate_speed.json").read_text())["rows"]
    assert [(r["surrogate"], r["n_train"]) for r in rows] == [("gbrt", 16)]
    assert rows[0]["score_all_cpu_s"] > 0 and -1 <= rows[0]["tau_outside_train"] <= 1
    assert "| gbrt | 16 |" in (tmp_path / "surrogate_speed.md").read_text()
