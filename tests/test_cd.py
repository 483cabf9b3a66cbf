"""The coordinate-descent (HALS) solver: kernels against NumPy, agreement with
scikit-learn's coordinate descent, exact objective, estimator API. Its
monotonicity and thread determinism are tested with MU's in test_engine.py."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits

from sknmfcluster import NMFClusterer, SparseNMF, _problems, _storage
from sknmfcluster._init import initialize
from sknmfcluster._losses import Loss, Penalties
from sknmfcluster._storage import Stats

from .conftest import divergence, fit_factors, low_rank, w_step


def _numpy_cd_sweeps(XHt, W, HHt, l1, l2, n_steps):
    """HALS on the rows of W: coordinate j of every row, then j + 1, ..."""
    W = W.astype(np.float64).copy()
    for _ in range(n_steps):
        for j in range(W.shape[1]):
            grad = W @ HHt[:, j] - XHt[:, j] + l1 + l2 * W[:, j]
            W[:, j] = np.maximum(W[:, j] - grad / (HHt[j, j] + l2), 0.0)
    return W


def _kernel_input(X, storage):
    return _storage.prepare(sp.csr_matrix(X) if storage == "csr" else X)


@pytest.mark.parametrize("accumulate", [True, False])
@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cd_rows_match_numpy(storage, dtype, accumulate):
    # 61 rows: groups of four and a remainder in every chunk
    X = low_rank(n=61, dtype=dtype)
    rng = np.random.RandomState(1)
    W = (rng.rand(61, 4) + 0.1).astype(dtype)
    H = (rng.rand(4, 12) + 0.1).astype(dtype)
    H64, X64 = H.astype(np.float64), X.astype(np.float64)
    expected = _numpy_cd_sweeps(X64 @ H64.T, W, H64 @ H64.T, 0.3, 0.2, 3)
    stats = w_step(_kernel_input(X, storage), W, H, 2, 0.3, 0.2, 3, 0.0,
                   accumulate, True)
    A, B = stats.A, stats.B
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (1e-4, 1e-6)
    np.testing.assert_allclose(W, expected, rtol=rtol, atol=atol)
    assert (expected == 0).any(), "the test should exercise the bound at 0"
    if accumulate:
        W64 = W.astype(np.float64)
        np.testing.assert_allclose(A, W64.T @ X64, rtol=rtol, atol=atol)
        np.testing.assert_allclose(B, W64.T @ W64, rtol=rtol, atol=atol)


def test_cd_h_step_matches_numpy(X_dense):
    rng = np.random.RandomState(2)
    W, H = rng.rand(X_dense.shape[0], 3), rng.rand(3, X_dense.shape[1])
    A, B = W.T @ X_dense, W.T @ W
    expected = _numpy_cd_sweeps(A.T, H.T, B, 0.1, 0.05,
                                _problems.INNER_H_CD).T
    problem = _problems.PlainNMF(_storage.prepare(X_dense), Loss(2), W, H,
                                 solver="cd",
                                 penalties=Penalties(l1_H=0.1, l2_H=0.05))
    empty = np.zeros(0)
    problem.h_step(Stats(A, B, empty, empty, empty, np.zeros((0, 0)), 0.0))
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-14)


def test_one_sweep_each_is_scikit_learns_coordinate_descent(monkeypatch):
    nmf = pytest.importorskip("sklearn.decomposition._nmf")
    if not hasattr(nmf, "_fit_coordinate_descent"):  # pragma: no cover
        pytest.skip("scikit-learn's private coordinate-descent loop moved")
    monkeypatch.setattr(_problems, "INNER_W_CD", 1)
    monkeypatch.setattr(_problems, "INNER_H_CD", 1)
    X = low_rank(n=50, m=15, k=4)
    W, H = initialize(X, 4, "nndsvda", np.random.RandomState(0))
    W_ref, H_ref, _ = nmf._fit_coordinate_descent(
        X, W.copy(), H.copy(), tol=0.0, max_iter=8, shuffle=False,
        random_state=None)
    res = fit_factors(_storage.prepare(X), W, H, 2, 8, 0.0, solver="cd")
    np.testing.assert_allclose(res.W, W_ref, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(res.H, H_ref, rtol=1e-8, atol=1e-12)


def test_cd_objective_from_statistics_is_exact(X_dense):
    W, H = initialize(X_dense, 4, "nndsvda", np.random.RandomState(0))
    Xp = _storage.prepare(X_dense)
    res = fit_factors(Xp, W, H, 2, 5, 0.0, solver="cd")
    assert res.objective == pytest.approx(divergence(Xp, W, H, 2), rel=1e-10)
    assert np.all(np.diff(res.history) <= 1e-9 * res.history[:-1])


def test_dense_and_csr_cd_fits_agree():
    X = low_rank(n=83)
    results = []
    for Xin in (X, sp.csr_matrix(X)):
        W, H = initialize(X, 3, "random", np.random.RandomState(0))
        results.append(fit_factors(_storage.prepare(Xin), W, H, 2, 30, 0.0,
                                   solver="cd"))
    np.testing.assert_allclose(results[1].W, results[0].W, rtol=1e-8,
                               atol=1e-12)
    np.testing.assert_allclose(results[1].H, results[0].H, rtol=1e-8,
                               atol=1e-12)


def test_engine_rejects_cd_with_kl(X_dense):
    W, H = initialize(X_dense, 3, "random", np.random.RandomState(0))
    with pytest.raises(ValueError, match="Frobenius loss only"):
        fit_factors(_storage.prepare(X_dense), W, H, 1, 5, 0.0, solver="cd")


@pytest.mark.parametrize("Estimator, params", [
    (NMFClusterer, {"n_clusters": 3, "method": "nmf"}),
    (SparseNMF, {"n_components": 3}),
])
def test_cd_with_kl_raises_a_clear_error(Estimator, params, X_dense):
    model = Estimator(**params, solver="cd", beta_loss="kullback-leibler")
    with pytest.raises(ValueError, match="solver='mu'"):
        model.fit(X_dense)
    # "auto" picks the multiplicative updates for KL
    Estimator(**params, beta_loss="kullback-leibler").fit(X_dense)


def test_cd_converges_in_fewer_passes_than_mu():
    X = load_digits().data / 16.0
    W, H = initialize(X, 10, "nndsvda", np.random.RandomState(0))
    err, n_iter = {}, {}
    for solver in ("cd", "mu"):
        res = fit_factors(_storage.prepare(X), W.copy(), H.copy(), 2, 40, 0.0,
                          solver=solver)
        err[solver] = res.objective
        model = NMFClusterer(10, method="nmf", solver=solver, max_iter=1000,
                             tol=1e-5, random_state=0).fit(X)
        n_iter[solver] = model.n_iter_
    assert err["cd"] < err["mu"] * 0.99, err
    assert n_iter["cd"] < n_iter["mu"], n_iter


def test_solver_default_is_cd_for_frobenius(X_dense):
    W, H = initialize(X_dense, 3, "nndsvda", np.random.RandomState(0))
    expected = fit_factors(_storage.prepare(X_dense), W.copy(), H.copy(), 2,
                           20, 0.0, solver="cd")
    model = NMFClusterer(3, method="nmf", init="custom", max_iter=20, tol=0.0)
    model.fit(X_dense, W=W, H=H)
    np.testing.assert_allclose(model.components_, expected.H, rtol=1e-12)
