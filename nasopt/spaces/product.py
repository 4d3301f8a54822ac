"""Categorical product spaces a user defines: ``ProductSpace({name: choices, ...}, valid=rule)``.

An architecture is a plain dict ``{name: choice}`` with one entry per parameter, in the
order the parameters were declared. ``valid`` is an optional callable taking that dict and
returning ``True`` for members; it filters sampling, mutation, crossover and enumeration.
A rule that raises is a broken space definition, never a silent rejection: see
:class:`ProductSpace`.

Enumeration (``len``, ``space[i]``, ``index``) follows ``itertools.product`` order over the
declared parameters (the first parameter varies slowest), skipping invalid combinations.
It is available when the full product has at most ``max_enumerate`` combinations.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..core.errors import ConfigurationError, InvalidArchitectureError
from ..core.space import SearchSpace, register_space

#: Random draws tolerated before a validity rule is declared too restrictive.
MAX_TRIES = 10_000
_SCALARS = (str, int, float, bool, type(None))


def _tag(value: Any) -> tuple[str, Any]:
    """Lookup key of a choice that keeps 1, 1.0 and True apart."""
    return (type(value).__name__, value)


def _rule_label(rule: Callable) -> str:
    """How error messages name a validity rule: ``module:qualname``, else its repr."""
    module, qual = getattr(rule, "__module__", None), getattr(rule, "__qualname__", None)
    return f"{module}:{qual}" if module and qual else repr(rule)


def _rule_name(rule: Callable | None) -> str | None:
    """``module:qualname`` of an importable rule, ``"<unnamed>"`` otherwise."""
    if rule is None:
        return None
    module, qual = getattr(rule, "__module__", None), getattr(rule, "__qualname__", "")
    if module and qual and "<" not in qual and module != "__main__":
        return f"{module}:{qual}"
    return "<unnamed>"


@register_space
class ProductSpace(SearchSpace):
    """The product of named categorical choices, optionally filtered by a validity rule.

    Args:
        choices: ``{name: [choice, ...]}``; names are non-empty strings, choices are
            distinct JSON scalars (str, int, float, bool, None), at least one per name.
        valid: ``rule(arch_dict) -> bool``; ``None`` means every combination is valid.
            The rule must answer for every combination of the choices. One that raises
            is a bug in the space, reported, never taken as a "no": ``ask()`` (and
            ``len``, sampling, mutation, crossover, enumeration) then raises
            :class:`~nasopt.core.errors.ConfigurationError` naming the rule, its exception
            and the architecture, leaving the optimizer unchanged (a failed ``ask``
            changes nothing); :meth:`check` returns that same cause as its reason, so
            ``validate`` and ``tell(arch)`` raise
            :class:`~nasopt.core.errors.InvalidArchitectureError` quoting it.
        max_enumerate: Enumerate (and so score whole) when the product has at most this
            many combinations.

    Encodings: ``"onehot"`` (concatenated one-hot of each parameter) and ``"codes"``
    (the choice index of each parameter).
    """

    type_name = "product"
    encodings = ("onehot", "codes")

    def __init__(
        self,
        choices: Mapping[str, Sequence[Any]],
        valid: Callable[[dict], bool] | None = None,
        max_enumerate: int = 2_000_000,
    ) -> None:
        if not isinstance(choices, Mapping) or not choices:
            raise ConfigurationError("ProductSpace needs a non-empty mapping {name: [choices]}")
        self.names: tuple[str, ...] = tuple(choices)
        self.choices: dict[str, tuple[Any, ...]] = {}
        for name, opts in choices.items():
            if not isinstance(name, str) or not name:
                raise ConfigurationError(f"parameter names must be non-empty strings, got {name!r}")
            if isinstance(opts, (str, bytes)) or not isinstance(opts, Sequence):
                raise ConfigurationError(f"choices of {name!r} must be a list, got {opts!r}")
            if len(opts) == 0:
                raise ConfigurationError(f"parameter {name!r} has no choices")
            bad = [o for o in opts if not isinstance(o, _SCALARS) or (isinstance(o, float) and not math.isfinite(o))]
            if bad:
                raise ConfigurationError(
                    f"choices of {name!r} must be str, int, finite float, bool or None; got {bad[0]!r}"
                )
            if len({_tag(o) for o in opts}) != len(opts):
                raise ConfigurationError(f"parameter {name!r} lists a choice twice: {list(opts)!r}")
            self.choices[name] = tuple(opts)
        if valid is not None and not callable(valid):
            raise ConfigurationError(f"valid must be a callable taking the architecture dict, got {valid!r}")
        if isinstance(max_enumerate, bool) or not isinstance(max_enumerate, int) or max_enumerate < 0:
            raise ConfigurationError(f"max_enumerate must be a non-negative integer, got {max_enumerate!r}")
        self.valid = valid
        self.max_enumerate = max_enumerate
        self.sizes = np.array([len(self.choices[n]) for n in self.names], dtype=np.int64)
        self._lookup = [{_tag(o): i for i, o in enumerate(self.choices[n])} for n in self.names]
        self._offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])
        self._radix = np.array(
            [int(np.prod(self.sizes[i + 1:], dtype=object)) for i in range(len(self.names))], dtype=object
        )
        self.total = int(np.prod(self.sizes, dtype=object))
        self._members: np.ndarray | None = None  # flat product indices of valid members

    # --------------------------------------------------------------- conversions
    def codes(self, arch: Mapping[str, Any]) -> np.ndarray:
        """Choice index of each parameter of a member."""
        return np.array([lk[_tag(arch[n])] for lk, n in zip(self._lookup, self.names)], dtype=np.int64)

    def from_codes(self, codes: Sequence[int]) -> dict:
        """The architecture dict of a row of choice indices."""
        return {n: self.choices[n][int(c)] for n, c in zip(self.names, codes)}

    def _unravel(self, flat: np.ndarray) -> np.ndarray:
        flat = np.asarray(flat, dtype=np.int64)
        radix = self._radix.astype(np.int64)
        return (flat[:, None] // radix[None, :]) % self.sizes[None, :]

    def _ok(self, arch: dict) -> bool:
        """The rule's verdict on ``arch``; ConfigurationError when the rule raises."""
        if self.valid is None:
            return True
        try:
            return bool(self.valid(arch))
        except Exception as exc:  # noqa: BLE001 - any failure of user code is reported
            raise ConfigurationError(
                f"the validity rule {_rule_label(self.valid)} of {self!r} raised "
                f"{type(exc).__name__}: {exc} on {arch!r}; a rule must return True or False "
                "for every combination of the choices"
            ) from exc

    # --------------------------------------------------------------- membership, identity
    def check(self, arch: Any) -> str | None:
        if not isinstance(arch, Mapping):
            return f"expected a dict {{name: choice}}, got {type(arch).__name__}"
        missing = [n for n in self.names if n not in arch]
        extra = [n for n in arch if n not in self.choices]
        if missing or extra:
            return f"parameters missing {missing} / unknown {extra}"
        for lk, n in zip(self._lookup, self.names):
            try:
                known = _tag(arch[n]) in lk
            except TypeError:  # unhashable, e.g. a list: not a choice
                known = False
            if not known:
                return f"{n}={arch[n]!r} is not one of {list(self.choices[n])!r}"
        try:
            ok = self._ok(dict(arch))
        except ConfigurationError as exc:  # the rule raised: report its failure as the reason
            return str(exc)
        return None if ok else "rejected by the validity rule"

    def key(self, arch: Mapping[str, Any]) -> str:
        return "-".join(map(str, self.codes(arch)))

    # --------------------------------------------------------------- enumeration
    @property
    def is_finite(self) -> bool:
        return self.total <= self.max_enumerate

    def _enumerate(self) -> np.ndarray:
        if self._members is None:
            if not self.is_finite:
                raise TypeError(
                    f"{self!r} has {self.total} combinations, more than max_enumerate={self.max_enumerate}"
                )
            flat = np.arange(self.total, dtype=np.int64)
            if self.valid is not None:
                rows = self._unravel(flat)
                keep = np.fromiter((self._ok(self.from_codes(r)) for r in rows), dtype=bool, count=len(rows))
                flat = flat[keep]
                if len(flat) == 0:
                    raise ConfigurationError(f"the validity rule of {self!r} rejects every combination")
            self._members = flat
        return self._members

    def __len__(self) -> int:
        return len(self._enumerate())

    def __getitem__(self, i: int) -> dict:
        members = self._enumerate()
        return self.from_codes(self._unravel(members[[i]])[0])

    def index(self, arch: Mapping[str, Any]) -> int:
        self.validate(arch)
        flat = int(sum(int(c) * int(r) for c, r in zip(self.codes(arch), self._radix)))
        members = self._enumerate()
        return int(np.searchsorted(members, flat))

    def key_of_index(self, i: int) -> str:
        return "-".join(map(str, self._unravel(self._enumerate()[[i]])[0]))

    # --------------------------------------------------------------- sampling, variation
    def sample(self, rng: np.random.Generator) -> dict:
        if self.is_finite and (self.valid is None or self._members is not None or self.total <= 100_000):
            members = self._enumerate()
            return self.from_codes(self._unravel(members[[int(rng.integers(len(members)))]])[0])
        for _ in range(MAX_TRIES):
            arch = self.from_codes([rng.integers(s) for s in self.sizes])
            if self._ok(arch):
                return arch
        raise ConfigurationError(
            f"the validity rule of {self!r} rejected {MAX_TRIES} random combinations in a row"
        )

    def mutate(self, arch: Mapping[str, Any], rng: np.random.Generator) -> dict:
        movable = np.flatnonzero(self.sizes > 1)
        if len(movable) == 0:
            raise ConfigurationError(f"{self!r} has a single member: nothing to mutate")
        base = self.codes(arch)
        for _ in range(MAX_TRIES):
            codes = base.copy()
            j = int(movable[rng.integers(len(movable))])
            codes[j] = (codes[j] + 1 + rng.integers(self.sizes[j] - 1)) % self.sizes[j]
            child = self.from_codes(codes)
            if self._ok(child):
                return child
        raise ConfigurationError(f"no valid single-parameter mutation of {dict(arch)!r} found")

    def crossover(self, a: Mapping[str, Any], b: Mapping[str, Any], rng: np.random.Generator) -> dict:
        ca, cb = self.codes(a), self.codes(b)
        for _ in range(100):
            child = self.from_codes(np.where(rng.random(len(ca)) < 0.5, ca, cb))
            if self._ok(child):
                return child
        return self.from_codes(ca)

    # --------------------------------------------------------------- encodings
    def _encode_codes(self, codes: np.ndarray, encoding: str | None) -> np.ndarray:
        encoding = self._check_encoding(encoding)
        if encoding == "codes":
            return codes.astype(np.float32)
        out = np.zeros((len(codes), int(self.sizes.sum())), dtype=np.float32)
        rows = np.repeat(np.arange(len(codes)), len(self.names))
        out[rows, (codes + self._offsets[None, :]).ravel()] = 1.0
        return out

    def encode(self, archs: Sequence[Mapping[str, Any]], encoding: str | None = None) -> np.ndarray:
        encoding = self._check_encoding(encoding)
        if self._registered_encoder(encoding) is not None:
            return super().encode(archs, encoding)
        codes = np.array([self.codes(a) for a in archs], dtype=np.int64).reshape(len(archs), len(self.names))
        return self._encode_codes(codes, encoding)

    def encode_indices(self, idx: np.ndarray, encoding: str | None = None) -> np.ndarray:
        encoding = self._check_encoding(encoding)
        if self._registered_encoder(encoding) is not None:
            return super().encode_indices(idx, encoding)
        return self._encode_codes(self._unravel(self._enumerate()[np.asarray(idx, dtype=np.int64)]), encoding)

    # --------------------------------------------------------------- categorical form
    def categorical_params(self) -> dict[str, tuple]:
        """Each parameter with its choices, in declaration order."""
        return {n: self.choices[n] for n in self.names}

    def to_categorical(self, arch: Mapping[str, Any]) -> dict[str, Any]:
        return self.to_data(arch)

    def from_categorical(self, params: Mapping[str, Any]) -> dict:
        missing = [n for n in self.names if n not in params]
        if missing:
            raise InvalidArchitectureError(f"no choice for parameter(s) {missing} of {self!r}")
        arch = {n: params[n] for n in self.names}
        for lookup, n in zip(self._lookup, self.names):
            try:
                known = _tag(arch[n]) in lookup
            except TypeError:  # unhashable
                known = False
            if not known:
                raise InvalidArchitectureError(
                    f"{arch[n]!r} is not a choice of parameter {n!r} of {self!r}; choices: {self.choices[n]}")
        return arch

    # --------------------------------------------------------------- plain data
    def to_data(self, arch: Mapping[str, Any]) -> dict:
        return {n: arch[n] for n in self.names}

    def from_data(self, data: Any) -> dict:
        if not isinstance(data, Mapping):
            raise InvalidArchitectureError(f"{data!r} is not a member of {self!r}: expected a dict")
        return self.to_data(self.validate(dict(data)))

    def config(self) -> dict:
        return {
            "type": self.type_name,
            "choices": {n: list(c) for n, c in self.choices.items()},
            "valid": _rule_name(self.valid),
            "max_enumerate": self.max_enumerate,
        }

    @classmethod
    def from_config(cls, config: dict, trusted: bool = False) -> "ProductSpace":
        """Rebuild a space from :meth:`config`.

        The validity rule is stored by name only. A config that names one is refused unless
        ``trusted=True``: a checkpoint or journal is data, and loading one runs no code. Pass
        the space itself instead (``nasopt.load(path, space=ProductSpace(..., valid=rule))``).
        """
        rule = config.get("valid")
        if rule is not None and not isinstance(rule, str):
            raise ConfigurationError(f"a ProductSpace config names its rule as a string, got {rule!r}")
        valid = None
        if rule == "<unnamed>":
            raise ConfigurationError(
                "this ProductSpace's validity rule cannot be restored from the file (it was a "
                "lambda, a local function or defined in __main__): pass the space explicitly, "
                "e.g. nasopt.load(path, space=my_space)"
            )
        if rule is not None and not trusted:
            raise ConfigurationError(
                f"this ProductSpace names the validity rule {rule!r}; loading a file runs no code, "
                "so the rule is not imported: pass the space explicitly, e.g. "
                "nasopt.load(path, space=ProductSpace(..., valid=rule)), or trusted=True if you "
                f"trust the file to import and run {rule!r}"
            )
        if rule is not None:
            module, _, qual = rule.partition(":")
            try:
                obj: Any = importlib.import_module(module)
                for part in qual.split("."):
                    obj = getattr(obj, part)
            except (ImportError, AttributeError, ValueError, TypeError) as exc:
                raise ConfigurationError(
                    f"cannot import the validity rule {rule!r} named in the config "
                    f"({type(exc).__name__}: {exc}); pass the space explicitly"
                ) from None
            valid = obj
        return cls(config["choices"], valid=valid, max_enumerate=config.get("max_enumerate", 2_000_000))

    def __repr__(self) -> str:
        body = ", ".join(f"{n}: {len(c)}" for n, c in self.choices.items())
        rule = "" if self.valid is None else f", valid={_rule_name(self.valid)}"
        return f"ProductSpace({{{body}}}{rule})"
