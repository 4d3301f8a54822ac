"""The search-space protocol every strategy talks to.

A space knows how to sample, mutate and cross over its members, check that an object is a
member, give a canonical hash (isomorphic cells share it), encode a *batch* of members into
arrays, convert a member to and from JSON-able data, and, when finite, enumerate itself.
A space whose members are one choice per named parameter also gives that categorical form
(:meth:`SearchSpace.categorical_params`), which integrations such as the Optuna adapter
use instead of knowing the space's class.

Strategies only use this protocol, so a user-defined subclass works with every strategy.
To write one, subclass :class:`SearchSpace` and implement the abstract methods; override
the ``*_indices`` fast paths when the space is finite and enumeration is cheap.

Encodings are declared through a registry: a space's own ``encode`` handles the names it
lists in ``encodings`` and :func:`register_encoding` adds more, for a space class and its
subclasses, either as a function or as a ``"module:function"`` reference imported on first
use. That is how ``NB201Space`` and ``NB101Space`` offer the ReNAS feature tensors without
importing :mod:`nasopt.spaces.renas_features`, and how a user adds an encoding to any space.
"""

from __future__ import annotations

import abc
import importlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from .errors import CheckpointError, ConfigurationError, InvalidArchitectureError, NasoptError
from .jsondata import to_data

Arch = Any
#: A registered encoder: ``encoder(space, archs) -> array (len(archs), ...)``.
Encoder = Callable[["SearchSpace", Sequence[Arch]], np.ndarray]

_SPACE_TYPES: dict[str, type["SearchSpace"]] = {}
#: (space class, encoding name) -> the encoder as registered: a function or "module:function".
_ENCODERS: dict[tuple[type, str], "Encoder | str"] = {}
#: "module:function" -> the function, once imported.
_LOADED: dict[str, "Encoder"] = {}


def register_encoding(space_type: type["SearchSpace"], name: str, encoder: "Encoder | str") -> None:
    """Give ``space_type`` (and its subclasses) the encoding ``name``.

    ``space.encode(archs, name)`` then returns ``encoder(space, archs)`` as float32 (one row
    per architecture), ``encode_indices`` likewise on ``space[i]``, and ``name`` is appended
    to ``space_type.encodings``. ``encoder`` may be a ``"package.module:function"`` string:
    the module is imported on the first encode that needs it, so a space can offer an
    encoding whose code lives in a module it does not import (``NB201Space`` registers the
    ReNAS tensors of :mod:`nasopt.spaces.renas_features` that way).

    Raises:
        ConfigurationError: ``space_type`` is not a :class:`SearchSpace` subclass, ``name``
            is not a non-empty string, ``encoder`` is neither callable nor
            ``"module:function"``, or ``name`` is already an encoding of ``space_type``
            (built in, or registered with another encoder).
    """
    if not (isinstance(space_type, type) and issubclass(space_type, SearchSpace)):
        raise ConfigurationError(f"register_encoding needs a SearchSpace subclass, got {space_type!r}")
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"an encoding name must be a non-empty string, got {name!r}")
    if isinstance(encoder, str):
        module, _, attr = encoder.partition(":")
        if not module or not attr:
            raise ConfigurationError(f"encoder reference must read 'module:function', got {encoder!r}")
    elif not callable(encoder):
        raise ConfigurationError(f"encoder must be callable or 'module:function', got {encoder!r}")
    if name in space_type.encodings:
        if _ENCODERS.get((space_type, name)) == encoder:
            return  # the same registration again (a module imported twice)
        raise ConfigurationError(f"{space_type.__name__} already has an encoding {name!r}")
    _ENCODERS[(space_type, name)] = encoder
    space_type.encodings = (*space_type.encodings, name)


def _registered_encoder(space_type: type, name: str) -> Encoder | None:
    """The encoder registered for ``name`` on ``space_type`` or its nearest base, imported
    if registered as ``"module:function"``; ``None`` when none is registered."""
    for owner in space_type.__mro__:
        found = _ENCODERS.get((owner, name))
        if found is None:
            continue
        if not isinstance(found, str):
            return found
        if found not in _LOADED:
            module, _, attr = found.partition(":")
            try:
                _LOADED[found] = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise ConfigurationError(
                    f"encoding {name!r} of {owner.__name__} is provided by {found!r}, which "
                    f"could not be loaded ({type(exc).__name__}: {exc})"
                ) from exc
        return _LOADED[found]
    return None


