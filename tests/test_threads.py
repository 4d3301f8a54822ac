"""Thread limits around the strategies' fits (``n_threads``): the BLAS / OpenMP / torch
thread count during a fit is nasopt's choice (default 1), overridable, restored afterwards,
validated, kept by save / load, and without effect on the proposals."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import nasopt
from nasopt.core.errors import ConfigurationError
from nasopt.core.threads import thread_limit
from nasopt.spaces import ProductSpace
from nasopt.strategies.renas import ReNAS
from nasopt.strategies.weaknas import WeakNAS

SPACE = ProductSpace({f"p{k}": ["a", "b", "c", "d"] for k in range(5)})  # 1024 members
WEIGHTS = np.random.default_rng(7).normal(size=(5, 4))
FAST_RENAS = {"surrogate": "mlp", "encoding": "onehot", "init": 20, "top_k": 5,
              "surrogate_options": {"hidden_layer_sizes": [16], "epochs": 5}}


def objective(arch: dict) -> float:
    return float(sum(WEIGHTS[k, "abcd".index(arch[f"p{k}"])] for k in range(5)))


def blas_threads() -> int:
    """Threads of the BLAS numpy uses, as the library reports them now."""
    return max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")


def run(opt, n: int) -> list[str]:
    keys = []
    while len(keys) < n:
        for t in opt.ask(5):
            opt.tell(t, objective(t.arch))
            keys.append(opt.space.key(t.arch))
    return keys


def fit_threads(monkeypatch, opt, method: str, n: int) -> list[tuple[int, int]]:
    """(BLAS threads, torch threads) seen inside each call of ``opt.<method>`` while ``n``
    architectures are proposed and told, the caller's settings being 2 threads."""
    import torch

    seen: list[tuple[int, int]] = []
    inner = getattr(type(opt), method)

    def spy(self, *args, **kwargs):
        seen.append((blas_threads(), torch.get_num_threads()))
        return inner(self, *args, **kwargs)

    monkeypatch.setattr(type(opt), method, spy)
    torch_before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with threadpool_limits(limits=2):
            run(opt, n)
            assert blas_threads() == 2 and torch.get_num_threads() == 2  # restored
    finally:
        torch.set_num_threads(torch_before)
    assert seen, f"{method} was never called"
    return seen


@pytest.mark.parametrize("n_threads, expected", [(None, 2), (1, 1), (3, 3)])
def test_thread_limit_sets_blas_and_torch_threads_and_restores_them(n_threads, expected):
    import torch

    torch_before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with threadpool_limits(limits=2):
            with thread_limit(n_threads):
                assert blas_threads() == expected and torch.get_num_threads() == expected
            assert blas_threads() == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(torch_before)


def test_weaknas_fits_on_one_thread_by_default_whatever_the_callers_setting(monkeypatch):
    opt = WeakNAS(SPACE, seed=0, init=10, batch=5, top_n=20)
    assert opt.n_threads == 1
    assert set(fit_threads(monkeypatch, opt, "_fit_predict", 30)) == {(1, 1)}


@pytest.mark.parametrize("n_threads, expected", [(2, (2, 2)), (None, (2, 2))])
def test_weaknas_n_threads_overrides_the_limit_or_switches_it_off(monkeypatch, n_threads, expected):
    opt = WeakNAS(SPACE, seed=0, init=10, batch=5, top_n=20, n_threads=n_threads)
    assert set(fit_threads(monkeypatch, opt, "_fit_predict", 30)) == {expected}


def test_renas_fits_and_ranks_on_one_thread_by_default(monkeypatch):
    opt = ReNAS(SPACE, seed=0, **FAST_RENAS)
    assert opt.n_threads == 1
    assert set(fit_threads(monkeypatch, opt, "fit_predictor", 30)) == {(1, 1)}


@pytest.mark.parametrize("cls, options", [(WeakNAS, {}), (ReNAS, FAST_RENAS)])
@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_n_threads_is_a_configuration_error_naming_it(cls, options, bad):
    with pytest.raises(ConfigurationError, match="n_threads"):
        cls(SPACE, n_threads=bad, **options)


@pytest.mark.parametrize("cls, options", [(WeakNAS, {"init": 10, "batch": 5, "top_n": 20}),
                                          (ReNAS, FAST_RENAS)])
@pytest.mark.parametrize("n_threads", [None, 1, 2])
def test_n_threads_survives_save_and_load(cls, options, n_threads, tmp_path):
    opt = cls(SPACE, seed=0, n_threads=n_threads, **options)
    run(opt, 25)
    opt.save(tmp_path / "run.json")
    assert nasopt.load(tmp_path / "run.json").n_threads == n_threads


@pytest.mark.parametrize("cls, options", [(WeakNAS, {"init": 10, "batch": 5, "top_n": 20}),
                                          (ReNAS, FAST_RENAS)])
def test_n_threads_does_not_change_the_proposals(cls, options):
    runs = {n: run(cls(SPACE, seed=3, n_threads=n, **options), 40) for n in (None, 1, 2)}
    assert runs[None] == runs[1] == runs[2]
