"""Missing values: NaN is an entry not observed, left out of every statistic."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import nnls
from sklearn.decomposition._nmf import _beta_divergence

from sknmfcluster import (NMFClusterer, SparseNMF, _kernels, _problems,
                          _storage, non_negative_factorization)
from sknmfcluster._engine import row_settings
from sknmfcluster._labels import NO_CLUSTER
from sknmfcluster._losses import Loss
from sknmfcluster._storage import Factors

from .conftest import divergence, fit_factors, w_step


def _planted(n=120, m=20, k=3, seed=0, hidden=0.3, noise=0.0):
    """Low-rank positive data, and a copy with a share of it hidden (NaN)."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, k) @ rng.rand(k, m) + 0.05
    X += noise * rng.rand(n, m)
    mask = rng.rand(n, m) < hidden
    Xn = X.copy()
    Xn[mask] = np.nan
    return X, Xn, mask


def _as_csr_with_nan(Xn, zeros=None):
    """CSR whose stored NaN are missing; ``zeros`` (mask) left unstored."""
    D = np.nan_to_num(Xn, nan=-1.0)
    if zeros is not None:
        D[zeros] = 0.0
    C = sp.csr_matrix(D)
    C.data[C.data == -1.0] = np.nan
    return C


def _masked_beta(X, WH, beta, mask):
    """The beta-divergence over the observed entries, written out."""
    observed = ~mask
    return _beta_divergence(X[observed][None, :], np.ones((1, 1)),
                            WH[observed][None, :], beta)


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("beta", [2.0, 1.0, 1.5, 0.5, 0.0])
def test_masked_divergence_matches_numpy(storage, beta):
    X, Xn, mask = _planted()
    rng = np.random.RandomState(1)
    W, H = rng.rand(X.shape[0], 3) + 0.1, rng.rand(3, X.shape[1]) + 0.1
    Xin = _as_csr_with_nan(Xn) if storage == "csr" else Xn
    Xp = _storage.prepare(Xin)
    assert Xp.masked and Xp.missing.count == mask.sum()
    expected = _masked_beta(X, W @ H, beta, mask)
    assert divergence(Xp, W, H, beta) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_masked_rows_match_numpy(storage):
    """One step of each rule on the observed entries, written out."""
    X, Xn, mask = _planted(n=40, m=12)
    Xin = _as_csr_with_nan(Xn) if storage == "csr" else Xn
    Xp = _storage.prepare(Xin)
    rng = np.random.RandomState(2)
    W0, H = rng.rand(40, 3) + 0.1, rng.rand(3, 12) + 0.1
    M = (~mask).astype(float)
    X0 = np.where(mask, 0.0, X)
    # Frobenius MU: w * (x_o H_o^T) / (w H_o H_o^T)
    W = W0.copy()
    w_step(Xp, W, H, 2, 0.0, 0.0, 1, 0.0, False)
    expected = W0 * (X0 @ H.T) / (((W0 @ H) * M) @ H.T)
    np.testing.assert_allclose(W, expected, rtol=1e-10)
    # KL MU: w * ((x / wh) H_o^T) / (1_o H^T)
    W = W0.copy()
    w_step(Xp, W, H, 1, 0.0, 0.0, 1, 0.0, False)
    expected = W0 * ((X0 / (W0 @ H)) @ H.T) / (M @ H.T)
    np.testing.assert_allclose(W, expected, rtol=1e-10)
    # beta = 1.5, its exponent 1
    W = W0.copy()
    w_step(Xp, W, H, 1.5, 0.0, 0.0, 1, 0.0, False)
    WH = W0 @ H
    expected = W0 * ((X0 * WH ** -0.5) @ H.T) / ((M * WH ** 0.5) @ H.T)
    np.testing.assert_allclose(W, expected, rtol=1e-10)


