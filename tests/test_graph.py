"""Graph-based NMF clustering: kernels, solvers, the estimator's methods."""

import numba
import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.utils.estimator_checks import check_estimator

from sknmfcluster import (NMFClusterer, _engine, _kernels, _neighbors, _problems, _spectral, _storage)
from sknmfcluster._engine import row_settings
from sknmfcluster._storage import Factors
from sknmfcluster.metrics import clustering_accuracy, clustering_accuracy_scorer

from .conftest import affinity, low_rank


def _random_symmetric(n=40, density=0.2, seed=0):
    A = sp.random(n, n, density=density, random_state=seed, format="csr")
    A = sp.csr_matrix(A + A.T)
    A.sort_indices()
    return A


# -- kernels against NumPy -------------------------------------------------
def test_csr_times_dense_and_symnmf_stats_match_numpy():
    A = _random_symmetric()
    W = np.random.RandomState(1).rand(A.shape[0], 3)
    out = np.empty_like(W)
    _kernels.csr_times_dense(A.data, A.indices, A.indptr, W, out)
    np.testing.assert_allclose(out, A @ W, rtol=1e-12)
    AW = np.empty_like(W)
    G, inner = _kernels.symnmf_stats(A.data, A.indices, A.indptr, W, AW)
    np.testing.assert_allclose(AW, A @ W, rtol=1e-12)
    np.testing.assert_allclose(G, W.T @ W, rtol=1e-12)
    assert inner == pytest.approx(np.trace(W.T @ (A @ W)), rel=1e-12)
    dense = 0.5 * np.sum((A.toarray() - W @ W.T) ** 2)  # the oracle only
    assert _problems.symnmf_objective(float(A.data @ A.data), G, inner) == \
        pytest.approx(dense, rel=1e-10)


@pytest.mark.parametrize("exponent", [1.0, 0.25, 0.5])
def test_symnmf_update_matches_numpy(exponent):
    A = _random_symmetric()
    W = np.random.RandomState(2).rand(A.shape[0], 4)
    AW, out = A @ W, np.empty_like(W)
    _kernels.symnmf_update(W, AW, W.T @ W, exponent, out)
    np.testing.assert_allclose(out, W * (AW / (W @ (W.T @ W))) ** exponent,
                               rtol=1e-12)


@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_graph_row_step_matches_cai_update(storage):
    X = low_rank()
    rng = np.random.RandomState(3)
    W, H = rng.rand(X.shape[0], 3) + 0.1, rng.rand(3, X.shape[1]) + 0.1
    S = _random_symmetric(X.shape[0], 0.1)
    d = np.asarray(S.sum(axis=1)).ravel()
    lam = 2.5
    expected = W * (X @ H.T + lam * (S @ W)) / (W @ H @ H.T + lam * d[:, None] * W)
    Xp = _storage.prepare(sp.csr_matrix(X) if storage == "csr" else X)
    stats = Xp.run_pass(W, Factors(H), _kernels.MU_FRO, _kernels.ACCUMULATE, 1,
                        row_settings(), aux=lam * (S @ W), aux_l2=lam * d)
    A, B = stats.A, stats.B
    np.testing.assert_allclose(W, expected, rtol=1e-10)
    np.testing.assert_allclose(A, W.T @ X, rtol=1e-10)
    np.testing.assert_allclose(B, W.T @ W, rtol=1e-10)


