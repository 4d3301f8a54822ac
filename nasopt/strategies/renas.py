"""ReNAS (Xu et al., "ReNAS: Relativistic Evaluation of Neural Architecture Search",
CVPR 2021): a ranking predictor learned from a small random sample, then searched by an
evolutionary algorithm instead of the real objective.

Protocol (paper): evaluate ``init`` random architectures (NB201 90, NB101 424), fit the
predictor on them, run the EA on the predictor (no queries; on NB201 the paper scores the
whole space instead: ``traverse``), evaluate the predicted top-``top_k`` (10).

Beyond the paper, ``rounds > 1`` (or ``rounds=None``, open-ended) refits the predictor on
every result so far each time ``top_k`` predicted architectures have been served, and
searches again, so the strategy keeps improving after its first top-k. ``"renas-iter"``
(:class:`IterativeReNAS`) is the iterative recipe measured to beat Optuna's TPE on
NAS-Bench-201.

Several objectives (``objectives=[...]``): one ranking predictor per objective, the EA
selects by non-dominated rank and crowding distance, and the served top-k are spread along
the predicted front (:func:`~nasopt.strategies.ea.pareto_ranking`). Results told with
violated constraints (``tell(..., constraints=[...])``) train a feasibility predictor, and
candidates it predicts infeasible are ranked behind the feasible ones (Deb's rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..core.errors import ConfigurationError, NumericalError
from ..core.optimizer import Optimizer
from ..core.pareto import selection_order
from ..core.checks import (
    check_budget, check_choice, check_fraction, check_init_fits, check_int, scaled_init,
)
from ..core.registry import register_strategy
from ..core.space import SearchSpace
from ..core.threads import DEFAULT_THREADS, check_n_threads, thread_limit
from ..spaces.renas_features import ENCODING_KINDS
from ._numeric import non_finite_message, overflow_safe
from ..surrogates.ensemble import Ensemble, fit_ensemble, member_seeds, new_surrogate
from ..surrogates.losses import LOSSES
from ._multi import gap_below, reference_cut, reference_gap, resolve_reference, with_reference
from ._prior import PriorArgument, resolve_prior, standardize, top_unseen
from .ea import FRONT_ORDERS, check_ea_options, evolve, pareto_ranking

#: Random training sample per space type (the paper's NAS-Bench-201 / NAS-Bench-101 settings);
#: other spaces use ``GENERIC_INIT``. Scaled down to small budgets by ``INIT_SHARE``.
PAPER_INIT = {"nb201": 90, "nb101": 424}
GENERIC_INIT = 90
#: A default ``init`` is at most this share of the query budget: the ``budget=`` hint and, on
#: a finite space, its size. Measured at 50 queries on NB201 (``benchmarks/small_budget.py``,
#: ``docs/small_budgets.md``): one fit on 30 random architectures, then its ranking, finds
#: better architectures than 10 or 20 and about as good as 40.
INIT_SHARE = 0.6
#: ``traverse="auto"`` scores the whole space when it is finite and at most this large.
TRAVERSE_MAX = 100_000
#: With several objectives and a ``reference`` but no traversal: uniform architectures whose
#: predictions set the reference point of each EA run.
REFERENCE_SAMPLE = 1000
#: Predicted architectures kept in the queue after each fit (at least ``top_k``).
QUEUE_MIN = 100
#: Completed results needed before a predictor is fitted (with at least two distinct values).
MIN_TRAIN = 3
#: With a prior, its share of the start is drawn from the ``PRIOR_TOP`` best by the prior
#: (as WeakNAS's ``top_n``); on a space that cannot be enumerated, among ``PRIOR_POOL``
#: uniform samples.
PRIOR_TOP = 100
PRIOR_POOL = 1000
#: The iterative recipe measured on NAS-Bench-201 (``benchmarks/renas.py``, README): boosted
#: stumps (GBRT of depth 1: an additive model over the space's first encoding, one-hot edge
#: choices on NB201) with the pairwise logistic loss, 20 random architectures, then 8 rounds
#: of the predicted top-10. Chosen on development seeds 100-139 among GBRT depths 1/2/3/6,
#: bagged ensembles, MSE, and other starts and round sizes
#: (``results/renas_nb201_dev_depth.md``), with 8 pairs per architecture per round: GBRT's
#: later default (up to 64) ranks better from 90 training cells up but searched no better
#: here (same seeds, 64 pairs: 94.29 / 73.36 / 46.38 vs 94.31 / 73.42 / 46.51; 32 pairs
#: 94.28 / 73.38 / 46.51). Registered as ``"renas-iter"`` (:class:`IterativeReNAS`).
ITERATIVE_OPTIONS: dict[str, Any] = {
    "surrogate": "gbrt", "loss": "logistic", "init": 20, "top_k": 10, "rounds": 8,
    "surrogate_options": {"max_depth": 1, "pairs_per_sample": 8},
}


class _Scorer:
    """Callable scorer of architectures: the mean of the ensemble's standardised predictions
    (:class:`~nasopt.surrogates.ensemble.Ensemble` with ``standardize=True``: each model's
    scores are centred and scaled by their mean and spread on the training set, so ranking
    losses with arbitrary output scales can be averaged)."""

    def __init__(self, ensemble: Ensemble, featurize, targets: np.ndarray | None = None) -> None:
        self.ensemble, self.featurize = ensemble, featurize
        self.targets = np.zeros(0) if targets is None else targets

    @property
    def models(self) -> list:
        """The fitted surrogates."""
        return self.ensemble.models

    def score_features(self, X: np.ndarray) -> np.ndarray:
        """Scores of encoded architectures. Raises NumericalError when they are not finite
        (a diverged fit), so the search never ranks NaNs."""
        out = np.asarray(self.ensemble.predict(X), dtype=np.float64)
        if not np.isfinite(out).all():
            raise NumericalError(non_finite_message("the ReNAS predictor", out, self.targets))
        return out

    def __call__(self, archs: Sequence[Any]) -> np.ndarray:
        if len(archs) == 0:
            return np.zeros(0)
        return self.score_features(self.featurize(archs))


def feasibility_threshold(scores: np.ndarray, feasible: np.ndarray) -> float:
    """The cut on a feasibility predictor's training scores (larger: more feasible) that
    best separates the feasible results from the others (largest balanced accuracy: true
    positive rate plus true negative rate; the lowest such cut on ties). Points scoring at
    least the cut are predicted feasible; ``inf`` when no result is feasible."""
    scores, feasible = np.asarray(scores, dtype=float), np.asarray(feasible, dtype=bool)
    n_ok, n_bad = int(feasible.sum()), int((~feasible).sum())
    if n_ok == 0:
        return np.inf
    if n_bad == 0:
        return float(scores.min())
    order = np.argsort(scores, kind="stable")
    s, ok = scores[order], feasible[order]
    # cut before position c: points c.. are predicted feasible
    ok_above = n_ok - np.concatenate(([0], np.cumsum(ok)[:-1]))
    bad_below = np.concatenate(([0], np.cumsum(~ok)[:-1]))
    gain = ok_above / n_ok + bad_below / n_bad
    valid = np.concatenate(([True], s[1:] > s[:-1]))  # cut between distinct scores only
    c = int(np.argmax(np.where(valid, gain, -1.0)))
    return float(s[0]) if c == 0 else float((s[c - 1] + s[c]) / 2)


class _ParetoScorer:
    """Scorer of architectures on several objectives: one :class:`_Scorer` per objective
    (``None`` for an objective whose results were all equal: it scores 0), plus an optional
    feasibility :class:`_Scorer` turned into a predicted violation by a threshold
    (:func:`feasibility_threshold`). Calling it gives an ``(n, m)`` array, larger is better."""

    def __init__(self, scorers: list[_Scorer | None], featurize, feasibility: _Scorer | None = None,
                 threshold: float = 0.0, top: float = 0.0) -> None:
        self.scorers, self.featurize = scorers, featurize
        # top: the largest feasibility score of a training result (used when none is feasible)
        self.feasibility, self.threshold, self.top = feasibility, threshold, top

    @property
    def models(self) -> list:
        """The fitted surrogates of every objective, then the feasibility predictor's."""
        members = [*self.scorers, self.feasibility]
        return [m for sc in members if sc is not None for m in sc.models]

    def score_features(self, X: np.ndarray) -> np.ndarray:
        """Predicted scores of encoded architectures, ``(n, m)``."""
        n = len(X)
        return np.stack([np.zeros(n) if sc is None else sc.score_features(X) for sc in self.scorers], axis=1)

    def violation_features(self, X: np.ndarray) -> np.ndarray | None:
        """Predicted violation of encoded architectures (``<= 0``: predicted feasible), or
        ``None`` without a feasibility predictor. With no feasible result at all, every
        candidate is predicted infeasible, the likeliest to become feasible first."""
        if self.feasibility is None:
            return None
        s = self.feasibility.score_features(X)
        if np.isinf(self.threshold):
            return 1.0 + np.maximum(self.top - s, 0.0)
        return self.threshold - s

    def __call__(self, archs: Sequence[Any]) -> np.ndarray:
        if len(archs) == 0:
            return np.zeros((0, len(self.scorers)))
        return self.score_features(self.featurize(archs))

    def violation(self, archs: Sequence[Any]) -> np.ndarray:
        """Predicted violation of architectures (zeros without a feasibility predictor)."""
        out = None if len(archs) == 0 else self.violation_features(self.featurize(archs))
        return np.zeros(len(archs)) if out is None else out