def _observed_step(X, mask, W0, H, solver):
    """One multiplicative step or coordinate-descent sweep per row, written
    out over the row's observed entries with its own Gram matrix."""
    W = W0.copy()
    for i in range(X.shape[0]):
        observed = ~mask[i]
        Ho = H[:, observed]
        G, b = Ho @ Ho.T, X[i, observed] @ Ho.T
        if solver == "mu":
            W[i] = W0[i] * b / (G @ W0[i])
            continue
        for j in range(H.shape[0]):
            W[i, j] = max(W[i, j] - (G[j] @ W[i] - b[j]) / G[j, j], 0.0)
    return W


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("solver", ["mu", "cd"])
@pytest.mark.parametrize("k, hidden, path", [
    (3, 0.3, "gram"), (8, 0.3, "corrected"), (3, 0.85, "observed")])
def test_every_masked_path_takes_the_exact_step(storage, solver, k, hidden,
                                                path):
    """The three ways of solving a masked row (its own Gram matrix, HH^T
    corrected in every sweep, its observed columns) take the same step."""
    from sknmfcluster._kernels import _dispatch
    X, Xn, mask = _planted(n=40, m=12, hidden=hidden, seed=6)
    keep = (~mask).any(axis=1)  # rows with no observed entry stay at zero
    X, Xn, mask = X[keep], Xn[keep], mask[keep]
    Xp = _storage.prepare(_as_csr_with_nan(Xn) if storage == "csr" else Xn)
    rng = np.random.RandomState(7)
    W0, H = rng.rand(len(X), k) + 0.1, rng.rand(k, 12) + 0.1
    names = {_dispatch.OBSERVED_PATH: "observed", _dispatch.GRAM_PATH: "gram",
             _dispatch.CORRECTED_PATH: "corrected"}
    paths = {names[_dispatch.masked_path(k, n_missing, 12, 1)]
             for n_missing in mask.sum(axis=1) if n_missing}
    assert path in paths
    for accumulate in (False, True):  # one row at a time; dense: in groups
        W = W0.copy()
        w_step(Xp, W, H, 2, 0.0, 0.0, 1, 0.0, accumulate, cd=solver == "cd")
        np.testing.assert_allclose(W, _observed_step(X, mask, W0, H, solver),
                                   rtol=1e-9)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6, 7, 8, 11])
