"""Optuna integration: :class:`NASSampler` lets an existing Optuna study search a nasopt space.

Usage::

    import optuna
    from nasopt.integrations.optuna import NASSampler

    space = nasopt.spaces.NB201Space()
    sampler = NASSampler(space, strategy="weaknas", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)

    def objective(trial):
        arch = sampler.suggest_arch(trial)              # or suggest_arch(trial, space)
        lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)  # handled by the fallback
        return train(arch, lr)

    study.optimize(objective, n_trials=100, n_jobs=2)
    print(sampler.optimizer(study).best)

How architectures appear in Optuna (:func:`make_codec`): a space with a categorical form
(``space.categorical_params()``) is one categorical per parameter, ``arch:<name>``: an NB201
cell is six, ``arch:0->1`` ... ``arch:2->3`` (one operation per edge), a ``ProductSpace`` one
per dimension; any other finite space is one integer parameter ``arch:index`` (its
enumeration position). Open spaces (NB101 cells, your own infinite spaces)
have no primitive form: the architecture then lives only in the trial's user attribute
``nasopt_arch`` (``space.to_data(arch)``), which :func:`suggest_arch` sets for every space.

How the strategy follows the study: the sampler keeps one nasopt optimizer per study. A
proposal is made when a trial first asks for an architecture parameter; results reach the
optimizer at the next proposal (finished trials in trial-number order). Each proposal is
logged on its trial (system attribute ``nasopt:ask``: sequence number, the trials told
just before it, the architecture, and the ask record of :mod:`nasopt.persist`: the random
and strategy state after the ask), so a sampler that meets an existing study (a resumed
study, another process) rebuilds exactly the optimizer the study was run with, as a
journal is replayed (the strategy is not asked again), then continues where it stopped. RUNNING trials are pending architectures (never
proposed twice); FAIL and PRUNED trials are failed ones; trials whose architecture was
fixed by the user (``enqueue_trial``) are warm-start results, and so is a retry of a failed
trial (Optuna's ``RetryFailedTrialCallback``): it is told as a new trial of the same
architecture, so its result reaches the strategy while the failed attempt stays recorded. Parameters that are not
architecture parameters go to the ``fallback`` sampler.
"""

from __future__ import annotations

import functools
import math
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from ._deps import create_strategy, require

optuna = require("optuna", "optuna", "nasopt.integrations.optuna")

