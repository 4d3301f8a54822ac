"""WeakNAS (Wu et al., "Stronger NAS with Weaker Predictors", NeurIPS 2021): progressive weak
predictors with top-N sampling.

The loop: evaluate ``init`` random architectures; then, repeatedly, fit a fresh (weak)
predictor on every result so far, score the candidates (the whole space when it is finite,
else a pool of uniform samples plus mutations of the best architectures found), take the
predicted top-``top_n``, drop what was already asked, and draw ``batch`` of them (uniformly
by default, or with linearly / exponentially decaying weights by rank). Each weak predictor
only needs to rank the *current* good region correctly, which is easier than ranking the
whole space.

In the ask/tell loop the drawn batch is a queue served by :meth:`ask`; when it runs dry the
predictor is refit on everything completed so far, so with the usual ``ask(batch)`` /
``tell`` cycle the predictor is refit once per batch. Results may arrive in any order,
failed trials are never re-proposed (and not trained on), and pending trials are excluded
from new proposals.

Beyond the paper (all optional, measured in ``benchmarks/search.py``):
``ensemble`` (several predictors averaged; their spread feeds ``acquisition="ei"``, the
paper's "BO variant" being ``ensemble=5, acquisition="ei"``), ranking losses (``loss=`` of
the neural predictors), ``warm_start`` (the neural predictor starts from the previous
iteration's weights), ``exploit`` (a share of each batch reserved for the predicted best
one-step mutations of the best architecture found) and ``patience`` (stagnation: when the
best result has not improved for ``patience`` refits in a row, the rest of the batch is drawn
``widen_sampling`` from a predicted top list twice as wide, doubling again every further
``patience`` stagnant refits and back to ``top_n`` as soon as the best improves; so a predictor
that is confidently wrong about the region of the optimum cannot keep the search in a local
basin forever).

Predictors (``surrogate=``):

* ``"mlp"``, ``"gbrt"``, ``"rf"``, ``"renas"``: the estimators of :mod:`nasopt.surrogates`
  (built with ``make_surrogate(name, **surrogate_options)``; the paper's settings are the
  MLP 4 x 1000, XGBoost 1000 trees depth 20 and random forest 1000 trees depth 10).
* ``"nn"``: a small batched ensemble of MLPs trained full-batch (numpy; fast; the default;
  :class:`~nasopt.surrogates.BatchedMLP`, one network per ``ensemble`` member).
* ``"quadratic"``: ridge regression on the encoding and all its pairwise products
  (:class:`~nasopt.surrogates.Quadratic`).

Every predictor is a registered surrogate of :mod:`nasopt.surrogates`, fitted through
:mod:`nasopt.surrogates.ensemble` (the mechanism ReNAS uses too).

Several objectives (``objectives=["max", "min"]``) and constraints told with the results
(``tell(trial, values, constraints=[...])``) are described in :class:`WeakNAS`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..core.errors import ConfigurationError, NumericalError
from ..core.optimizer import MAX_REJECTIONS, Optimizer
from ..core.checks import (
    check_bool, check_budget, check_choice, check_fraction, check_init_fits, check_int,
    scaled_init,
)
from ..core.registry import register_strategy
from ..core.space import SearchSpace
from ..core.threads import DEFAULT_THREADS, check_n_threads, thread_limit
from ._numeric import non_finite_message, overflow_safe
from ._prior import PriorArgument, resolve_prior, standardize, top_unseen
from ..surrogates.ensemble import fit_ensemble, member_seeds, new_surrogate
from ..surrogates.losses import LOSSES
from ..core.pareto import nondominated_mask
from ._multi import (
    after_repeats, chebyshev, class_means, class_representatives, hv_improvement_2d,
    normalise_columns, pareto_top, reference_gap, resolve_reference, with_reference,
)

#: Settings of the paper per search space type (``SearchSpace.type_name``).
PAPER_DEFAULTS: dict[str, dict[str, int]] = {
    "nb201": {"init": 10, "batch": 10, "top_n": 100},
    "nb101": {"init": 100, "batch": 10, "top_n": 100},
}
#: Used for every other space.
GENERIC_DEFAULTS: dict[str, int] = {"init": 10, "batch": 10, "top_n": 100}
#: ``init`` of the default configuration where a larger random start was measured to pay
#: (NB201: tuned on seeds 0-29 of all three datasets, see :class:`WeakNAS`); elsewhere the
#: paper's ``M0``. ``init="paper"`` always gives the paper's ``M0``.
TUNED_INIT: dict[str, int] = {"nb201": 30}
#: ``init`` of the default configuration with several objectives (NB201: 20 measured lower
#: hypervolume regret than 30 with ``exploit=0``, see ``mo_selection`` of :class:`WeakNAS`).
TUNED_INIT_MULTI: dict[str, int] = {"nb201": 20}
#: The default ``exploit`` share with one objective, and with several (measured in
#: :class:`WeakNAS`: the front's neighbours did not pay with several objectives).
DEFAULT_EXPLOIT = 0.5
MULTI_EXPLOIT = 0.0
#: The default ``quality_exploit`` share with several objectives: the predicted best unseen
#: neighbours of the most accurate result, 2 of a batch of 10 (measured in :class:`WeakNAS`).
MULTI_QUALITY_EXPLOIT = 0.2
#: A default ``init`` is at most this share of the query budget: the ``budget=`` hint and, on
#: a finite space, its size. Measured at 50 queries on NB201 (``benchmarks/small_budget.py``,
#: ``docs/small_budgets.md``): 20 random architectures did at least as well as 10 or 30.
INIT_SHARE = 0.4
#: ``full_epochs_rows`` of the ``"nn"`` predictor when ``prior="auto"`` chose a prior (unless
#: ``surrogate_options`` sets it): the refits of the measured automatic-prior preset, which
#: keep a long search's CPU linear in its length (``docs/priors.md``, CPU per search).
AUTO_FULL_EPOCHS_ROWS = 64
#: ``full_epochs_rows`` of the ``"nn"`` predictor with several objectives (unless
#: ``surrogate_options`` sets it): the shortened refits of the automatic prior's preset.
#: Measured (NB201, seeds 0-9, ``benchmarks/hardware_tuning.py``): the hypervolume regret
#: of the full refits, paired by seed at 100 / 200 queries -0.000 +- 0.002 / +0.002 +- 0.003
#: on ImageNet16-120 x raspi4 / fpga / gold_6226 (``results/hardware/mo_tuning_cpu.md``) and
#: +0.003 +- 0.003 / -0.001 +- 0.003 on CIFAR-10 / CIFAR-100 x pixel3 / titan_rtx_1
#: (``mo_tuning_cpu_cifar.md``), at 2/3 of their CPU: 2.4 s instead of 3.5 s per 200-query
#: search, where a single-objective one takes 1.4 s (CIFAR-10).
MULTI_FULL_EPOCHS_ROWS = 64
#: The batch size ``M`` of the default configuration (the paper's 10 on every space).
DEFAULT_BATCH = 10
#: Options that reproduce the paper's loop (with any predictor): uniform sampling of ``M``
#: from the predicted top-``N`` with the paper's ``M0, M, N``, MSE on z-scored targets.
PAPER_OPTIONS: dict[str, Any] = {
    "sampling": "uniform", "exploit": 0.0, "loss": "mse", "ensemble": 1, "patience": 0,
    "init": "paper", "prior": None,
}

#: Several objectives: candidates predicted per block by the batched networks.
PREDICT_ROWS = 2048
#: The ``"nn"`` predictor's hidden activations on the candidates are kept from refit to
#: refit up to this size (NB201: 32 MiB with the default 2 x (64, 64) networks).
WORKSPACE_BYTES = 64 * 2**20
#: Ranked candidate lists at least this long have their keys checked at once
#: (:meth:`_KeyCheck.many`) rather than one at a time up to the last one needed.
VECTOR_CHECK = 256
#: Mutations drawn per parent when collecting its neighbours for ``exploit``.
EXPLOIT_DRAWS = 200
#: At most this many parents (best results first) are searched for unseen neighbours.
MAX_EXPLOIT_PARENTS = 20
#: Several objectives: mutations drawn per parent on the front, at least (a front of ``f``
#: results shares ``EXPLOIT_DRAWS``, so the neighbourhood search costs about what one
#: parent's does with one objective; 50 draws find ~88 % of an NB201 cell's 24 neighbours).
MIN_FRONT_DRAWS = 50

SAMPLINGS = ("uniform", "linear", "exp", "greedy")
#: How a multi-objective batch is drawn from the predictions (see :class:`WeakNAS`).
MO_SELECTIONS = ("pareto", "parego", "hvi")
WIDEN_SAMPLINGS = ("uniform", "linear", "exp")
ACQUISITIONS = ("mean", "ei", "ucb")
TARGETS = ("zscore", "rank", "raw")
#: The numpy surrogates (WeakNAS's own predictors before they were registered).
INTERNAL = ("nn", "quadratic")
SHARED = ("mlp", "gbrt", "rf", "renas")
#: Options of the ``"nn"`` / ``"quadratic"`` surrogates that WeakNAS sets itself.
STRATEGY_SET = ("members", "loss", "random_state", "init_weights", "input_groups")


# ====================================================================== the strategy
@register_strategy("weaknas")
class WeakNAS(PriorArgument, Optimizer):
    """WeakNAS: progressive weak predictors, sampling from the predicted top-N.

    The default configuration was tuned on NAS-Bench-201 validation accuracy (training seeds
    0-29; ``benchmarks/search.py`` compares it on held-out seeds): an ensemble of 2 small MLPs
    (2 x 64, pairwise hinge loss on z-scored targets, averaged), 30 random architectures to
    start (the paper's 10 left a quarter of the CIFAR-10 runs with a predictor that had
    never seen the region of the optimum, so that greedy + exploit settled in a distant
    local basin), batches of 10, half of each batch from the predicted best unseen
    neighbours of the best result (stepping back to the next best results when a
    neighbourhood is used up) and the other half greedily from the predicted top of the
    space; when the best result has not improved for 3 refits (30 queries), the greedy half
    is drawn uniformly from a predicted top list that doubles (200, 400, ..., the whole
    space) every 3 further stagnant refits, and returns to the top-100 as soon as the best
    improves (``patience``). On the training seeds, mean queries to the optimum on CIFAR-10 /
    CIFAR-100 / ImageNet16-120 (ImageNet16-120: seeds 0-15): MSE with ``init=10`` (the
    previous default) 121.0 / 68.7 / 227.5, hinge with ``init=10`` 120.7 / 64.0 / 142.5,
    hinge with ``init=20`` 92.3 / 62.7 / 201.2, hinge with ``init=30`` (the default)
    85.3 / 67.0 / 157.5; Optuna's TPE needs 97.7 on the CIFAR-10 seeds
    (``benchmarks/tune_weaknas.py``, ``results/tune_weaknas.md``).
    ``WeakNAS(space, **PAPER_OPTIONS)`` is the paper's loop (``patience=0``).

    Args:
        space: The search space.
        surrogate: A :mod:`nasopt.surrogates` name: ``"nn"`` (default: small batched MLP
            ensemble, :class:`~nasopt.surrogates.BatchedMLP`), ``"quadratic"``, ``"mlp"``,
            ``"gbrt"``, ``"rf"`` or ``"renas"``.
        init: ``M0``, random architectures before the first predictor. Default: NB201 30
            (:data:`TUNED_INIT`; 20 with several objectives, :data:`TUNED_INIT_MULTI`),
            elsewhere the paper's (NB101 100; other spaces 10), scaled
            down to at most ``INIT_SHARE`` (40 %) of the budget (``budget``, and the size of
            a finite space) so that small runs are not random search; ``"paper"``: the
            paper's ``M0`` on every space (NB201 10). An explicit ``init`` must be smaller
            than a finite space and than ``budget``.
        batch: ``M``, architectures drawn per iteration (10).
        top_n: ``N``, size of the predicted top list the batch is drawn from (100); must be
            at least ``batch``.
        sampling: How the batch is drawn from the top-N: ``"greedy"`` (default: the best
            ``batch``), ``"uniform"`` (paper), ``"linear"`` or ``"exp"`` decay by rank.
        top_n_unseen: ``False`` (paper): the top-N is taken over the whole candidate set and
            the architectures already asked are then removed; ``True``: the top-N unseen.
        pool_size: Candidates scored per iteration on spaces that cannot be enumerated
            (uniform samples plus mutations of the best found).
        ensemble: Number of predictors averaged (each with its own seed / bootstrap;
            default 2, paper 1).
        acquisition: ``"mean"`` (paper), ``"ei"`` (expected improvement over the best
            result, from the ensemble's mean and spread) or ``"ucb"`` (mean + ``kappa`` std).
        kappa: Exploration weight of ``"ucb"``.
        warm_start: Start each neural predictor from the previous one's weights (``"nn"``).
        exploit: Share of each batch (0..1; default 0.5, with several objectives 0;
            paper 0) given to the predicted best unseen one-step mutations of the best
            result found (with several objectives: of the results on the front).
        exploit_parents: Pool the neighbours of at least this many best results.
        quality_exploit: With several objectives, the share of each batch (0..1; default
            :data:`MULTI_QUALITY_EXPLOIT`) given to the unseen one-step mutations of the
            result best on the **first** objective (the quality, as for ``reference``;
            feasible results first), those predicted best on it: the local search that
            finds the single-objective optimum early, kept for the accurate end of the
            front, where a Pareto batch spends one candidate per refit. Ignored with one
            objective (``exploit`` is that search there). Measured on the tuning seeds 0-9
            (``benchmarks/hardware_tuning.py``, ``results/hardware/mo_tuning_quality.md``,
            21 NB201 dataset x cost pairs), paired by seed against ``quality_exploit=0``:
            -0.006 +- 0.004 / -0.005 +- 0.003 / -0.000 +- 0.002 hypervolume regret at 50 /
            100 / 200 queries, the runs whose most accurate query in 100 scores below 0.9 on
            the regret's accuracy scale (median 0, best cell 1) 18 of 210 instead of 29;
            the reference at the 60 % quantile instead, or both, did no better.
        patience: Stagnation detection (default 3; 0 or ``None`` disables it, the paper's
            loop): after every ``patience`` refits in a row without a better result, the
            non-exploit part of the batch is drawn from a top list twice as wide
            (``top_n * 2**level`` of the predicted best unseen candidates, capped at the
            candidate set); the level resets to 0 when the best improves. The counter is
            saved with the optimizer state.
        widen_sampling: How the batch is drawn from the widened top list while stagnating:
            ``"uniform"`` (default), ``"linear"`` or ``"exp"`` decay by rank.
        target: Training targets: ``"zscore"`` (official code), ``"rank"`` or ``"raw"``.
        encoding: Encoding fed to the predictor (default: the space's first).
        loss: Loss of the neural predictors: ``"mse"``, ``"hinge"``, ``"logistic"`` or
            ``"exponential"`` (default: ``"hinge"`` for ``"nn"``, ``"mse"`` for the others).
        surrogate_options: Extra keyword arguments of the predictor (JSON-able), checked
            here: unknown names, and a device this machine lacks (``{"device": "cuda"}``
            without CUDA), raise :class:`~nasopt.core.errors.ConfigurationError`.
        n_threads: BLAS / OpenMP / torch threads while the predictors are fitted and
            evaluated (default 1, the cheapest in CPU; ``None``: the libraries' own settings);
            it does not change the proposals. A surrogate's own thread option
            (``surrogate_options``) still applies inside its fit.
        budget: Optional hint: the number of queries the run will make. It only scales the
            default ``init`` (measured in ``docs/small_budgets.md``); it does not stop the run.
        prior: Optional cheap scores known before training (``docs/priors.md``): a callable
            ``arch -> float or sequence of floats``, a ``dict`` canonical key -> scores, an
            array in a finite space's index order, or ``"free"``: the space's free features
            (parameter count and FLOPs on NB201 and NAS-Bench-Macro; refused on a space
            without them); **higher is more promising** in every column. ``None`` is no
            prior. ``"auto"`` (the default) takes what is free for the space: on
            ``NB201Space`` the packaged zero-cost proxy table (log synflow of every cell,
            :func:`nasopt.proxies.table.nb201_space_scores`; measured on 100 held-out seeds:
            50.3 / 38.4 / 125.5 mean queries to the validation optimum on CIFAR-10 /
            CIFAR-100 / ImageNet16-120, against 83.7 / 65.8 / 186.4 without a prior,
            ``docs/priors.md``), else the space's free features when it has some
            (NAS-Bench-Macro's params and FLOPs), else, on a space that can ``build`` its
            networks, their parameter counts (on a finite space of at most
            :data:`~nasopt.strategies._prior.AUTO_BUILD_LIMIT` members every member's,
            each built once at the first fit; else only the start's share, ranked within
            :data:`~nasopt.strategies._prior.AUTO_BUILD_POOL` uniform samples, no features),
            else none (the run is then exactly that of ``prior=None``). With several
            objectives (where a "more promising" score has no direction between accuracy
            and cost) it is predictor input only and leaves the random start to chance: on
            ``NB201Space`` the five zero-cost proxies of the packaged table (synflow, naswot,
            jacob_cov, snip, grad_norm) and the cells'
            :func:`~nasopt.spaces.nb201.function_features` (live op counts, live paths,
            convolutions per path, the live network's params and FLOPs), 14 columns
            (:func:`nasopt.proxies.table.nb201_space_inputs`), elsewhere none. Measured
            (``docs/hardware.md``): hypervolume regret at 50 / 100 / 200 queries paired by
            seed with ``prior=None``, -0.027 +- 0.007 / -0.018 +- 0.004 / -0.009 +- 0.002 on
            the tuning seeds 0-19 (the three datasets x gold_6226 / raspi4;
            ``results/hardware/mo_tuning_inputs.md``: the proxies alone -0.007 at 100
            queries, the function features alone -0.004), and -0.023 +- 0.003 / -0.014 +-
            0.002 / -0.010 +- 0.001 on the 720 held-out runs of the 24 dataset x cost pairs
            (seeds 2000-2029), at 1.08x the CPU. When ``"auto"`` chose a prior, the
            ``"nn"`` predictor's refits are shortened above :data:`AUTO_FULL_EPOCHS_ROWS`
            results (``full_epochs_rows``, unless ``surrogate_options`` sets it), as in
            that measured preset. Evaluated lazily, at most once per architecture, and cached (the time
            spent is :attr:`prior_seconds`). Used (a) for the first ``prior_init`` share of
            the ``init`` random start: drawn uniformly from the ``top_n`` unseen
            architectures ranked by the mean of the standardized prior columns (a "zeroth
            weak predictor"; on a space that cannot be enumerated, ranked within a pool of
            ``pool_size`` uniform samples), and (b) with ``prior_features``, as standardized
            extra predictor inputs appended to the encoding. A runtime argument, not an
            option (:attr:`~nasopt.core.optimizer.Optimizer.runtime_arguments`): not in
            :meth:`get_params`; checkpoints and journals record only what identifies it, so
            :func:`nasopt.load` needs ``prior=`` again, like ``space=``. A prior that fails
            raises :class:`~nasopt.core.errors.PriorError` naming the architecture, and the
            optimizer is unchanged. Without a prior, the run is exactly that of a WeakNAS
            without one.
        prior_init: Share (0..1) of the ``init`` start chosen by the prior (default 0.5; the
            rest uniform); ignored without a prior and for the automatic prior of several
            objectives (predictor inputs only).
        prior_features: Append the standardized prior scores to the predictor's input
            (default ``True``); ignored without a prior.
        mo_selection: With several objectives, how each batch is drawn from the
            predictions: ``"pareto"`` (NSGA-II's order of the predicted scores:
            non-dominated rank, then crowding distance), ``"parego"`` (ParEGO: one draw at
            a time, each maximizing the augmented Chebyshev scalarization of the normalised
            predictions under a fresh random weight vector) or ``"hvi"`` (two objectives:
            one draw at a time, each adding the most predicted hypervolume to the predicted
            front of the results and the draws before it). Ignored with one objective.
            Default ``"pareto"``. Measured: hypervolume regret ``1 - HV / HV*`` (accuracy
            normalised from the space's median (0) to its maximum (1), clipped at 0;
            latency from its maximum (0) to its minimum (1); reference (0, 0)) of NB201
            CIFAR-10 validation accuracy x latency at 100 queries, seeds 0-19, mean of
            the two halves' means +- s.e.m., Pixel 3 / Raspberry Pi 4. With ``init=30``,
            ``exploit=0.5`` (the single-objective defaults): ``"pareto"`` 0.086 +- 0.007 /
            0.077 +- 0.008, ``"parego"`` 0.088 +- 0.008 / 0.084 +- 0.010, ``"hvi"``
            0.086 +- 0.007 / 0.085 +- 0.007 (they differ by less than their noise);
            ``"pareto"`` with ``exploit=0``: 0.079 +- 0.006 / 0.072 +- 0.008, and with
            ``init=20, exploit=0`` (the multi-objective defaults) 0.069 +- 0.007 / 0.063
            +- 0.007. Random search 0.220 / 0.203 on the same seeds; Optuna's
            multi-objective TPE 0.113 / 0.136 (the issue's reference, 10 seeds; random
            0.193 / 0.177 there). Tuned again where the defaults are furthest from half of
            TPE's regret, ImageNet16-120 x Raspberry Pi 4 / FPGA / Xeon Gold 6226 latency,
            seeds 0-9 (``benchmarks/hardware_tuning.py``, the command and the table in
            ``results/hardware/mo_tuning.md``, full refits): the defaults' regret at 100
            queries, 0.088 on average over the three, was not lowered beyond the noise by
            any of ``init`` 10 or 15, ``batch=5`` (twice the CPU), ``"hvi"``, ``acquisition="ucb"`` (with
            ``"pareto"`` or ``"hvi"``), ``exploit=0.3``, the synflow prior (as input, or
            also for half the start), ``encoding="onehot-live"``, ``target="rank"`` or
            ``loss="mse"`` (paired by seed: from -0.009 +- 0.009 for ``init=10``, -0.003 +-
            0.006 on seeds 0-19, to +0.017 +- 0.009), and none had less regret at 200
            queries (0.029 with the defaults; ``patience`` 0 or 6 changed one run of 30,
            after 100 queries: the front rarely stalls for 3 refits).
            Neither did an expected hypervolume improvement over the ensemble members
            (tried, not kept: -0.002 +- 0.006 at 100 queries, +0.015 +- 0.003 at 200,
            seeds 0-19), nor ``init=10``, ``"hvi"`` or the synflow input on CIFAR-10 /
            CIFAR-100 x Pixel 3 / Titan RTX (``results/hardware/mo_tuning_cifar.md``).
        reference: With several objectives, the region of the front that the search
            serves: one quantile per objective (``None`` or 0: no limit) of that objective's
            predictions over the candidates (the predicted-feasible ones, once a told
            constraint has been violated); a candidate predicted worse than the quantile on
            some objective ranks after every candidate inside the region (those by how far
            they fall short, as predicted-infeasible ones are ranked by Deb's rule; the
            predicted-infeasible ones still come last). ``"auto"`` (the default): the median
            (:data:`~nasopt.strategies._multi.AUTO_REFERENCE_QUANTILE`) on the **first**
            objective, taken to be the quality measure (accuracy), no limit on the others
            (costs: latency, parameters): the queries go to the trade-off among the
            architectures better than the typical one, the region that the hypervolume
            regret of ``benchmarks/hardware.py`` counts (accuracy normalised from the
            space's median), and the cheap architectures worse than the median are left to
            the random start. ``None``: the whole front, the cheapest corner included (the
            multi-objective default before ``"auto"``). Ignored with one objective.
            Measured on the tuning seeds 0-9 (``benchmarks/hardware_tuning.py``,
            ``results/hardware/mo_tuning_reference.md``, 24 dataset x cost pairs): without
            a reference 36 % of queries 21-100 were below the median accuracy, with
            ``"auto"`` 23 %; paired by seed, the regret at 50 / 100 / 200 queries fell by
            0.020 +- 0.003 / 0.019 +- 0.004 / 0.012 +- 0.002 (0.090 -> 0.071 at 100
            queries); on the held-out seeds of ``docs/hardware.md`` by 0.008-0.027 at 100
            queries, per dataset and kind of cost. A limit on the cost too (``[0.5, 0.1]``:
            the 10 % predicted slowest out) did worse (+0.013 +- 0.005 at 100 queries,
            ``results/hardware/mo_tuning_after_reference.md``). The region is the
            predictor's: quantiles of predictions, not of told values, so a ranking loss's
            uncalibrated scale does not matter.
        function_aware: With several objectives on a finite space that labels its members
            by the function they compute (:meth:`~nasopt.core.space.SearchSpace.function_classes`;
            ``NB201Space``: cells that differ only in dead edges, or mirror images), use it
            (default ``True``). The **first** objective is taken to be the quality (as for
            ``reference``), a property of the function, the others costs of the built
            network (dead edges are built: they cost latency, parameters and FLOPs): the
            quality predictor reads the space's
            :attr:`~nasopt.core.space.SearchSpace.function_encoding` (NB201 ``"onehot-live"``,
            dead edges as ``none``; with ``"nn"`` in the same batched fit as the cost
            predictors, which read the strategy's encoding) and its predictions are averaged
            over each class; among the members of a function not asked yet only the one
            with the best predictions (the predicted cheapest) ranks with the new
            candidates, the others and every member of a function asked before after them,
            so that no query repeats a function while a new one is left. ``False``, a space
            without labels, or one objective: exactly the search without it. Measured on
            the tuning seeds (``benchmarks/hardware_tuning.py``,
            ``results/hardware/mo_tuning_function.md``): without it 12.1 of queries 21-100
            repeated the function of an earlier query on average, with it none; over the
            24 dataset x cost pairs of NB201 (240 runs each), paired by seed, the
            regret at 50 / 100 / 200 queries fell by 0.021 +- 0.005 / 0.017 +- 0.004 /
            0.007 +- 0.002 (0.071 -> 0.054 at 100 queries), and on the held-out seeds of
            ``docs/hardware.md`` by 0.014-0.027 at 100 queries per dataset and kind of
            cost (its ``weaknas-noqx`` rows against ``weaknas-nofunc``), at 3.06 s instead
            of 2.88 s per 200-query search (``results/hardware/mo_tuning_cpu_function.md``).
        stall_repeats: With ``function_aware``, once the front has stalled (``patience``
            refits in a row without a new member: :attr:`stagnation_level` above 0) the
            members of functions asked before rank with the new candidates again, by their
            predictions, until the front moves (default ``True``). A table's members of one
            function were trained separately, so a member of a function on the front can
            still extend it by the chance of its training; with ``False`` no function is
            asked twice while a new one is left, and a long search levels off at the front
            of one member per function.

    **Several objectives** (``objectives=``): one predictor per objective, each fitted on
    that objective's results turned into "larger is better" (with ``"nn"``, the
    ``ensemble`` networks of every objective are trained in one batched fit). The batch is
    drawn by ``mo_selection`` from the predictions; the ``exploit`` share comes from the
    unseen one-step mutations of the results on the feasible front (each front member
    drawing at least :data:`MIN_FRONT_DRAWS` mutations), ranked the same way; ``patience``
    counts the refits in a row after which no new result joined the front; the ``"nn"``
    predictor's refits are shortened above :data:`MULTI_FULL_EPOCHS_ROWS` results
    (``full_epochs_rows``, unless ``surrogate_options`` sets it); candidates predicted
    below the median on the first objective rank after the others (``reference``), and a
    function (a class of ``space.function_classes()``) is asked once while the front moves
    (``function_aware``, ``stall_repeats``); a ``quality_exploit`` share of each batch goes
    to the neighbours of the most accurate result.
    ``acquisition`` applies to each objective's predictions. A ``prior`` works as with one
    objective (its scores feed every predictor, and its share of the random start is its
    top).

    **Constraints told with the results** (``tell(..., constraints=[...])``, ``<= 0``
    feasible): once a result violates one, a regression predictor per constraint (the
    strategy's surrogate, MSE on the z-scored constraint values) predicts each candidate's
    violation, and Deb's rule ranks the candidates: every predicted-feasible one before
    every predicted-infeasible one, those by predicted violation (with one objective too:
    the exploit parents are then the feasible results, best first). Results that violate
    are still learned from by the objective predictors.

    **Constraints known before evaluation** (``constraints=[fn]``): an infeasible cell is
    never drawn. The candidates are tested lazily, in the order a batch reaches them (the
    predicted ranking, the exploit neighbours, the prior's ranking, the random start), so
    the top-N list, the exploit share and the queue hold feasible cells only and one refit
    serves a whole batch, as without constraints; each function runs at most once per cell
    over the run (:meth:`~nasopt.core.optimizer.Optimizer._feasible_before`). Measured
    (NB201, a constraint that rejects most of the predicted top): 8 refits for 100 single
    asks with ``init=20, batch=10``, as unconstrained, where filtering the proposals after
    the strategy drew them took 26 (one objective) and 10 (two).

    ``seed``, ``maximize``, ``direction``, ``allow_duplicates`` and ``journal`` are those of
    :class:`~nasopt.core.optimizer.Optimizer`.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        surrogate: str = "nn",
        init: int | str | None = None,
        batch: int | None = None,
        top_n: int | None = None,
        sampling: str = "greedy",
        top_n_unseen: bool = False,
        pool_size: int = 2000,
        ensemble: int = 2,
        acquisition: str = "mean",
        kappa: float = 1.0,
        warm_start: bool = False,
        exploit: float | None = None,
        exploit_parents: int = 1,
        quality_exploit: float | None = None,
        patience: int = 3,
        widen_sampling: str = "uniform",
        target: str = "zscore",
        encoding: str | None = None,
        loss: str | None = None,
        surrogate_options: dict | None = None,
        n_threads: int | None = DEFAULT_THREADS,
        budget: int | None = None,
        prior: Any = "auto",
        prior_init: float = 0.5,
        prior_features: bool = True,
        mo_selection: str = "pareto",
        reference: Any = "auto",
        function_aware: bool = True,
        stall_repeats: bool = True,
        **optimizer_kw: Any,
    ) -> None:
        super().__init__(space, **optimizer_kw)
        self.mo_selection = check_choice("mo_selection", mo_selection, MO_SELECTIONS)
        if self.mo_selection == "hvi" and self.n_objectives > 2:
            raise ConfigurationError(
                f"mo_selection='hvi' handles two objectives, got {self.n_objectives}: use "
                "'pareto' or 'parego'")
        self.reference = reference
        self._reference = resolve_reference(reference, self.n_objectives)
        self.function_aware = check_bool("function_aware", function_aware)
        self.stall_repeats = check_bool("stall_repeats", stall_repeats)
        defaults = PAPER_DEFAULTS.get(space.type_name, GENERIC_DEFAULTS)
        self.surrogate = check_choice("surrogate", surrogate, INTERNAL + SHARED)
        init_arg = init
        budget = check_budget(budget)
        if init is None:
            tuned = TUNED_INIT_MULTI if self.n_objectives > 1 else TUNED_INIT
            init = scaled_init(tuned.get(space.type_name, defaults["init"]), space, budget,
                               INIT_SHARE)
        elif init == "paper":
            init = defaults["init"]
        elif isinstance(init, str):
            raise ConfigurationError(f"init must be an integer >= 1 or 'paper', got {init!r}")
        else:
            check_init_fits(check_int("init", init, 1), space, budget)
        self._init = check_int("init", init, 1)
        self._batch = check_int("batch", DEFAULT_BATCH if batch is None else batch, 1)
        self._top_n = check_int("top_n", defaults["top_n"] if top_n is None else top_n, 1)
        if self._top_n < self._batch:
            raise ConfigurationError(
                f"top_n ({self._top_n}) must be >= batch ({self._batch}): the batch is drawn "
                "from the predicted top-N"
            )
        self.sampling = check_choice("sampling", sampling, SAMPLINGS)
        self.top_n_unseen = bool(top_n_unseen)
        self.pool_size = check_int("pool_size", pool_size, 1)
        if not space.is_finite and self.pool_size < self._top_n:
            raise ConfigurationError(
                f"pool_size ({self.pool_size}) must be >= top_n ({self._top_n})"
            )
        self.ensemble = check_int("ensemble", ensemble, 1)
        self.acquisition = check_choice("acquisition", acquisition, ACQUISITIONS)
        if self.acquisition != "mean" and self.ensemble < 2:
            raise ConfigurationError(
                f"acquisition={acquisition!r} needs an ensemble of at least 2 predictors "
                f"(got ensemble={ensemble})"
            )
        if not isinstance(kappa, numbers.Real) or kappa < 0:
            raise ConfigurationError(f"kappa must be a non-negative number, got {kappa!r}")
        self.kappa = float(kappa)
        self.warm_start = bool(warm_start)
        if self.warm_start and self.surrogate != "nn":
            raise ConfigurationError("warm_start is available for surrogate='nn' only")
        exploit_arg = exploit
        if exploit is None:
            exploit = MULTI_EXPLOIT if self.n_objectives > 1 else DEFAULT_EXPLOIT
        self._exploit_share = check_fraction("exploit", exploit)
        self.exploit_parents = check_int("exploit_parents", exploit_parents, 1)
        self.quality_exploit = quality_exploit  # as given (get_params)
        self._quality_share = check_fraction(
            "quality_exploit", MULTI_QUALITY_EXPLOIT if quality_exploit is None else quality_exploit)
        self._patience = check_int("patience", 0 if patience is None else patience, 0)
        self.widen_sampling = check_choice("widen_sampling", widen_sampling, WIDEN_SAMPLINGS)
        self.target = check_choice("target", target, TARGETS)
        self._encoding = None if encoding is None else space._check_encoding(encoding)
        loss_arg = loss
        if loss is None:  # ranking loss for the built-in MLPs (measured), MSE for the rest
            loss = "hinge" if self.surrogate == "nn" else "mse"
        self._loss = check_choice("loss", loss, LOSSES)
        if self._loss != "mse" and self.surrogate in ("rf", "quadratic"):
            raise ConfigurationError(f"loss={loss!r} needs a neural predictor, not {surrogate!r}")
        if surrogate_options is not None and not isinstance(surrogate_options, dict):
            raise ConfigurationError("surrogate_options must be a dict of keyword arguments")
        self._surrogate_options = dict(surrogate_options or {})
        self.n_threads = check_n_threads(n_threads)
        self._check_surrogate_options()
        # the arguments as given (get_params); the values above are resolved from them
        self.init, self.batch, self.top_n, self.patience = init_arg, batch, top_n, patience
        self.exploit = exploit_arg
        self.encoding, self.loss, self.surrogate_options = encoding, loss_arg, surrogate_options
        self.budget = budget
        self.prior_init = check_fraction("prior_init", prior_init)
        self.prior_features = bool(prior_features)
        self.prior = prior  # a runtime argument (not in get_params)
        self._prior = resolve_prior(prior, space, self.n_objectives)
        if self._prior is not None and self._prior.auto and self.surrogate == "nn":
            # the measured preset of the automatic prior: refits shortened above 64 results
            self._surrogate_options.setdefault("full_epochs_rows", AUTO_FULL_EPOCHS_ROWS)
        elif self.n_objectives > 1 and self.surrogate == "nn":  # measured: same regret, less CPU
            self._surrogate_options.setdefault("full_epochs_rows", MULTI_FULL_EPOCHS_ROWS)
        # --- run state (persisted)
        self._queue: list[Any] = []  # drawn but not served yet
        self._fits = 0
        self._warm: list | None = None
        self._best: float | None = None  # best score at the last refit
        self._stall = 0  # refits in a row without improving the best score
        self._front_n = 0  # several objectives: results in at the last refit
        # --- caches (rebuilt on demand)
        self._X_all: np.ndarray | None = None
        self._X_function: np.ndarray | bool | None = None  # see _function_inputs
        self._X_grouped: tuple | None = None  # see _side_by_side
        self._positions: dict[str, int] | bool | None = None  # see _key_positions
        self._long_checks = 0
        self._workspace: list = []  # see _predict_nn
        self._believed: tuple | None = None  # "hvi": predicted front and reference of a refit
        self._classes: np.ndarray | bool | None = None  # see _function_classes

    def _check_surrogate_options(self) -> None:
        """Unknown predictor options, or a device this machine lacks, fail now rather than at
        the first fit (after ``init`` evaluations). torch is imported only for the torch
        predictors and when a device is asked for."""
        opts = self._surrogate_options
        if self.surrogate in INTERNAL:  # numpy only: build one to check the options
            from ..surrogates import make_surrogate

            valid = sorted(set(make_surrogate(self.surrogate).get_params()) - set(STRATEGY_SET))
            unknown = sorted(set(opts) - set(valid))
            if unknown:
                raise ConfigurationError(
                    f"surrogate {self.surrogate!r} has no option(s) {', '.join(unknown)}; "
                    f"options: {', '.join(valid)}"
                )
            make_surrogate(self.surrogate, **opts).check_device()
            return
        if self.surrogate in ("mlp", "renas") or "device" in opts:
            from ..surrogates import make_surrogate

            if self._loss != "mse":
                opts = {**opts, "loss": self._loss}
            try:
                model = make_surrogate(self.surrogate, **opts)
            except ConfigurationError:
                raise
            except (TypeError, ValueError) as exc:
                raise ConfigurationError(f"bad surrogate settings: {exc}") from exc
            model.check_device()

    # ------------------------------------------------------------------ prior
    def _prior_unseen(self, n: int, keys: set[str]) -> list[Any]:
        """``n`` architectures drawn uniformly from the ``top_n`` best by the prior, less
        those that may not be proposed (in ``keys``, seen); when fewer than ``n`` of them
        are left, the next best available by the prior."""
        return top_unseen(self._prior, self.space, self._rng, n, self._top_n,
                          lambda key: self._available(key, keys), self._start_pool(keys),
                          self._feasible_before if self.constraints else None)

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> dict:
        return {
            "queue": [self.space.to_data(a) for a in self._queue],
            "fits": self._fits,
            "warm": self._warm,
            "best": self._best,
            "stall": self._stall,
            "front_n": self._front_n,
        }

    def _set_state(self, state: dict) -> None:
        self._queue = [self.space.from_data(a) for a in state.get("queue", [])]
        self._fits = int(state.get("fits", 0))
        self._warm = state.get("warm")
        best = state.get("best")
        self._best = None if best is None else float(best)
        self._stall = int(state.get("stall", 0))
        self._front_n = int(state.get("front_n", 0))

    def _quick_state(self) -> tuple | None:
        """The state for a rollback without encoding it (the network weights of
        ``warm_start`` are thousands of numbers): the queue copied (:meth:`_propose` pops
        it), the rest by reference (numbers; ``_warm`` is replaced at each fit, never
        changed in place). ``None`` for a subclass with its own :meth:`_get_state`."""
        if type(self)._get_state is not WeakNAS._get_state:
            return None
        return (list(self._queue), self._fits, self._warm, self._best, self._stall,
                self._front_n)

    def _restore_quick_state(self, state: tuple) -> None:
        queue, self._fits, self._warm, self._best, self._stall, self._front_n = state
        self._queue = list(queue)

    # ------------------------------------------------------------------ proposing
    def _propose(self, n: int) -> list[Any]:
        out: list[Any] = []
        keys: set[str] = set()
        n_random = min(n, max(0, self._init - len(self._trials)))
        n_done = len(self.completed)
        if n_done < 2:  # nothing to learn from yet (everything pending or failed)
            n_random = n
        if n_random:
            n_prior = 0
            if self._prior_ranks_start:  # the first prior_init share of init from the prior
                n_prior = min(n_random, max(0, int(round(self.prior_init * self._init))
                                            - len(self._trials)))
            if n_prior:
                out = self._prior_unseen(n_prior, keys)
                keys = set(self.space.keys(out))
            n_infeasible = 0
            while len(out) < n_random:  # one draw without a prior (its picks are skipped)
                for arch in self._random_unseen(n_random - len(out)):
                    key = self.space.key(arch)
                    if key in keys:
                        continue
                    if not self._feasible_before(arch, key):  # known-before constraints
                        n_infeasible += 1
                        continue
                    out.append(arch)
                    keys.add(key)
                if n_infeasible > MAX_REJECTIONS * n_random:
                    return out  # nothing feasible found: the base class reports it
        while len(out) < n:
            # serve the queue, skipping what was asked or told meanwhile (and, should
            # opt.constraints have been reassigned since it was drawn, the infeasible)
            while self._queue and len(out) < n:
                arch = self._queue.pop(0)
                key = self.space.key(arch)
                if self._available(key, keys) and self._feasible_before(arch, key):
                    out.append(arch)
                    keys.add(key)
            if len(out) < n:
                self._queue = self._next_batch(max(self._batch, n - len(out)), keys)
                if not self._queue:
                    break  # the space is used up; the base class reports it
        return out

    # ------------------------------------------------------------------ one iteration
    def _targets(self, scores: np.ndarray) -> np.ndarray:
        scores = overflow_safe(scores)  # unchanged unless near the float64 limit
        if self.target == "raw":
            return scores.astype(np.float64)
        if self.target == "rank":
            order = np.argsort(np.argsort(scores, kind="stable"), kind="stable")
            return order / max(1, len(scores) - 1) - 0.5
        sd = scores.std()
        return (scores - scores.mean()) / (sd if sd > 0 else 1.0)

    def _encode_all(self) -> np.ndarray:
        """Finite spaces: the predictor's input for every member, in index order (cached):
        the encodings, with ``prior_features`` the prior's scores standardized over the
        whole space appended. Float32 values; held in float64, the precision the ``"nn"``
        predictor computes in (converted once, not at every refit), when that takes at most
        :data:`WORKSPACE_BYTES`."""
        if self._X_all is None:
            self._X_all = self._inputs_of_all(self._encoding)
        return self._X_all

    def _inputs_of_all(self, encoding: str | None) -> np.ndarray:
        """The rows of :meth:`_encode_all` with the space's ``encoding``."""
        X = self.space.encode_indices(np.arange(len(self.space)), encoding)
        X = np.asarray(X, dtype=np.float32)
        if self._prior_as_features:
            Z = standardize(self._prior.all_scores()).astype(np.float32)
            X = np.hstack([X.reshape(len(X), -1), Z])
        if self.surrogate == "nn" and X.size * 8 <= WORKSPACE_BYTES:
            X = X.astype(np.float64)
        return X

    def _function_inputs(self) -> np.ndarray | None:
        """Several objectives with ``function_aware`` on a finite space with a
        :attr:`~nasopt.core.space.SearchSpace.function_encoding` of the width of the
        strategy's encoding: the quality predictor's input for every member, as
        :meth:`_encode_all` with that encoding (cached); else ``None``."""
        if self._X_function is None:
            name = self.space.function_encoding if self.function_aware else None
            self._X_function = False
            if name is not None and self.space.is_finite:
                X = self._inputs_of_all(self.space._check_encoding(name))
                if X.reshape(len(X), -1).shape == self._encode_all().reshape(len(X), -1).shape:
                    self._X_function = X
        return None if self._X_function is False else self._X_function

    def _with_prior(self, X: np.ndarray, Xc: np.ndarray, archs: list[Any],
                    pool: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """A pool's encodings with the prior's scores standardized over the results and the
        pool appended (``prior_features``)."""
        if not self._prior_as_features:
            return X, Xc
        F = standardize(self._prior.scores(list(archs) + list(pool))).astype(np.float32)
        return (np.hstack([X.reshape(len(X), -1), F[: len(archs)]]),
                np.hstack([Xc.reshape(len(Xc), -1), F[len(archs):]]))

    def _fit_predict(self, X: np.ndarray, y: np.ndarray, Xc: np.ndarray,
                     loss: str | None = None,
                     quality: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Fit ``ensemble`` predictors on (X, y); predictions on Xc, shape (ensemble, m).

        ``y`` of shape ``(n, k)`` (several objectives): ``k`` predictors, one per column,
        predictions of shape ``(k, ensemble, m)``; with ``"nn"`` one batched model holds
        the ``k * ensemble`` networks (one fit). ``quality``: other inputs ``(X, Xc)`` of
        the same width for the first column's predictor (``function_aware``). ``loss``
        overrides the strategy's (the constraint predictors regress with ``"mse"`` and
        never warm start)."""
        seeds = member_seeds(self._rng, self.ensemble)
        Xc_given = Xc
        X, Xc = X.reshape(len(X), -1), Xc.reshape(len(Xc), -1)
        opts = dict(self._surrogate_options)
        loss = self._loss if loss is None else loss
        warm = self.warm_start and loss == self._loss
        k = y.shape[1] if y.ndim == 2 else 0
        if k and quality is not None and self.surrogate != "nn":
            Xq, Xcq = quality
            return np.stack([self._fit_predict(Xq if j == 0 else X, y[:, j],
                                               Xcq if j == 0 else Xc, loss) for j in range(k)])
        if k and quality is not None:  # the objectives' inputs side by side, one per group
            Xq = quality[0].reshape(len(quality[0]), -1)
            X, Xc = np.hstack([Xq] + [X] * (k - 1)), self._side_by_side(quality[1], Xc_given, k)
            opts["input_groups"] = k
        if self.surrogate == "nn":  # one batched model holds every member (seeds[0])
            init = self._warm if warm else None
            target = np.repeat(y, self.ensemble, axis=1) if k else y
            model = fit_ensemble(
                lambda seed: new_surrogate("nn", seed, members=self.ensemble * max(k, 1),
                                           loss=loss, init_weights=init, **opts),
                X, target, seeds[:1],
            )
            if warm:
                self._warm = [p.tolist() for p in model.models[0].weights_]
            if not k:
                return self._predict_nn(model, Xc)
            # in row blocks: the k * ensemble networks' activations then stay in cache
            # (measured: 0.028 s instead of 0.053 s for 4 networks on NB201's 15,625 cells)
            preds = np.concatenate([model.predict_members(Xc[i:i + PREDICT_ROWS])
                                    for i in range(0, len(Xc), PREDICT_ROWS)], axis=1)
            return preds.reshape(k, self.ensemble, len(Xc))
        if loss != "mse":  # one model per member, each on a bootstrap resample when several
            opts["loss"] = loss
        if k:  # a predictor per objective, each with its own member seeds
            return np.stack([self._fit_predict(X, y[:, j], Xc, loss) for j in range(k)])
        model = fit_ensemble(lambda seed: new_surrogate(self.surrogate, seed, **opts),
                             X, y, seeds, bootstrap=self.ensemble > 1)
        return model.predict_members(Xc)

    def _side_by_side(self, first: np.ndarray, rest: np.ndarray, k: int) -> np.ndarray:
        """The candidates' grouped input: ``first`` then ``k - 1`` copies of ``rest``, each
        flattened per row, side by side. The last one is kept: on a finite space both are the
        whole space's cached inputs, the same arrays at every refit (measured: the copy took
        ~90 ms of a 3.3 s search of 200 queries on NB201)."""
        kept = self._X_grouped
        if kept is not None and kept[0] is first and kept[1] is rest and kept[2] == k:
            return kept[3]
        grouped = np.hstack([first.reshape(len(first), -1)]
                            + [rest.reshape(len(rest), -1)] * (k - 1))
        self._X_grouped = (first, rest, k, grouped)
        return grouped

    def _predict_nn(self, model, Xc: np.ndarray) -> np.ndarray:
        """The ``"nn"`` ensemble's predictions on the candidates, shape (ensemble, m); the
        networks' hidden activations reuse arrays kept from refit to refit when they take at
        most :data:`WORKSPACE_BYTES` (the same numbers, without the page faults of fresh
        arrays at every refit)."""
        (net,) = model.models  # one batched model, its predictions not standardized
        hidden = sum(W.shape[0] * W.shape[2] for W in net.weights_[0:-2:2])
        if hidden * len(Xc) * 8 > WORKSPACE_BYTES:
            return net.predict_members(Xc)
        return net.predict_members(Xc, workspace=self._workspace)

    def _acquire(self, preds: np.ndarray, best: float) -> np.ndarray:
        mean = preds.mean(0)
        if self.acquisition == "mean":
            return mean
        std = preds.std(0) + 1e-9
        if self.acquisition == "ucb":
            return mean + self.kappa * std
        from scipy.special import ndtr

        z = (mean - best) / std
        pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        return (mean - best) * ndtr(z) + std * pdf

    def _pool(self, exclude: set[str]) -> list[Any]:
        """Candidates for a space that cannot be enumerated: up to ``pool_size`` distinct
        unseen architectures, half one- and two-step mutations of the 5 best results,
        the rest uniform samples."""
        archs, order = self._parent_order(5)
        parents = [archs[int(i)] for i in order[: max(1, min(5, len(order)))]]
        pool: list[Any] = []
        seen = set(exclude)
        n_mut = self.pool_size // 2
        draws = 0
        while len(pool) < n_mut and draws < 20 * n_mut:
            draws += 1
            parent = parents[int(self._rng.integers(len(parents)))]
            child = self.space.mutate(parent, self._rng)
            if draws % 2 == 0:  # two-step neighbours widen the local pool
                child = self.space.mutate(child, self._rng)
            key = self.space.key(child)
            if self._available(key, seen):
                seen.add(key)
                pool.append(child)
        return self._add_uniform(pool, seen)

    def _uniform_pool(self, size: int | None, exclude: set[str]) -> list[Any]:
        return self._add_uniform([], set(exclude), size)

    def _add_uniform(self, pool: list[Any], seen: set[str], size: int | None = None) -> list[Any]:
        """``pool`` filled up to ``size`` (default ``pool_size``) with distinct available
        uniform samples not in ``seen`` (at most ``20 * size`` draws, so a small space ends
        the loop)."""
        size = self.pool_size if size is None else size
        draws = 0
        while len(pool) < size and draws < 20 * size:
            draws += 1
            arch = self.space.sample(self._rng)
            key = self.space.key(arch)
            if self._available(key, seen):
                seen.add(key)
                pool.append(arch)
        return pool

    def _parent_order(self, k: int) -> tuple[list[Any], np.ndarray]:
        """The completed architectures (tell order) and the positions of the (up to) ``k``
        most preferred: by score with one objective and no told constraint values, else
        in NSGA-II's order (:func:`~nasopt.strategies._multi.pareto_top`: feasible first,
        non-dominated rank, crowding; the infeasible ones by violation)."""
        if self.n_objectives == 1 and not self._n_constraints:
            archs, scores = self._history()
            return archs, np.argsort(-scores, kind="stable")[:k]
        archs, S, viol = self._recent_history_multi(len(self._done_ids))
        return list(archs), pareto_top(S, k, viol)

    def _features(self, archs: list[Any], exclude: set[str]):
        """Encodings of the training architectures and of the candidates: ``(X, Xc, pool,
        n_all)`` with ``pool`` ``None`` on a finite space (the candidates are the whole space
        in index order), or ``None`` when a pool could not be filled."""
        if self.space.is_finite:  # the prior's columns are in the cached candidates
            Xc = self._encode_all()
            return Xc[self.space.indices(archs)], Xc, None, len(self.space)
        pool = self._pool(exclude)
        if not pool:
            return None
        X = np.asarray(self.space.encode(archs, self._encoding), dtype=np.float32)
        Xc = np.asarray(self.space.encode(pool, self._encoding), dtype=np.float32)
        X, Xc = self._with_prior(X, Xc, archs, pool)
        return X, Xc, pool, len(pool)

    def _candidates(self, n_all: int, exclude: set[str], pool: list[Any] | None):
        """``(taken, key_ok, member)``: the mask of candidates that may not be proposed
        (asked or told before, or queued), a test of a candidate position against the keys
        of this call, and the architecture at a position."""
        taken = np.zeros(n_all, dtype=bool)
        if pool is None:
            seen_archs = [t.arch for t in self._trials.values()] if not self.allow_duplicates else []
            extra = [a for a in self._queue]
            if seen_archs or extra:
                taken[self.space.indices(seen_archs + extra)] = True

            key_ok = _KeyCheck(self, exclude)
            member = lambda i: self.space[int(i)]  # noqa: E731
        else:
            key_ok = _KeyCheck(self, exclude, pool)  # the pool: unseen, distinct architectures
            member = lambda i: pool[int(i)]  # noqa: E731
        return taken, key_ok, member

    def _key_positions(self, checks: int) -> dict[str, int] | None:
        """Finite spaces: the position of each canonical key, for ``checks`` more key checks
        of a long candidate list; ``None`` when some key has several positions, and while
        the checks of the run so far, these included, are fewer than the space's members
        (building the map costs a key look-up per member: it is built once the checks
        one at a time would have cost as much, so never more than twice their cost)."""
        if self._positions is None:
            self._long_checks += checks
            if self._long_checks < len(self.space):
                return None
            key_of = self.space.key_of_index
            positions = {key_of(i): i for i in range(len(self.space))}
            self._positions = positions if len(positions) == len(self.space) else False
        return self._positions or None

    def _predicted_violation(self, X: np.ndarray, Xc: np.ndarray) -> np.ndarray | None:
        """Predicted total constraint violation of each candidate (``<= 0``: predicted
        feasible), or ``None`` while no told result violates a constraint (then every
        candidate counts as feasible and nothing is fitted).

        One regression predictor per constraint (the strategy's surrogate, MSE on the
        z-scored constraint values, so that its output maps back to the constraint's unit
        and its sign means feasible or not); the violation is the sum of the positive
        predicted values, as :attr:`~nasopt.core.trial.Trial.violation` is of the told ones.
        """
        n = len(self._done_ids)
        if not self._n_constraints or not (self._done_violation[:n] > 0).any():
            return None
        C = np.array([self._trials[i].constraints for i in self._done_ids], dtype=float)
        total = np.zeros(len(Xc))
        for j in range(C.shape[1]):
            c = overflow_safe(C[:, j])
            mu, sd = float(c.mean()), float(c.std())
            sd = sd if sd > 0 else 1.0
            pred = self._fit_predict(X, (c - mu) / sd, Xc, loss="mse").mean(0) * sd + mu
            total += np.maximum(pred, 0.0)
        return total

    def _next_batch(self, m: int, exclude: set[str]) -> list[Any]:
        """Fit the predictor on all completed results and draw the next ``m`` proposals."""
        if self.n_objectives > 1:
            return self._next_batch_multi(m, exclude)
        archs, scores = self._history()
        y = self._targets(scores)
        feats = self._features(archs, exclude)
        if feats is None:
            return []
        X, Xc, pool, n_all = feats
        with thread_limit(self.n_threads):
            preds = self._fit_predict(X, y, Xc)
            pviol = self._predicted_violation(X, Xc)
        self._fits += 1
        acq = self._acquire(preds, float(y.max()))
        if not np.isfinite(acq).all():
            raise NumericalError(non_finite_message(f"WeakNAS's {self.surrogate!r} predictor", acq, y))
        if pviol is None:
            self._update_stagnation(float(scores.max()))
        else:  # Deb's rule: predicted-infeasible candidates after every predicted-feasible one
            viol = self._done_violation[: len(scores)]
            if (viol <= 0).any():
                self._update_stagnation(float(scores[viol <= 0].max()))
            acq = _feasible_first(acq, pviol)
            # the best results by Deb's rule: the exploit parents come from the feasible ones
            feasible = viol <= 0
            order = np.lexsort((np.where(feasible, -scores, viol), ~feasible))
            scores = -order.argsort().astype(float)  # minus the position in that order
        taken, key_ok, member = self._candidates(n_all, exclude, pool)
        chosen: list[int] = []
        n_exploit = int(round(self._exploit_share * m)) if archs else 0
        if n_exploit:
            chosen += self._exploit(acq, taken, key_ok, n_exploit, archs, scores, pool)
            for i in chosen:
                taken[i] = True
        level = self.stagnation_level
        if level:  # stagnating: draw the rest from a predicted top list 2**level times wider
            n_top = min(self._top_n << min(level, 60), n_all)
            chosen += self._draw(acq, taken, key_ok, m - len(chosen), n_top=n_top,
                                 sampling=self.widen_sampling, unseen=True)
        else:
            chosen += self._draw(acq, taken, key_ok, m - len(chosen))
        return [member(i) for i in chosen]

    # ------------------------------------------------------------------ several objectives
    def _next_batch_multi(self, m: int, exclude: set[str]) -> list[Any]:
        """Several objectives: one predictor per objective (each on that objective's
        results in "larger is better" form, with the strategy's targets and loss), the
        constraint predictors, then the batch drawn by ``mo_selection`` (:class:`WeakNAS`)."""
        archs, S, viol = self._recent_history_multi(len(self._done_ids))
        archs = list(archs)
        feats = self._features(archs, exclude)
        if feats is None:
            return []
        X, Xc, pool, n_all = feats
        # the results' own predictions too (the "hvi" front): in Xc on a finite space
        Xp = Xc if pool is None else np.vstack([Xc.reshape(n_all, -1), X.reshape(len(X), -1)])
        Y = np.column_stack([self._targets(S[:, j]) for j in range(S.shape[1])])
        P = np.empty((len(Xp), S.shape[1]))
        # the results' positions among the candidates: in the space, or after the pool
        obs = self.space.indices(archs) if pool is None else np.arange(n_all, len(P))
        Xf = self._function_inputs() if pool is None else None
        quality = None if Xf is None else (Xf[obs], Xf)
        with thread_limit(self.n_threads):
            preds = self._fit_predict(X, Y, Xp, quality=quality)
            pviol = self._predicted_violation(X, Xc)
        for j in range(S.shape[1]):
            P[:, j] = self._acquire(preds[j], float(Y[:, j].max()))
            if not np.isfinite(P[:, j]).all():
                raise NumericalError(non_finite_message(
                    f"WeakNAS's {self.surrogate!r} predictor of objective {j}", P[:, j], Y[:, j]))
        self._fits += 1
        classes = self._function_classes() if pool is None else None
        if classes is not None:  # the quality is the function's: one prediction per class
            P[:, 0] = class_means(P[:, 0], classes)
        self._believed = P[obs][viol <= 0], P[obs].min(axis=0) - 0.1 * np.ptp(P[obs], axis=0)
        P = P[:n_all]
        gap = reference_gap(P, self._reference, pviol)
        self._update_front_stagnation(S, viol)
        taken, key_ok, member = self._candidates(n_all, exclude, pool)
        blocked = taken  # and, while repeats wait, the members of functions asked before
        if classes is not None:  # one candidate per function not asked yet, then the rest
            asked = np.zeros(int(classes.max()) + 1, dtype=bool)
            asked[classes[taken]] = True
            new = class_representatives(P, classes, ~asked[classes])
            if not (self.stall_repeats and self.stagnation_level > 0):
                gap = after_repeats(gap, ~new)
                blocked = taken | ~new
        pviol = with_reference(pviol, gap)
        chosen: list[int] = []
        n_exploit = int(round(self._exploit_share * m)) if archs else 0
        if n_exploit:  # the predicted best unseen neighbours of the results on the front
            feasible = viol <= 0
            n_front = int(nondominated_mask(S[feasible]).sum()) if feasible.any() else 1
            order = pareto_top(S, MAX_EXPLOIT_PARENTS, viol)
            n_parents = max(self.exploit_parents, n_front)
            # the parents share one parent's draws (at least MIN_FRONT_DRAWS each)
            draws = max(EXPLOIT_DRAWS // n_parents, MIN_FRONT_DRAWS)
            idx = self._neighbours(blocked, n_exploit, archs, order, pool, n_parents, draws)
            idx = idx[~blocked[idx]]
            chosen += self._mo_select(P, pviol, idx, key_ok, n_exploit, n_exploit, "greedy")
            taken[chosen] = True
            blocked[chosen] = True
        n_quality = int(round(self._quality_share * m)) if archs else 0
        if n_quality:
            got = self._quality_neighbours(P[:, 0], pviol, S[:, 0], viol, blocked, key_ok,
                                           n_quality, archs, pool)
            chosen += got
            taken[got] = True
            blocked[got] = True
        level = self.stagnation_level
        n_top = min(self._top_n << min(level, 60), n_all)
        sampling = self.widen_sampling if level else self.sampling
        chosen += self._mo_select(P, pviol, np.flatnonzero(~taken), key_ok, m - len(chosen),
                                  n_top, sampling)
        return [member(i) for i in chosen]

    def _quality_neighbours(self, pred: np.ndarray, pviol: np.ndarray | None,
                            quality: np.ndarray, viol: np.ndarray, taken: np.ndarray, key_ok,
                            k: int, archs: list[Any], pool: list[Any] | None) -> list[int]:
        """``quality_exploit``: up to ``k`` candidate positions among the one-step mutations
        of the results best on the first objective (``quality``, the feasible results first;
        :meth:`_neighbours`) that ``taken`` leaves (the unseen ones; with ``function_aware``,
        of functions not asked yet while repeats wait), by the predicted quality ``pred``
        (Deb's rule on ``pviol``, which holds the region of interest)."""
        order = np.lexsort((-quality, viol > 0))[:MAX_EXPLOIT_PARENTS]
        idx = self._neighbours(taken, k, archs, order, pool, 1)
        idx = idx[~taken[idx]]
        if not len(idx):
            return []
        return self._pick(_ranker(_feasible_first(pred, pviol)), idx, key_ok, k)

    def _function_classes(self) -> np.ndarray | None:
        """Several objectives with ``function_aware``: the space's
        :meth:`~nasopt.core.space.SearchSpace.function_classes` as dense labels (``0 ..
        n_classes - 1``, cached), or ``None`` (not function-aware, or the space knows none)."""
        if self._classes is None:
            labels = self.space.function_classes() if self.function_aware else None
            if labels is None:
                self._classes = False
            else:
                self._classes = np.unique(np.asarray(labels), return_inverse=True)[1].ravel()
        return None if self._classes is False else self._classes

    def _mo_select(self, P: np.ndarray, pviol: np.ndarray | None, cands: np.ndarray, key_ok,
                   count: int, n_top: int, sampling: str) -> list[int]:
        """``count`` positions among ``cands`` (that ``key_ok`` accepts), by the predicted
        scores ``P`` (larger is better) and predicted violations ``pviol``:

        * ``"pareto"``: the top ``n_top`` in NSGA-II's order of the predictions (Deb's
          rule, non-dominated rank, crowding), ``count`` of them drawn by ``sampling``
          (``"greedy"``: the first ``count``);
        * ``"parego"``: one draw at a time, each under a fresh weight vector (uniform on the
          simplex) of the augmented Chebyshev scalarization of the predictions normalised
          over ``cands``; the best (``"greedy"``) or one drawn by ``sampling`` from its top
          ``n_top``."""
        if count <= 0 or not len(cands):
            return []
        if self.mo_selection == "pareto":
            def rank(c: np.ndarray, k: int) -> np.ndarray:
                return c[pareto_top(P[c], k, None if pviol is None else pviol[c])]

            if sampling == "greedy":
                return self._pick(rank, cands, key_ok, count)
            return self._sample_ranked(self._pick(rank, cands, key_ok, max(n_top, count)),
                                       count, sampling)
        if self.mo_selection == "hvi":
            return self._hvi_select(P, pviol, cands, key_ok, count)
        Z = np.zeros_like(P)
        Z[cands] = normalise_columns(P[cands])
        chosen: list[int] = []
        cands = np.asarray(cands)
        for _ in range(count):
            weights = self._rng.dirichlet(np.ones(P.shape[1]))
            rank = _ranker(_feasible_first(chebyshev(Z, weights), pviol))
            top = self._pick(rank, cands, key_ok, 1 if sampling == "greedy" else n_top)
            if not top:
                break
            i = top[0] if sampling == "greedy" else self._sample_ranked(top, 1, sampling)[0]
            chosen.append(i)
            cands = cands[cands != i]
        return chosen

    def _hvi_select(self, P: np.ndarray, pviol: np.ndarray | None, cands: np.ndarray, key_ok,
                    count: int) -> list[int]:
        """``count`` candidates, one at a time, each the one whose predicted scores add the
        most hypervolume to the predicted front (the results' own predictions, then the
        candidates chosen so far: a "believer" batch); the reference point lies below the
        results' predictions (10 % of their range). Ties (no predicted gain) go to the
        largest sum of normalised predictions; predicted-infeasible candidates come last."""
        front, ref = self._believed
        Z = np.zeros(len(P))
        Z[cands] = normalise_columns(P[cands]).sum(axis=1) / (P.shape[1] + 1.0)
        chosen: list[int] = []
        cands = np.asarray(cands)
        for _ in range(count):
            gain = np.zeros(len(P))
            gain[cands] = hv_improvement_2d(front, P[cands], ref)
            s = np.where(gain > 0, 1.0 + gain / max(gain.max(), 1e-300), Z)
            top = self._pick(_ranker(_feasible_first(s, pviol)), cands, key_ok, 1)
            if not top:
                break
            chosen.append(top[0])
            front = np.vstack([front, P[top[0]]])
            cands = cands[cands != top[0]]
        return chosen

    @staticmethod
    def _pick(rank, cands: np.ndarray, key_ok, k: int) -> list[int]:
        """Up to ``k`` of ``cands`` that ``key_ok`` accepts, in the order of ``rank(c, k)``
        (the first ``k`` of ``c``, best first); ranks again without the refused ones."""
        out: list[int] = []
        cands = np.asarray(cands, dtype=np.int64)
        while len(out) < k and len(cands):
            top = rank(cands, k - len(out))
            out += [int(i) for i in top if key_ok(int(i))]
            cands = np.setdiff1d(cands, top, assume_unique=True)
        return out

    def _sample_ranked(self, cands: list[int], m: int, sampling: str) -> list[int]:
        """``m`` of ``cands`` (best first) drawn without replacement with the weights of
        ``sampling`` by rank (all of them, in order, when there are at most ``m``)."""
        if len(cands) <= m:
            return list(cands)
        w = _rank_weights(len(cands), sampling)
        pick = self._rng.choice(len(cands), size=m, replace=False, p=w / w.sum())
        return [cands[int(i)] for i in np.sort(pick)]

    def _update_front_stagnation(self, S: np.ndarray, viol: np.ndarray) -> None:
        """Called once per refit with several objectives: the front improved when a result
        told since the previous refit is on the feasible front."""
        n = len(S)
        feasible = np.flatnonzero(viol <= 0)
        on_front = feasible[nondominated_mask(S[feasible])] if len(feasible) else feasible
        if (on_front >= self._front_n).any():
            self._stall = 0
        else:
            self._stall += 1
        self._front_n = n

    # ------------------------------------------------------------------ stagnation
    @property
    def stagnation_level(self) -> int:
        """How many times the top-N list is doubled for the next batch: one more for every
        ``patience`` refits in a row without a better result (0 when ``patience`` is 0)."""
        return self._stall // self._patience if self._patience else 0

    def _update_stagnation(self, best: float) -> None:
        """Called once per refit with the best score so far."""
        if self._best is None or best > self._best:
            self._best, self._stall = best, 0
        else:
            self._stall += 1

    def _ranked_available(self, acq: np.ndarray, taken: np.ndarray, key_ok, k: int) -> list[int]:
        """Up to ``k`` best-scored available candidate positions, best first."""
        masked = np.where(taken, -np.inf, acq)
        out: list[int] = []
        chunk = max(k, 64)
        while len(out) < k:
            avail = int(np.isfinite(masked).sum())
            if avail == 0:
                break
            c = min(chunk, avail)
            top = np.argpartition(-masked, c - 1)[:c]
            top = top[np.argsort(-masked[top], kind="stable")]
            if len(top) >= VECTOR_CHECK:  # a long list: its keys checked at once
                out += [int(i) for i in top[key_ok.many(top)][:k - len(out)]]
                masked[top] = -np.inf
            else:  # a short one: one at a time, up to the k-th available
                for i in top:
                    i = int(i)
                    masked[i] = -np.inf
                    if key_ok(i):
                        out.append(i)
                        if len(out) == k:
                            break
            chunk *= 2
        return out

    def _draw(self, acq: np.ndarray, taken: np.ndarray, key_ok, m: int, n_top: int | None = None,
              sampling: str | None = None, unseen: bool | None = None) -> list[int]:
        if m <= 0:
            return []
        n_top = max(self._top_n if n_top is None else n_top, m)
        sampling = self.sampling if sampling is None else sampling
        unseen = self.top_n_unseen if unseen is None else unseen
        if sampling == "greedy":
            return self._ranked_available(acq, taken, key_ok, m)
        if unseen:
            cands = self._ranked_available(acq, taken, key_ok, n_top)
        else:  # paper: the top-N of all candidates, minus those asked before
            k = min(n_top, len(acq))
            top = np.argpartition(-acq, k - 1)[:k]
            top = top[np.argsort(-acq[top], kind="stable")]
            cands = [int(i) for i in top if not taken[i] and key_ok(int(i))]
        if len(cands) <= m:  # fewer than M left in the top-N: greedy top-M unsampled
            return self._ranked_available(acq, taken, key_ok, m)
        w = _rank_weights(len(cands), sampling)
        pick = self._rng.choice(len(cands), size=m, replace=False, p=w / w.sum())
        return [cands[int(i)] for i in np.sort(pick)]

    def _exploit(self, acq, taken, key_ok, k, archs, scores, pool) -> list[int]:
        """The ``k`` best-predicted unseen one-step mutations of the best results
        (:meth:`_neighbours` of the results by decreasing ``scores``)."""
        order = np.argsort(-scores, kind="stable")[:MAX_EXPLOIT_PARENTS]
        idx = self._neighbours(taken, k, archs, order, pool, self.exploit_parents)
        if not len(idx):
            return []
        mask = np.ones(len(acq), dtype=bool)
        mask[idx] = False
        return self._ranked_available(acq, taken | mask, key_ok, k)

    def _feasible_positions(self, idx: np.ndarray, pool: list[Any] | None) -> np.ndarray:
        """Which candidate positions ``idx`` satisfy the known-before ``constraints=``
        (:meth:`~nasopt.core.optimizer.Optimizer._feasible_before`, cached per cell)."""
        if pool is None:
            return self._feasible_mask(idx)
        return np.array([self._feasible_before(pool[int(i)]) for i in idx], dtype=bool)

    def _neighbours(self, taken, k, archs, order, pool, n_parents: int,
                    draws: int = EXPLOIT_DRAWS) -> np.ndarray:
        """Candidate positions of one-step mutations of the results at ``order`` (most
        preferred first, at most :data:`MAX_EXPLOIT_PARENTS`).

        Neighbours of the ``n_parents`` first results are pooled; while fewer than ``k``
        of them are still available, the neighbours of the next results are added (a local
        search that steps back when a neighbourhood is used up).
        """
        finite = pool is None
        pos = None if finite else {self.space.key(a): i for i, a in enumerate(pool)}
        found: set[int] = set()
        for rank, p in enumerate(order[:MAX_EXPLOIT_PARENTS]):
            for _ in range(draws):
                child = self.space.mutate(archs[int(p)], self._rng)
                if finite:
                    found.add(int(self.space.index(child)))
                else:
                    i = pos.get(self.space.key(child))
                    if i is not None:
                        found.add(i)
            if rank + 1 < n_parents:
                continue
            idx = np.fromiter(found, dtype=np.int64, count=len(found))
            avail = idx[~taken[idx]] if len(idx) else idx
            if len(avail) >= k and self.constraints:  # count only the feasible ones
                avail = avail[self._feasible_positions(avail, pool)]
            if len(avail) >= k:
                break
        return np.fromiter(sorted(found), dtype=np.int64, count=len(found))


class _KeyCheck:
    """``key_ok`` of one refit: whether the candidate at a position may be proposed
    (:meth:`~nasopt.core.optimizer.Optimizer._available`: not chosen by this call, not
    excluded during this ask, unseen unless duplicates are allowed) and satisfies the
    known-before ``constraints=`` (:meth:`~nasopt.core.optimizer.Optimizer._feasible_index`,
    cached per cell). With a ``pool`` of candidates (unseen and distinct) only the
    constraints are checked. Valid while the refit runs (the keys it checks against do not
    change meanwhile)."""

    def __init__(self, opt: WeakNAS, exclude: set[str], pool: list[Any] | None = None) -> None:
        self._opt, self._exclude, self._pool = opt, exclude, pool
        self._constrained = bool(opt.constraints)
        self._refused: np.ndarray | None = None

    def __call__(self, i: int) -> bool:
        """Whether the candidate at position ``i`` may be proposed."""
        opt = self._opt
        if self._pool is not None:
            return not self._constrained or opt._feasible_before(self._pool[i])
        key = opt.space.key_of_index(i)
        return opt._available(key, self._exclude) and (
            not self._constrained or opt._feasible_index(i, key))

    def many(self, idx: np.ndarray) -> np.ndarray:
        """:meth:`__call__` of each position of ``idx``, as a boolean array: availability
        from a mask of the refused positions (built on the first call) once the finite
        space's key -> position map is there (:meth:`WeakNAS._key_positions`), else one at
        a time; then the constraints of the available ones."""
        opt = self._opt
        if self._pool is not None:
            if not self._constrained:
                return np.ones(len(idx), dtype=bool)
            return opt._feasible_positions(idx, self._pool)
        positions = opt._key_positions(len(idx))
        if positions is None:
            return np.fromiter((self(int(i)) for i in idx), dtype=bool, count=len(idx))
        if self._refused is None:
            refused = self._exclude | opt._excluded
            if not opt.allow_duplicates:
                refused = refused | set(opt._seen)
            self._refused = np.zeros(len(opt.space), dtype=bool)
            self._refused[[positions[k] for k in refused if k in positions]] = True
        ok = ~self._refused[idx]
        if self._constrained and ok.any():
            ok[ok] = opt._feasible_positions(idx[ok], None)
        return ok


def _feasible_first(scores: np.ndarray, pviol: np.ndarray | None) -> np.ndarray:
    """Deb's rule on candidate scores (larger is better): the predicted-infeasible
    candidates (``pviol > 0``) moved below every other one, by predicted violation."""
    if pviol is None:
        return scores
    return np.where(pviol > 0, scores.min() - 1.0 - pviol, scores)


def _ranker(scores: np.ndarray):
    """``rank(c, k)``: the ``k`` positions of ``c`` with the largest ``scores``, largest
    first (ties: lowest position first)."""
    def rank(c: np.ndarray, k: int) -> np.ndarray:
        k = min(k, len(c))
        top = c[np.argpartition(-scores[c], k - 1)[:k]]
        return top[np.lexsort((top, -scores[top]))]
    return rank


def _rank_weights(n: int, sampling: str) -> np.ndarray:
    """Unnormalised weights of ranks ``0..n-1`` for drawing from a top list:
    ``"uniform"``, ``"linear"`` or ``"exp"`` decay."""
    r = np.arange(n, dtype=np.float64)
    if sampling == "uniform":
        return np.ones_like(r)
    if sampling == "linear":
        return n - r
    return np.exp(-r / max(1.0, n / 4.0))
