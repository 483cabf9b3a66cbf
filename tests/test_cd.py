"""The coordinate-descent (HALS) solver: kernels against NumPy, agreement with
scikit-learn's coordinate descent, exact objective, estimator API. Its
monotonicity and thread determinism are tested with MU's in test_engine.py."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import brentq
from sklearn.datasets import load_digits

from sknmfcluster import (NMFClusterer, SparseNMF, _problems, _storage,
                          non_negative_factorization)
from sknmfcluster._kernels import _rows
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


def _gram_stats(A, B):
    """The statistics of a Frobenius pass without missing entries."""
    empty = np.zeros(0)
    return Stats(A, B, empty, empty, empty, np.zeros((0, 0)), 0.0)


def test_cd_h_step_matches_numpy(X_dense):
    rng = np.random.RandomState(2)
    W, H = rng.rand(X_dense.shape[0], 3), rng.rand(3, X_dense.shape[1])
    A, B = W.T @ X_dense, W.T @ W
    expected = _numpy_cd_sweeps(A.T, H.T, B, 0.1, 0.05,
                                _problems.INNER_H_CD).T
    problem = _problems.PlainNMF(_storage.prepare(X_dense), Loss(2), W, H,
                                 solver="cd",
                                 penalties=Penalties(l1_H=0.1, l2_H=0.05))
    problem.h_step(_gram_stats(A, B))
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fraction", [0.12, 0.02])
def test_h_sweeps_stop_on_their_relative_change(monkeypatch, X_dense,
                                                fraction):
    """Gillis and Glineur's stopping: the sweeps over H end after the first
    one that moves H by at most ``fraction`` of what the first moved it."""
    monkeypatch.setattr(_problems, "INNER_H_CD", 40)
    monkeypatch.setattr(_problems, "H_SWEEP_DECREASE", fraction)
    rng = np.random.RandomState(3)
    W, H = rng.rand(X_dense.shape[0], 4), rng.rand(4, X_dense.shape[1])
    A, B = W.T @ X_dense, W.T @ W
    iterates = [H.T]  # the definition, one numpy sweep at a time
    while True:
        iterates.append(_numpy_cd_sweeps(A.T, iterates[-1], B, 0.0, 0.0, 1))
        change = np.linalg.norm(iterates[-1] - iterates[-2])
        if len(iterates) == 2:
            first = change
        elif change <= fraction * first:
            break
    sweeps = len(iterates) - 1
    assert 2 < sweeps < 40, "the test should stop before the cap, not at 2"
    after_one_more = _numpy_cd_sweeps(A.T, iterates[-1], B, 0.0, 0.0, 1)
    _problems.h_step(H, _gram_stats(A, B), Loss(2), cd=True,
                     penalties=Penalties())
    np.testing.assert_allclose(H.T, iterates[-1], rtol=1e-10, atol=1e-12)
    assert not np.allclose(H.T, iterates[-2], rtol=1e-10, atol=1e-12)
    assert not np.allclose(H.T, after_one_more, rtol=1e-10, atol=1e-12)


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


def test_engine_rejects_cd_beyond_frobenius_and_kl(X_dense):
    W, H = initialize(X_dense, 3, "random", np.random.RandomState(0))
    with pytest.raises(ValueError, match="Frobenius and KL losses only"):
        fit_factors(_storage.prepare(X_dense), W, H, 1.5, 5, 0.0, solver="cd")


@pytest.mark.parametrize("Estimator, params", [
    (NMFClusterer, {"n_clusters": 3, "method": "nmf"}),
    (SparseNMF, {"n_components": 3}),
])
def test_cd_beyond_frobenius_and_kl_raises_a_clear_error(Estimator, params,
                                                         X_dense):
    model = Estimator(**params, solver="cd", beta_loss="itakura-saito")
    with pytest.raises(ValueError, match="solver='mu'"):
        model.fit(X_dense + 1.0)
    # "auto" is coordinate descent for KL on data in memory
    kl = dict(params, beta_loss="kullback-leibler", max_iter=30,
              random_state=0)
    auto = Estimator(**kl).fit(X_dense)
    cd = Estimator(**kl, solver="cd").fit(X_dense)
    mu = Estimator(**kl, solver="mu").fit(X_dense)
    assert auto._check_solver() == "cd"
    np.testing.assert_array_equal(auto.components_, cd.components_)
    assert auto.reconstruction_err_ == cd.reconstruction_err_
    assert cd.reconstruction_err_ < mu.reconstruction_err_


def test_auto_is_kl_coordinate_descent_only_where_it_can_read_columns(
        X_dense):
    """In batches and with fixed components, ``"auto"`` is the updates.

    KL coordinate descent updates ``H`` from the columns of X; with them
    out of reach, "auto" must not pick it (``"cd"`` raises there).
    """
    kl = dict(beta_loss="kullback-leibler", max_iter=10, random_state=0)
    assert SparseNMF(3, **kl)._check_solver(columns=False) == "mu"
    auto, mu = (SparseNMF(3, **kl, batch_size=10, solver=solver).fit(X_dense)
                for solver in ("auto", "mu"))
    np.testing.assert_array_equal(auto.components_, mu.components_)
    W0, H0 = initialize(X_dense, 3, "random", np.random.RandomState(0))
    fixed = {}
    for solver in ("auto", "mu"):
        fixed[solver] = non_negative_factorization(
            X_dense, W0, H0, init="custom", fixed_components=[0],
            solver=solver, beta_loss="kullback-leibler", max_iter=10)
    for a, b in zip(fixed["auto"], fixed["mu"]):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="fixed"):
        non_negative_factorization(
            X_dense, W0, H0, init="custom", fixed_components=[0], solver="cd",
            beta_loss="kullback-leibler", max_iter=10)
    # codes alone read rows only: "auto" is coordinate descent there
    codes = {solver: non_negative_factorization(
        X_dense, H=H0, update_H=False, solver=solver,
        beta_loss="kullback-leibler", max_iter=10)[0]
        for solver in ("auto", "cd")}
    np.testing.assert_array_equal(codes["auto"], codes["cd"])


def _kl_coordinate_minimum(x, h, a, hsum, l1, l2):
    """argmin_{s >= 0} s (hsum + l1) + 0.5 l2 s^2 - sum(x log(a + s h)),
    from the root of its derivative (brentq)."""
    def slope(s):
        return hsum + l1 + l2 * s - np.sum(x * h / (a + s * h))

    low = 1e-300
    if np.all(a[x > 0] + low * h[x > 0] > 0) and slope(low) >= 0:
        return 0.0
    high = 1.0
    while slope(high) < 0:
        high *= 2.0
    return brentq(slope, low, high, xtol=1e-15, rtol=1e-14)


@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (0.3, 0.5)])
def test_kl_cd_row_minimises_each_coordinate_exactly(l1, l2):
    # Each coordinate, in turn, lands on its own exact minimiser given the
    # others (NumPy/SciPy reference): one that only a lone non-zero
    # explains (column 3 is seen by component 0 alone: a log barrier at
    # 0), one whose minimiser is exactly 0, and ordinary ones.
    rng = np.random.RandomState(3)
    k, m = 4, 12
    H = rng.rand(k, m) + 0.05
    H[1:, 3] = 0.0
    H[3, :6] = 0.0  # component 3 lives on columns where x is 0 ...
    H[3, 6:] = 5.0  # ... and costs a lot there
    cols = np.array([0, 1, 2, 3, 4, 5, 9], dtype=np.int64)
    x = np.array([3.0, 1.0, 4.0, 2.0, 6.0, 1.0, 0.5])
    w0 = np.array([0.0, 2.0, 0.1, 0.7])
    w = w0.copy()
    Ht = np.ascontiguousarray(H.T)
    hsum = H.sum(axis=1)
    converged = _rows.cd_kl_row(x, cols, w, Ht, hsum, l1, l2, 1, 0.0,
                                np.empty((k, m)), np.empty(m), np.empty(m))
    assert not converged  # one sweep, tol 0: the row moved
    expected = w0.copy()
    for j in range(k):
        a = expected @ H[:, cols] - expected[j] * H[j, cols]
        expected[j] = _kl_coordinate_minimum(x, H[j, cols], a, hsum[j], l1,
                                             l2)
    np.testing.assert_allclose(w, expected, rtol=1e-9, atol=1e-300)
    assert w[3] == 0.0 and w[0] > 0.0  # exact zero; the barrier respected


@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_kl_cd_fit_reaches_in_fewer_iterations_what_mu_reaches(storage):
    # The point of KL coordinate descent (Hsieh & Dhillon 2011): on digits
    # at rank 10 from NNDSVDa (the default start), 60 iterations reach a
    # lower divergence than 600 multiplicative ones (82,588 against 84,020;
    # 40 against 400: 83,485 against 84,426). Not on every problem: from
    # the same start on digits / 16 (NNDSVD zeroes its small entries at an
    # absolute threshold, so the start differs) coordinate descent settled
    # at 5,234 while the updates went on to 5,131.
    X = load_digits().data
    Xp = _kernel_input(X, storage)
    W, H = initialize(X, 10, "nndsvda", np.random.RandomState(0))
    cd = fit_factors(Xp, W.copy(), H.copy(), 1, 60, 0.0, solver="cd")
    mu = fit_factors(Xp, W.copy(), H.copy(), 1, 600, 0.0, solver="mu")
    assert divergence(Xp, cd.W, cd.H, 1) < divergence(Xp, mu.W, mu.H, 1)
    # every iteration's objective is the exact divergence at its factors
    assert cd.objective == pytest.approx(divergence(Xp, cd.W, cd.H, 1),
                                         rel=1e-9)
    assert np.all(np.diff(cd.history) <= 1e-9 * cd.history[1:])


def test_kl_cd_starts_from_the_best_scale():
    # From NNDSVDa (its product 49x too large on digits at rank 30) the
    # first sweep killed 20 of 30 components before the start was rescaled
    # to sum(W H) = sum(X); now at most one dies.
    X = load_digits().data
    W, H = initialize(X, 30, "nndsvda", np.random.RandomState(0))
    res = fit_factors(_storage.prepare(X), W, H, 1, 1, 0.0, solver="cd")
    assert (res.H.sum(axis=1) == 0).sum() <= 1


def test_kl_cd_where_it_cannot_update_the_components():
    X = low_rank(n=30) + 0.1
    rng = np.random.RandomState(0)
    W, H = rng.rand(30, 3) + 0.1, rng.rand(3, X.shape[1]) + 0.1
    with pytest.raises(ValueError, match="fixed while it learns"):
        non_negative_factorization(X, W=W, H=H, init="custom",
                                   fixed_components=[0],
                                   beta_loss="kullback-leibler", solver="cd",
                                   max_iter=5)
    with pytest.raises(ValueError, match="partial_fit with solver='cd'"):
        SparseNMF(3, beta_loss="kullback-leibler", solver="cd").partial_fit(X)


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