@pytest.mark.parametrize("n_missing", [0, 1, 5, 8, 13])
def test_a_row_s_own_gram_matrix_is_its_observed_columns_gram(k, n_missing):
    """The gather (four columns at a time, then one by one) and the Gram
    matrix (tiles of two by four components, then pair by pair)."""
    from sknmfcluster._kernels import _masked
    rng = np.random.RandomState(k + 100 * n_missing)
    m = 20
    H = rng.rand(k, m) + 0.1
    mc = np.sort(rng.choice(m, n_missing, replace=False)).astype(np.int64)
    observed = np.setdiff1d(np.arange(m), mc)
    hm, G, curv = np.zeros((k, m)), np.full((k, k), np.nan), np.zeros(k)
    w = rng.rand(k)
    _masked.gram_observed(w, np.ascontiguousarray(H.T), H @ H.T, mc, hm, G,
                          curv)
    np.testing.assert_array_equal(hm[:, :n_missing], H[:, mc])
    expected = H[:, observed] @ H[:, observed].T
    np.testing.assert_allclose(G, expected, rtol=1e-12)
    np.testing.assert_array_equal(G, G.T)
    np.testing.assert_array_equal(curv, np.diag(G))


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("hidden", [0.2, 0.9])  # the corrected Gram, the observed
def test_masked_coordinate_descent_solves_the_observed_least_squares(storage,
                                                                     hidden):
    X, Xn, mask = _planted(n=30, m=14, hidden=hidden, seed=4)
    Xin = _as_csr_with_nan(Xn) if storage == "csr" else Xn
    Xp = _storage.prepare(Xin)
    H = np.random.RandomState(5).rand(3, 14) + 0.1
    W = np.full((30, 3), 0.5)
    w_step(Xp, W, H, 2, 0.0, 0.0, 2000, 1e-13, False, cd=True)
    checked = 0
    for i in range(30):
        observed = ~mask[i]
        if observed.sum() == 0:
            continue
        expected, residual = nnls(H[:, observed].T, X[i, observed])
        ours = np.linalg.norm(W[i] @ H[:, observed] - X[i, observed])
        assert ours == pytest.approx(residual, rel=1e-6, abs=1e-9)
        if observed.sum() >= 3:  # then the minimiser is unique
            np.testing.assert_allclose(W[i], expected, rtol=1e-6, atol=1e-8)
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("solver", ["mu", "cd"])
@pytest.mark.parametrize("hidden", [0.3, 0.85])  # missing share, observed share
def test_masked_statistics_match_numpy(storage, solver, hidden):
    """The statistics of the H update and the objective over the observed
    entries, whether a row adds its missing entries' share to ``C`` or
    (mostly missing) takes itself out of ``B`` and adds its observed share."""
    from sknmfcluster._kernels import _dispatch
    X, Xn, mask = _planted(n=50, m=10, hidden=hidden)
    paths = {_dispatch.masked_path(3, n_missing, 10, 1)
             for n_missing in mask.sum(axis=1) if n_missing}
    expected = {0.3: _dispatch.GRAM_PATH, 0.85: _dispatch.OBSERVED_PATH}
    assert expected[hidden] in paths
    Xp = _storage.prepare(_as_csr_with_nan(Xn) if storage == "csr" else Xn)
    rng = np.random.RandomState(3)
    W, H = rng.rand(50, 3) + 0.1, rng.rand(3, 10) + 0.1
    M = ~mask
    stats = w_step(Xp, W, H, 2, 0.0, 0.0, 1, 0.0, True, cd=solver == "cd")
    WH = W @ H  # the statistics are taken with the new W
    np.testing.assert_allclose(stats.A, W.T @ np.where(M, X, 0.0), rtol=1e-10)
    observed = W.T @ (M * WH)
    # a difference: where no observed entry of a column sees a component it
    # cancels to rounding noise (which the H update sets to 0, UNSEEN)
    np.testing.assert_allclose(stats.B @ H - stats.C, observed, rtol=1e-10,
                               atol=1e-12 * observed.max())
    objective = Loss(2.0).objective(stats, Xp.sq_norm, H, H)
    assert objective == pytest.approx(_masked_beta(X, WH, 2.0, mask),
                                      rel=1e-10)
    stats = w_step(Xp, W, H, 1, 0.0, 0.0, 0, 0.0, True)
    # the same difference for KL: a column observed by no row is the whole
    # sum less the sum of its missing entries, rounding noise (-3.6e-15 with
    # Numba 0.59 on one machine, 0 on another), far below UNSEEN of the
    # whole, so that the H update sets that entry to 0
    seen = stats.v[:, None] - stats.C
    np.testing.assert_allclose(seen, W.T @ M, rtol=1e-10,
                               atol=1e-12 * stats.v.max())
    never = ~M.any(axis=0)
    assert np.all(seen[:, never] <= _kernels.UNSEEN * stats.v[:, None])


@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_no_missing_entry_in_a_row_is_the_unmasked_code_bit_for_bit(storage):
    X, _, _ = _planted(n=40, m=9)
    Xs = sp.csr_matrix(X) if storage == "csr" else X
    Xp = _storage.prepare(Xs)
    rng = np.random.RandomState(6)
    W0, H = rng.rand(40, 3) + 0.1, rng.rand(3, 9) + 0.1
    f = Factors(H)
    empty = _storage.NOTHING_MISSING
    rows_without = _storage.Missing(np.zeros(41, dtype=np.int64),
                                    np.zeros(0, dtype=np.int64))
    for rule in (_kernels.MU_FRO, _kernels.CD_FRO, _kernels.MU_KL):
        results = []
        for missing in (empty, rows_without):
            W = W0.copy()
            Xp.missing = missing
            stats = Xp.run_pass(W, f, rule, _kernels.ACCUMULATE, 2,
                                row_settings())
            results.append((W, stats.A, stats.B, stats.N, stats.v))
        for a, b in zip(*results):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("solver, beta", [("cd", 2), ("mu", 2), ("mu", 1),
                                          ("cd", 1), ("mu", 1.5)])
