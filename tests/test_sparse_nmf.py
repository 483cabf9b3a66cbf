"""SparseNMF: sparseness targets, penalties, monotone fits and the transformer API."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import nnls
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sknmfcluster import SparseNMF
from sknmfcluster._kernels._hoyer import (
    NO_TARGET,
    hoyer_sparseness_rows,
    project_cone,
    project_rows_cone,
    project_rows_unit,
    project_unit,
    target_ratio,
)

LOSSES = ["frobenius", "kullback-leibler"]
#: Reached sparseness must be within this of the target (the issue's bar; the
#: projection is exact, so rows are within rounding of it).
TARGET_ATOL = 0.02


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:240], y[:240]


@pytest.fixture(scope="module")
def counts():
    """Zipf-distributed sparse counts, like a small bag of words (CSR)."""
    rng = np.random.RandomState(0)
    n_samples, n_features = 150, 80
    popularity = 1.0 / np.arange(1, n_features + 1)
    topics = rng.dirichlet(np.full(n_features, 0.1) + popularity, size=4)
    mix = rng.dirichlet(np.full(4, 0.3), size=n_samples)
    X = np.vstack([rng.multinomial(30, p) for p in mix @ topics]).astype(float)
    return sp.csr_matrix(X)


def _hoyer(x):
    """Hoyer (2004), written out for a single vector."""
    n = x.size
    return (np.sqrt(n) - np.abs(x).sum() / np.linalg.norm(x)) / (np.sqrt(n) - 1)


def _hoyer_iterative(s, l1, l2_sq=1.0):
    """Hoyer's own projection algorithm (his projfunc), as a reference."""
    n = s.size
    v = s + (l1 - s.sum()) / n
    zero = np.zeros(n, dtype=bool)
    for _ in range(n + 1):
        mid = np.where(zero, 0.0, l1 / (n - zero.sum()))
        w = v - mid
        a, b = (w * w).sum(), 2 * (w * mid).sum()
        c = (mid * mid).sum() - l2_sq
        v = mid + (-b + np.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a) * w
        if (v >= 0).all():
            return v
        zero |= v < 0
        v[zero] = 0
        v = v + (l1 - v.sum()) / (n - zero.sum())
        v[zero] = 0
    return v


def _unit(y, ratio):
    u = np.empty(y.size)
    project_unit(y, ratio, u, np.empty(y.size, dtype=np.int64), np.empty(y.size))
    return u


# -- projection kernels --------------------------------------------------------


def test_hoyer_sparseness_rows_matches_formula():
    rng = np.random.RandomState(0)
    X = rng.rand(20, 7) * (rng.rand(20, 7) < 0.6)
    X[0] = 0.0
    expected = [np.nan] + [_hoyer(x) for x in X[1:]]
    np.testing.assert_allclose(hoyer_sparseness_rows(X), expected)
    assert np.isnan(hoyer_sparseness_rows(np.ones((3, 1)))).all()
    np.testing.assert_allclose(hoyer_sparseness_rows(np.eye(4)), 1.0)
    np.testing.assert_allclose(hoyer_sparseness_rows(np.ones((2, 5))), 0.0,
                               atol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 10, 64])