def register_space(cls: type["SearchSpace"]) -> type["SearchSpace"]:
    """Class decorator: make a space rebuildable from :meth:`SearchSpace.config` by name."""
    _SPACE_TYPES[cls.type_name] = cls
    return cls


def space_from_config(config: dict, trusted: bool = False) -> "SearchSpace":
    """Rebuild a space from the dict returned by :meth:`SearchSpace.config`.

    A config is data, typically read from a checkpoint or journal: by default nothing it
    names is imported or called. A space whose config names code (a ``ProductSpace``
    validity rule given as ``module:qualname``) is refused with a
    :class:`~nasopt.core.errors.ConfigurationError` unless ``trusted=True``, which imports
    the named object: pass that only for files you trust as you trust your own code.
    """
    try:
        cls = _SPACE_TYPES[config["type"]]
    except (KeyError, TypeError):
        raise InvalidArchitectureError(
            f"cannot rebuild a search space from {config!r}: unknown type; "
            f"known: {sorted(_SPACE_TYPES)} (pass space= explicitly for your own spaces)"
        ) from None
    if trusted and "trusted" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(config, trusted=True)  # type: ignore[call-arg]
    return cls.from_config(config)


def space_of_file(config: Any, space: "SearchSpace | None", trusted: bool, source: str) -> "SearchSpace":
    """The search space a checkpoint or journal (``source``, for messages) was written for.

    With ``space`` given, it must have the file's config, and its own code (a validity rule)
    is used. Without, the space is rebuilt from the config by :func:`space_from_config`,
    which imports nothing the file names unless ``trusted``.

    Raises:
        CheckpointError: the spaces differ, or the file's space cannot be rebuilt (the
            message says why and to pass ``space=``).
    """
    if space is not None:
        if to_data(space.config(), "the space config", ConfigurationError) != config:
            raise CheckpointError(f"{source} was written for space {config!r}, not {space.config()!r}")
        return space
    try:
        return space_from_config(config, trusted=trusted)
    except NasoptError as exc:
        raise CheckpointError(f"cannot rebuild the search space of {source}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(
            f"damaged search space config in {source}: {config!r} ({type(exc).__name__}: {exc})"
        ) from None


