"""Priors: cheap scores of an architecture known before any training (zero-cost proxies,
parameter count, FLOPs), used by :class:`~nasopt.strategies.weaknas.WeakNAS` and
:class:`~nasopt.strategies.renas.ReNAS`.

A prior is one of

* a callable ``arch -> float or sequence of floats`` (the same length for every
  architecture), called lazily, at most once per architecture (cached by canonical key);
* a ``dict`` mapping canonical keys (``space.key(arch)``) to scores;
* an array aligned with a finite space's index order, shape ``(len(space),)`` or
  ``(len(space), k)``;
* ``"auto"`` (:data:`AUTO`, WeakNAS's default): what is free for this space
  (:func:`auto_source`): on ``NB201Space`` the packaged zero-cost proxy table (log
  synflow, :func:`nasopt.proxies.table.nb201_space_scores`), else the space's free
  features when it has some (``NAS-Bench-Macro``: params and FLOPs), else, on a space that
  can build its networks, their parameter counts (:class:`~nasopt.proxies.prior.BuiltParams`;
  every member's on a finite space of at most :data:`AUTO_BUILD_LIMIT` members, else those
  of :data:`AUTO_BUILD_POOL` uniform samples ranked for the start only), else no prior;
  with several objectives (where a "higher is more promising" score has no direction
  between accuracy and cost) predictor inputs only: on ``NB201Space`` five proxies of the
  packaged table and the cells' function features, elsewhere no prior;
* ``"free"`` (:data:`FREE`): the space's free features
  (:meth:`~nasopt.core.space.SearchSpace.free_features`, e.g. the parameter count and FLOPs
  of ``NB201Space`` and ``MacroSpace`` networks, counted in closed form), computed again
  whenever the optimizer is built; a space without free features is refused with a
  :class:`~nasopt.core.errors.ConfigurationError` naming it. :func:`resolve_prior` turns a
  strategy's ``prior=`` argument into a :class:`Prior` (or ``None``).

Sign convention: **higher is more promising** for every column (negate a score where lower
is better). The scores are runtime data, never configuration: a checkpoint or journal
records only what identifies the prior (:meth:`Prior.identity`), never the scores nor the
callable, so :func:`nasopt.load` needs ``prior=`` again, like ``space=``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any, Callable

import numpy as np

from ..core.errors import ConfigurationError, PriorError
from ..core.optimizer import AUTO_PRIOR
from ..core.space import SearchSpace


#: ``prior="free"``: the space's free features (:meth:`SearchSpace.free_features`).
FREE = "free"
#: ``prior="auto"``: what is free for the space (:func:`auto_source`).
AUTO = AUTO_PRIOR
#: ``prior="auto"`` on a space that can build its networks and has no free features: up to
#: this many members (finite spaces), every member's parameter count is the prior, each
#: network built once at the first fit (NAS-Bench-201's take about 13 ms each on one core,
#: so at most ~30 s); on larger or open spaces that would be paid for every new candidate
#: of every refit, and the prior serves the start only (:data:`AUTO_BUILD_POOL`).
AUTO_BUILD_LIMIT = 2048
#: On a larger or open space that can build its networks (and has no free features),
#: ``prior="auto"`` counts the parameters of this many uniform samples, once, and draws the
#: prior's share of the random start from their top (:attr:`Prior.start_pool`): no
#: predictor features, so no network is built after the start.
AUTO_BUILD_POOL = 1000
_KINDS = ("a callable arch -> scores, a dict key -> scores, an array in the space's index "
          f"order, {FREE!r} (the space's free features) or {AUTO!r} (what is free for the "
          "space)")


def auto_source(space: SearchSpace, n_objectives: int = 1) -> Any:
    """What ``prior="auto"`` stands for on ``space``: the log-synflow scores of every
    ``NB201Space`` cell from the packaged proxy table (an array in the space's index
    order), else :data:`FREE` when the space has free features, else the parameter
    counts of its built networks (:class:`~nasopt.proxies.prior.BuiltParams`) when it can
    build models (:func:`resolve_prior` limits it to the start beyond
    :data:`AUTO_BUILD_LIMIT` members), else ``None`` (no prior). With several objectives
    (where a "more promising" score has no direction between accuracy and cost) predictor
    inputs only, never a ranking of the start (:attr:`Prior.ranks_start` false): on
    ``NB201Space`` the five proxies of the packaged table and the cells'
    :func:`~nasopt.spaces.nb201.function_features`
    (:func:`nasopt.proxies.table.nb201_space_inputs`), elsewhere ``None``."""
    if n_objectives > 1:
        from ..proxies.table import nb201_space_inputs  # numpy only

        return nb201_space_inputs(space)
    from ..proxies.table import nb201_space_scores  # numpy only

    scores = nb201_space_scores(space)
    if scores is not None:
        return scores
    if space.free_feature_names:
        return FREE
    if space.can_build:
        from ..proxies.prior import BuiltParams  # numpy only; torch when it first builds

        return BuiltParams(space)
    return None


def resolve_prior(prior: Any, space: SearchSpace, n_objectives: int = 1) -> "Prior | None":
    """The :class:`Prior` of a strategy's ``prior=`` argument on ``space``: ``None`` for
    ``None`` (no prior), for ``"auto"`` that of :func:`auto_source` (marked
    :attr:`Prior.auto`; ``None`` when the space offers nothing), else ``Prior(prior,
    space)`` (``"free"``: the space's free features). For every strategy that takes a prior.

    Raises:
        ConfigurationError: as :class:`Prior`.
    """
    if isinstance(prior, str) and prior == AUTO:
        source = auto_source(space, n_objectives)
        if source is None:
            return None
        from ..proxies.table import AUTO_MULTI_PROXIES, AUTO_PROXIES

        out = Prior(source, space)
        if n_objectives > 1:  # inputs only: the proxies and the cells' function features
            label = ",".join(AUTO_MULTI_PROXIES) + ",function_features"
            out.ranks_start = False
        else:
            label = ",".join(AUTO_PROXIES) if out.kind == "array" else out.name
        out.auto, out.name = True, f"{AUTO}:{label}"
        if out.kind == "callable" and not (space.is_finite and len(space) <= AUTO_BUILD_LIMIT):
            out.start_pool = AUTO_BUILD_POOL  # built networks: too many to build them all
        return out
    return None if prior is None else Prior(prior, space)


def _label(source: Any) -> str:
    mod = getattr(source, "__module__", None) or ""
    name = getattr(source, "__qualname__", None) or type(source).__qualname__
    return f"{mod}:{name}" if mod else name


class Prior:
    """Lazy, cached prior scores of the architectures of ``space`` (see the module).

    Args:
        source: A callable, a ``dict`` (key -> scores), an array in index order, or
            ``"free"`` (the space's free features, :meth:`SearchSpace.free_features`).
        space: The search space.

    Raises:
        ConfigurationError: ``source`` is none of those, a table of the wrong shape or
            with non-finite entries (the message names the first bad architecture), or
            ``"free"`` on a space without free features (the message names the space).
    """

    def __init__(self, source: Callable[[Any], Any] | Mapping | np.ndarray | str,
                 space: SearchSpace) -> None:
        self.space = space
        #: Seconds spent computing prior scores (callables only; table look-ups are free).
        self.seconds = 0.0
        self._cache: dict[str, np.ndarray] = {}
        self._all: np.ndarray | None = None
        self._k: int | None = None
        self._free: tuple[str, ...] = ()
        #: Chosen by ``prior="auto"`` (:func:`resolve_prior`): recorded in files as such.
        self.auto = False
        #: When > 0, the prior serves the random start only: its share is ranked within
        #: this many uniform samples of the unseen members (not the whole space), and it
        #: feeds no predictor features; ``prior="auto"`` sets it (:data:`AUTO_BUILD_POOL`)
        #: where scoring every candidate would cost too much.
        self.start_pool = 0
        #: When false, the prior ranks no part of the random start (``prior_init`` is
        #: ignored) and serves as predictor input only; ``prior="auto"`` with several
        #: objectives sets it (:func:`auto_source`).
        self.ranks_start = True
        if isinstance(source, str) and source == FREE:
            self._init_free(space)
            return
        if callable(source):
            bind = getattr(source, "bind", None)  # e.g. nasopt.proxies.ProxyPrior: space.build
            if callable(bind):
                source = bind(space)
            self.kind, self._fn, self._table = "callable", source, None
            self.name = _label(source)
            return
        if isinstance(source, Mapping):
            self.kind, self._fn, self._table = "dict", None, dict(source)
            self.name = "dict"
            return
        if isinstance(source, (str, bytes)):
            raise ConfigurationError(f"prior must be {_KINDS}, got {source!r}")
        try:
            table = np.asarray(source, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"prior must be {_KINDS}, got {type(source).__name__} ({exc})") from None
        if not space.is_finite:
            raise ConfigurationError(
                "an array prior needs a finite space (rows in its index order); pass a callable "
                "or a dict key -> scores for this space")
        if table.ndim == 1:
            table = table[:, None]
        if table.ndim != 2 or len(table) != len(space) or table.shape[1] < 1:
            raise ConfigurationError(
                f"an array prior must have shape ({len(space)},) or ({len(space)}, k) "
                f"(one row per architecture of the space, in index order), got {np.shape(source)}")
        self._check_finite(table, "prior table")
        self.kind, self._fn, self._table = "array", None, None
        self.name = "array"
        self._all, self._k = table, table.shape[1]

    def _check_finite(self, table: np.ndarray, what: str) -> None:
        """Refuse a table (index order) with a non-finite row, naming its architecture."""
        bad = ~np.isfinite(table).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ConfigurationError(
                f"{what} row {i} (architecture {self.space.to_data(self.space[i])!r}) is not "
                f"finite: {table[i].tolist()}")

    def _init_free(self, space: SearchSpace) -> None:
        """``prior="free"``: the space's free features; on a finite space all of them now
        (one vectorised call, timed in :attr:`seconds`), else per batch on demand."""
        names = tuple(space.free_feature_names)
        if not names:
            raise ConfigurationError(
                f"prior={FREE!r}: {space!r} has no free features (its free_features() returns "
                "None); pass a callable arch -> scores, a dict or an array as prior=, or give "
                "the space free_features() and free_feature_names")
        self.kind, self._fn, self._table = FREE, None, None
        self.name, self._free, self._k = f"{FREE}:{','.join(names)}", names, len(names)
        if space.is_finite:
            table = self._free_rows([space[i] for i in range(len(space))])
            self._check_finite(table, f"free feature ({', '.join(names)})")
            self._all = table

    def _free_rows(self, archs: list[Any]) -> np.ndarray:
        """The space's free features of ``archs``, checked to be one row of ``k`` each.

        Raises:
            PriorError: ``free_features`` raised (naming the first architecture of the batch).
            ConfigurationError: it returned another shape.
        """
        t0 = time.perf_counter()
        try:
            rows = self.space.free_features(archs)
        except Exception as exc:  # noqa: BLE001 - a space's code: wrapped, chained
            raise self._fail(archs[0], f"raised {type(exc).__name__}: {exc} (in "
                                       f"{type(self.space).__name__}.free_features of "
                                       f"{len(archs)} architecture(s), the first)") from exc
        finally:
            self.seconds += time.perf_counter() - t0
        rows = np.asarray(rows, dtype=np.float64)
        if rows.shape != (len(archs), len(self._free)):
            raise ConfigurationError(
                f"{self.space!r}.free_features returned shape {rows.shape} for {len(archs)} "
                f"architectures and the {len(self._free)} names {self._free}")
        return rows

    # ------------------------------------------------------------------ identity
    def identity(self) -> dict:
        """What a checkpoint records of this prior (JSON): its kind and the callable's
        ``module:qualname``, or the shape and a SHA-256 digest of a table, or for
        ``"free"`` the features' names (and their digest on a finite space); that of a
        prior chosen by ``"auto"`` has ``"auto": true`` too."""
        out = self._identity()
        if self.start_pool:
            out["start_pool"] = self.start_pool
        if not self.ranks_start:
            out["inputs_only"] = True
        return {**out, "auto": True} if self.auto else out

    def _identity(self) -> dict:
        if self.kind == "callable":
            return {"kind": "callable", "name": self.name}
        if self.kind == "array":
            digest = hashlib.sha256(np.ascontiguousarray(self._all).tobytes()).hexdigest()
            return {"kind": "array", "shape": list(self._all.shape), "sha256": digest}
        if self.kind == FREE:  # the features' names, and a digest of them on a finite space
            out: dict[str, Any] = {"kind": FREE, "names": list(self._free)}
            if self._all is not None:
                out["sha256"] = hashlib.sha256(np.ascontiguousarray(self._all).tobytes()).hexdigest()
            return out
        items = sorted((str(k), np.asarray(v, dtype=np.float64).reshape(-1).tolist())
                       for k, v in self._table.items())
        digest = hashlib.sha256(json.dumps(items).encode()).hexdigest()
        return {"kind": "dict", "size": len(items), "sha256": digest}

    # ------------------------------------------------------------------ scores
    def _fail(self, arch: Any, what: str) -> PriorError:
        try:
            shown = repr(self.space.to_data(arch))
        except Exception:  # noqa: BLE001 - only for the message
            shown = repr(arch)
        return PriorError(f"prior {self.name!r} {what} for architecture {shown}")

    def _one(self, arch: Any, key: str) -> np.ndarray:
        if self._fn is not None:
            t0 = time.perf_counter()
            try:
                out = self._fn(arch)
            except Exception as exc:  # noqa: BLE001 - a user's callable: wrapped, chained
                raise self._fail(arch, f"raised {type(exc).__name__}: {exc}") from exc
            finally:
                self.seconds += time.perf_counter() - t0
        else:
            if key not in self._table:
                raise self._fail(arch, f"has no entry (key {key!r})")
            out = self._table[key]
        try:
            row = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError):
            raise self._fail(arch, f"returned {out!r}, not a number or a sequence of numbers") from None
        if row.ndim > 1 or row.size == 0:
            raise self._fail(arch, f"returned shape {row.shape}; expected a number or a flat "
                                   "sequence of numbers")
        row = row.reshape(-1)
        if self._k is not None and len(row) != self._k:
            raise self._fail(arch, f"returned {len(row)} score(s), earlier architectures {self._k}")
        if not np.isfinite(row).all():
            raise self._fail(arch, f"returned non-finite scores {row.tolist()}")
        self._k = len(row)
        return row

    def scores(self, archs: list[Any]) -> np.ndarray:
        """Scores of ``archs``, shape ``(len(archs), k)`` (computed once per architecture).

        Raises:
            PriorError: the prior raised, returned something that is not finite numbers, or
                a number of scores different from earlier architectures (naming the
                architecture).
        """
        if self._all is not None and self.space.is_finite:
            return self._all[self.space.indices(archs)]
        if self.kind == FREE:  # one vectorised call for those not cached yet
            keys = self.space.keys(archs)
            todo = {k: a for k, a in zip(keys, archs) if k not in self._cache}
            if todo:
                rows = self._free_rows(list(todo.values()))
                bad = ~np.isfinite(rows).all(axis=1)
                if bad.any():
                    arch = list(todo.values())[int(np.flatnonzero(bad)[0])]
                    raise self._fail(arch, f"returned non-finite scores {rows[bad][0].tolist()}")
                self._cache.update(zip(todo, rows))
            return np.stack([self._cache[k] for k in keys]) if keys else np.zeros((0, self._k))
        rows = []
        for arch in archs:
            key = self.space.key(arch)
            row = self._cache.get(key)
            if row is None:
                row = self._one(arch, key)
                self._cache[key] = row
            rows.append(row)
        if not rows:
            return np.zeros((0, self._k or 1))
        return np.stack(rows)

    def all_scores(self) -> np.ndarray:
        """Finite spaces: the scores of every architecture in index order, ``(n, k)``
        (computed on first use)."""
        if self._all is None:
            self._all = self.scores([self.space[i] for i in range(len(self.space))])
            self._cache.clear()
        return self._all


def standardize(F: np.ndarray) -> np.ndarray:
    """Each column of ``F`` z-scored (a constant column becomes 0)."""
    sd = F.std(axis=0)
    return (F - F.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def combined(F: np.ndarray) -> np.ndarray:
    """One ranking score per row: the mean of the standardized columns."""
    return standardize(F).mean(axis=1)


def top_unseen(prior: Prior, space: SearchSpace, rng: np.random.Generator, n: int, top: int,
               available: Callable[[str], bool], pool: list[Any] | None = None,
               feasible: Callable[[Any, str], bool] | None = None) -> list[Any]:
    """``n`` architectures drawn uniformly from the ``top`` best by the prior (the mean of
    its standardized columns, :func:`combined`) among those ``available`` (by canonical
    key) and, when given, ``feasible`` (``feasible(arch, key)``: the known-before
    constraints, tested lazily in rank order); when fewer than ``n`` of them are left, the
    next best. Without a ``pool`` (finite spaces) the ranking covers the whole space;
    otherwise it is within ``pool`` (architectures the caller drew, all available). Fewer
    than ``n`` when fewer are left."""
    if pool is None:
        score = combined(prior.all_scores())
        order = np.argsort(-score, kind="stable")
        cands: list[Any] = []
        for rank, i in enumerate(order):
            if rank >= top and len(cands) >= n:
                break
            key = space.key_of_index(int(i))
            if available(key) and (feasible is None or feasible(space[int(i)], key)):
                cands.append(space[int(i)])
    else:
        pool = list(pool or [])
        score = combined(prior.scores(pool)) if pool else np.zeros(0)
        cands = []
        for rank, i in enumerate(np.argsort(-score, kind="stable")):
            if rank >= top and (feasible is None or len(cands) >= n):
                break
            if feasible is None or feasible(pool[int(i)], space.key(pool[int(i)])):
                cands.append(pool[int(i)])
    n = min(n, len(cands))
    pick = rng.choice(len(cands), size=n, replace=False) if n else []
    return [cands[int(i)] for i in np.sort(pick)]


class PriorArgument:
    """Mixin of the strategies that take ``prior=`` (:class:`Prior` in ``self._prior``, or
    ``None``): the prior is a runtime argument (passed again when a run is reopened, never
    stored), files record what identifies it, and its cost is reported apart."""

    _prior: Prior | None
    prior_features: bool
    runtime_arguments: tuple[str, ...] = ("journal", "prior")

    def _runtime_identity(self) -> dict[str, Any]:
        return {"prior": None if self._prior is None else self._prior.identity()}

    @property
    def _prior_as_features(self) -> bool:
        """The prior's scores are appended to the predictor's input: there is a prior,
        ``prior_features`` is on, and it is not one for the start only
        (:attr:`Prior.start_pool`)."""
        return self._prior is not None and self.prior_features and not self._prior.start_pool

    @property
    def _prior_ranks_start(self) -> bool:
        """The prior draws its ``prior_init`` share of the random start: there is a prior
        and it is not one for predictor inputs only (:attr:`Prior.ranks_start`)."""
        return self._prior is not None and self._prior.ranks_start

    def _start_pool(self, exclude: set[str]) -> list[Any] | None:
        """The pool the prior ranks the start within: ``None`` (the whole space) on a
        finite space unless the prior has a :attr:`Prior.start_pool`; else that many
        uniform samples that may be proposed (the strategy's own number without one), none
        of them in ``exclude``."""
        size = self._prior.start_pool
        if not size and self.space.is_finite:
            return None
        return self._uniform_pool(size or None, exclude)

    def _uniform_pool(self, size: int | None, exclude: set[str]) -> list[Any]:
        """Up to ``size`` (``None``: the strategy's default) distinct uniform samples that
        may be proposed, none in ``exclude``."""
        raise NotImplementedError

    @property
    def prior_seconds(self) -> float:
        """Seconds spent computing prior scores so far (0 without a prior, and for a table),
        reported apart from the search's own CPU."""
        return 0.0 if self._prior is None else self._prior.seconds
