"""Ray Tune integration: :class:`NASSearch`, a Tune ``Searcher`` driven by a nasopt strategy.

Usage::

    from ray import tune
    from nasopt.integrations.ray import NASSearch

    space = nasopt.spaces.NB201Space()

    def trainable(config):
        arch = space.from_data(config["arch"])     # the proposed architecture
        tune.report({"accuracy": train(arch, lr=config["lr"])})

    search = NASSearch(space, strategy="weaknas", metric="accuracy", mode="max", seed=0)
    tuner = tune.Tuner(trainable, param_space={"lr": 0.01},   # constants are passed through
                       tune_config=tune.TuneConfig(search_alg=search, num_samples=100,
                                                   max_concurrent_trials=4))
    tuner.fit()
    print(search.optimizer.best)

Each suggested config holds ``space.to_data(arch)`` under ``arch_key`` (``"arch"``). A trial
that errors, or whose last result lacks a finite ``metric``, is told as failed. ``save`` /
``restore`` (called by Tune on the experiment directory; ``Tuner.restore`` or
``restore_from_dir`` bring it back) keep the whole optimizer and the live trials.
A WeakNAS ``prior=`` is a runtime argument: never saved nor pickled, only what identifies
it; ``"free"`` (the space's free features) travels as that word and is computed again, any
other prior must be passed again: ``NASSearch(space, ..., prior=p).restore_from_dir(path)``.

Scheduling mirrors :func:`nasopt.driver.optimize`: by default one architecture is asked per
free Tune slot; ``batch_size=b`` asks ``b`` at a time and starts the next batch only when
the previous one is fully told (the sequential ``ask(b)`` loop when results arrive in
order); ``ordered=True`` tells results in ask order whatever order Tune reports them in.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

from ._deps import create_strategy, require

require("ray.tune", "ray", "nasopt.integrations.ray")

from ray.tune.search import Searcher  # noqa: E402

from ..core.errors import ConfigurationError  # noqa: E402
from ..core.optimizer import Optimizer  # noqa: E402
from ..persist.checkpoint import from_state_dict, state_dict, write_json  # noqa: E402
from ..persist.codec import DEFAULT_PRIOR, is_default_prior, prior_kw  # noqa: E402
from ..core.space import SearchSpace  # noqa: E402
from ..core.trial import Trial  # noqa: E402

__all__ = ["NASSearch"]

STATE_FORMAT = "nasopt-ray-searcher"


def _directions(metric: Any, mode: Any) -> tuple[str, ...] | None:
    """The optimizer directions that ``mode`` (``"max"`` / ``"min"``, or a list of them as
    long as the list ``metric``) asks for, or ``None`` when it is not a valid mode."""
    modes = mode if isinstance(mode, list) else [mode]
    if not modes or any(m not in ("max", "min") for m in modes):
        return None
    if isinstance(mode, list) and (not isinstance(metric, list) or len(metric) != len(mode)) \
            and metric is not None:
        return None
    return tuple("maximize" if m == "max" else "minimize" for m in modes)


class NASSearch(Searcher):
    """A Ray Tune searcher proposing architectures with a nasopt strategy.

    Args:
        space: The nasopt search space (ignored when ``optimizer`` is given).
        strategy: Strategy name for :func:`nasopt.create` (``"weaknas"``, ``"rea"``, ...).
        metric, mode: The reported metric to optimize and ``"max"`` / ``"min"`` (or set by
            ``TuneConfig(metric=..., mode=...)``); for several objectives, a list of metrics
            and a list of modes of the same length (the strategy then runs with
            ``objectives=`` those modes, and each result is told as one value per metric).
        seed: Seed of the strategy.
        batch_size: ``None`` (asynchronous) or ``b`` (synchronous batches of ``b``).
        ordered: Tell results in the order the architectures were asked.
        arch_key: Config key holding the architecture.
        optimizer: An existing nasopt optimizer to continue (e.g. ``nasopt.load(path)``).
        prior: The strategy's ``prior=`` (``WeakNAS``, ``docs/priors.md``): ``"default"``
            (the strategy's own default: ``"auto"``, what is free for the space, for
            WeakNAS; none for the others; with ``optimizer``, that optimizer's prior),
            ``"auto"``, ``None`` (no prior), a callable, a table, or ``"free"`` (the
            space's free features). A runtime argument: passed on to the optimizer, never
            saved or pickled (``"free"`` is pickled as the word and computed again);
            ``restore`` of a run with a prior needs the same one here, else it raises
            :class:`~nasopt.core.errors.CheckpointError` saying to pass ``prior=`` again.
        **strategy_options: Keyword options of the strategy.
    """

    def __init__(self, space: SearchSpace | None = None, strategy: str = "weaknas", *,
                 metric: str | None = None, mode: str | None = None, seed: int | None = None,
                 batch_size: int | None = None, ordered: bool = False, arch_key: str = "arch",
                 optimizer: Optimizer | None = None, prior: Any = DEFAULT_PRIOR,
                 **strategy_options: Any) -> None:
        if mode is not None and _directions(metric, mode) is None:
            raise ConfigurationError(
                f"mode must be 'max' or 'min' (a list of them, as long as the list of metrics, "
                f"for several objectives), got {mode!r}")
        super().__init__(metric=metric, mode=mode)
        if optimizer is not None:
            space = optimizer.space
            if mode is not None and _directions(metric, mode) != optimizer._directions:
                raise ConfigurationError(f"mode={mode!r} contradicts the optimizer's direction")
        if not isinstance(space, SearchSpace):
            raise ConfigurationError(f"space must be a nasopt SearchSpace, got {type(space).__name__}")
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                       or batch_size < 1):
            raise ConfigurationError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        if optimizer is None:
            create_strategy(strategy, space, seed=0, **strategy_options, **prior_kw(prior, strategy))  # fail early
        elif is_default_prior(prior):  # the optimizer's own
            prior = getattr(optimizer, "prior", None)
        self.space, self.strategy, self.seed = space, strategy, seed
        self.strategy_options = dict(strategy_options)
        self.prior = prior  # a runtime argument: never saved, never pickled (but "free")
        self.batch_size, self.ordered, self.arch_key = batch_size, bool(ordered), arch_key
        self._opt: Optimizer | None = optimizer
        self._live: dict[str, Trial] = {}  # Tune trial id -> nasopt trial, not told yet
        self._queue: list[Trial] = []  # asked, not handed to Tune yet
        self._order: list[int] = []  # nasopt ids handed out and not told (ask order)
        self._done: dict[int, tuple[Trial, float | None, str | None]] = {}  # ordered buffer

    # ------------------------------------------------------------------ public helpers
    @property
    def optimizer(self) -> Optimizer:
        """The nasopt optimizer (created on the first suggestion)."""
        if self._opt is None:
            if self._mode is None:
                raise ConfigurationError(
                    "NASSearch needs mode='max' or 'min' (pass it here or in TuneConfig)"
                )
            if isinstance(self._mode, list):
                directions: dict[str, Any] = {"objectives": list(self._mode)}
            else:
                directions = {"maximize": self._mode == "max"}
            self._opt = create_strategy(self.strategy, self.space, seed=self.seed,
                                        **directions, **self.strategy_options, **prior_kw(self.prior, self.strategy))
        return self._opt

    def arch(self, config: dict) -> Any:
        """The architecture held by a suggested ``config``."""
        return self.space.from_data(config[self.arch_key])

    # ------------------------------------------------------------------ Searcher API
    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        if metric is not None and self._metric is None:
            self._metric = metric
        if mode is not None and self._mode is None:
            if _directions(self._metric, mode) is None:
                return False
            self._mode = mode
        if self._opt is not None and self._mode is not None and \
                _directions(self._metric, self._mode) != self._opt._directions:
            return False
        return True

    def suggest(self, trial_id: str) -> dict | None:
        if self._metric is None:
            raise ConfigurationError("NASSearch needs metric= (pass it here or in TuneConfig)")
        opt = self.optimizer
        if not self._queue:
            if self.batch_size is None:
                handed = set(t.id for t in self._live.values()) | set(self._done)
                waiting = [t for t in opt.pending if t.id not in handed]
                self._queue.extend(waiting[:1] or opt.ask(1))
            elif self._order:
                return None  # the previous batch is still running: Tune asks again later
            else:
                self._queue.extend(opt.ask(self.batch_size))
        trial = self._queue.pop(0)
        self._live[trial_id] = trial
        self._order.append(trial.id)
        return {self.arch_key: self.space.to_data(trial.arch)}

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        trial = self._live.pop(trial_id, None)
        if trial is None:
            return  # not one of ours (or already told)
        value, why = None, None
        if error:
            why = f"Ray Tune trial {trial_id} raised an error (see its error.txt)"
        else:
            metrics = self._metric if isinstance(self._metric, list) else [self._metric]
            values = []
            for metric in metrics:
                raw = None if result is None else result.get(metric)
                if isinstance(raw, bool) or not isinstance(raw, numbers.Real) or not math.isfinite(float(raw)):
                    why = f"Ray Tune trial {trial_id} reported {metric}={raw!r}"
                    break
                values.append(float(raw))
            else:
                value = values[0] if len(values) == 1 else tuple(values)
        if not self.ordered:
            self._order.remove(trial.id)
            self._tell(trial, value, why)
            return
        self._done[trial.id] = (trial, value, why)
        while self._order and self._order[0] in self._done:
            self._tell(*self._done.pop(self._order.pop(0)))

    def _tell(self, trial: Trial, value: float | None, why: str | None) -> None:
        if why is None:
            self.optimizer.tell(trial, value)
        else:
            self.optimizer.tell(trial, failed=True, error=why)

    # ------------------------------------------------------------------ persistence
    def get_state(self) -> dict:
        opt = self.optimizer
        return {
            "format": STATE_FORMAT,
            "optimizer": state_dict(opt),
            "metric": self._metric,
            "mode": self._mode,
            "batch_size": self.batch_size,
            "ordered": self.ordered,
            "arch_key": self.arch_key,
            "live": {k: t.id for k, t in self._live.items()},
            "queue": [t.id for t in self._queue],
            "order": list(self._order),
            "done": [[t.id, v, w] for t, v, w in self._done.values()],
        }

    def set_state(self, state: dict) -> None:
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise ConfigurationError("not a NASSearch state")
        # "default" restores what the run recorded: "auto" again, or no prior
        opt = from_state_dict(state["optimizer"], self.space, prior=self.prior)
        trials = {t.id: t for t in opt.trials}
        self._opt = opt
        self._metric, self._mode = state["metric"], state["mode"]
        self.batch_size, self.ordered, self.arch_key = state["batch_size"], state["ordered"], state["arch_key"]
        self._live = {k: trials[i] for k, i in state["live"].items()}
        self._queue = [trials[i] for i in state["queue"]]
        self._order = list(state["order"])
        self._done = {i: (trials[i], v, w) for i, v, w in state["done"]}

    def __getstate__(self) -> dict:
        # Tune pickles its searcher (tuner.pkl); an optimizer holds a lock, so it travels as data,
        # and a prior not at all (only "free", a word computed again): pass it again to restore
        data = self.__dict__.copy()
        if not isinstance(self.prior, str):
            data["prior"] = None
        if self._opt is not None:
            data["_state"] = self.get_state()
            for name in ("_opt", "_live", "_queue", "_order", "_done"):
                data.pop(name)
        return data

    def __setstate__(self, data: dict) -> None:
        state = data.pop("_state", None)
        self.__dict__.update(data)
        if state is not None:
            self.set_state(state)

    def save(self, checkpoint_path: str) -> None:
        # written as a nasopt checkpoint is (nasopt.persist): atomic and fsynced
        write_json(checkpoint_path, self.get_state())

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, encoding="utf-8") as fh:
            self.set_state(json.load(fh))