@pytest.mark.parametrize("target", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_projection_reaches_target(n, target):
    rng = np.random.RandomState(n)
    Y = rng.standard_normal((30, n))
    Y[::3] = np.abs(Y[::3])
    Y[1::4, : n // 2] = 0.0  # ties at zero
    Y[2] = 1.0  # all tied
    Y[5] = 0.0  # nothing positive
    ratio = target_ratio(n, target)
    U = Y.copy()
    project_rows_unit(U, ratio)
    assert (U >= 0).all()
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1.0)
    np.testing.assert_allclose(hoyer_sparseness_rows(U), target, atol=1e-9)
    C = np.abs(Y) + 0.1
    project_rows_cone(C, ratio)
    np.testing.assert_allclose(hoyer_sparseness_rows(C), target, atol=1e-9)


def test_projection_is_nearest_point():
    """Never farther from y than Hoyer's algorithm or random feasible points."""
    rng = np.random.RandomState(1)
    for _ in range(300):
        n = rng.randint(2, 30)
        y = rng.standard_normal(n) * rng.uniform(0.1, 3) + rng.uniform(-1, 1)
        target = rng.uniform(0.05, 0.95)
        ratio = target_ratio(n, target)
        u = _unit(y, ratio)
        v = _hoyer_iterative(y, ratio)
        if (v >= -1e-12).all() and abs(_hoyer(np.maximum(v, 0)) - target) < 1e-8:
            assert np.linalg.norm(y - u) <= np.linalg.norm(y - v) + 1e-9
        others = np.abs(rng.standard_normal((200, n)))
        project_rows_unit(others, ratio)
        assert np.linalg.norm(y - u) <= np.linalg.norm(y - others, axis=1).min() + 1e-9
        out = np.empty(n)
        project_cone(y, ratio, out, np.empty(n), np.empty(n, dtype=np.int64),
                     np.empty(n))
        lengths = np.maximum(others @ y, 0)[:, None]
        assert np.linalg.norm(y - out) <= np.linalg.norm(
            y - lengths * others, axis=1).min() + 1e-9


def test_projection_without_target_normalises():
    y = np.array([3.0, -1.0, 4.0, 0.0])
    np.testing.assert_allclose(_unit(y, NO_TARGET), [0.6, 0, 0.8, 0])
    np.testing.assert_allclose(_unit(-np.abs(y) - 1, NO_TARGET), [0, 0, 0, 1])


# -- sparseness targets ------------------------------------------------------------


@pytest.mark.parametrize("beta_loss", LOSSES)
@pytest.mark.parametrize("target", [0.3, 0.6, 0.85])
def test_component_target_reached_on_digits(digits, target, beta_loss):
    X, _ = digits
    model = SparseNMF(8, sparseness_components=target, beta_loss=beta_loss,
                      max_iter=20, random_state=0)
    model.fit(X)
    np.testing.assert_allclose(hoyer_sparseness_rows(model.components_), target,
                               atol=TARGET_ATOL)
    assert abs(model.sparseness_["components"] - target) < TARGET_ATOL
    np.testing.assert_allclose(np.linalg.norm(model.components_, axis=1), 1.0)


@pytest.mark.parametrize("beta_loss", LOSSES)
@pytest.mark.parametrize("target", [0.3, 0.6, 0.85])
def test_code_target_reached_on_digits(digits, target, beta_loss):
    X, _ = digits
    model = SparseNMF(8, sparseness_codes=target, beta_loss=beta_loss,
                      max_iter=20, random_state=0)
    codes = model.fit_transform(X[:200])
    for W in (codes, model.transform(X[200:])):
        reached = hoyer_sparseness_rows(W)
        reached = reached[~np.isnan(reached)]
        np.testing.assert_allclose(reached, target, atol=TARGET_ATOL)
    assert abs(model.sparseness_["codes"] - target) < TARGET_ATOL


@pytest.mark.parametrize("beta_loss", LOSSES)
@pytest.mark.parametrize("target", [0.4, 0.7, 0.9])
def test_targets_reached_on_sparse_input(counts, target, beta_loss):
    model = SparseNMF(6, sparseness_components=target,
                      sparseness_codes=target / 2, beta_loss=beta_loss,
                      max_iter=20, random_state=0)
    codes = model.fit_transform(counts)
    np.testing.assert_allclose(hoyer_sparseness_rows(model.components_), target,
                               atol=TARGET_ATOL)
    reached = hoyer_sparseness_rows(codes)
    np.testing.assert_allclose(reached[~np.isnan(reached)], target / 2,
                               atol=TARGET_ATOL)

def test_dense_and_sparse_input_agree(counts):
    # init="random": NNDSVDa's SVD differs in the last bits between dense and
    # sparse input, and a projection can resolve near-ties either way.
    for beta_loss in LOSSES:
        params = dict(n_components=5, sparseness_components=0.6,
                      sparseness_codes=0.4, beta_loss=beta_loss,
                      init="random", max_iter=10, random_state=0)
        sparse = SparseNMF(**params).fit(counts)
        dense = SparseNMF(**params).fit(counts.toarray())
        np.testing.assert_allclose(dense.components_, sparse.components_,
                                   atol=1e-9)
        np.testing.assert_allclose(dense.transform(counts.toarray()),
                                   sparse.transform(counts), atol=1e-9)


def test_targets_keep_float32(counts):
    for X in (counts.astype(np.float32), counts.toarray().astype(np.float32)):
        for beta_loss in LOSSES:
            model = SparseNMF(5, sparseness_components=0.6, sparseness_codes=0.4,
                              beta_loss=beta_loss, max_iter=10, random_state=0)
            codes = model.fit_transform(X)
            assert codes.dtype == np.float32
            assert model.components_.dtype == np.float32
            assert model.transform(X[:3]).dtype == np.float32
            np.testing.assert_allclose(
                hoyer_sparseness_rows(model.components_), 0.6, atol=1e-4)


# -- penalties -------------------------------------------------------------------


@pytest.mark.parametrize(
    "beta_loss, param, alphas",
    [
        ("frobenius", "alpha_W", [0.0, 0.003, 0.01, 0.03, 0.1]),
        ("frobenius", "alpha_H", [0.0, 0.1, 0.3, 1.0]),
        ("kullback-leibler", "alpha_H", [0.0, 0.1, 0.3, 1.0]),
        # KL's L1 code penalty mostly shrinks the codes proportionally; it
        # sparsifies them only once it is strong.
        ("kullback-leibler", "alpha_W", [0.0, 0.3, 1.0]),
    ],
)
def test_penalties_increase_sparseness(digits, beta_loss, param, alphas):
    """An L1 penalty makes the penalised factor sparser as alpha grows."""
    X, _ = digits
    key = "codes" if param == "alpha_W" else "components"
    reached = []
    for alpha in alphas:
        model = SparseNMF(6, beta_loss=beta_loss, max_iter=30, random_state=0,
                          **{param: alpha}).fit(X[:200])
        reached.append(model.sparseness_[key])
    assert np.all(np.diff(reached) > 0), reached


@pytest.mark.parametrize("beta_loss", LOSSES)
def test_penalties_do_not_depend_on_data_scale(digits, beta_loss):
    X, _ = digits
    # init="random" scales with the data; NNDSVDa's fill value (the mean of
    # X, as in scikit-learn) does not, so it would change the starting point.
    params = dict(n_components=5, alpha_W=0.01, alpha_H=0.1, l1_ratio=0.7,
                  beta_loss=beta_loss, init="random", max_iter=15, tol=0,
                  random_state=0)
    small = SparseNMF(**params)
    codes = small.fit_transform(X)
    big = SparseNMF(**params)
    big_codes = big.fit_transform(1000 * X)
    np.testing.assert_allclose(big.components_, small.components_, atol=1e-6)
    np.testing.assert_allclose(big_codes, 1000 * codes, rtol=1e-5, atol=1e-6)


def test_penalty_cannot_be_dodged_by_scale(digits):
    """With a code penalty the components keep unit norm."""
    X, _ = digits
    model = SparseNMF(6, alpha_W=0.03, max_iter=30, random_state=0).fit(X)
    np.testing.assert_allclose(np.linalg.norm(model.components_, axis=1), 1.0)


# -- the objective never increases --------------------------------------------------

small_data = st.tuples(
    st.integers(4, 12), st.integers(2, 8), st.integers(1, 4), st.integers(0, 10**6)
)


@settings(max_examples=12, deadline=None)
@given(shape=small_data, beta_loss=st.sampled_from(LOSSES))
def test_objective_never_increases_without_projection(shape, beta_loss):
    """Plain MU (nothing requested): Lee & Seung's monotonicity."""
    n, m, k, seed = shape
    rng = np.random.RandomState(seed)
    X = rng.rand(n, m) * (rng.rand(n, m) < 0.7)
    model = SparseNMF(k, beta_loss=beta_loss, max_iter=30, tol=0,
                      init="random", random_state=seed)
    X = model._check_input(X, reset=True)
    model._fit_rank = k
    result = model._fit_plain(model._prepare_fit(X), None, None)
    history = result.history
    assert np.all(np.diff(history) <= 1e-10 * history[:-1] + 1e-12)


@settings(max_examples=12, deadline=None)
@given(shape=small_data, beta_loss=st.sampled_from(LOSSES),
       target_H=st.sampled_from([None, 0.3, 0.8]),
       target_W=st.sampled_from([None, 0.5]),
       alpha=st.sampled_from([0.0, 0.05]))
def test_objective_never_increases_with_projections(shape, beta_loss, target_H,
                                                     target_W, alpha):
    """The projected steps are accepted only when they do not increase it."""
    n, m, k, seed = shape
    rng = np.random.RandomState(seed)
    X = rng.rand(n, m) * (rng.rand(n, m) < 0.7)
    model = SparseNMF(k, sparseness_components=target_H,
                      sparseness_codes=target_W, alpha_W=alpha, alpha_H=alpha,
                      beta_loss=beta_loss, max_iter=25, tol=0, init="random",
                      random_state=seed)
    if not model._constrained():
        model.set_params(alpha_W=0.01)
    X = model._check_input(X, reset=True)
    model._fit_rank = k
    result = model._fit_projected(model._prepare_fit(X), None, None)
    history = result.history
    assert np.all(np.diff(history) <= 1e-10 * history[:-1] + 1e-12)


# -- plain NMF ---------------------------------------------------------------------


@pytest.mark.parametrize("beta_loss", LOSSES)
@pytest.mark.parametrize("max_iter", [10, 60])
def test_plain_matches_sklearn_mu(digits, beta_loss, max_iter):
    """Nothing requested: no worse than 1% above sklearn's MU, same init."""
    X, _ = digits
    rng = np.random.RandomState(0)
    W0 = np.abs(rng.standard_normal((X.shape[0], 8)))
    H0 = np.abs(rng.standard_normal((8, X.shape[1])))
    reference = NMF(8, init="custom", solver="mu", beta_loss=beta_loss,
                    max_iter=max_iter, tol=0).fit(X, W=W0.copy(), H=H0.copy())
    ours = SparseNMF(8, init="custom", beta_loss=beta_loss, max_iter=max_iter,
                     tol=0).fit(X, W=W0, H=H0)
    assert ours.reconstruction_err_ ** 2 <= 1.01 * reference.reconstruction_err_ ** 2


def test_plain_components_have_unit_norm(digits):
    X, _ = digits
    model = SparseNMF(5, max_iter=20, random_state=0)
    codes = model.fit_transform(X)
    np.testing.assert_allclose(np.linalg.norm(model.components_, axis=1), 1.0,
                               rtol=1e-6)
    assert model.n_components_ == 5
    assert SparseNMF(max_iter=5).fit(X).n_components_ == X.shape[1]
    assert model.sparseness_ == pytest.approx(
        {"components": np.nanmean(hoyer_sparseness_rows(model.components_)),
         "codes": np.nanmean(hoyer_sparseness_rows(codes))})


# -- transform ---------------------------------------------------------------------


@pytest.mark.parametrize("params", [
    {},
    {"sparseness_components": 0.6},
    {"sparseness_codes": 0.5, "alpha_W": 0.01},
    {"sparseness_codes": 0.5, "beta_loss": "kullback-leibler"},
])
def test_transform_new_data_components_fixed(digits, params):
    X, _ = digits
    train, test = X[:200], X[200:]
    model = SparseNMF(6, max_iter=40, random_state=0, **params)
    codes = model.fit_transform(train)
    components = model.components_.copy()
    np.testing.assert_allclose(model.transform(train), codes, atol=1e-6)
    new = model.transform(test)
    np.testing.assert_array_equal(model.components_, components)
    assert new.shape == (test.shape[0], 6) and (new >= 0).all()
    # each sample on its own, at a rank where the order of updates matters
    np.testing.assert_allclose(model.transform(test[:7]), new[:7], atol=1e-12)
    np.testing.assert_allclose(model.transform(test[::-1])[::-1], new,
                               atol=1e-12)
    error = np.linalg.norm(test - model.inverse_transform(new))
    assert error < 0.6 * np.linalg.norm(test)
    assert model.score(test) < 0


def test_transform_solves_nonnegative_least_squares(digits):
    X, _ = digits
    model = SparseNMF(5, max_iter=500, tol=1e-8, random_state=0).fit(X[:200])
    codes = model.transform(X[200:])
    expected = np.array([nnls(model.components_.T, x)[0] for x in X[200:]])
    residual = np.linalg.norm(X[200:] - codes @ model.components_)
    best = np.linalg.norm(X[200:] - expected @ model.components_)
    assert residual <= 1.001 * best


# -- bad inputs --------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"sparseness_components": 0.5}])
def test_bad_inputs(params):
    model = SparseNMF(2, max_iter=5, **params)
    X = np.abs(np.random.RandomState(0).rand(6, 4))
    with pytest.raises(ValueError, match="Negative values"):
        model.fit(X - 1)
    X_bad = X.copy()
    X_bad[0, 0] = np.inf
    with pytest.raises(ValueError):
        model.fit(X_bad)
    X_missing = X.copy()  # NaN is a missing entry (see test_missing.py)
    X_missing[0, 0] = np.nan
    assert np.all(np.isfinite(model.fit(X_missing).components_))
    with pytest.raises(ValueError):
        model.fit(np.empty((0, 4)))
    with pytest.raises(ValueError):
        model.fit(np.empty((4, 0)))
    with pytest.raises(ValueError, match="numeric"):
        model.fit([["a", "b"], ["c", "d"]])
    model.fit(X)
    with pytest.raises(ValueError, match="Negative values"):
        model.transform(-X)
    with pytest.raises(ValueError):
        model.transform(X[:, :3])


@pytest.mark.parametrize("params", [{}, {"sparseness_components": 0.5,
                                          "sparseness_codes": 0.5}])
def test_inputs_never_modified(params):
    rng = np.random.RandomState(0)
    X = rng.rand(10, 5) * (rng.rand(10, 5) < 0.6)
    W0, H0 = rng.rand(10, 3), rng.rand(3, 5)
    for data in (X, X.astype(np.float32), sp.csr_matrix(X)):
        original = data.copy()
        # custom factors of X's dtype (another float dtype is a TypeError)
        W0, H0 = W0.astype(data.dtype), H0.astype(data.dtype)
        W_copy, H_copy = W0.copy(), H0.copy()
        model = SparseNMF(3, init="custom", max_iter=5, **params)
        model.fit_transform(data, W=W0, H=H0)
        model.transform(data)
        model.score(data)
        if sp.issparse(data):
            np.testing.assert_array_equal(data.toarray(), original.toarray())
        else:
            np.testing.assert_array_equal(data, original)
        np.testing.assert_array_equal(W0, W_copy)
        np.testing.assert_array_equal(H0, H_copy)


@pytest.mark.parametrize("params", [
    {"sparseness_components": 1.5},
    {"sparseness_codes": -0.1},
    {"alpha_W": -1.0},
    {"l1_ratio": 2.0},
    {"n_components": 0},
])
def test_invalid_parameters_raise_in_fit(params):
    model = SparseNMF(**params)  # stored untouched
    with pytest.raises(InvalidParameterError):
        model.fit(np.ones((3, 3)))


# -- convergence and verbosity ---------------------------------------------------------


def test_convergence_warning_and_verbose(digits, capsys):
    X, _ = digits
    with pytest.warns(ConvergenceWarning):
        SparseNMF(4, sparseness_components=0.5, max_iter=2, tol=1e-12,
                  random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SparseNMF(4, sparseness_components=0.5, max_iter=3, tol=0,
                          verbose=2, random_state=0).fit(X)
    assert model.n_iter_ == 3
    assert capsys.readouterr().out.count("Iteration") == 3
    model = SparseNMF(4, sparseness_components=0.5, max_iter=500, tol=1e-3,
                      random_state=0).fit(X)
    assert model.n_iter_ < 500


# -- composition ------------------------------------------------------------------------


def test_pipeline_and_grid_search(digits):
    X, y = digits
    pipe = make_pipeline(SparseNMF(max_iter=30, random_state=0),
                         LogisticRegression(max_iter=300))
    grid = GridSearchCV(pipe, {
        "sparsenmf__n_components": [6, 12],
        "sparsenmf__sparseness_components": [None, 0.6],
    }, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert set(grid.best_params_) == {"sparsenmf__n_components",
                                      "sparsenmf__sparseness_components"}
    assert grid.best_score_ > 0.7
    clusters = make_pipeline(
        SparseNMF(10, sparseness_components=0.6, max_iter=30, random_state=0),
        KMeans(10, n_init=2, random_state=0),
    ).fit_predict(X)
    assert clusters.shape == (X.shape[0],) and len(np.unique(clusters)) == 10
