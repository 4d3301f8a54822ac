"""Zero-cost proxies: each against a value computed independently here (by hand on a small
network, or with a different formula), plus determinism, the model left unchanged, and
clear errors for bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from nasopt.core.errors import ConfigurationError  # noqa: E402
from nasopt.proxies import PROXIES, compute, flops, grad_norm, jacob_cov, naswot, params, snip, synflow  # noqa: E402


def two_layer(n_in: int = 3, hidden: int = 4, n_out: int = 2, bias: bool = True, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, hidden, bias=bias), nn.ReLU(), nn.Linear(hidden, n_out, bias=bias))


def weights(net: nn.Sequential) -> tuple[np.ndarray, ...]:
    """W1, b1, W2, b2 as float64 numpy (zeros for absent biases)."""
    l1, l2 = net[0], net[2]
    b1 = l1.bias.detach().double().numpy() if l1.bias is not None else np.zeros(l1.out_features)
    b2 = l2.bias.detach().double().numpy() if l2.bias is not None else np.zeros(l2.out_features)
    return l1.weight.detach().double().numpy(), b1, l2.weight.detach().double().numpy(), b2


def batch(n: int = 6, n_in: int = 3, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, n_in, generator=g), torch.randint(0, 2, (n,), generator=g)


# ----------------------------------------------------------------------------- synflow
@pytest.mark.parametrize("bias", [False, True])
def test_synflow_of_a_two_layer_net_equals_its_closed_form(bias):
    net = two_layer(bias=bias)
    W1, b1, W2, b2 = (np.abs(a) for a in weights(net))
    # all-ones input through the |θ| network: every ReLU is active
    h = W1 @ np.ones(3) + b1
    col = W2.sum(axis=0)  # dR/dh
    expected = np.sum(W1 * col[:, None]) + np.sum(W2 * h[None, :])
    assert synflow(net, torch.zeros(5, 3)) == pytest.approx(expected, rel=1e-12)
    if not bias:  # bias-free, homogeneous of degree 1 per layer: synflow = depth x R
        assert synflow(net, (3,)) == pytest.approx(2 * (W2 @ W1 @ np.ones(3)).sum(), rel=1e-12)


def test_synflow_ignores_the_input_values_and_takes_a_shape():
    net = two_layer()
    assert synflow(net, torch.randn(4, 3)) == synflow(net, torch.zeros(9, 3)) == synflow(net, [3])


# ----------------------------------------------------------------------------- naswot
def test_naswot_equals_the_log_determinant_of_hamming_agreements_counted_in_loops():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    x, _ = batch(n=4)
    # pre-activations by hand, in numpy
    W1, b1 = net[0].weight.detach().double().numpy(), net[0].bias.detach().double().numpy()
    W2, b2 = net[2].weight.detach().double().numpy(), net[2].bias.detach().double().numpy()
    a1 = x.double().numpy() @ W1.T + b1
    a2 = np.maximum(a1, 0) @ W2.T + b2
    codes = np.concatenate([a1 > 0, a2 > 0], axis=1)
    n = len(codes)
    K = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            K[i, j] = sum(1 for u in range(codes.shape[1]) if codes[i, u] == codes[j, u])
    assert np.linalg.det(K) > 0
    assert naswot(net, x) == pytest.approx(math.log(np.linalg.det(K)), rel=1e-12)


def test_naswot_is_minus_infinity_when_two_inputs_share_their_code():
    net = two_layer()
    x = torch.ones(3, 3)
    assert naswot(net, x) == -math.inf


# ----------------------------------------------------------------------------- jacob_cov
def test_jacob_cov_equals_minus_logdet_plus_trace_of_the_inverse():
    """-Σ log(λ+k) + 1/(λ+k) = -(log det(C + kI) + tr((C + kI)⁻¹)), C the correlation of
    the input Jacobians, which for a Linear-ReLU-Linear net is W1ᵀ(mask ⊙ W2ᵀ1) per input."""
    torch.manual_seed(4)
    net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    x, _ = batch(n=4, n_in=6)
    W1, b1, W2, _ = weights(net)
    mask = (x.double().numpy() @ W1.T + b1) > 0
    jac = (mask * W2.sum(axis=0)[None, :]) @ W1  # (batch, 6)
    xc = jac - jac.mean(axis=1, keepdims=True)
    cov = xc @ xc.T
    C = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    M = C + 1e-5 * np.eye(len(C))
    expected = -(np.linalg.slogdet(M)[1] + np.trace(np.linalg.inv(M)))
    assert jacob_cov(net, x) == pytest.approx(expected, rel=1e-6)


def test_jacob_cov_is_minus_infinity_for_a_constant_jacobian_row():
    net = nn.Sequential(nn.Linear(3, 2, bias=False))
    with torch.no_grad():
        net[0].weight.fill_(1.0)  # every Jacobian row is (2, 2, 2): no correlation defined
    assert jacob_cov(net, torch.randn(3, 3)) == -math.inf


def test_nb201_cells_without_a_path_to_the_output_score_lowest_not_nan():
    from nasopt.spaces import NB201Space

    space = NB201Space()
    torch.manual_seed(0)
    dead = space.build("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", C=4, N=1)
    live = space.build("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|", C=4, N=1)
    # no path and no convolution: the only ReLUs (reduction blocks, last act) read constants
    blind = space.build("|skip_connect~0|+|avg_pool_3x3~0|none~1|+|none~0|none~1|none~2|", C=4, N=1)
    x = torch.randn(4, 3, 8, 8)
    assert jacob_cov(dead, x) == -math.inf and math.isfinite(naswot(dead, x))
    assert naswot(blind, x) == -math.inf
    assert math.isfinite(jacob_cov(live, x)) and math.isfinite(naswot(live, x))


# ----------------------------------------------------------------------------- snip, grad_norm
def loss_gradients_by_hand(net: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """dL/dW1, dL/dW2 of the mean cross-entropy, backpropagated in numpy."""
    W1, b1, W2, b2 = weights(net)
    xs = x.double().numpy()
    a = xs @ W1.T + b1
    h = np.maximum(a, 0)
    z = h @ W2.T + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dz = (p - np.eye(z.shape[1])[y.numpy()]) / len(xs)
    da = (dz @ W2) * (a > 0)
    return da.T @ xs, dz.T @ h


def test_snip_and_grad_norm_equal_hand_backpropagation():
    net = two_layer()
    x, y = batch()
    g1, g2 = loss_gradients_by_hand(net, x, y)
    W1, _, W2, _ = weights(net)
    assert snip(net, x, y) == pytest.approx(np.abs(W1 * g1).sum() + np.abs(W2 * g2).sum(), rel=1e-5)
    assert grad_norm(net, x, y) == pytest.approx(np.linalg.norm(g1) + np.linalg.norm(g2), rel=1e-5)


def test_snip_takes_a_loss_function():
    net = two_layer()
    x, y = batch()
    assert snip(net, x, y, loss_fn=lambda out, t: 2 * nn.functional.cross_entropy(out, t)) == \
        pytest.approx(2 * snip(net, x, y), rel=1e-6)


# ----------------------------------------------------------------------------- params, flops
def test_params_counts_weights_and_biases():
    assert params(two_layer()) == 3 * 4 + 4 + 4 * 2 + 2
    assert params(two_layer(bias=False)) == 3 * 4 + 4 * 2


def test_flops_counts_multiply_accumulates_of_convolutions_and_linear_layers():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, bias=False), nn.BatchNorm2d(2), nn.ReLU(),
                        nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(4, 3))
    conv1 = 2 * 5 * 5 * (1 * 9)  # 2 maps of 5x5, 9 MACs each
    conv2 = 4 * 3 * 3 * (2 * 9 + 1)  # 4 maps of 3x3, 18 MACs and a bias each
    linear = 3 * (4 + 1)
    assert flops(net, torch.zeros(7, 1, 5, 5)) == flops(net, (1, 5, 5)) == conv1 + conv2 + linear
    bn, gap = 2 * (2 * 5 * 5), 4 * 3 * 3
    assert flops(net, (1, 5, 5), count="nb201") == conv1 + conv2 + 3 * 4 + bn + gap


def test_grouped_convolutions_count_their_groups():
    net = nn.Conv2d(4, 8, 3, padding=1, groups=4, bias=False)
    assert flops(net, (4, 6, 6)) == 8 * 36 * (1 * 9)


# ----------------------------------------------------------------------------- all proxies
def small_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))


def image_batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    return torch.randn(8, 3, 6, 6, generator=g), torch.randint(0, 3, (8,), generator=g)


def test_every_proxy_is_deterministic_for_a_seed_and_leaves_the_model_unchanged():
    x, y = image_batch()
    net = small_cnn()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    first = compute(net, x, y)
    assert list(first) == list(PROXIES) and all(np.isfinite(v) for v in first.values())
    assert {k: v for k, v in net.state_dict().items() if not torch.equal(v, before[k])} == {}
    assert all(p.grad is None for p in net.parameters()) and net.training
    assert compute(small_cnn(), x, y) == first  # same seed, same weights, same values
    other = compute(small_cnn(seed=1), x, y)
    assert other["synflow"] != first["synflow"] and other["snip"] != first["snip"]


def test_compute_seeds_models_with_random_layers():
    x, y = image_batch()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Dropout(0.5), nn.Flatten(), nn.Linear(64, 3))
    a = compute(net, x, y, ["snip", "grad_norm"], seed=7)
    assert compute(net, x, y, ["snip", "grad_norm"], seed=7) == a


def test_compute_shares_one_loss_pass_between_snip_and_grad_norm():
    x, y = image_batch()
    net = small_cnn()
    passes = []
    net.register_forward_hook(lambda *_: passes.append(1))  # deep copies keep the hook
    both = compute(net, x, y, ["snip", "grad_norm"])
    assert len(passes) == 1
    assert both == {"snip": snip(net, x, y), "grad_norm": grad_norm(net, x, y)}
    with pytest.raises(ConfigurationError, match="grad_norm needs targets"):
        compute(net, x, None, ["grad_norm", "snip"])


def test_a_tuple_output_is_read_as_its_logits():
    class TwoOutputs(nn.Module):  # the official NAS-Bench-201 models return (features, logits)
        def __init__(self) -> None:
            super().__init__()
            self.net = two_layer()

        def forward(self, x):
            return x, self.net(x)

    x, y = batch()
    wrapped = TwoOutputs()
    assert compute(wrapped, x, y) == compute(wrapped.net, x, y)


@pytest.mark.parametrize("call,match", [
    (lambda: compute(two_layer(), *batch(), proxies=["synflow", "zen"]), "unknown proxies"),
    (lambda: snip(two_layer(), batch()[0], None), "snip needs targets"),
    (lambda: grad_norm(two_layer(), batch()[0], torch.zeros(2, dtype=torch.long)), "one entry per input"),
    (lambda: naswot(two_layer(), torch.randn(1, 3)), "at least 2 inputs"),
    (lambda: naswot(nn.Linear(3, 2), torch.randn(4, 3)), "nn.ReLU"),
    (lambda: synflow("not a model", (3,)), "torch.nn.Module"),
    (lambda: jacob_cov(two_layer(), torch.zeros(4, 3, dtype=torch.long)), "floating-point input"),
    (lambda: flops(two_layer(), (3,), count="flops"), "flops count"),
    (lambda: flops(two_layer(), np.zeros((4, 3)), count="macs"), "shape of one input"),
    (lambda: synflow(two_layer(), (3, 0)), "shape of one input"),
    (lambda: synflow(two_layer(), 3), "shape of one input"),
])
def test_bad_input_is_a_configuration_error(call, match):
    with pytest.raises(ConfigurationError, match=match):
        call()