def test_dense_nan_equals_csr_with_stored_nan(solver, beta):
    X, Xn, mask = _planted(n=60, m=15, seed=7)
    zeros = np.random.RandomState(8).rand(*X.shape) < 0.2
    zeros &= ~mask
    Xn[zeros] = 0.0
    params = dict(n_components=3, solver=solver, beta_loss=beta,
                  init="random", random_state=0, max_iter=30, tol=0)
    dense = SparseNMF(**params).fit(Xn)
    csr = SparseNMF(**params).fit(_as_csr_with_nan(Xn, zeros))
    np.testing.assert_allclose(csr.components_, dense.components_, rtol=1e-8)
    np.testing.assert_allclose(csr.transform(_as_csr_with_nan(Xn, zeros)),
                               dense.transform(Xn), rtol=1e-8, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 20), m=st.integers(2, 8), k=st.integers(1, 3),
       seed=st.integers(0, 2**31 - 1), hidden=st.sampled_from([0.1, 0.5, 0.9]),
       rule=st.sampled_from([(2.0, "cd"), (2.0, "mu"), (1.0, "mu"),
                             (1.0, "cd"), (0.5, "mu")]),
       sparse=st.booleans())
def test_masked_objective_never_increases(n, m, k, seed, hidden, rule, sparse):
    beta, solver = rule
    rng = np.random.RandomState(seed)
    X = rng.gamma(1.5, size=(n, m)) + 0.05
    mask = rng.rand(n, m) < hidden
    Xn = np.where(mask, np.nan, X)
    Xp = _storage.prepare(_as_csr_with_nan(Xn) if sparse else Xn)
    W, H = rng.rand(n, k) + 0.1, rng.rand(k, m) + 0.1
    previous = divergence(Xp, W, H, beta)
    for _ in range(10):
        fit_factors(Xp, W, H, beta, 1, 0.0, solver=solver)
        current = divergence(Xp, W, H, beta)
        assert current <= previous * (1 + 1e-9) + 1e-12
        previous = current
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(H))


def test_masked_objective_from_statistics_is_exact():
    X, Xn, mask = _planted()
    Xp = _storage.prepare(Xn)
    rng = np.random.RandomState(9)
    for beta, solver in ((2.0, "cd"), (2.0, "mu"), (1.0, "mu")):
        W, H = rng.rand(X.shape[0], 3) + 0.1, rng.rand(3, X.shape[1]) + 0.1
        H_before = H.copy()
        res = fit_factors(Xp, W, H, beta, 1, 0.0, solver=solver)
        # the objective the pass saw: the new W with the H it started from
        assert res.objective == pytest.approx(
            _masked_beta(X, W @ H_before, beta, mask), rel=1e-9)


def test_score_counts_observed_entries_only():
    X, Xn, mask = _planted()
    model = SparseNMF(3, random_state=0, max_iter=100).fit(Xn)
    codes = model.transform(Xn)
    expected = _masked_beta(X, codes @ model.components_, 2.0, mask)
    assert model.score(Xn) == pytest.approx(-expected / X.shape[0], rel=1e-9)
    assert model.reconstruction_err_ == pytest.approx(
        np.sqrt(2 * _masked_beta(X, model.fit_transform(Xn)
                                 @ model.components_, 2.0, mask)), rel=1e-6)


@pytest.mark.parametrize("Estimator, params", [
    (SparseNMF, {"n_components": 3}),
    (NMFClusterer, {"n_clusters": 3, "method": "nmf"}),
])
def test_completion_predicts_the_hidden_entries(Estimator, params):
    X, Xn, mask = _planted(n=200, m=20, hidden=0.3)
    model = Estimator(**params, random_state=0, max_iter=500, tol=1e-8)
    completed = model.inverse_transform(model.fit_transform(Xn))
    assert np.all(np.isfinite(completed))
    error = np.linalg.norm((completed - X)[mask]) / np.linalg.norm(X[mask])
    assert error < 0.02
    # what users do today: zeros where X is missing
    zero_filled = SparseNMF(3, random_state=0, max_iter=500, tol=1e-8)
    guess = zero_filled.inverse_transform(zero_filled.fit_transform(
        np.nan_to_num(Xn)))
    assert error < 0.2 * np.linalg.norm((guess - X)[mask]) / np.linalg.norm(
        X[mask])


