"""Ranking / continuity losses of the neural surrogates (nasopt.surrogates.losses)."""

from __future__ import annotations

import pytest
import torch

from nasopt.core.errors import ConfigurationError
from nasopt.surrogates.losses import (
    RANKING_LOSSES, pairwise_loss, phi, sample_pairs, sample_triplets, surrogate_loss, triplet_loss,
)


def _misordered(scores: torch.Tensor, y: torch.Tensor) -> int:
    i, j = torch.triu_indices(len(y), len(y), offset=1)
    return int(((scores[i] - scores[j]) * torch.sign(y[i] - y[j]) < 0).sum())


def test_hinge_is_zero_beyond_the_margin_and_linear_below_it():
    z = torch.tensor([-1.0, 0.0, 0.2, 0.5, 0.7, 3.0])
    out = phi(z, "hinge", margin=0.5)
    assert torch.allclose(out, torch.tensor([1.5, 0.5, 0.3, 0.0, 0.0, 0.0]))


def test_hinge_margin_sets_which_correctly_ordered_pairs_still_cost():
    pred = torch.tensor([1.0, 0.0])  # ordered right with a gap of 1
    y = torch.tensor([2.0, 1.0])
    assert float(pairwise_loss(pred, y, "hinge", margin=0.5)) == 0.0
    assert float(pairwise_loss(pred, y, "hinge", margin=2.0)) == pytest.approx(1.0)
    # the same pair ordered wrongly always costs more than the margin
    assert float(pairwise_loss(-pred, y, "hinge", margin=0.5)) == pytest.approx(1.5)


@pytest.mark.parametrize("kind", RANKING_LOSSES)
def test_every_phi_decreases_with_better_ordering(kind):
    z = torch.linspace(-3, 3, 13)
    out = phi(z, kind, margin=1.0)
    assert torch.all(out[1:] <= out[:-1])
    assert torch.all(torch.isfinite(phi(torch.tensor([-1e4, 1e4]), kind)))


@pytest.mark.parametrize("kind", RANKING_LOSSES)
def test_a_ranking_loss_reduces_misordered_pairs(kind):
    g = torch.Generator().manual_seed(0)
    y = torch.randn(40, generator=g)
    scores = torch.randn(40, generator=g).requires_grad_(True)
    before = _misordered(scores.detach(), y)
    opt = torch.optim.Adam([scores], lr=0.05)
    for _ in range(200):
        loss = pairwise_loss(scores, y, kind, margin=0.1, max_pairs=256, generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = _misordered(scores.detach(), y)
    assert before > 100 and after < before / 10


def test_ties_carry_no_loss_or_gradient():
    pred = torch.tensor([0.3, -0.2, 1.0], requires_grad=True)
    y = torch.tensor([1.0, 1.0, 1.0])
    loss = pairwise_loss(pred, y, "hinge", margin=1.0)
    loss.backward()
    assert float(loss.detach()) == 0.0 and torch.all(pred.grad == 0)


def test_all_pairs_are_used_when_few_and_the_sample_is_bounded_otherwise():
    i, j = sample_pairs(10, max_pairs=45)
    assert len(i) == 45 and len({(int(a), int(b)) for a, b in zip(i, j)}) == 45
    g = torch.Generator().manual_seed(1)
    i, j = sample_pairs(1000, max_pairs=300, generator=g)
    assert len(i) == 300 and bool(torch.all(i != j)) and int(i.max()) < 1000
    i, j, k = sample_triplets(50, 500, g)
    assert len(i) == 500 and bool(torch.all(i != j)) and bool(torch.all(i != k))


def test_triplet_term_gradient_reaches_the_features():
    g = torch.Generator().manual_seed(2)
    feats = torch.randn(30, 8, generator=g, requires_grad=True)
    y = torch.randn(30, generator=g)
    loss = triplet_loss(feats, y, "hinge", margin=1.0, max_triplets=2000, generator=g)
    loss.backward()
    assert float(loss.detach()) > 0 and float(feats.grad.abs().sum()) > 0
    assert torch.all(torch.isfinite(feats.grad))


def test_triplet_term_pulls_similar_accuracies_together():
    # Minimising L2 must make feature distances follow target distances.
    g = torch.Generator().manual_seed(3)
    y = torch.linspace(0, 1, 20)
    feats = torch.randn(20, 4, generator=g).requires_grad_(True)
    opt = torch.optim.Adam([feats], lr=0.05)
    for _ in range(300):
        loss = triplet_loss(feats, y, "logistic", max_triplets=512, generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
    d = torch.cdist(feats.detach(), feats.detach())
    assert float(d[0, 1]) < float(d[0, 19])
    assert float(d[10, 11]) < float(d[10, 0])


def test_total_loss_adds_the_weighted_triplet_term():
    g = torch.Generator().manual_seed(4)
    pred, y = torch.randn(16, generator=g), torch.randn(16, generator=g)
    feats = torch.randn(16, 3, generator=g)
    l1 = surrogate_loss(pred, y, loss="logistic", generator=torch.Generator().manual_seed(5))
    full = surrogate_loss(pred, y, feats, loss="logistic", lam=0.5,
                          generator=torch.Generator().manual_seed(5))
    l2 = triplet_loss(feats, y, "logistic", generator=torch.Generator().manual_seed(5))
    assert float(full) == pytest.approx(float(l1) + 0.5 * float(l2), rel=1e-5)
    with pytest.raises(ConfigurationError):
        surrogate_loss(pred, y, loss="logistic", lam=0.5)


def test_strategies_check_losses_against_the_one_list_of_the_surrogates():
    from nasopt.spaces import ProductSpace
    from nasopt.strategies import renas, weaknas
    from nasopt.surrogates import losses

    assert weaknas.LOSSES is losses.LOSSES and renas.LOSSES is losses.LOSSES
    space = ProductSpace({"a": [1, 2, 3], "b": [4, 5, 6]})
    for strategy in (renas.ReNAS, weaknas.WeakNAS):
        with pytest.raises(ConfigurationError, match=r"loss must be one of \('mse', 'hinge', "
                                                     r"'logistic', 'exponential'\), got 'l1'"):
            strategy(space, surrogate="mlp", loss="l1", init=2)
