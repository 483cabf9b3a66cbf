"""The beta-divergence family: kernels and updates against NumPy, against
scikit-learn's multiplicative updates, monotone objective, estimator API."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import NMF
from sklearn.decomposition._nmf import _beta_divergence

from sknmfcluster import NMFClusterer, SparseNMF, _kernels, _storage
from sknmfcluster._kernels._common import beta_term
from sknmfcluster._losses import Loss, beta_value

from .conftest import divergence, fit_factors, w_step

BETAS = [-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0]


def _numpy_beta(X, Y, beta):
    """The beta-divergence of every entry, written out (Fevotte & Idier)."""
    if beta == 2:
        return 0.5 * (X - Y) ** 2
    if beta == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(X > 0, X * np.log(X / Y), 0.0) - X + Y
    if beta == 0:
        return X / Y - np.log(X / Y) - 1
    return (X ** beta + (beta - 1) * Y ** beta
            - beta * X * Y ** (beta - 1)) / (beta * (beta - 1))


def _positive(n=40, m=9, seed=0, zeros=0.0):
    rng = np.random.RandomState(seed)
    X = rng.gamma(2.0, size=(n, m)) + 0.1
    if zeros:
        X[rng.rand(n, m) < zeros] = 0.0
    return X


def _factors(n, m, k, seed=1):
    rng = np.random.RandomState(seed)
    return rng.rand(n, k) + 0.2, rng.rand(k, m) + 0.2


@pytest.mark.parametrize("beta", BETAS)
def test_entry_divergence_matches_the_formula(beta):
    rng = np.random.RandomState(0)
    x = rng.gamma(2.0, size=50)
    y = rng.gamma(2.0, size=50) + 0.01
    if beta > 0:
        x[::7] = 0.0  # zeros are only defined for beta > 0
    expected = _numpy_beta(x, y, beta)
    got = np.array([beta_term(a, b, beta) for a, b in zip(x, y)])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("beta", BETAS)
def test_divergence_matches_scikit_learn(storage, beta):
    X = _positive(zeros=0.3 if beta > 0 else 0.0)
    W, H = _factors(X.shape[0], X.shape[1], 3)
    Xp = _storage.prepare(sp.csr_matrix(X) if storage == "csr" else X)
    expected = _beta_divergence(X, W, H, beta)
    assert divergence(Xp, W, H, beta) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("beta", [-1.0, 0.0, 0.5, 1.5, 3.0])
def test_beta_rows_and_statistics_match_numpy(storage, beta):
    X = _positive(zeros=0.3 if beta > 0 else 0.0)
    W, H = _factors(X.shape[0], X.shape[1], 4)
    gamma = Loss(beta).gamma
    WH = W @ H
    expected = W * (((X * WH ** (beta - 2)) @ H.T)
                    / (WH ** (beta - 1) @ H.T)) ** gamma
    Xp = _storage.prepare(sp.csr_matrix(X) if storage == "csr" else X)
    stats = w_step(Xp, W, H, beta, 0.0, 0.0, 1, 0.0, True)
    np.testing.assert_allclose(W, expected, rtol=1e-10)
    WH = W @ H  # the statistics are taken at the new W
    np.testing.assert_allclose(stats.N, W.T @ (X * WH ** (beta - 2)),
                               rtol=1e-10)
    np.testing.assert_allclose(stats.D, W.T @ WH ** (beta - 1), rtol=1e-10)
    assert stats.objective == pytest.approx(
        _numpy_beta(X, WH, beta).sum(), rel=1e-10)


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.5, 2.5, 3.0, 1.2, -1.0])
def test_beta_ratios_take_the_power_of_the_floored_product(beta):
    # the usual betas take a root, a division or a product instead of pow:
    # the same values within rounding, over the whole float range, with the
    # product floored at EPSILON and the missing columns at 0
    rng = np.random.default_rng(0)
    wh = np.concatenate([rng.random(50) * 10, [0.0, 1e-320, 1e-30, 1e-20,
                                                1.0, 4.0, 1e100, 1e200]])
    x = rng.random(wh.size) * 5
    missing = np.array([3, 17], dtype=np.int64)
    num, den = np.full(wh.size, np.nan), np.full(wh.size, np.nan)
    _kernels._rows._beta_ratios(x, wh, beta, num, den, missing)
    y = np.maximum(wh, _kernels.EPSILON)
    with np.errstate(over="ignore"):
        expected_den = y ** (beta - 1.0)
        expected_num = x * expected_den / y
    expected_num[missing] = expected_den[missing] = 0.0
    np.testing.assert_allclose(den, expected_den, rtol=1e-15)
    np.testing.assert_allclose(num, expected_num, rtol=1e-15)


@pytest.mark.parametrize("beta", [-1.0, 0.0, 0.5, 1.5, 3.0])
def test_h_update_matches_numpy(beta):
    X = _positive()
    W, H = _factors(X.shape[0], X.shape[1], 4)
    loss = Loss(beta)
    Xp = _storage.prepare(X)
    stats = w_step(Xp, W, H, beta, 0.0, 0.0, 0, 0.0, True)  # W unchanged
    WH = W @ H
    expected = H * ((W.T @ (X * WH ** (beta - 2)))
                    / (W.T @ WH ** (beta - 1))) ** loss.gamma
    loss.h_update(H, stats, 0.0, 0.0, 1)
    np.testing.assert_allclose(H, expected, rtol=1e-10)


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 1.5, 3.0])
def test_same_iterates_as_scikit_learn_mu(beta):
    """One W and one H update per iteration, the exponents of scikit-learn."""
    X = _positive(n=60, m=12, seed=3)
    W0, H0 = _factors(60, 12, 4, seed=4)
    reference = NMF(4, init="custom", solver="mu", beta_loss=beta,
                    max_iter=15, tol=0.0).fit(X, W=W0.copy(), H=H0.copy())
    W, H = W0.copy(), H0.copy()
    fit_factors(_storage.prepare(X), W, H, beta, 15, 0.0)
    np.testing.assert_allclose(H, reference.components_, rtol=1e-6)
    ours = np.sqrt(2 * _beta_divergence(X, W, H, beta))
    assert ours == pytest.approx(reference.reconstruction_err_, rel=1e-6)


def test_frobenius_goes_further_than_scikit_learn_mu_per_pass():
    X = _positive(n=60, m=12, seed=3)
    W0, H0 = _factors(60, 12, 4, seed=4)
    reference = NMF(4, init="custom", solver="mu", max_iter=15,
                    tol=0.0).fit(X, W=W0.copy(), H=H0.copy())
    res = fit_factors(_storage.prepare(X), W0.copy(), H0.copy(), 2, 15, 0.0)
    assert np.sqrt(2 * res.objective) < reference.reconstruction_err_


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 25), m=st.integers(1, 10), k=st.integers(1, 4),
       seed=st.integers(0, 2**31 - 1),
       beta=st.floats(-1.0, 3.0, allow_nan=False), sparse=st.booleans())
def test_objective_never_increases_for_any_beta(n, m, k, seed, beta, sparse):
    """Each multiplicative step is a majorization-minimization step."""
    rng = np.random.RandomState(seed)
    X = rng.gamma(1.5, size=(n, m)) + 0.05
    if beta >= 0.05:  # a zero's divergence grows as 1 / beta near 0
        X[rng.rand(n, m) < 0.3] = 0.0
    Xp = _storage.prepare(sp.csr_matrix(X) if sparse else X)
    W, H = _factors(n, m, k, seed=seed % 1000)
    previous = divergence(Xp, W, H, beta)
    for _ in range(12):
        fit_factors(Xp, W, H, beta, 1, 0.0)
        current = divergence(Xp, W, H, beta)
        assert current <= previous * (1 + 1e-9) + 1e-12
        previous = current
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(H))


@pytest.mark.parametrize("beta", [0.0, 0.5, 3.0])
def test_dense_and_csr_fits_agree(beta):
    X = _positive(zeros=0.3 if beta > 0 else 0.0)
    results = []
    for Xin in (X, sp.csr_matrix(X)):
        W, H = _factors(*X.shape, 3)
        results.append(fit_factors(_storage.prepare(Xin), W, H, beta, 20, 0.0))
    np.testing.assert_allclose(results[1].W, results[0].W, rtol=1e-9)
    np.testing.assert_allclose(results[1].H, results[0].H, rtol=1e-9)


def test_named_losses_are_their_betas():
    assert beta_value("frobenius") == 2.0
    assert beta_value("kullback-leibler") == 1.0
    assert beta_value("itakura-saito") == 0.0
    assert beta_value(1.5) == 1.5
    assert Loss(2.0).mu_rule == _kernels.MU_FRO
    assert Loss(1.0).mu_rule == _kernels.MU_KL
    # a beta with no special case runs the general rule, never another loss's
    assert Loss(1.0000001).mu_rule == _kernels.MU_BETA
    assert Loss(0.0).mu_rule == _kernels.MU_BETA


@pytest.mark.parametrize("Estimator, params", [
    (NMFClusterer, {"n_clusters": 3, "method": "nmf"}),
    (NMFClusterer, {"n_clusters": 3}),
    (SparseNMF, {"n_components": 3}),
    (SparseNMF, {"n_components": 3, "sparseness_components": 0.5}),
])
@pytest.mark.parametrize("beta_loss", ["itakura-saito", 0.5, 1.5, 3])
def test_estimators_take_any_beta(Estimator, params, beta_loss):
    if "sparseness_components" in params and beta_value(beta_loss) <= 0:
        pytest.skip("rejected: see test_sparse_parts_need_a_positive_beta")
    X = _positive(n=45, m=8, seed=5)
    model = Estimator(**params, beta_loss=beta_loss, random_state=0,
                      max_iter=40)
    codes = model.fit_transform(X)
    assert np.all(np.isfinite(codes)) and np.all(np.isfinite(
        model.components_))
    np.testing.assert_allclose(model.transform(X), codes, rtol=1e-5,
                               atol=1e-8)
    beta = beta_value(beta_loss)
    # sparse parts may leave W H at 0 where X is not, which scikit-learn's
    # divergence floors at 1e-7 and ours at 1e-30; its own kernel is tested
    # against scikit-learn above
    expected = divergence(_storage.prepare(X), codes, model.components_, beta)
    assert model.score(X) == pytest.approx(-expected / X.shape[0], rel=1e-8)
    assert model.reconstruction_err_ == pytest.approx(
        np.sqrt(2 * expected), rel=1e-8)


@pytest.mark.parametrize("beta_loss", ["itakura-saito", -0.5])
def test_beta_at_most_zero_rejects_zeros(beta_loss):
    X = _positive(zeros=0.2)
    for Xin in (X, sp.csr_matrix(_positive())):  # CSR: unstored are zeros
        if sp.issparse(Xin):
            Xin = Xin.tolil()
            Xin[0, 0] = 0.0
            Xin = Xin.tocsr()
        with pytest.raises(ValueError, match="cannot fit data with zeros"):
            SparseNMF(3, beta_loss=beta_loss).fit(Xin)
    model = SparseNMF(3, beta_loss=beta_loss, max_iter=10).fit(_positive())
    with pytest.raises(ValueError, match="cannot fit data with zeros"):
        model.transform(X)


def test_sparse_parts_need_a_positive_beta():
    with pytest.raises(ValueError, match="no part covers"):
        SparseNMF(3, sparseness_components=0.5,
                  beta_loss="itakura-saito").fit(_positive())


def test_codes_target_needs_frobenius_or_kl():
    with pytest.raises(ValueError, match="sparseness_codes supports"):
        SparseNMF(3, sparseness_codes=0.5, beta_loss=0.5).fit(_positive())