def test_fully_missing_rows_and_columns():
    X, Xn, mask = _planted(n=50, m=10)
    Xn[3] = np.nan          # a sample with no observed entry
    Xn[:, 4] = np.nan       # a feature never observed
    Xn[7] = np.where(np.isnan(Xn[7]), np.nan, 0.0)  # only zeros observed
    for solver in ("cd", "mu"):
        model = NMFClusterer(3, method="nmf", solver=solver, random_state=0,
                             max_iter=50).fit(Xn)
        codes = model.transform(Xn)
        assert np.all(np.isfinite(codes))
        assert np.all(np.isfinite(model.components_))
        np.testing.assert_array_equal(codes[3], 0.0)
        assert model.labels_[3] == NO_CLUSTER and model.labels_[7] == NO_CLUSTER
        assert np.isfinite(model.score(Xn))
        assert np.all(np.isfinite(model.inverse_transform(codes)))


def test_transform_of_a_row_does_not_depend_on_the_others():
    _, Xn, _ = _planted(n=80, m=12)
    model = SparseNMF(3, random_state=0, max_iter=60).fit(Xn)
    full = model.transform(Xn)
    np.testing.assert_array_equal(model.transform(Xn[5:9]), full[5:9])


@pytest.mark.parametrize("method", ["symmetric", "graph"])
def test_graph_methods_refuse_missing_values_clearly(method):
    _, Xn, _ = _planted(n=40)
    with pytest.raises(ValueError, match="Use method='nmf'"):
        NMFClusterer(3, method=method).fit(Xn)
    model = NMFClusterer(3, method=method, n_neighbors=5,
                         max_iter=20).fit(np.nan_to_num(Xn))
    with pytest.raises(ValueError, match="Use method='nmf'"):
        model.predict(Xn)


def test_code_targets_refuse_missing_values_clearly():
    _, Xn, _ = _planted(n=40)
    with pytest.raises(ValueError, match="sparseness_codes cannot"):
        SparseNMF(3, sparseness_codes=0.5).fit(Xn)


@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler"])
def test_sparse_parts_fit_missing_values_monotonically(beta_loss):
    _, Xn, _ = _planted(n=60)
    model = SparseNMF(3, sparseness_components=0.4, beta_loss=beta_loss,
                      random_state=0, max_iter=30, tol=0)
    X = model._check_input(Xn, reset=True)
    model._fit_rank = 3
    result = model._fit_projected(model._prepare_fit(X), None, None)
    assert np.all(np.diff(result.history) <= 1e-10 * result.history[:-1])
    model.fit(Xn)
    assert abs(model.sparseness_["components"] - 0.4) < 0.02


@pytest.mark.parametrize("solver", ["cd", "mu"])
def test_non_negative_factorization_fits_missing_values(solver):
    """NaN is a missing entry in the function too (it used to raise
    scikit-learn's bare "Input X contains NaN"): W @ H predicts the hidden
    entries of low-rank data, and update_H=False solves the codes over the
    observed entries."""
    rng = np.random.RandomState(3)
    X = rng.rand(60, 4) @ rng.rand(4, 10)
    mask = rng.rand(60, 10) < 0.2
    Xn = np.where(mask, np.nan, X)
    W, H, _ = non_negative_factorization(
        Xn, n_components=4, init="nndsvda", solver=solver, max_iter=2000,
        tol=1e-10)
    assert np.isnan(Xn[mask]).all()  # the caller's array is not modified
    hidden = np.linalg.norm((X - W @ H)[mask]) / np.linalg.norm(X[mask])
    assert hidden < 0.05
    Wc, _, _ = non_negative_factorization(Xn, H=H, update_H=False,
                                          n_components=4, max_iter=500,
                                          tol=1e-10)
    hidden = np.linalg.norm((X - Wc @ H)[mask]) / np.linalg.norm(X[mask])
    assert hidden < 0.05