class SearchSpace(abc.ABC):
    """Abstract search space. See the module docstring for the contract.

    Encodings: :meth:`encode` handles the names in :attr:`encodings` that the space
    implements itself; :func:`register_encoding` adds names, served by a function or by a
    ``"module:function"`` reference imported on first use.
    """

    #: Name used in :meth:`config` and error messages.
    type_name: ClassVar[str] = "custom"
    #: Names accepted by :meth:`encode`, the space's own then those added by
    #: :func:`register_encoding`; the first is the default.
    encodings: ClassVar[tuple[str, ...]] = ("onehot",)

    # ----------------------------------------------------------------- membership
    @abc.abstractmethod
    def check(self, arch: Arch) -> str | None:
        """Return ``None`` when ``arch`` is a valid member, else a short reason why not."""

    def is_valid(self, arch: Arch) -> bool:
        """True when ``arch`` is a valid member of this space."""
        try:
            return self.check(arch) is None
        except Exception:  # noqa: BLE001 - any failure to inspect means "not a member"
            return False

    def validate(self, arch: Arch) -> Arch:
        """Return ``arch`` unchanged if valid, else raise :class:`InvalidArchitectureError`
        naming this space and what is wrong."""
        try:
            reason = self.check(arch)
        except Exception as exc:  # noqa: BLE001
            reason = f"could not be read ({type(exc).__name__}: {exc})"
        if reason is not None:
            raise InvalidArchitectureError(f"{arch!r} is not a member of {self!r}: {reason}")
        return arch

    # ----------------------------------------------------------------- identity
    @abc.abstractmethod
    def key(self, arch: Arch) -> str:
        """Canonical hash: equal for architectures that compute the same function
        (e.g. isomorphic cells), different otherwise. ``arch`` is assumed valid."""

    def keys(self, archs: Sequence[Arch]) -> list[str]:
        """:meth:`key` of each architecture."""
        return [self.key(a) for a in archs]

    # ----------------------------------------------------------------- sampling and variation
    @abc.abstractmethod
    def sample(self, rng: np.random.Generator) -> Arch:
        """One architecture drawn uniformly from the valid members."""

    def sample_many(self, rng: np.random.Generator, n: int) -> list[Arch]:
        """``n`` independent uniform draws (duplicates possible)."""
        return [self.sample(rng) for _ in range(n)]

    @abc.abstractmethod
    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        """A valid neighbour of ``arch`` that differs from it."""

    @abc.abstractmethod
    def crossover(self, a: Arch, b: Arch, rng: np.random.Generator) -> Arch:
        """A valid child that mixes the choices of ``a`` and ``b``."""

    # ----------------------------------------------------------------- encodings
    def encode(self, archs: Sequence[Arch], encoding: str | None = None) -> np.ndarray:
        """Encode a batch of architectures into a float32 array ``(len(archs), ...)``.

        This base implementation runs the encoder registered for ``encoding``
        (:func:`register_encoding`). A space with encodings of its own overrides it for
        those and passes any other name on to ``super().encode``.

        Raises:
            ConfigurationError: ``encoding`` is not one of :attr:`encodings`, or its
                encoder returned something else than one row per architecture.
        """
        encoding = self._check_encoding(encoding)
        encoder = self._registered_encoder(encoding)
        if encoder is None:
            raise NotImplementedError(
                f"{type(self).__name__} lists encoding {encoding!r} but its encode() does not "
                "handle it and no encoder is registered for it (nasopt.core.space.register_encoding)"
            )
        archs = list(archs)
        out = np.asarray(encoder(self, archs), dtype=np.float32)
        if out.ndim == 0 or len(out) != len(archs):
            raise ConfigurationError(
                f"encoder of {encoding!r} for {type(self).__name__} returned shape {out.shape} "
                f"for {len(archs)} architectures (expected one row each)"
            )
        return out

    def _registered_encoder(self, encoding: str) -> Encoder | None:
        """The encoder registered for ``encoding`` on this space's class (or a base);
        ``None`` when the space's own :meth:`encode` handles it."""
        return _registered_encoder(type(self), encoding)

    def _check_encoding(self, encoding: str | None) -> str:
        """``encoding``, or the default (the first of :attr:`encodings`) when ``None``.

        Raises:
            ConfigurationError: not one of :attr:`encodings` (the message lists them).
        """
        encoding = encoding or self.encodings[0]
        if encoding not in self.encodings:
            raise ConfigurationError(f"{self!r} has no encoding {encoding!r}; choose from {self.encodings}")
        return encoding

    # ----------------------------------------------------------------- categorical form
    def categorical_params(self) -> dict[str, tuple] | None:
        """The space as independent categorical parameters, ``{name: choices}``, when every
        member is one choice per parameter (NB201: one op per edge; a ``ProductSpace``: its
        own choices); ``None`` (the default) when the space has no such form.

        Integrations that speak in primitive parameters (the Optuna adapter) use it with
        :meth:`to_categorical` and :meth:`from_categorical`; spaces without it are exposed
        by enumeration index when finite, else not at all.
        """
        return None

    def to_categorical(self, arch: Arch) -> dict[str, Any]:
        """The choice of each parameter of :meth:`categorical_params` that describes ``arch``
        (a valid member)."""
        raise NotImplementedError(f"{self!r} has no categorical form (categorical_params() is None)")

    def from_categorical(self, params: Mapping[str, Any]) -> Arch:
        """The architecture that the choices ``params`` describe (entries that are not
        parameters are ignored). A validity rule of the space is not applied: ``check``
        the result.

        Raises:
            InvalidArchitectureError: a parameter is missing or not one of its choices.
        """
        raise NotImplementedError(f"{self!r} has no categorical form (categorical_params() is None)")

    # ----------------------------------------------------------------- models
    def build(self, arch: Arch, **kwargs: Any) -> Any:
        """The untrained ``torch.nn.Module`` of ``arch``, for spaces that can build their
        networks (``NB201Space`` builds the official NAS-Bench-201 network). Options such as
        the number of classes are the space's keywords. Zero-cost proxies and cost features
        use it; a space that cannot build models leaves it as is, and users pass a
        ``model_fn(arch) -> torch.nn.Module`` of their own instead.

        Raises:
            ConfigurationError: this space cannot build models (the default).
        """
        raise ConfigurationError(
            f"{self!r} cannot build models: build() is not implemented for "
            f"{type(self).__name__}; pass a model_fn(arch) -> torch.nn.Module instead"
        )

    @property
    def can_build(self) -> bool:
        """True when this space overrides :meth:`build` (it can build a network per member)."""
        return type(self).build is not SearchSpace.build

    # ----------------------------------------------------------------- free features
    #: Names of the columns of :meth:`free_features`; empty when the space has none.
    free_feature_names: ClassVar[tuple[str, ...]] = ()

    def free_features(self, archs: Sequence[Arch]) -> np.ndarray | None:
        """Costs of a batch of members known without any training, such as the parameter
        count and FLOPs of their networks: a float64 array ``(len(archs), k)``, one column
        per name of :attr:`free_feature_names`, larger for a larger network. ``None`` (the
        default) when the space has none.

        ``prior="free"`` of :class:`~nasopt.strategies.weaknas.WeakNAS` uses them
        (``docs/priors.md``). A space overriding this computes them vectorised over the
        batch (``NB201Space`` and the NAS-Bench-Macro space count them in closed form);
        ``archs`` are assumed valid members.
        """
        return None

    # ----------------------------------------------------------------- function classes
    #: The name of an encoding (one of :attr:`encodings`) that encodes what a member computes:
    #: members of one :meth:`function_classes` label encode alike (up to its symmetries),
    #: with the width of the default encoding. ``None`` (the default): the space has none.
    function_encoding: ClassVar[str | None] = None

    def function_classes(self) -> np.ndarray | None:
        """Finite spaces: a label per member, in index order (int64), equal for members that
        compute the same function of their input although they are distinct members (they
        may be built differently and so cost differently, and a benchmark table may hold a
        separately trained row for each). ``None`` (the default) when the space knows of no
        such members, as when :meth:`key` already merges them.

        ``NB201Space`` labels the cells that differ only in dead edges (still built, so they
        cost latency, parameters and FLOPs) or by the mirror image of their two inner nodes
        (:func:`nasopt.spaces.nb201.function_labels`); its :attr:`function_encoding` is
        ``"onehot-live"``. Multi-objective WeakNAS uses both (its ``function_aware`` option).
        """
        return None

    # ----------------------------------------------------------------- plain data
    @abc.abstractmethod
    def to_data(self, arch: Arch) -> Any:
        """A JSON-able form of ``arch`` (str, numbers, lists, dicts)."""

    @abc.abstractmethod
    def from_data(self, data: Any) -> Arch:
        """Inverse of :meth:`to_data`; raises :class:`InvalidArchitectureError` on bad data."""

    def from_data_many(self, datas: Sequence[Any]) -> list[Arch]:
        """:meth:`from_data` then :meth:`validate` of each item, in order: what loading a
        checkpoint or replaying a journal does with the architectures of a file. Raises the
        error of the first item that fails, as that per-item path would. Override it with a
        batched (vectorised) decoder when the per-item work dominates long loads; the result
        must equal the per-item path's, item by item."""
        return [self.validate(self.from_data(d)) for d in datas]

    def config(self) -> dict:
        """A JSON-able dict that :func:`space_from_config` turns back into an equal space."""
        return {"type": self.type_name}

    @classmethod
    def from_config(cls, config: dict) -> "SearchSpace":
        """Inverse of :meth:`config`. Must not import or call anything the config names
        (it may come from an untrusted file); a space that needs to can take a keyword
        ``trusted: bool = False`` that :func:`space_from_config` sets on request."""
        return cls()

    # ----------------------------------------------------------------- enumeration (finite spaces)
    @property
    def is_finite(self) -> bool:
        """True when the space can be enumerated (``len``, ``space[i]``, ``index``)."""
        return False

    def __len__(self) -> int:
        raise TypeError(f"{self!r} is not enumerable")

    def __getitem__(self, i: int) -> Arch:
        raise TypeError(f"{self!r} is not enumerable")

    def index(self, arch: Arch) -> int:
        """Position of ``arch`` in the enumeration of a finite space."""
        raise TypeError(f"{self!r} is not enumerable")

    def indices(self, archs: Sequence[Arch]) -> np.ndarray:
        """:meth:`index` of each architecture, as an int64 array."""
        return np.fromiter((self.index(a) for a in archs), dtype=np.int64, count=len(archs))

    def encode_indices(self, idx: np.ndarray, encoding: str | None = None) -> np.ndarray:
        """Encode the members at positions ``idx`` (finite spaces). Override to make it fast."""
        return self.encode([self[int(i)] for i in np.asarray(idx).ravel()], encoding)

    def key_of_index(self, i: int) -> str:
        """:meth:`key` of the member at position ``i`` (finite spaces)."""
        return self.key(self[i])

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.config() == other.config()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(type(self).__name__)
