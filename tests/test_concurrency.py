"""ask/tell from many threads at scale: unique ids, no duplicate architectures, no lost tells,
and a history equal to the set of tells; readers (best, trials, save) run concurrently. The
conformance suite (tests/test_conformance.py) runs a smaller 8-thread check, journal rebuild
included, on every strategy; the helpers live in nasopt.testing."""

from __future__ import annotations

import pytest

import nasopt
from nasopt.spaces.product import ProductSpace
from nasopt.testing import assert_hammered_run_is_consistent, hammer

THREADS, PER_THREAD = 8, 2000


def big_space() -> ProductSpace:
    """10^8 combinations: too many to enumerate, so the rejection-sampling path is used."""
    return ProductSpace({f"p{i}": list(range(10)) for i in range(8)}, max_enumerate=10_000)


@pytest.mark.slow
def test_8_threads_x_2000_trials_random_search(tmp_path):
    opt = nasopt.create("random", big_space(), seed=0)
    asked, told, errors = hammer(opt, THREADS, PER_THREAD, save_path=tmp_path / "run.ckpt")
    assert_hammered_run_is_consistent(opt, asked, told, errors, THREADS * PER_THREAD)
    again = nasopt.load(tmp_path / "run.ckpt")  # a checkpoint saved mid-run is consistent
    assert {t.id for t in again.trials} <= {t.id for t in opt.trials}


@pytest.mark.slow
def test_8_threads_rea_batches_and_failures():
    opt = nasopt.create("rea", big_space(), seed=1, population=20, tournament=5)
    asked, told, errors = hammer(opt, THREADS, 500, batch=3, fail_every=7)
    assert_hammered_run_is_consistent(opt, asked, told, errors, THREADS * 500)
    assert sum(t.is_failed for t in told) == len([t for t in asked if t.id % 7 == 0])


def test_threads_on_a_finite_space_use_each_member_once():
    space = ProductSpace({"a": list(range(20)), "b": list(range(20))})  # 400 members
    opt = nasopt.create("random", space, seed=2)
    asked, told, errors = hammer(opt, THREADS, 50)
    assert_hammered_run_is_consistent(opt, asked, told, errors, 400)
    with pytest.raises(nasopt.SpaceExhaustedError):
        opt.ask()