def test_infinity_is_still_an_error():
    X, _, _ = _planted(n=20)
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        SparseNMF(3).fit(X)


def test_tags_say_which_estimators_take_nan():
    assert SparseNMF().__sklearn_tags__().input_tags.allow_nan
    assert NMFClusterer(method="nmf").__sklearn_tags__().input_tags.allow_nan
    assert not NMFClusterer().__sklearn_tags__().input_tags.allow_nan


def test_solve_codes_rows_with_no_observed_entry_get_zero_codes():
    X, Xn, _ = _planted(n=10, m=6)
    Xn[2] = np.nan
    H = np.random.RandomState(0).rand(3, 6) + 0.1
    for solver in ("cd", "mu"):
        W = _problems.solve_codes(_storage.prepare(Xn), H, Loss(2.0),
                                  np.full(3, 0.5), max_iter=50, tol=1e-6,
                                  solver=solver)
        np.testing.assert_array_equal(W[2], 0.0)
        assert np.all(W[[0, 1, 3]].sum(axis=1) > 0)


def _unseen_problem():
    """Component 0 lies on columns 0-2; elsewhere its weight is 1e-12 (its
    share there, 1e-23, is rounding noise in ``||h||^2 - ||h_m||^2``). Row 0
    misses columns 0-2 (the corrected Gram path of coordinate descent), row
    1 all but column 13 (the observed path), row 2 nothing."""
    rng = np.random.RandomState(0)
    H = np.vstack([np.r_[np.ones(3), np.full(11, 1e-12)],
                   rng.rand(14) + 0.1])
    X = rng.rand(3, 2) @ H + 0.1
    X[0, :3] = np.nan
    X[1, :13] = np.nan
    return X, H


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("beta, solver", [(2.0, "cd"), (2.0, "mu"),
                                          (1.0, "mu"), (1.0, "cd"),
                                          (1.5, "mu")])
def test_a_component_a_row_does_not_see_gets_code_zero(storage, beta, solver):
    # Regression: the observed part of component 0, computed as the whole
    # minus the missing part, cancelled to rounding noise; the MU step
    # divided by it (codes grew without bound, to infinity on digits with
    # 80 % missing), and the two coordinate-descent paths disagreed (the
    # start value kept, against a least-squares code of 1e10). The beta
    # rule, whose sums run over the observed entries, follows the same rule.
    X, H = _unseen_problem()
    Xin = _as_csr_with_nan(X) if storage == "csr" else X
    W = _problems.solve_codes(_storage.prepare(Xin), H, Loss(beta),
                              np.full(2, 0.5), max_iter=300, tol=0.0,
                              solver=solver)
    assert np.all(np.isfinite(W))
    np.testing.assert_array_equal(W[:2, 0], 0.0)
    assert W[2, 0] > 0
    if beta == 2.0:  # then row 0's code of component 1 is its own LS fit
        h, x = H[1, 3:], X[0, 3:]
        assert W[0, 1] == pytest.approx(h @ x / (h @ h), rel=1e-6)


@pytest.mark.parametrize("beta", [2.0, 1.0])
def test_h_update_zeroes_a_column_a_component_does_not_see(beta):
    # Regression: the H update's denominator over the observed entries,
    # B H - C (KL: v - C), cancelled to 0 for column 0 and the entry of H
    # was divided by the EPSILON floor (1e-20 / 1e-30).
    H = np.ones((1, 2))
    numerator = np.array([[1e-20, 0.5]])
    C = np.array([[1.0 - 1e-17, 0.5]])  # the missing entries' whole share
    none = np.zeros((0, 0))
    if beta == 2.0:
        stats = _storage.Stats(numerator, np.ones((1, 1)), none, none,
                               np.zeros(0), C, 0.0)
    else:
        stats = _storage.Stats(none, none, numerator, none, np.ones(1), C,
                               0.0)
    Loss(beta).h_update(H, stats, 0.0, 0.0, 1)
    np.testing.assert_array_equal(H, [[0.0, 1.0]])
