"""nasopt.proxies.ProxyPrior: zero-cost proxies as the prior= of WeakNAS / ReNAS for a space
that builds models, or with a model_fn of the user's."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nasopt  # noqa: E402
from nasopt.core.errors import ConfigurationError  # noqa: E402
from nasopt.proxies import ProxyPrior, compute  # noqa: E402
from nasopt.spaces import NB201Space, ProductSpace  # noqa: E402

SPACE = ProductSpace({"width": [4, 8, 16], "depth": [1, 2, 3], "act": ["relu", "tanh"]})


def small_net(arch: dict) -> torch.nn.Module:
    act = torch.nn.ReLU if arch["act"] == "relu" else torch.nn.Tanh
    layers: list[torch.nn.Module] = [torch.nn.Flatten()]
    width_in = 3 * 8 * 8
    for _ in range(arch["depth"]):
        layers += [torch.nn.Linear(width_in, arch["width"]), act()]
        width_in = arch["width"]
    layers.append(torch.nn.Linear(width_in, 10))
    return torch.nn.Sequential(*layers)


X = torch.randn(8, 3, 8, 8, generator=torch.Generator().manual_seed(0))
Y = torch.arange(8) % 10


def test_scores_are_the_proxies_of_the_untrained_network_synflow_as_its_log():
    prior = ProxyPrior(["synflow", "naswot", "params"], inputs=X, model_fn=small_net, seed=3)
    arch = {"width": 8, "depth": 2, "act": "relu"}
    torch.manual_seed(3)
    expected = compute(small_net(arch), X, proxies=["synflow", "naswot", "params"])
    got = prior(arch)
    assert got.shape == (3,)
    assert got[0] == pytest.approx(np.log(expected["synflow"]))
    assert got[1] == pytest.approx(expected["naswot"]) and got[2] == expected["params"]


def test_an_architecture_scores_the_same_whatever_was_scored_before():
    prior = ProxyPrior(["snip", "grad_norm"], inputs=X, targets=Y, model_fn=small_net)
    a, b = {"width": 16, "depth": 3, "act": "tanh"}, {"width": 4, "depth": 1, "act": "relu"}
    first = prior(a)
    prior(b)
    assert np.array_equal(prior(a), first)


def test_weaknas_starts_from_the_proxies_top_and_reports_their_cost_apart():
    from nasopt.strategies._prior import combined

    prior = ProxyPrior(["synflow", "params"], inputs=X, model_fn=small_net)
    opt = nasopt.create("weaknas", SPACE, seed=0, prior=prior, init=4, batch=2, prior_init=1.0, top_n=4)
    asked = opt.ask(4)
    members = [SPACE[i] for i in range(len(SPACE))]
    score = combined(np.array([prior(a) for a in members]))
    top4 = {SPACE.key(members[i]) for i in np.argsort(-score, kind="stable")[:4]}
    assert {SPACE.key(t.arch) for t in asked} == top4
    assert opt.prior_seconds > 0


def test_a_space_that_builds_models_needs_no_model_fn():
    sp = NB201Space()
    prior = ProxyPrior(["params"], inputs=torch.zeros(2, 3, 32, 32)).bind(sp)
    arch = sp[0]
    assert prior(arch)[0] == compute(sp.build(arch), torch.zeros(2, 3, 32, 32), proxies=["params"])["params"]


@pytest.mark.parametrize("kwargs, message", [
    ({"proxies": ["synflow", "zen"]}, "unknown proxies \\['zen'\\]"),
    ({"proxies": []}, "unknown proxies"),
    ({"proxies": ["snip"]}, "snip need targets="),
    ({"proxies": ["params"], "model_fn": 3}, "model_fn must be callable"),
])
def test_bad_proxy_priors_are_refused_when_made(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        ProxyPrior(inputs=X, **kwargs)


def test_a_space_without_build_and_no_model_fn_is_refused_at_construction():
    with pytest.raises(ConfigurationError, match="cannot build models: pass model_fn"):
        nasopt.create("weaknas", SPACE, prior=ProxyPrior(["params"], inputs=X))
