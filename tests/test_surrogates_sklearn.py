"""scikit-learn's estimator checks on every surrogate (small training budgets for speed).

Checks that cannot apply, and why:

* ``MLP`` and ``ReNASPredictor`` / ``check_methods_subset_invariance``: the networks
  compute in float32, and the same rows predicted in a batch of 20 or one by one can differ
  in the last bits (~1e-7 relative: oneDNN / BLAS pick different kernels and summation
  orders for different batch sizes), which exceeds the check's 1e-7 absolute tolerance on
  some seeds. Agreement to float32 precision is tested in ``tests/test_surrogates.py``
  (``test_prediction_in_small_chunks_matches_one_pass``).

``BatchedMLP`` and ``Quadratic`` (numpy) implement the estimator protocol without inheriting
from ``sklearn.base.BaseEstimator`` (so that a WeakNAS search never imports scikit-learn);
scikit-learn warns about that when it collects them, and they pass every check.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from nasopt.surrogates import GBRT, MLP, BatchedMLP, Quadratic, RandomForest, ReNASPredictor

ESTIMATORS = [
    MLP(hidden_layer_sizes=(32, 32), epochs=20, random_state=0),
    MLP(hidden_layer_sizes=(32,), epochs=20, loss="logistic", lam=0.1, random_state=0),
    GBRT(n_estimators=20, random_state=0),
    GBRT(n_estimators=20, loss="logistic", random_state=0),
    RandomForest(n_estimators=10, random_state=0),
    ReNASPredictor(epochs=20, random_state=0),
    BatchedMLP(random_state=0),
    BatchedMLP(members=3, hidden=(16,), loss="hinge", random_state=0),
    Quadratic(),
]

_FLOAT32 = {
    "check_methods_subset_invariance":
        "float32 network outputs depend on the batch size in the last bits (~1e-7 relative)",
}
EXPECTED_FAILURES = {"MLP": _FLOAT32, "ReNASPredictor": _FLOAT32}


#: ``BatchedMLP`` with a ranking loss predicts scores whose order is learned but not their
#: scale (WeakNAS only ranks them; unlike ``MLP`` it does not calibrate them to the targets),
#: so the R² of ``check_regressors_train`` does not apply.
_RANKING_SCORES = {
    "check_regressors_train": "ranking-loss scores are in arbitrary units, R² does not apply",
}


def _expected_failed(est):
    if isinstance(est, BatchedMLP) and est.loss != "mse":
        return _RANKING_SCORES
    return EXPECTED_FAILURES.get(type(est).__name__, {})


@pytest.mark.slow
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed)
def test_surrogates_pass_sklearn_estimator_checks(estimator, check):
    check(estimator)
