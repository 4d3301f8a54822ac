"""Base class of the numpy surrogates (``"nn"``, ``"quadratic"``): the scikit-learn estimator
protocol without importing scikit-learn.

The numpy surrogates are WeakNAS's default predictors; a search with them must not pay for
importing scikit-learn and SciPy. :class:`NumpySurrogate` therefore implements what
``sklearn.base.BaseEstimator`` and ``RegressorMixin`` give the other surrogates —
``get_params`` / ``set_params`` from the constructor signature, ``score`` (R²), the
estimator tags (built only when scikit-learn asks for them, so scikit-learn is loaded by
then) — and validates inputs with numpy alone, with scikit-learn's error messages.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ..core.errors import ConfigurationError


def _is_sparse(X: Any) -> bool:
    return type(X).__module__.startswith("scipy.sparse")


def _as_float_array(X: Any, name: str, allow_nd: bool) -> np.ndarray:
    """``X`` as a float64 array of at least 2 dimensions, finite, with at least one row and
    one feature; ValueError / TypeError with scikit-learn's wording otherwise."""
    if _is_sparse(X):
        raise TypeError(f"{name}: sparse input is not supported; pass a dense array")
    arr = np.asarray(X)
    if np.iscomplexobj(arr):
        raise ValueError("Complex data not supported")
    if arr.dtype.kind in "OUS" or arr.dtype.kind == "V":
        arr = arr.astype(np.float64)  # TypeError / ValueError for non-numeric entries
    arr = np.asarray(arr, dtype=np.float64)
    if name == "y":
        if arr.ndim == 2 and arr.shape[1] == 1:
            import warnings

            from sklearn.exceptions import DataConversionWarning  # on this path only

            warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                          "change the shape of y to (n_samples, ), for example using ravel().",
                          DataConversionWarning, stacklevel=4)
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(f"y should be a 1d array, got an array of shape {arr.shape} instead.")
    elif arr.ndim < 2:
        raise ValueError(
            f"Expected 2D array, got {'scalar' if arr.ndim == 0 else '1D'} array instead:\n"
            f"array={arr}.\nReshape your data either using array.reshape(-1, 1) if your data "
            "has a single feature or array.reshape(1, -1) if it contains a single sample."
        )
    elif arr.ndim > 2 and not allow_nd:
        raise ValueError(f"Found array with dim {arr.ndim}, while dim <= 2 is required.")
    if arr.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={arr.shape}) while a minimum of 1 is required."
        )
    if name == "X" and int(np.prod(arr.shape[1:])) == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required."
        )
    if not np.isfinite(arr).all():
        what = "NaN" if np.isnan(arr).any() else "infinity"
        raise ValueError(f"Input {name} contains {what}.")
    return arr


def _feature_names(X: Any) -> np.ndarray | None:
    """Column names of a dataframe whose columns are all strings, else ``None``."""
    columns = getattr(X, "columns", None)
    if columns is None or _is_sparse(X):
        return None
    names = np.asarray(list(columns), dtype=object)
    if len(names) and all(isinstance(c, str) for c in names):
        return names
    return None


class NumpySurrogate:
    """scikit-learn regressor protocol for surrogates written in numpy.

    Subclasses store their constructor arguments unchanged (``get_params`` reads them from
    the signature), validate them in ``fit``, and implement ``fit`` / ``predict`` with
    :meth:`_validate_fit` / :meth:`_validate_predict`. ``device`` must be ``"cpu"``
    (:meth:`check_device`).
    """

    _allow_nd: bool = False

    # -- parameters ------------------------------------------------------------------------
    @classmethod
    def _get_param_names(cls) -> list[str]:
        params = inspect.signature(cls.__init__).parameters.values()
        return sorted(p.name for p in params if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters, as given (``deep`` is accepted for scikit-learn)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> "NumpySurrogate":
        """Set constructor parameters; returns ``self``."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {valid!r}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        changed = []
        for name, value in self.get_params().items():
            default = defaults.get(name, inspect.Parameter.empty)
            same = default is value or (
                type(default) is type(value) and not isinstance(value, np.ndarray) and default == value
            )
            if not same:
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's tags of a regressor (called by scikit-learn only, so importing it
        here costs nothing extra)."""
        from sklearn.utils import RegressorTags, Tags, TargetTags

        tags = Tags(estimator_type="regressor", target_tags=TargetTags(required=True),
                    transformer_tags=None, regressor_tags=RegressorTags(), classifier_tags=None)
        tags.input_tags.allow_nan = False
        return tags

    # -- device ------------------------------------------------------------------------------
    def check_device(self) -> str:
        """``"cpu"``; :class:`ConfigurationError` for any other ``device`` (numpy runs on
        the CPU only)."""
        if self.device != "cpu":
            raise ConfigurationError(
                f"{type(self).__name__} runs on the CPU only (numpy), got device={self.device!r}; "
                "use device='cpu', or a torch surrogate ('mlp', 'renas') for a GPU"
            )
        return "cpu"

    # -- input validation --------------------------------------------------------------------
    def _validate_fit(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        names = _feature_names(X)
        Xa = _as_float_array(X, "X", self._allow_nd)
        ya = _as_float_array(y, "y", False)
        if len(ya) != len(Xa):
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: {[len(Xa), len(ya)]}"
            )
        self.n_features_in_ = int(np.prod(Xa.shape[1:]))
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return Xa, ya

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            # scikit-learn's class (a ValueError and AttributeError), imported on this error
            # path only
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _validate_predict(self, X: Any) -> np.ndarray:
        names = _feature_names(X)
        fitted = getattr(self, "feature_names_in_", None)
        if names is not None or fitted is not None:
            import warnings

            if fitted is None:
                warnings.warn(f"X has feature names, but {type(self).__name__} was fitted "
                              "without feature names", UserWarning, stacklevel=3)
            elif names is None:
                warnings.warn(f"X does not have valid feature names, but {type(self).__name__} "
                              "was fitted with feature names", UserWarning, stacklevel=3)
            elif len(names) != len(fitted) or (names != fitted).any():
                raise ValueError(
                    "The feature names should match those that were passed during fit.\n"
                    f"Fitted with: {list(fitted)}\nGot: {list(names)}"
                )
        Xa = _as_float_array(X, "X", self._allow_nd)
        n = int(np.prod(Xa.shape[1:]))
        if n != self.n_features_in_:
            raise ValueError(
                f"X has {n} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return Xa

    # -- scoring -----------------------------------------------------------------------------
    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Coefficient of determination R² of ``predict(X)`` against ``y``."""
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        pred = np.asarray(self.predict(X), dtype=np.float64).reshape(-1)
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        ss_res = float(np.sum(w * (y - pred) ** 2))
        ss_tot = float(np.sum(w * (y - np.average(y, weights=w)) ** 2))
        if ss_tot == 0:
            return 1.0 if ss_res == 0 else 0.0
        return 1.0 - ss_res / ss_tot