@register_strategy("renas")
class ReNAS(PriorArgument, Optimizer):
    """Predictor-guided evolution (ReNAS).

    Args:
        space: The search space.
        surrogate: A :mod:`nasopt.surrogates` name (``"renas"``: the ReNAS CNN on feature
            tensors, default; ``"mlp"``, ``"gbrt"``, ``"rf"``, and the numpy ``"nn"`` and
            ``"quadratic"`` on vector encodings) or an unfitted scikit-learn-style estimator
            (not saved in checkpoints).
        encoding: Features fed to the predictor: ``"renas"`` (the paper's tensor),
            ``"renas-type"`` (its type channel), ``"renas-onehot"`` (the tensor with one-hot
            type channels), or one of ``space.encodings``. Default for the ReNAS CNN:
            ``"renas-onehot"`` on NB201 / NB101 (Kendall τ 0.61 / 0.61 / 0.59 against the
            paper tensor's 0.53 / 0.53 / 0.49 with 90 NB201 training architectures), a
            space's own ``"renas"`` encoding where it has one, else the space's first encoding
            (the CNN then sees a vector as 1×1 channels).
        loss: Loss of the predictor (``"mse"``, ``"hinge"``, ``"logistic"``); ``None`` keeps
            the surrogate's default.
        init: Random architectures evaluated before the first fit. Default: the paper's
            (NB201 90, NB101 424; other spaces 90), scaled down to at most
            ``INIT_SHARE`` (60 %) of the budget (``budget``, and the size of a finite space)
            so that small runs are not random search. An explicit ``init`` must be smaller
            than the space and than ``budget``.
        top_k: Predicted architectures served per round (10).
        population: Size of the EA's population on the predictor (64; see
            :mod:`nasopt.strategies.ea`).
        generations: EA generations (500).
        p_select: Share of each generation kept as survivors, the best predicted (0.5).
        p_crossover: Weight of crossover among the offspring (0.3).
        p_mutation: Weight of mutation among the offspring (0.2).
        traverse: ``True`` scores every member of a finite space instead of running the EA
            (paper protocol on NB201), ``False`` always runs the EA, ``"auto"`` traverses
            finite spaces of at most ``TRAVERSE_MAX`` members.
        rounds: Predictor fits (paper: 1). With ``rounds=R``, the predictor is refitted on
            all results each time ``top_k`` predicted architectures were served, ``R`` times
            in all; after that the last ranking keeps being served. ``None``: refit every
            ``top_k`` forever (open-ended). :data:`ITERATIVE_OPTIONS` is the measured
            iterative recipe.
        ensemble: Predictors fitted per round with different seeds; their standardised
            scores are averaged. Members differ only through their seeds: a surrogate that
            does not use its seed (``"gbrt"`` with ``subsample=1`` and
            ``colsample_bytree=1``, its defaults) gives identical members, so ``ensemble > 1``
            only costs time there (measured: the same 100 queries with 1 or 3 members).
        seed_population: Share of the EA's initial population taken from the best evaluated
            architectures (the rest is random).
        surrogate_options: Extra keyword arguments of the surrogate (JSON-able). A device
            this machine lacks (``{"device": "cuda"}`` without CUDA) is refused here.
        n_threads: BLAS / OpenMP / torch threads while the predictor is fitted and ranks
            (default 1, the cheapest in CPU; ``None``: the libraries' own settings); it does
            not change the proposals. A surrogate's own thread option (``surrogate_options``)
            still applies inside its fit.
        budget: Optional hint: the number of queries the run will make. It only scales the
            default ``init`` (a 50-query budget starts with 30 random architectures; measured
            in ``docs/small_budgets.md``); it does not stop the run.
        front_order: With several objectives, the order in which the points of one
            predicted front are served: ``"spread"`` (default: the best on the first
            objective, then each time the candidate farthest from those taken, so every
            ``top_k`` covers the whole front) or ``"first"`` (by the first objective, best
            first: the front's end on the first objective is served before the rest).
        prior: Optional cheap scores known before training (``docs/priors.md``, the forms
            WeakNAS takes: a callable ``arch -> scores``, a dict key -> scores, an array in a
            finite space's index order, ``"free"``, or ``"auto"``: what is free for the
            space, as WeakNAS's default; higher is more promising; default ``None``, no
            prior: not measured with synflow on ReNAS), evaluated lazily and
            cached (time in :attr:`prior_seconds`). Used (a) for the first ``prior_init``
            share of the ``init`` start: drawn uniformly from the ``PRIOR_TOP`` (100) best
            by the mean of the standardized prior columns (on a space that cannot be
            enumerated, among ``PRIOR_POOL`` uniform samples), and (b) with
            ``prior_features``, as standardized extra predictor inputs (z-scored over the
            whole finite space, else over the training set of each fit) appended to vector
            encodings (the ReNAS CNN's tensor encodings are left as they are). A runtime
            argument, not an option: never stored; :func:`nasopt.load` needs ``prior=``
            again. A prior that fails raises :class:`~nasopt.core.errors.PriorError` naming
            the architecture, the optimizer unchanged. Without a prior, the run is exactly
            that of a ReNAS without one.
        prior_init: Share (0..1) of ``init`` chosen by the prior (default 0.5); ignored
            without a prior and for ``prior="auto"`` with several objectives (predictor
            inputs only, as in :class:`~nasopt.strategies.weaknas.WeakNAS`).
        prior_features: Append the standardized prior scores to the predictor's input
            (default ``True``); ignored without a prior.
        reference: With several objectives, the region of interest, as for
            :class:`~nasopt.strategies.weaknas.WeakNAS` (one quantile per objective of the
            predictions; ``"auto"``, the default: the median on the first objective;
            ``None``: the whole front, as before): candidates predicted below it rank after the
            others, before the predicted-infeasible ones, in the ranking served and in the
            EA. The quantiles are taken over the whole space when it is traversed, else over
            :data:`REFERENCE_SAMPLE` uniform architectures per EA run (duplicates possible);
            over the predicted-feasible ones when a constraint has been violated. Ignored
            with one objective. Measured on the tuning seeds 0-9, NB201 CIFAR-10 x Pixel 3 /
            Raspberry Pi 4 latency (``benchmarks/hardware_tuning.py``,
            ``results/hardware/renas_reference_tuning.md``): hypervolume regret at 100 / 200
            queries -0.005 +- 0.005 / -0.015 +- 0.005 against ``None``, paired by seed (20
            runs; the same at 50 queries, inside the random start of 90).

    ``seed``, ``maximize``, ``direction``, ``allow_duplicates``, ``objectives``,
    ``constraints`` and ``journal`` are those of :class:`~nasopt.core.optimizer.Optimizer`.

    Several objectives (``objectives=[...]``): one predictor (ensemble) per objective, fitted
    on the results in "larger is better" form; the EA keeps the members first in NSGA-II's
    order (non-dominated rank, then crowding distance), and the ranking served is the
    predicted first front, then the next ones, each front in an order spread along it (the
    best on the first objective, then each time the candidate farthest from those taken:
    :func:`~nasopt.strategies.ea.pareto_ranking`), so that every ``top_k`` served covers the
    predicted trade-off. Constraint values told with the results (``tell(...,
    constraints=[...])``): once a result violates them, a feasibility predictor is fitted as
    well (a ranking predictor of the negated total violation, cut where it best separates
    the feasible results from the others) and candidates it predicts infeasible are ranked
    behind the predicted-feasible ones (Deb's rule; this applies with one objective too), and
    the EA's initial population is seeded with the best results in constrained order.
    Infeasible results still train the objective predictors. A run with one objective and
    no violated constraint ranks by its single predictor exactly as before.

    Results arriving while predicted architectures are pending are used at the next fit;
    failed evaluations are left out of the training set. Before ``MIN_TRAIN`` results are
    in (everything pending), extra asks are served at random.

    Attributes:
        predictor_: The last fitted scorer (callable on a list of architectures, larger is
            better; an ``(n, m)`` array of scores with several objectives or violated
            constraints, and its ``violation(archs)`` the predicted violation), or ``None``
            before the first fit and after loading a checkpoint.
        rankings_: Method used at each fit (``"traverse"`` or ``"ea"``).
    """

    #: Share of the budget a default ``init`` may take (:data:`INIT_SHARE`).
    init_share: ClassVar[float] = INIT_SHARE

    def __init__(
        self,
        space: SearchSpace,
        *,
        surrogate: Any = "renas",
        encoding: str | None = None,
        loss: str | None = None,
        init: int | None = None,
        top_k: int = 10,
        population: int = 64,
        generations: int = 500,
        p_select: float = 0.5,
        p_crossover: float = 0.3,
        p_mutation: float = 0.2,
        traverse: bool | str = "auto",
        rounds: int | None = 1,
        ensemble: int = 1,
        seed_population: float = 0.25,
        surrogate_options: dict | None = None,
        n_threads: int | None = DEFAULT_THREADS,
        budget: int | None = None,
        front_order: str = "spread",
        prior: Any = None,
        prior_init: float = 0.5,
        prior_features: bool = True,
        reference: Any = "auto",
        **optimizer_kw: Any,
    ) -> None:
        super().__init__(space, **optimizer_kw)
        self.reference = reference
        self._reference = resolve_reference(reference, self.n_objectives)
        # a name is validated below by building one model
        if not isinstance(surrogate, str) and not (hasattr(surrogate, "fit") and hasattr(surrogate, "predict")):
            raise ConfigurationError(
                f"surrogate must be a surrogate name or an estimator with fit/predict, got {surrogate!r}"
            )
        self.surrogate = surrogate
        encoding_arg, budget_arg = encoding, budget
        if encoding is None and surrogate == "renas":
            # NB201 / NB101 offer every ReNAS tensor; other spaces may define their own "renas"
            encoding = next((e for e in ("renas-onehot", "renas") if e in space.encodings), None)
        if encoding is not None and encoding not in space.encodings:
            if encoding in ENCODING_KINDS:
                raise ConfigurationError(
                    f"encoding {encoding!r} (ReNAS tensors) is not available for {space!r}; use "
                    f"one of the space's encodings {tuple(space.encodings)}"
                )
            raise ConfigurationError(
                f"unknown encoding {encoding!r} for {space!r}; choose from {tuple(space.encodings)}"
            )
        self._encoding = encoding
        if loss is not None:
            check_choice("loss", loss, LOSSES)
        self.loss = loss
        budget = check_budget(budget)
        if init is None:
            self._init = scaled_init(self._default_init(space), space, budget, self.init_share)
        else:
            self._init = check_init_fits(check_int("init", init, 1), space, budget)
        self.top_k = check_int("top_k", top_k, 1)
        check_ea_options(population, generations, p_select, p_crossover, p_mutation)
        self.population, self.generations = int(population), int(generations)
        self.p_select, self.p_crossover, self.p_mutation = float(p_select), float(p_crossover), float(p_mutation)
        if not (traverse is True or traverse is False or traverse == "auto"):
            raise ConfigurationError(f"traverse must be True, False or 'auto', got {traverse!r}")
        if traverse is True and not space.is_finite:
            raise ConfigurationError(f"traverse=True needs a finite space; {space!r} is not enumerable")
        self.traverse = traverse
        self.rounds = None if rounds is None else check_int("rounds", rounds, 1)
        self.ensemble = check_int("ensemble", ensemble, 1)
        self.seed_population = check_fraction("seed_population", seed_population)
        if surrogate_options is not None and not isinstance(surrogate_options, dict):
            raise ConfigurationError("surrogate_options must be a dict of keyword arguments")
        self._surrogate_options = dict(surrogate_options or {})
        self.n_threads = check_n_threads(n_threads)
        self.front_order = check_choice("front_order", front_order, FRONT_ORDERS)
        self.prior_init = check_fraction("prior_init", prior_init)
        self.prior_features = bool(prior_features)
        self.prior = prior  # a runtime argument (not in get_params)
        self._prior = resolve_prior(prior, space, self.n_objectives)
        self._prior_z_all: np.ndarray | None = None  # finite: standardized over the space
        self._prior_stats: tuple[np.ndarray, np.ndarray] | None = None  # else: of the last fit
        # the arguments as given (get_params); the values above are resolved from them
        self.encoding, self.init, self.surrogate_options = encoding_arg, init, surrogate_options
        self.budget = budget_arg
        try:  # unknown names, bad options and a missing device fail now, not at the first fit
            model = self._new_model(0)
            if hasattr(model, "check_device"):
                model.check_device()
        except ConfigurationError:
            raise
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"bad surrogate settings: {exc}") from exc
        # ---- run state (persisted by _get_state)
        self._init_asked = 0  # random training architectures proposed so far
        self._fits = 0  # predictor rounds so far
        self._served = 0  # predicted architectures served since the last fit
        self._queue: list[Any] = []  # predicted ranking not served yet, best first
        self.rankings_: list[str] = []
        # ---- not persisted
        self.predictor_: _Scorer | _ParetoScorer | None = None

    @staticmethod
    def _default_init(space: SearchSpace) -> int:
        """``init`` when none is given, before scaling to the budget."""
        return PAPER_INIT.get(space.type_name, GENERIC_INIT)

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> dict:
        # rankings_ is not stored: every fit ranks the same way (uses_traversal), so it is
        # recomputed from the fit count (files that hold it still load)
        return {
            "init_asked": self._init_asked, "fits": self._fits, "served": self._served,
            "queue": [self.space.to_data(a) for a in self._queue],
        }

    def _set_state(self, state: dict) -> None:
        self._init_asked = int(state["init_asked"])
        self._fits = int(state["fits"])
        self._served = int(state["served"])
        self._queue = [self.space.from_data(a) for a in state["queue"]]
        self.rankings_ = [self._ranking()] * self._fits

    def _ranking(self) -> str:
        """How each fit ranks the candidates: ``"traverse"`` or ``"ea"``."""
        return "traverse" if self.uses_traversal else "ea"

    # ------------------------------------------------------------------ proposing
    @property
    def uses_traversal(self) -> bool:
        """Whether the predictor ranks the whole space (else the EA searches it)."""
        if self.traverse == "auto":
            return self.space.is_finite and len(self.space) <= TRAVERSE_MAX
        return bool(self.traverse)

    def _round_over(self) -> bool:
        if self._fits == 0 or not self._queue:
            return True
        more_rounds = self.rounds is None or self._fits < self.rounds
        return more_rounds and self._served >= self.top_k

    def _propose(self, n: int) -> list[Any]:
        out: list[Any] = []
        batch: set[str] = set()

        def add(archs: list[Any]) -> None:
            for a in archs:
                batch.add(self.space.key(a))
                out.append(a)

        while len(out) < n:
            left = self._init - self._init_asked
            if left > 0:
                m = min(left, n - len(out))
                picks: list[Any] = []
                if self._prior_ranks_start:  # the first prior_init share of init
                    k = min(m, max(0, int(round(self.prior_init * self._init)) - self._init_asked))
                    picks = self._prior_unseen(k, batch) if k else []
                    add(picks)
                add(self._random_excluding(m - len(picks), batch))
                self._init_asked += m
                continue
            if self._round_over():
                if not self._refit(batch):
                    add(self._random_excluding(n - len(out), batch))  # nothing to learn from yet
                    break
            arch = self._pop_queue(batch)
            if arch is None:  # the ranking is used up (everything in it was seen)
                self._queue = []
                if not self._refit(batch) or not self._queue:
                    add(self._random_excluding(n - len(out), batch))
                    break
                continue
            add([arch])
            self._served += 1
        return out

    def _prior_unseen(self, n: int, batch: set[str]) -> list[Any]:
        """``n`` architectures drawn from the ``PRIOR_TOP`` best by the prior that may be
        proposed (fewer when fewer are left)."""
        return top_unseen(self._prior, self.space, self._rng, n, PRIOR_TOP,
                          lambda key: self._available(key, batch), self._start_pool(batch))

    def _uniform_pool(self, size: int | None, exclude: set[str]) -> list[Any]:
        size = PRIOR_POOL if size is None else size
        if self.space.is_finite:  # no more than are left
            size = min(size, len(self.space) - len(self._seen) - len(exclude))
        return self._random_excluding(size, exclude)

    def _pop_queue(self, batch: set[str]) -> Any | None:
        while self._queue:
            arch = self._queue.pop(0)
            k = self.space.key(arch)
            if self._available(k, batch):
                return arch
        return None

    def _random_excluding(self, m: int, batch: set[str]) -> list[Any]:
        res: list[Any] = []
        while len(res) < m:
            for a in self._random_unseen(m - len(res)):
                k = self.space.key(a)
                if k not in batch:
                    batch.add(k)
                    res.append(a)
        for a in res:  # the caller adds them again; keep the set consistent
            batch.discard(self.space.key(a))
        return res

    # ------------------------------------------------------------------ predictor
    def _training_set(self) -> tuple[list[Any], np.ndarray]:
        done = sorted(self.completed, key=lambda t: t.id)  # independent of tell order
        return [t.arch for t in done], np.array([self._score(t.value) for t in done], dtype=np.float64)

    def _featurize(self, archs: Sequence[Any]) -> np.ndarray:
        archs = list(archs)
        X = self.space.encode(archs, self._encoding)
        if not self._appends_prior(X):
            return X
        if self.space.is_finite:
            return self._append(X, self._prior_z()[self.space.indices(archs)])
        mean, sd = self._prior_stats
        return self._append(X, (self._prior.scores(archs) - mean) / sd)

    def _featurize_indices(self, idx: np.ndarray) -> np.ndarray:
        X = self.space.encode_indices(idx, self._encoding)
        return self._append(X, self._prior_z()[idx]) if self._appends_prior(X) else X

    # ------------------------------------------------------------------ prior features
    def _appends_prior(self, X: Any) -> bool:
        """Whether prior scores are appended to encodings ``X`` (vectors only)."""
        return self._prior_as_features and np.ndim(X) <= 2

    @staticmethod
    def _append(X: Any, Z: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64
        return np.hstack([X.reshape(len(X), -1).astype(dtype, copy=False), Z.astype(dtype)])

    def _prior_z(self) -> np.ndarray:
        """Finite spaces: the prior scores of every member, standardized over the space."""
        if self._prior_z_all is None:
            self._prior_z_all = standardize(self._prior.all_scores())
        return self._prior_z_all

    def _prepare_prior(self, archs: list[Any]) -> None:
        """Before a fit on a space that cannot be enumerated: the mean and spread of the
        prior scores of the training set, which standardize every encoding until the next
        fit."""
        if not self._prior_as_features or self.space.is_finite:
            return
        F = self._prior.scores(archs)
        sd = F.std(axis=0)
        self._prior_stats = (F.mean(axis=0), np.where(sd > 0, sd, 1.0))

    def _new_model(self, seed: int) -> Any:
        if not isinstance(self.surrogate, str):
            return new_surrogate(self.surrogate, seed)
        opts = dict(self._surrogate_options)
        if self.loss is not None:
            opts["loss"] = self.loss
        return new_surrogate(self.surrogate, seed, **opts)

    def _training_matrix(self) -> tuple[list[Any], np.ndarray, np.ndarray]:
        """Completed architectures (by id), their scores ``(n, m)`` (larger is better on each
        objective) and their total constraint violations."""
        done = sorted(self.completed, key=lambda t: t.id)  # independent of tell order
        m = self.n_objectives
        if m > 1:
            Y = np.array([self._signs * np.asarray(t.values, dtype=np.float64) for t in done])
        else:
            Y = np.array([self._score(t.value) for t in done], dtype=np.float64)
        return ([t.arch for t in done], Y.reshape(len(done), m),
                np.array([t.violation for t in done], dtype=np.float64))

    @property
    def ranks_by_pareto(self) -> bool:
        """Whether the predictor ranks by Pareto fronts: several objectives, or a completed
        result that violates its constraints."""
        if self.n_objectives > 1:
            return True
        with self._lock:
            return bool((self._done_violation[:len(self._done_ids)] > 0).any())

    def fit_predictor(self) -> _Scorer | _ParetoScorer | None:
        """Fit the predictor (ensemble) on every completed result; ``None`` when fewer than
        ``MIN_TRAIN`` results (or a single distinct value) are in. With several objectives
        or violated constraints (:attr:`ranks_by_pareto`), a :class:`_ParetoScorer`."""
        if self.ranks_by_pareto:
            return self._fit_pareto()
        archs, y = self._training_set()
        y = overflow_safe(y)  # unchanged unless near the float64 limit
        if len(archs) < MIN_TRAIN or np.ptp(y) == 0:
            return None
        self._prepare_prior(archs)
        X = self._featurize(archs)
        seeds = member_seeds(self._rng, self.ensemble)
        ensemble = fit_ensemble(self._new_model, X, y, seeds, standardize=True)
        return _Scorer(ensemble, self._featurize, y)

    def _fit_scorer(self, X: np.ndarray, y: np.ndarray) -> _Scorer | None:
        """One standardised ensemble on targets ``y``; ``None`` when they are all equal."""
        y = overflow_safe(y)
        if np.ptp(y) == 0:
            return None
        seeds = member_seeds(self._rng, self.ensemble)
        return _Scorer(fit_ensemble(self._new_model, X, y, seeds, standardize=True), self._featurize, y)

    def _fit_pareto(self) -> _ParetoScorer | None:
        """One predictor per objective, and a feasibility predictor once a result violates
        its constraints; ``None`` when there is nothing to learn from."""
        archs, Y, violation = self._training_matrix()
        if len(archs) < MIN_TRAIN:
            return None
        self._prepare_prior(archs)
        X = self._featurize(archs)
        scorers = [self._fit_scorer(X, Y[:, j]) for j in range(Y.shape[1])]
        feasibility, threshold, top = None, 0.0, 0.0
        if (violation > 0).any():
            feasibility = self._fit_scorer(X, -violation)
            if feasibility is not None:
                s = feasibility.score_features(X)
                threshold, top = feasibility_threshold(s, violation <= 0), float(s.max())
        if feasibility is None and all(sc is None for sc in scorers):
            return None
        return _ParetoScorer(scorers, self._featurize, feasibility, threshold, top)

    def _refit(self, batch: set[str]) -> bool:
        """Fit, rank, and refill the queue (under the ``n_threads`` limit); False when there
        is nothing to learn from."""
        with thread_limit(self.n_threads):
            scorer = self.fit_predictor()
            if scorer is None:
                return False
            self.predictor_ = scorer
            exclude = set(batch) | self._excluded if self.allow_duplicates else self._seen_keys() | batch
            limit = max(self.top_k, QUEUE_MIN)
            if self.uses_traversal and isinstance(scorer, _ParetoScorer):
                self._queue = self._rank_traverse_pareto(scorer, exclude, limit)
            elif self.uses_traversal:
                self._queue = self._rank_traverse(scorer, exclude, limit)
            else:
                self._queue = self._rank_ea(scorer, exclude, limit)
            self.rankings_.append(self._ranking())
        self._fits += 1
        self._served = 0
        return True

    def _score_space(self, score: Any) -> np.ndarray:
        """``score(features)`` of every member of the finite space, in index order, encoded
        and scored in chunks."""
        size, step = len(self.space), 8192
        parts = [score(self._featurize_indices(np.arange(lo, min(size, lo + step))))
                 for lo in range(0, size, step)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _rank_traverse_pareto(self, scorer: _ParetoScorer, exclude: set[str], limit: int) -> list[Any]:
        if scorer.feasibility is None:
            scores, violation = self._score_space(scorer.score_features), None
        else:
            both = self._score_space(
                lambda X: np.column_stack([scorer.score_features(X), scorer.violation_features(X)]))
            scores, violation = both[:, :-1], both[:, -1]
        violation = with_reference(violation, reference_gap(scores, self._reference, violation))
        key_of = self.space.key_of_index
        idx = pareto_ranking(scores, violation, limit, lambda i: key_of(i) in exclude,
                             self.front_order)
        return [self.space[int(i)] for i in idx]

    def _rank_traverse(self, scorer: _Scorer, exclude: set[str], limit: int) -> list[Any]:
        scores = self._score_space(scorer.score_features)
        out: list[Any] = []
        for i in np.argsort(-scores, kind="stable"):
            if self.space.key_of_index(int(i)) in exclude:
                continue
            out.append(self.space[int(i)])
            if len(out) >= limit:
                break
        return out

    def run_ea(self, scorer: Any) -> Any:
        """The EA of this strategy's settings on ``scorer`` (an :class:`~nasopt.strategies.ea.EAResult`),
        its initial population seeded with the best evaluated architectures (with several
        objectives or violated constraints: the first in NSGA-II's constrained order)."""
        n_seed = int(round(self.seed_population * self.population))
        violation = None
        if isinstance(scorer, _ParetoScorer):
            archs, Y, told_violation = self._training_matrix()
            order = np.argsort(selection_order(Y, told_violation), kind="stable")
            violation = self._ea_violation(scorer)
        else:
            archs, y = self._training_set()
            order = np.argsort(-y, kind="stable")
        seeds = [archs[i] for i in order[:n_seed]]
        return evolve(
            self.space, scorer, self._rng, population=self.population,
            generations=self.generations, p_select=self.p_select,
            p_crossover=self.p_crossover, p_mutation=self.p_mutation, seeds=seeds,
            violation=violation,
        )

    def _ea_violation(self, scorer: _ParetoScorer):
        """The predicted violation the EA ranks by with several objectives: the feasibility
        predictor's, and with a ``reference`` the shortfall below the reference point set by
        the predictions of :data:`REFERENCE_SAMPLE` uniform architectures (``None``: neither)."""
        if self._reference is None:
            return None if scorer.feasibility is None else scorer.violation

        def parts(archs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray | None]:
            X = scorer.featurize(archs)  # encoded once for both predictions
            return scorer.score_features(X), scorer.violation_features(X)

        scores, base = parts(self.space.sample_many(self._rng, REFERENCE_SAMPLE))
        cut, span = reference_cut(scores, self._reference, base)  # the predicted-feasible ones'

        def violation(archs: Sequence[Any]) -> np.ndarray:
            scores, base = parts(archs)
            return with_reference(base, gap_below(scores, cut, span))

        return violation

    def _rank_ea(self, scorer: _Scorer | _ParetoScorer, exclude: set[str], limit: int) -> list[Any]:
        return self.run_ea(scorer).ranking(exclude=exclude, limit=limit, front_order=self.front_order)


@register_strategy("renas-iter")
class IterativeReNAS(ReNAS):
    """ReNAS refitted every 10 queries: the recipe that beats Optuna's TPE on NAS-Bench-201.

    :class:`ReNAS` with :data:`ITERATIVE_OPTIONS` as defaults (boosted stumps with the
    pairwise logistic loss, 20 random architectures, then 8 rounds of the predicted top-10);
    any option given here replaces the recipe's (``surrogate_options`` as a whole). ``init``
    defaults to the recipe's 20, at most 40 % of a ``budget`` hint and of a finite space's
    size (the recipe's 20 of 50 queries). Checkpoints and journals record the name ``"renas-iter"`` and every
    option, so they reload as this strategy.
    """

    init_share: ClassVar[float] = 0.4

    def __init__(self, space: SearchSpace, **options: Any) -> None:
        recipe = {k: v for k, v in ITERATIVE_OPTIONS.items() if k != "init"}
        recipe["surrogate_options"] = dict(recipe["surrogate_options"])
        super().__init__(space, **{**recipe, **options})

    @staticmethod
    def _default_init(space: SearchSpace) -> int:
        return int(ITERATIVE_OPTIONS["init"])