from optuna.distributions import (  # noqa: E402
    BaseDistribution,
    CategoricalDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler, RandomSampler  # noqa: E402
from optuna.study import StudyDirection  # noqa: E402
from optuna.trial import FrozenTrial, TrialState  # noqa: E402

from ..core.errors import (  # noqa: E402
    CheckpointError, ConfigurationError, InvalidArchitectureError, TrialError,
)
from ..core.optimizer import Optimizer, check_constraint_values  # noqa: E402
from ..persist.codec import (  # noqa: E402
    DEFAULT_PRIOR, ask_record, options_match, prior_kw, runtime_identity, strategy_options, strategy_state,
)
from ..persist.journal import replay  # noqa: E402
from ..core.space import SearchSpace  # noqa: E402
from ..core.trial import Trial  # noqa: E402
from ..driver import format_error  # noqa: E402

__all__ = ["NASSampler", "suggest_arch", "keep_errors", "make_codec", "ArchCodec", "ARCH_ATTR", "ASK_ATTR"]

#: User attribute holding ``space.to_data(arch)`` of the architecture a trial evaluated.
ARCH_ATTR = "nasopt_arch"
#: System attribute logging the sampler's proposal for a trial (used to replay on resume).
ASK_ATTR = "nasopt:ask"
#: User attribute holding the error text of a failed trial (set by :func:`keep_errors`).
ERROR_ATTR = "nasopt_error"
#: Study system attribute recording the strategy configuration.
CONFIG_ATTR = "nasopt:config"


# ============================================================================ codecs
class ArchCodec:
    """Maps the architectures of one space to Optuna primitive parameters and back."""

    def __init__(self, distributions: dict[str, BaseDistribution]) -> None:
        self.distributions = distributions

    def to_params(self, arch: Any) -> dict[str, Any]:
        """The parameter values that describe ``arch``."""
        raise NotImplementedError

    def from_params(self, params: Mapping[str, Any]) -> Any:
        """The architecture described by ``params`` (``None`` when some are missing)."""
        raise NotImplementedError

    def owns(self, name: str, distribution: BaseDistribution) -> bool:
        """True when ``name`` is one of this codec's parameters with its distribution."""
        return self.distributions.get(name) == distribution


class _CategoricalCodec(ArchCodec):
    """A space's categorical form (:meth:`SearchSpace.categorical_params`), one Optuna
    categorical ``<prefix>:<name>`` per parameter."""

    def __init__(self, space: SearchSpace, params: Mapping[str, Any], prefix: str) -> None:
        self.space = space
        self.names = {name: f"{prefix}:{name}" for name in params}
        super().__init__({p: CategoricalDistribution(params[n]) for n, p in self.names.items()})

    def to_params(self, arch: Any) -> dict[str, Any]:
        return {self.names[n]: v for n, v in self.space.to_categorical(arch).items()}

    def from_params(self, params: Mapping[str, Any]) -> Any:
        if not all(p in params for p in self.names.values()):
            return None
        return self.space.from_categorical({n: params[p] for n, p in self.names.items()})


class _IndexCodec(ArchCodec):
    def __init__(self, space: SearchSpace, prefix: str) -> None:
        self.space, self.name = space, f"{prefix}:index"
        super().__init__({self.name: IntDistribution(0, len(space) - 1)})

    def to_params(self, arch: Any) -> dict[str, Any]:
        return {self.name: int(self.space.index(arch))}

    def from_params(self, params: Mapping[str, Any]) -> Any:
        return self.space[int(params[self.name])] if self.name in params else None


def make_codec(space: SearchSpace, prefix: str = "arch") -> ArchCodec | None:
    """The Optuna parameters that describe architectures of ``space``: one categorical
    ``<prefix>:<name>`` per parameter of its categorical form when it has one
    (:meth:`~nasopt.core.space.SearchSpace.categorical_params`: the edges of an NB201 cell,
    the parameters of a ``ProductSpace``), else ``<prefix>:index`` for finite spaces,
    ``None`` for open spaces (architecture in a user attribute only)."""
    params = space.categorical_params()
    if params is not None:
        return _CategoricalCodec(space, params, prefix)
    if space.is_finite:
        return _IndexCodec(space, prefix)
    return None


# ============================================================================ objective side
def _unwrap(sampler: Any) -> "NASSampler | None":
    """The NASSampler inside ``sampler`` (itself, or the base of a PartialFixedSampler)."""
    seen = 0
    while sampler is not None and seen < 8:
        if isinstance(sampler, NASSampler):
            return sampler
        sampler = getattr(sampler, "_base_sampler", None)
        seen += 1
    return None


def suggest_arch(trial: Any, space: SearchSpace, prefix: str = "arch") -> Any:
    """Suggest an architecture of ``space`` in an Optuna objective and record it on the trial
    (user attribute ``nasopt_arch``). Works with any sampler for spaces that have a primitive
    form (:func:`make_codec`); open spaces need a :class:`NASSampler`.

    Raises:
        optuna.TrialPruned: the parameters the sampler chose describe no valid architecture
            (a validity rule of a ``ProductSpace`` under a sampler that ignores it).
    """
    codec = make_codec(space, prefix)
    if codec is None:
        nas = _unwrap(getattr(getattr(trial, "study", None), "sampler", None))
        if nas is None:
            raise ConfigurationError(
                f"{space!r} has no primitive Optuna form (it cannot be enumerated): "
                "create the study with sampler=NASSampler(space, ...)"
            )
        arch = nas._proposal(trial.study, trial._trial_id, trial.number).arch
    else:
        params = {}
        for name, dist in codec.distributions.items():
            if isinstance(dist, CategoricalDistribution):
                params[name] = trial.suggest_categorical(name, dist.choices)
            else:
                params[name] = trial.suggest_int(name, dist.low, dist.high)
        arch = codec.from_params(params)
        reason = space.check(arch)
        if reason is not None:
            raise optuna.TrialPruned(f"parameters describe no valid architecture: {reason}")
    trial.set_user_attr(ARCH_ATTR, space.to_data(arch))
    return arch


def keep_errors(objective: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Decorate an Optuna objective so that an exception's text is kept on the failed trial
    (user attribute ``nasopt_error``; Optuna itself only logs it) and reaches the nasopt
    optimizer as the failed trial's ``error``. The exception is re-raised unchanged."""

    @functools.wraps(objective)
    def wrapped(trial: Any) -> Any:
        try:
            return objective(trial)
        except optuna.TrialPruned:
            raise
        except Exception as exc:
            trial.set_user_attr(ERROR_ATTR, format_error(exc))
            raise

    return wrapped


# ============================================================================ sampler
def _same_config(recorded: Any, config: dict, opt: Optimizer) -> bool:
    """Whether a study's recorded configuration is ``config`` (options compared as a
    journal's identity: :func:`~nasopt.persist.codec.options_match`)."""
    return (isinstance(recorded, dict) and set(recorded) == set(config)
            and all(recorded[k] == config[k] for k in config if k != "options")
            and options_match(recorded["options"], opt))


class _StudyRun:
    """The optimizer behind one study and its bookkeeping."""

    def __init__(self, opt: Optimizer) -> None:
        self.opt = opt
        self.by_number: dict[int, Trial] = {}  # optuna trial number -> our proposal
        self.processed: set[int] = set()  # finished optuna trials already handled
        self.unlogged: list[int] = []  # handled but not yet written into an ask record
        self.seq = 0


def _outcome(t: FrozenTrial, n_objectives: int = 1) -> tuple[Any, str | None]:
    """(value, None) for a usable COMPLETE trial (a tuple of values with several
    objectives), else (None, why it failed)."""
    if t.state == TrialState.COMPLETE:
        values = t.values or []
        if len(values) == n_objectives and all(v is not None and math.isfinite(v) for v in values):
            return (float(values[0]) if n_objectives == 1 else tuple(map(float, values))), None
        what = "a finite single value" if n_objectives == 1 else f"{n_objectives} finite values"
        return None, f"optuna trial {t.number} completed without {what}"
    reason = t.user_attrs.get(ERROR_ATTR) or t.system_attrs.get("fail_reason")
    if t.state == TrialState.PRUNED:
        step = t.last_step
        return None, "pruned" + ("" if step is None else f" at step {step}")
    return None, str(reason) if reason else f"optuna trial {t.number}: {t.state.name}"


#: Where Optuna stores the values of ``constraints_func`` on a trial.
_CONSTRAINTS_KEY = "constraints"


def _directions(study: "optuna.Study") -> dict[str, Any]:
    """The direction options of the study's optimizer: ``maximize`` for one objective,
    ``objectives`` for several."""
    words = ["max" if d == StudyDirection.MAXIMIZE else "min" for d in study.directions]
    return {"maximize": words[0] == "max"} if len(words) == 1 else {"objectives": words}


class NASSampler(BaseSampler):
    """An Optuna sampler proposing architectures with a nasopt strategy.

    Args:
        space: The nasopt search space.
        strategy: Strategy name for :func:`nasopt.create` (``"weaknas"``, ``"rea"``,
            ``"random"``, ``"renas"``, ...).
        fallback: Sampler for every parameter that is not an architecture parameter
            (default ``RandomSampler(seed=seed)``; ``TPESampler`` works too).
        seed: Seed of the strategy. ``None``: the seed recorded in the study by an earlier
            sampler (resume), else a fresh random seed (then recorded).
        constraints_func: Optuna's convention (as ``NSGAIISampler`` / ``TPESampler``):
            ``constraints_func(frozen_trial)`` returns the constraint values of a finished
            trial (``<= 0`` is satisfied); they are stored on the trial and told to the
            strategy (``tell(..., constraints=...)``), which never reports an infeasible
            trial as best or on the front.

    A study with several ``directions`` runs the strategy with those objectives
    (``objectives=[...]``): ``"random"`` and ``"rea"`` support them.
        prefix: Prefix of the architecture parameter names.
        prior: The strategy's ``prior=`` (``WeakNAS``, ``docs/priors.md``): ``"default"``
            (the strategy's own default: ``"auto"``, what is free for the space, for
            WeakNAS; none for the others), ``"auto"``, ``None`` (no prior), a callable, a table, or ``"free"`` (the
            space's free features). A runtime argument, passed on
            to every optimizer the sampler builds and never stored: the study records only
            what identifies it (system attribute ``nasopt:config``), so a sampler resuming
            the study needs the same ``prior=`` again (``"free"`` is computed again); one
            built without it, or with another, warns and continues from the results only.
        **strategy_options: Keyword options of the strategy (JSON-able).
    """

    def __init__(self, space: SearchSpace, strategy: str = "weaknas", *, fallback: BaseSampler | None = None,
                 seed: int | None = None, prefix: str = "arch",
                 constraints_func: Callable[[FrozenTrial], Any] | None = None,
                 prior: Any = DEFAULT_PRIOR, **strategy_options: Any) -> None:
        if not isinstance(space, SearchSpace):
            raise ConfigurationError(f"space must be a nasopt SearchSpace, got {type(space).__name__}")
        create_strategy(strategy, space, seed=0, **strategy_options, **prior_kw(prior, strategy))  # fail early
        self.space, self.strategy, self.seed = space, strategy, seed
        self.strategy_options = dict(strategy_options)
        self.prior = prior  # a runtime argument: passed to every optimizer, never recorded
        self.prefix = prefix
        self.constraints_func = constraints_func
        self.codec = make_codec(space, prefix)
        self._fallback = fallback if fallback is not None else RandomSampler(seed=seed)
        self._lock = threading.RLock()
        self._runs: dict[tuple[int, int], _StudyRun] = {}

    # ------------------------------------------------------------------ public helpers
    def suggest_arch(self, trial: Any) -> Any:
        """:func:`suggest_arch` for this sampler's space."""
        return suggest_arch(trial, self.space, self.prefix)

    def optimizer(self, study: "optuna.Study") -> Optimizer:
        """The nasopt optimizer behind ``study``, with every finished trial told."""
        with self._lock:
            run = self._run(study)
            self._sync(study, run)
            return run.opt

    # ------------------------------------------------------------------ BaseSampler
    def _is_arch(self, name: str, distribution: BaseDistribution) -> bool:
        return self.codec is not None and self.codec.owns(name, distribution)

    def infer_relative_search_space(self, study: "optuna.Study", trial: FrozenTrial) -> dict[str, BaseDistribution]:
        space = self._fallback.infer_relative_search_space(study, trial)
        return {k: v for k, v in space.items() if not self._is_arch(k, v)}

    def sample_relative(self, study: "optuna.Study", trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        others = {k: v for k, v in search_space.items() if not self._is_arch(k, v)}
        params = dict(self._fallback.sample_relative(study, trial, others)) if others else {}
        for name, dist in others.items():  # a relative space is always fully sampled
            if name not in params:
                params[name] = self._fallback.sample_independent(study, trial, name, dist)
        if len(others) < len(search_space):
            arch_params = self._arch_params(study, trial)
            params.update({k: arch_params[k] for k in search_space if k not in others})
        return params

    def sample_independent(self, study: "optuna.Study", trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        if self._is_arch(param_name, param_distribution):
            return self._arch_params(study, trial)[param_name]
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: "optuna.Study", trial: FrozenTrial) -> None:
        self._fallback.before_trial(study, trial)

    def after_trial(self, study: "optuna.Study", trial: FrozenTrial, state: TrialState,
                    values: Any) -> None:
        if self.constraints_func is not None:
            from optuna.samplers._base import _process_constraints_after_trial

            _process_constraints_after_trial(self.constraints_func, study, trial, state)
        self._fallback.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        # only the fallback: the strategy's randomness is part of the study's replayable state
        self._fallback.reseed_rng()

    # ------------------------------------------------------------------ proposals
    def _arch_params(self, study: "optuna.Study", trial: FrozenTrial) -> dict[str, Any]:
        return self.codec.to_params(self._proposal(study, trial._trial_id, trial.number).arch)

    def _proposal(self, study: "optuna.Study", trial_id: int, number: int) -> Trial:
        """The architecture proposed for optuna trial ``number`` (made on first request)."""
        with self._lock:
            run = self._run(study)
            if number in run.by_number:
                return run.by_number[number]
            self._sync(study, run)
            proposal = run.opt.ask()
            record = {"seq": run.seq, "told": list(run.unlogged), "arch": self.space.to_data(proposal.arch),
                      "ask": {**ask_record(run.opt, [proposal]), "state": strategy_state(run.opt)}}
            study._storage.set_trial_system_attr(trial_id, ASK_ATTR, record)
            run.unlogged.clear()
            run.seq += 1
            run.by_number[number] = proposal
            return proposal

    def _run(self, study: "optuna.Study") -> _StudyRun:
        key = (id(study._storage), study._study_id)
        run = self._runs.get(key)
        if run is None:
            run = self._runs[key] = self._replay(study)
        return run

    def _new_optimizer(self, study: "optuna.Study") -> tuple[Optimizer, bool]:
        """The study's optimizer, before replay, and whether the study recorded this
        configuration (else its log is replayed by asking again, as a check)."""
        attrs = study._storage.get_study_system_attrs(study._study_id)
        recorded = attrs.get(CONFIG_ATTR)
        seed = self.seed
        if seed is None and recorded is not None:
            seed = recorded["seed"]
        opt = self._create(study, seed)
        # the runtime arguments (a prior) only by what identifies them, and only when given
        config = {"strategy": self.strategy, "seed": opt.seed, "options": strategy_options(opt),
                  **runtime_identity(opt)}
        same = recorded is None or _same_config(recorded, config, opt)
        if recorded is None:
            study._storage.set_study_system_attr(study._study_id, CONFIG_ATTR, config)
        elif not same:
            hint = ""
            if isinstance(recorded, dict) and recorded.get("prior") != config.get("prior"):
                hint = " (a prior is not stored in the study: pass prior= again, the same one)"
            warnings.warn(
                f"NASSampler: this study was run with {recorded}, now {config}; the strategy "
                f"cannot replay its history and continues from the results only{hint}",
                RuntimeWarning, stacklevel=4,
            )
        return opt, same

    def _create(self, study: "optuna.Study", seed: int | None) -> Optimizer:
        """A fresh optimizer of this sampler's strategy, options and prior for ``study``."""
        return create_strategy(self.strategy, self.space, seed=seed, **_directions(study),
                               **self.strategy_options, **prior_kw(self.prior, self.strategy))

    def _replay(self, study: "optuna.Study") -> _StudyRun:
        """Rebuild the optimizer from the proposals logged on the study's trials.

        Each logged proposal holds the ask record of :mod:`nasopt.persist` (the proposed
        trial and the random and strategy state after it), applied by the journal's
        :func:`~nasopt.persist.journal.replay` without calling the strategy; the results
        told before it are told again. Logs written before the records existed (or by
        another configuration) are replayed by asking the strategy again, which must
        propose the logged architecture."""
        opt, same = self._new_optimizer(study)
        run = _StudyRun(opt)
        trials = {t.number: t for t in study._storage.get_all_trials(study._study_id, deepcopy=False)}
        log = sorted(
            (t.system_attrs[ASK_ATTR]["seq"], n, t.system_attrs[ASK_ATTR])
            for n, t in trials.items() if ASK_ATTR in t.system_attrs
        )
        # a retried trial (Optuna's retry callbacks) carries a copy of the failed trial's
        # record: each proposal was made once, for the lowest trial number holding it
        log = [entry for k, entry in enumerate(log) if k == 0 or entry[0] != log[k - 1][0]]
        for seq, number, record in log:
            for n in record["told"]:
                if n in trials and n not in run.processed and trials[n].state.is_finished():
                    self._handle(run, trials[n])
                    run.processed.add(n)
            proposal = self._replay_ask(run.opt, record) if same and "ask" in record else run.opt.ask()
            if proposal is None or self.space.to_data(proposal.arch) != record["arch"]:
                warnings.warn(
                    f"NASSampler: the study's proposal log diverges at trial {number} (another "
                    "sampler configuration or process); continuing from the results only",
                    RuntimeWarning, stacklevel=4,
                )
                run = _StudyRun(self._create(study, run.opt.seed))
                break
            run.by_number[number] = proposal
        run.seq = 1 + max((seq for seq, _, _ in log), default=-1)
        return run

    @staticmethod
    def _replay_ask(opt: Optimizer, record: dict) -> Trial | None:
        """Apply a logged ask record to ``opt`` (:func:`nasopt.persist.journal.replay`); the
        trial it proposed, or ``None`` when the record does not fit the optimizer."""
        try:
            ask = record["ask"]
            replay(opt, {"owner": opt._owner}, [(record["seq"], ask)], "the study's proposal log")
            return opt._trials[ask["trials"][0][0]]
        except (CheckpointError, KeyError, IndexError, TypeError):
            return None

    # ------------------------------------------------------------------ results
    def _sync(self, study: "optuna.Study", run: _StudyRun) -> None:
        """Tell the optimizer every finished trial it has not seen, in trial-number order."""
        trials = study._storage.get_all_trials(study._study_id, deepcopy=False)
        for t in sorted(trials, key=lambda t: t.number):
            if t.number not in run.processed and t.state.is_finished():
                self._handle(run, t)
                run.processed.add(t.number)
                run.unlogged.append(t.number)

    def _used_arch(self, t: FrozenTrial) -> Any:
        """The architecture a finished trial evaluated, or ``None``."""
        try:
            if self.codec is not None:
                arch = self.codec.from_params(t.params)
            elif ARCH_ATTR in t.user_attrs:
                arch = self.space.from_data(t.user_attrs[ARCH_ATTR])
            else:
                return None
        except (InvalidArchitectureError, KeyError, ValueError, IndexError, TypeError):
            return None
        return arch if arch is not None and self.space.is_valid(arch) else None

    def _handle(self, run: _StudyRun, t: FrozenTrial) -> None:
        value, why = _outcome(t, run.opt.n_objectives)
        cons = t.system_attrs.get(_CONSTRAINTS_KEY) if why is None else None
        if cons is not None:
            try:
                cons = check_constraint_values(cons)
            except TrialError as exc:  # e.g. NaN: the result cannot be judged feasible
                value, why, cons = None, f"optuna trial {t.number}: constraints_func gave {exc}", None
        used = self._used_arch(t)
        mine = run.by_number.get(t.number)
        if mine is not None:
            if used is not None and self.space.key(used) != mine.key:
                self._tell(run.opt, mine, None, f"optuna trial {t.number} evaluated another architecture")
                self._tell(run.opt, used, value, why, cons)
            elif used is None and self.codec is not None and why is None:
                self._tell(run.opt, mine, None, f"optuna trial {t.number} did not use the architecture")
            else:
                self._tell(run.opt, mine, value, why, cons)
        elif used is not None:
            self._tell(run.opt, used, value, why, cons)  # architecture fixed by the user: warm start

    @staticmethod
    def _tell(opt: Optimizer, what: Any, value: Any, why: str | None, cons: Any = None) -> None:
        try:
            if why is None:
                opt.tell(what, value, constraints=None if cons is None else list(cons))
            else:
                opt.tell(what, failed=True, error=why)
        except TrialError:
            pass  # the architecture already has a result (duplicate evaluation): keep the first
