"""Optuna's multi-objective TPE on categorical parameters, with its bookkeeping kept as it goes.

Optuna's :class:`~optuna.samplers.TPESampler` rebuilds, for every parameter of every trial,
its split of all past trials into "below" and "above" and both Parzen estimators from
Python lists of trials: the cost of one suggestion grows with the study, and a run of
multi-objective TPE that keeps re-suggesting evaluated NAS-Bench-201 cells needs tens of
thousands of suggestions for a few hundred distinct cells (hours on two cores).
:class:`IncrementalMOTPESampler` is the same sampler with the same seed and the same
suggestions — the same split (Optuna's own non-domination rank and hypervolume subset
selection, fed the distinct loss vectors), the same random draws in the same order, the
same acquisition (summed per category; where two categories come within rounding of each
other, Optuna's own sums decide) — but with the past trials kept in running sums. It covers
what the hardware benchmark runs (default settings, several objectives, categorical
parameters, trials told one after the other, no pruned trials or constraints) and hands
anything else to Optuna's own code. ``tests/test_harness.py`` checks that both give the same cells, and the
hardware benchmark's stored TPE runs were reproduced with it suggestion for suggestion.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import TPESampler
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

#: The Optuna releases whose TPE this module was checked against (its private split,
#: weights and kernels): under any other the sampler is Optuna's own, unchanged.
VERIFIED_OPTUNA = ("5.1.",)
try:
    from optuna._hypervolume.hssp import _solve_hssp_on_unique_loss_vals
    from optuna.samplers._tpe.sampler import _get_reference_point
    from optuna.study._constrained_optimization import _CONSTRAINTS_KEY
    from optuna.study._multi_objective import _calculate_nondomination_rank
    SUPPORTED = optuna.__version__.startswith(VERIFIED_OPTUNA)
except ImportError:  # another release's internals
    SUPPORTED = False


#: Acquisition values of two categories closer than this (relative) are ordered by Optuna's
#: own floating-point sums, which the per-category sums here do not reproduce.
_TIE = 1e-9


class _Column:
    """A growing array of rows (amortised appends; the filled part as a view)."""

    def __init__(self, width: int | None = None) -> None:
        self._data = np.zeros((64,) if width is None else (64, width), dtype=np.int64)
        self.size = 0

    def append(self, value: Any) -> None:
        if self.size == len(self._data):
            self._data = np.concatenate([self._data, np.zeros_like(self._data)])
        self._data[self.size] = value
        self.size += 1

    @property
    def values(self) -> np.ndarray:
        return self._data[:self.size]


class IncrementalMOTPESampler(TPESampler):
    """:class:`optuna.samplers.TPESampler` (default settings, ``seed``) whose independent
    sampling of a categorical parameter in a study of several objectives reads the past
    trials from running sums kept up to date by :meth:`after_trial`; the suggestions are
    Optuna's. Falls back to Optuna's code for a study it does not cover (one objective,
    pruned trials, constraints, trials told out of order, parameters other than categorical)
    and under an Optuna release other than :data:`VERIFIED_OPTUNA`.

    Per suggestion it works on the "below" trials only (a tenth of the study): the weights
    of the "above" mixture (Optuna's ramp over their order) are summed per category from
    prefix sums over all trials, less the below trials' share."""

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self._names: list[str] = []  # the parameters, in the order of the first trial
        self._choices: list[int] = []  # their numbers of categories
        self._offsets = np.zeros(1, dtype=np.int64)  # parameter p: columns offsets[p]:offsets[p+1]
        self._codes: _Column | None = None  # category of each trial, per parameter
        self._prefix_count: _Column | None = None  # trials before t of each (parameter, category)
        self._prefix_sum: _Column | None = None  # the sum of their positions
        self._value_id: dict[tuple[float, ...], int] = {}  # loss vector -> its number
        self._values: list[tuple[float, ...]] = []  # distinct loss vectors (minimised)
        self._trials_of: list[_Column] = []  # the trials of each distinct loss vector
        self._n = 0
        self._covered = SUPPORTED
        self._split: tuple[int, np.ndarray] | None = None
        self._above: tuple[int, np.ndarray, float] | None = None
        self._ranks: tuple[tuple[int, int], np.ndarray] | None = None

    @property
    def covered(self) -> bool:
        """Whether every suggestion so far came from the running sums (not Optuna's code)."""
        return self._covered

    # -- the trials, kept as they are told ------------------------------------------------
    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Any) -> None:
        super().after_trial(study, trial, state, values)
        if state == TrialState.FAIL or not self._covered:
            return
        n = self._n
        if (state != TrialState.COMPLETE or trial.number != n or len(study.directions) < 2
                or not all(isinstance(d, CategoricalDistribution)
                           for d in trial.distributions.values())
                or (n and list(trial.params) != self._names)
                or _CONSTRAINTS_KEY in trial.system_attrs):
            self._covered = False
            return
        if n == 0:
            self._names = list(trial.params)
            self._choices = [len(trial.distributions[k].choices) for k in self._names]
            self._offsets = np.concatenate([[0], np.cumsum(self._choices)])
            width = int(self._offsets[-1])
            self._codes = _Column(len(self._names))
            self._prefix_count = _Column(width)
            self._prefix_sum = _Column(width)
            self._prefix_count.append(np.zeros(width))
            self._prefix_sum.append(np.zeros(width))
        codes = [int(trial.distributions[k].to_internal_repr(trial.params[k])) for k in self._names]
        self._codes.append(codes)
        columns = self._offsets[:-1] + codes
        count = self._prefix_count.values[-1].copy()
        total = self._prefix_sum.values[-1].copy()
        count[columns] += 1
        total[columns] += n
        self._prefix_count.append(count)
        self._prefix_sum.append(total)
        signs = [-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in study.directions]
        loss = tuple((np.array(values, dtype=float) * signs).tolist())
        vid = self._value_id.setdefault(loss, len(self._values))
        if vid == len(self._values):
            self._values.append(loss)
            self._trials_of.append(_Column())
        self._trials_of[vid].append(n)
        self._n += 1

    def _fast(self, study: optuna.Study, name: str, dist: BaseDistribution) -> bool:
        return (self._covered and self._n > 0 and isinstance(dist, CategoricalDistribution)
                and len(study.directions) >= 2 and name in self._names
                and len(dist.choices) == self._choices[self._names.index(name)])

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        if not self._fast(study, param_name, param_distribution):
            return super().sample_independent(study, trial, param_name, param_distribution)
        if self._n < self._n_startup_trials:
            return self._random_sampler.sample_independent(
                study, trial, param_name, param_distribution)
        return self._sample_categorical(param_name, param_distribution)

    # -- Optuna's split, on the distinct loss vectors -----------------------------------
    def _below(self) -> np.ndarray:
        """The positions (sorted) of the "below" trials of Optuna's ``_split_trials``: the
        ``ceil(0.1 n)`` best by non-domination rank, ties on the last rank broken by
        hypervolume subset selection as Optuna's ``_solve_hssp`` does."""
        n = self._n
        if self._split is not None and self._split[0] == n:
            return self._split[1]
        n_below = min(int(np.ceil(0.1 * n)), n)
        values = np.asarray(self._values)
        key = (len(values), min(n_below, len(values)))  # what the ranks depend on
        if self._ranks is None or self._ranks[0] != key:
            self._ranks = (key, _calculate_nondomination_rank(values, n_below=n_below))
        value_rank = self._ranks[1]
        per_value = np.array([c.size for c in self._trials_of])
        trials_per_rank = np.bincount(value_rank, weights=per_value).astype(np.int64)
        present = np.flatnonzero(trials_per_rank)
        last = int(np.max(present[np.cumsum(trials_per_rank[present]) <= n_below], initial=-1))
        parts = [self._trials_of[v].values for v in np.flatnonzero(value_rank <= last)]
        missing = n_below - int(trials_per_rank[:last + 1].sum())
        if missing > 0:
            tied_values = np.flatnonzero(value_rank == last + 1)
            if missing == int(trials_per_rank[last + 1]):
                parts += [self._trials_of[v].values for v in tied_values]
            else:
                uniq, where = np.unique(values[tied_values], return_index=True, axis=0)
                first = np.array([self._trials_of[v].values[0] for v in tied_values])[where]
                if len(uniq) < missing:
                    # Optuna keeps each loss vector's first trial, then the earliest repeats.
                    need = missing - len(uniq)
                    repeats = np.sort(np.concatenate(
                        [self._trials_of[v].values[1:need + 1] for v in tied_values]))
                    parts += [first, repeats[:need]]
                else:
                    parts.append(_solve_hssp_on_unique_loss_vals(
                        uniq, first, missing, _get_reference_point(uniq)))
        below = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
        self._split = (n, below)
        return below

    # -- Optuna's Parzen estimators of one categorical parameter -------------------------
    def _kernel_rows(self, n_observations: int, n_choices: int) -> np.ndarray:
        """Optuna's categorical kernel for an observation of each category (rows 0..k-1)
        and its prior kernel (row k), with ``n_observations`` observations."""
        n_kernels = n_observations + 1
        rows = np.full((n_choices + 1, n_choices), self._parzen_estimator_parameters.prior_weight
                       / n_kernels)
        rows[np.arange(n_choices), np.arange(n_choices)] += 1
        sums = rows.sum(axis=1, keepdims=True)
        return rows / np.where(sums == 0, 1, sums)

    def _above_weights(self, below: np.ndarray) -> tuple[np.ndarray, float]:
        """Per (parameter, category) column: the summed weights Optuna gives the "above"
        trials of that category (``default_weights`` over their order: a ramp from
        ``1 / n_above`` to 1 for the oldest, then 1 for the newest 25), and the sum of all
        of them; kept for the suggestion under way."""
        n = self._n
        if self._above is not None and self._above[0] == n:
            return self._above[1], self._above[2]
        width = int(self._offsets[-1])
        offsets = self._offsets[:-1]
        n_above = n - len(below)
        m = n_above - 25 if n_above >= 25 else 0  # trials on the ramp
        # The newest 25 (or all) above trials sit at positions >= start.
        start, held = n - min(n_above, 25), 0
        while True:
            inside = len(below) - int(np.searchsorted(below, start))
            if inside == held:
                break
            held = inside
            start = n - min(n_above, 25) - held
        newest = np.setdiff1d(np.arange(start, n), below, assume_unique=True)
        sums = np.bincount((self._codes.values[newest] + offsets).ravel(),
                           minlength=width).astype(float)
        total = float(len(newest))
        if m > 0:
            early = below[below < start]  # below trials among the ramp's positions
            columns = (self._codes.values[early] + offsets).ravel()
            repeat = len(offsets)
            count = self._prefix_count.values[start] - np.bincount(columns, minlength=width)
            # Each category's sum of ramp ranks r = j - (below trials before j).
            sum_j = (self._prefix_sum.values[start]
                     - np.bincount(columns, weights=np.repeat(early, repeat),
                                   minlength=width).astype(np.int64))
            passed = (len(early) * self._prefix_count.values[start]
                      - self._prefix_count.values[early + 1].sum(axis=0)
                      - np.bincount(columns, weights=np.repeat(np.arange(len(early)), repeat),
                                    minlength=width).astype(np.int64))
            first = 1.0 / n_above
            step = (1.0 - first) / (m - 1) if m > 1 else 0.0
            sums += first * count + step * (sum_j - passed)
            total += m * first + step * m * (m - 1) / 2
        self._above = (n, sums, total)
        return sums, total

    def _sample_categorical(self, name: str, dist: CategoricalDistribution) -> Any:
        below = self._below()
        p = self._names.index(name)
        codes = self._codes.values[:, p]
        k = len(dist.choices)
        prior = self._parzen_estimator_parameters.prior_weight
        rng = self._rng.rng

        below_codes = codes[below]
        if len(below_codes):
            w_below = np.append(np.ones(len(below_codes)), [prior])
        else:
            w_below = np.array([1.0])
        w_below /= w_below.sum()
        # Optuna's draw: a kernel per candidate, then a category from its row.
        active = rng.choice(len(w_below), p=w_below, size=self._n_ei_candidates)
        rows_below = self._kernel_rows(len(below_codes), k)
        if not len(below_codes):
            rows_below = np.full((1, k), 1.0 / k)
            kernel_row = np.zeros(len(active), dtype=int)
        else:
            kernel_row = np.where(active < len(below_codes),
                                  below_codes[np.minimum(active, len(below_codes) - 1)], k)
        cum = np.cumsum(rows_below[kernel_row], axis=-1)
        cum[:, -1] = 1
        candidates = np.sum(cum < rng.rand(len(active))[:, None], axis=-1)

        if len(below_codes):
            below_density = (np.bincount(below_codes, minlength=k) @ rows_below[:k]
                             + prior * rows_below[k]) / (len(below_codes) + prior)
        else:
            below_density = rows_below[0]
        above_sums, above_total = self._above_weights(below)
        above_sums = above_sums[self._offsets[p]:self._offsets[p + 1]]
        rows_above = self._kernel_rows(self._n - len(below), k)
        above_density = (above_sums @ rows_above[:k] + prior * rows_above[k]) / (above_total + prior)
        with np.errstate(divide="ignore"):
            acquisition = np.log(below_density[candidates]) - np.log(above_density[candidates])
        best = acquisition.max()
        close = np.unique(candidates[acquisition >= best - _TIE * max(1.0, abs(best))])
        if len(close) > 1:
            # Categories this close are ordered by Optuna's rounding: take its own sums.
            above = np.setdiff1d(np.arange(self._n), below, assume_unique=True)
            acquisition = self._optuna_acquisition(name, dist, below_codes, codes[above],
                                                   candidates)
        return dist.to_external_repr(float(candidates[int(np.argmax(acquisition))]))

    def _optuna_acquisition(self, name: str, dist: CategoricalDistribution,
                            below_codes: np.ndarray, above_codes: np.ndarray,
                            candidates: np.ndarray) -> np.ndarray:
        """The acquisition as Optuna computes it: its estimators on the same observations
        (the below ones weighted alike, as its multi-objective ``_build_parzen_estimator``
        does), through its own ``_compute_acquisition_func``."""
        space = {name: dist}
        params = self._parzen_estimator_parameters
        mpe_below = self._parzen_estimator_cls({name: below_codes}, space, params,
                                               np.ones(len(below_codes)))
        mpe_above = self._parzen_estimator_cls({name: above_codes}, space, params)
        return self._compute_acquisition_func({name: candidates.astype(float)}, mpe_below,
                                              mpe_above)