def test_fit_never_densifies_an_n_by_n_matrix(digits, monkeypatch):
    X = digits[0][:300]
    n = X.shape[0]
    calls = []
    for cls in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix):
        original = cls.toarray

        def toarray(self, *args, _original=original, **kwargs):
            calls.append(self.shape)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "toarray", toarray)
        monkeypatch.setattr(cls, "todense", toarray)
    # scikit-learn < 1.9 computes the neighbour distances of sparse input as
    # dense blocks of rows (``toarray`` of a block of X @ X.T), with as many
    # rows as its working memory allows: all n of them at this size. Blocks
    # of n // 4 rows keep such a block from passing for the n-by-n
    # densification looked for here, which is still caught wherever it is.
    block_mib = (n // 4) * n * np.dtype(np.float64).itemsize / 2**20
    with sklearn.config_context(working_memory=block_mib):
        for method in ("symmetric", "graph"):
            for data in (X, sp.csr_matrix(X)):
                model = NMFClusterer(5, method=method, random_state=0,
                                     max_iter=20).fit(data)
                model.predict(data[:7])
    assert (n, n) not in calls


# -- the solvers ---------------------------------------------------------------
@pytest.mark.parametrize("init", ["spectral", "nndsvda", "random"])
def test_symnmf_objective_never_increases(digits, init):
    A, S = affinity(digits[0][:500])
    W0 = _spectral.init_symnmf(A, S, 8, init, np.random.RandomState(0))
    start = _objective(A, W0)
    result = _engine.fit([("spectral", lambda: _problems.SymNMF(A, W0))],
                         max_iter=150, tol=0.0)  # overwrites W0
    history = np.concatenate([[start], result.history])
    assert np.all(np.diff(history) <= 1e-12 * history[0])
    assert result.objective == pytest.approx(_objective(A, result.W), rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_safe_symnmf_step_alone_is_monotone(seed):
    A = _random_symmetric(30, 0.3, seed)
    W = np.random.RandomState(seed).rand(30, 4)
    out, previous = np.empty_like(W), _objective(A, W)
    for _ in range(50):
        _kernels.symnmf_update(W, A @ W, W.T @ W, _problems.SAFE_EXPONENT,
                                     out)
        W = out.copy()
        current = _objective(A, W)
        assert current <= previous * (1 + 1e-12)
        previous = current


def _objective(A, W):
    AW = A @ W
    G = W.T @ W
    return _problems.symnmf_objective(float(A.data @ A.data), G,
                                   float(np.vdot(W, AW)))


def test_gnmf_objective_never_increases_and_matches_its_definition(digits):
    X = digits[0][:300]
    Xp = _storage.prepare(X)
    S, d = _neighbors.training_graph(_neighbors.fit_neighbors(Xp, 10), Xp, np.float64)
    from sknmfcluster._init import initialize
    W, H = initialize(X, 6, "random", np.random.RandomState(0))
    lam = 50.0
    result = _engine.fit(
        [("random", lambda: _problems.GNMF(Xp, S, d, W, H, lam))],
        max_iter=60, tol=0.0)
    assert np.all(np.diff(result.history) <= 1e-10 * result.history[0])
    L = np.diag(d) - S.toarray()  # dense Laplacian: the test's oracle only
    expected = (0.5 * np.sum((X - W @ H) ** 2)
                + 0.5 * lam * np.trace(W.T @ L @ W))
    assert result.objective == pytest.approx(expected, rel=1e-9)


def test_results_do_not_depend_on_the_thread_count(digits, monkeypatch):
    # small inputs would run on one thread whatever is set: lift the bound
    monkeypatch.setattr(_engine, "SERIAL_WORK", 0)
    X = digits[0][:400]
    before = numba.get_num_threads()
    fits = []
    try:
        for threads in (1, before):
            numba.set_num_threads(threads)
            fits.append(NMFClusterer(6, random_state=0, max_iter=50).fit(X))
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(fits[0].graph_factor_, fits[1].graph_factor_)
    np.testing.assert_array_equal(fits[0].components_, fits[1].components_)


# -- the estimator -----------------------------------------------------------
def test_default_clusters_digits_better_than_kmeans(digits):
    X, y = digits
    model = NMFClusterer(10, random_state=0).fit(X)
    # measured 0.884 over seeds 0-4 (KMeans 0.79, spectral clustering 0.81)
    assert clustering_accuracy(y, model.labels_) > 0.85
    assert np.array_equal(model.predict(X), model.labels_)


def test_graph_regularised_nmf_with_kmeans_labels_beats_plain_nmf(digits):
    X, y = digits
    graph = NMFClusterer(10, method="graph", graph_strength=1000.0,
                         assign_labels="kmeans", random_state=0,
                         max_iter=100).fit(X)
    plain = NMFClusterer(10, method="nmf", random_state=0, max_iter=100).fit(X)
    # measured 0.81 (200 iterations) against 0.41
    assert clustering_accuracy(y, graph.labels_) > 0.75
    assert clustering_accuracy(y, plain.labels_) < 0.6
    assert np.array_equal(graph.predict(X), graph.labels_)


@pytest.mark.parametrize("params", [
    dict(method="symmetric"),
    dict(method="graph", graph_strength=1000.0, assign_labels="kmeans"),
])
def test_held_out_accuracy_is_close_to_training_accuracy(digits, params):
    X, y = digits
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2,
                                              random_state=1, stratify=y)
    model = NMFClusterer(10, random_state=0, max_iter=100, **params).fit(X_tr)
    train = clustering_accuracy(y_tr, model.labels_)
    test = clustering_accuracy(y_te, model.predict(X_te))
    # measured gaps of at most 0.025 over five splits
    assert abs(train - test) < 0.04
    assert test > 0.72


@pytest.mark.parametrize("method", ["symmetric", "graph"])
def test_dense_and_csr_input_give_the_same_model(digits, method):
    X = digits[0][:400]
    # GNMF starts from a random init: an SVD of X can differ between storages
    # by rounding; SymNMF's init comes from the graph, the same for both
    kwargs = dict(n_clusters=6, method=method, random_state=0, max_iter=40,
                  init="random" if method == "graph" else None)
    dense = NMFClusterer(**kwargs).fit(X)
    csr = NMFClusterer(**kwargs).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(csr.graph_factor_, dense.graph_factor_,
                               rtol=1e-7, atol=1e-12)
    np.testing.assert_array_equal(csr.labels_, dense.labels_)
    np.testing.assert_allclose(csr.transform(X[:20]), dense.transform(X[:20]),
                               rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("method", ["symmetric", "graph"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_transform_predict_and_batch_independence(method, dtype):
    X = low_rank(n=80, m=12, k=4, dtype=dtype)
    model = NMFClusterer(4, method=method, random_state=0, max_iter=100,
                         n_neighbors=6)
    codes = model.fit_transform(X)
    assert codes.dtype == dtype and model.components_.dtype == dtype
    np.testing.assert_allclose(model.transform(X), codes, rtol=1e-6)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    # a sample's codes do not depend on the other samples passed with it
    np.testing.assert_array_equal(model.transform(X[10:13]), codes[10:13])
    np.testing.assert_array_equal(model.transform(X[::-1])[::-1], codes)
    assert isinstance(model.score(X), float)
    assert model.inverse_transform(codes).shape == X.shape


def test_symmetric_codes_of_training_samples_follow_the_fitted_factor(digits):
    X = digits[0]
    model = NMFClusterer(10, random_state=0).fit(X)
    agree = np.mean(model.labels_ == model.graph_factor_.argmax(axis=1))
    assert agree > 0.97
    assert model.reconstruction_err_ < np.linalg.norm(X)


def test_tiny_data_clips_the_number_of_neighbours():
    X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    for method in ("symmetric", "graph"):
        model = NMFClusterer(2, method=method, n_neighbors=10,
                             random_state=0).fit(X)
        assert model.labels_.shape == (3,)
        assert model.predict(X[:1])[0] == model.labels_[0]


def test_all_zero_sample_gets_no_cluster():
    X = low_rank(n=50, m=8)
    X[0] = 0.0
    for method in ("symmetric", "graph"):
        model = NMFClusterer(3, method=method, random_state=0).fit(X)
        assert model.labels_[0] == -1 and np.all(model.labels_[1:] >= 0)
        assert model.predict(np.zeros((1, 8)))[0] == -1


def test_graph_method_rejects_kl_loss():
    with pytest.raises(ValueError, match="'frobenius' only"):
        NMFClusterer(2, method="graph", beta_loss="kullback-leibler").fit(
            low_rank())


def test_symmetric_with_kl_loss_fits_components_for_kl():
    X = low_rank()
    model = NMFClusterer(3, beta_loss="kullback-leibler", random_state=0).fit(X)
    assert np.all(model.components_ >= 0) and np.isfinite(model.score(X))


def test_custom_init_of_symmetric_needs_w_only():
    X = low_rank(n=40)
    W0 = np.random.RandomState(0).rand(40, 3)
    model = NMFClusterer(3, init="custom", random_state=0).fit(X, W=W0)
    assert model.graph_factor_.shape == (40, 3)
    with pytest.raises(ValueError, match="needs W"):
        NMFClusterer(3, init="custom").fit(X)


def test_grid_search_tunes_the_graph_parameters(digits):
    X, y = digits[0][:400], digits[1][:400]
    grid = GridSearchCV(
        NMFClusterer(10, random_state=0, max_iter=50),
        {"method": ["symmetric", "graph"], "n_neighbors": [5, 10],
         "graph_strength": [100.0]},
        scoring=clustering_accuracy_scorer, cv=2,
    ).fit(X, y)
    assert grid.best_params_["method"] in ("symmetric", "graph")
    assert grid.best_score_ > 0.6


@pytest.mark.parametrize("estimator", [
    NMFClusterer(method="graph", max_iter=50),
    NMFClusterer(assign_labels="kmeans", max_iter=50),
    NMFClusterer(method="nmf", assign_labels="kmeans", max_iter=50),
], ids=["graph", "symmetric-kmeans", "nmf-kmeans"])
def test_non_default_settings_pass_check_estimator(estimator):
    """test_common.py checks the default; the other methods keep the contract."""
    results = check_estimator(
        estimator, on_fail=None,
        expected_failed_checks={"check_clustering": (
            "scikit-learn feeds it standardized, negative data without "
            "honouring positive_only; see CLUSTERER_XFAIL in test_common.py")})
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert failed == []


@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler"])
def test_components_fitted_a_block_of_features_at_a_time_are_the_same(
        digits, monkeypatch, beta_loss):
    """The columns of H are solved from transposed blocks of X (bounding the
    extra memory of the copy); each column is its own problem, so the blocks
    give bit for bit what one copy of the whole of X gave."""
    from sknmfcluster import _graph
    X = digits[0][:300]
    model = NMFClusterer(4, random_state=0, beta_loss=beta_loss).fit(X)
    storage = _storage.prepare(X)
    codes = model.transform(X)

    def components():
        return _graph.fit_components(storage, codes, model._loss,
                                     solver=model._check_solver(),
                                     max_iter=50, tol=1e-4)

    whole = components()
    monkeypatch.setattr(_graph, "COMPONENTS_BLOCK_BYTES", 5 * 300 * 8)
    blocks = components()  # 13 blocks of 5 features
    np.testing.assert_array_equal(blocks, whole)
    assert whole.shape == (4, X.shape[1]) and np.all(np.isfinite(whole))
