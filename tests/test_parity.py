"""Parity with scikit-learn's NMF where it costs nothing, and where we differ."""

import warnings

import numpy as np
import pytest
from scipy.optimize import nnls
from sklearn.decomposition import NMF
from sklearn.decomposition import non_negative_factorization as sk_nnf

from sknmfcluster import NMFClusterer, SparseNMF, non_negative_factorization

from .conftest import low_rank


@pytest.fixture
def X():
    return low_rank(n=50, m=10, k=3, zeros=False) + 0.05


def _factors(n, m, k, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    return (rng.rand(n, k) + 0.1).astype(dtype), (rng.rand(k, m) + 0.1).astype(
        dtype)


def test_alpha_H_same_takes_alpha_W(X):
    same = SparseNMF(3, alpha_W=0.05, alpha_H="same", random_state=0,
                     max_iter=30).fit(X)
    explicit = SparseNMF(3, alpha_W=0.05, alpha_H=0.05, random_state=0,
                         max_iter=30).fit(X)
    np.testing.assert_array_equal(same.components_, explicit.components_)


def test_n_components_auto_takes_the_rank_of_custom_factors(X):
    W0, H0 = _factors(*X.shape, 4)
    model = SparseNMF("auto", init="custom", max_iter=10).fit(X, W=W0, H=H0)
    assert model.n_components_ == 4 and model.components_.shape == (4, 10)
    assert SparseNMF("auto", max_iter=10).fit(X).n_components_ == X.shape[1]


@pytest.mark.parametrize("Estimator, params", [
    (SparseNMF, {"n_components": 3}),
    (NMFClusterer, {"n_clusters": 3, "method": "nmf"}),
])
def test_factors_without_custom_init_are_ignored_with_a_warning(
        Estimator, params, X):
    W0, H0 = _factors(*X.shape, 3)
    with pytest.warns(RuntimeWarning, match="provided W or H are ignored"):
        Estimator(**params, max_iter=10).fit(X, W=W0, H=H0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        Estimator(**params, init="custom", max_iter=10).fit(X, W=W0, H=H0)


@pytest.mark.parametrize("Estimator, params", [
    (SparseNMF, {"n_components": 3}),
    (NMFClusterer, {"n_clusters": 3, "method": "nmf"}),
])
def test_custom_factors_of_another_float_dtype_are_a_type_error(
        Estimator, params, X):
    W0, H0 = _factors(*X.shape, 3, dtype=np.float32)
    with pytest.raises(TypeError, match="same dtype as X"):
        Estimator(**params, init="custom").fit(X, W=W0, H=H0)
    with pytest.raises(TypeError, match="same dtype as X"):
        non_negative_factorization(X, W0, H0, init="custom")


def test_sklearn_penalties_give_scikit_learns_iterates(X):
    """KL with penalties: one multiplicative step of each factor per pass."""
    W0, H0 = _factors(*X.shape, 3, seed=2)
    params = dict(alpha_W=0.01, alpha_H=0.02, l1_ratio=0.4,
                  beta_loss="kullback-leibler", init="custom", max_iter=25,
                  tol=0.0)
    reference = NMF(3, solver="mu", **params).fit(X, W=W0.copy(),
                                                  H=H0.copy())
    ours = SparseNMF(3, penalty_scaling="sklearn", solver="mu", **params).fit(
        X, W=W0.copy(), H=H0.copy())
    np.testing.assert_allclose(ours.components_, reference.components_,
                               rtol=1e-6)
    W, H, _ = non_negative_factorization(X, W0.copy(), H0.copy(), 3,
                                         solver="mu", **params)
    np.testing.assert_allclose(H, reference.components_, rtol=1e-6)
    W_ref, H_ref, _ = sk_nnf(X, W0.copy(), H0.copy(), 3, solver="mu",
                             **params)
    np.testing.assert_allclose(W, W_ref, rtol=1e-6)


def test_sklearn_penalties_cannot_take_a_target(X):
    with pytest.raises(ValueError, match="penalty_scaling='sklearn'"):
        SparseNMF(3, penalty_scaling="sklearn",
                  sparseness_components=0.5).fit(X)


def test_codes_with_h_fixed_are_the_nonnegative_least_squares(X):
    _, H = _factors(*X.shape, 3, seed=3)
    W, H_out, _ = non_negative_factorization(X, H=H, n_components=3,
                                             update_H=False, max_iter=2000,
                                             tol=1e-12)
    np.testing.assert_array_equal(H_out, H)
    expected = np.array([nnls(H.T, x)[0] for x in X])
    np.testing.assert_allclose(W, expected, rtol=1e-5, atol=1e-7)
    with pytest.warns(RuntimeWarning, match="initial W is not used"):
        non_negative_factorization(X, W=W, H=H, update_H=False, max_iter=5)
    with pytest.raises(TypeError, match="same dtype as X"):
        non_negative_factorization(X, H=H.astype(np.float32),
                                   update_H=False)


@pytest.mark.parametrize("solver", ["cd", "mu"])
def test_fixed_components_stay_and_the_rest_are_learned(solver):
    rng = np.random.RandomState(0)
    H_true = rng.rand(3, 12) * (rng.rand(3, 12) < 0.6)
    X = rng.rand(80, 3) @ H_true
    H0 = np.vstack([H_true[:1], rng.rand(2, 12) + 0.1])
    W0 = rng.rand(80, 3) + 0.1
    W, H, n_iter = non_negative_factorization(
        X, W0, H0, init="custom", fixed_components=[0], solver=solver,
        max_iter=3000, tol=1e-10)
    np.testing.assert_array_equal(H[0], H_true[0])  # zeros included
    assert np.linalg.norm(X - W @ H) < 1e-3 * np.linalg.norm(X)
    # the fixed part is not free to move: without it the fit can differ
    _, H_free, _ = non_negative_factorization(
        X, W0, H0, init="custom", solver=solver, max_iter=50)
    assert not np.array_equal(H_free[0], H_true[0])


def test_fixed_components_need_custom_components(X):
    with pytest.raises(ValueError, match="needs init='custom'"):
        non_negative_factorization(X, n_components=3, fixed_components=[0])
    W0, H0 = _factors(*X.shape, 3)
    with pytest.raises(ValueError, match="between 0 and 2"):
        non_negative_factorization(X, W0, H0, init="custom",
                                   fixed_components=[3])
