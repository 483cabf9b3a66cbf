"""NMFClusterer as a scikit-learn user meets it."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from sknmfcluster import NMFClusterer, clustering_accuracy, clustering_accuracy_scorer

from .conftest import low_rank


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


def _blobs(n=90, seed=0):
    centers = np.array([[5.0, 0.5, 0.5, 0.2], [0.5, 5.0, 0.5, 0.2], [0.5, 0.5, 5.0, 5.0]])
    X, y = make_blobs(n_samples=n, centers=centers, cluster_std=0.4, random_state=seed)
    return np.abs(X), y


def test_recovers_clusters_of_separated_parts():
    X, y = _blobs()
    model = NMFClusterer(3, random_state=0).fit(X)
    assert clustering_accuracy(y, model.labels_) > 0.95
    assert model.labels_.dtype == np.int64
    assert model.components_.shape == (3, 4)
    assert model.reconstruction_err_ > 0 and model.n_iter_ >= 1


def test_labels_predict_and_transform_agree(digits):
    X, _ = digits
    model = NMFClusterer(6, random_state=0, max_iter=50)
    W = model.fit_transform(X)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    np.testing.assert_allclose(model.transform(X), W)
    np.testing.assert_array_equal(model.fit_predict(X), model.labels_)


def test_transform_does_not_depend_on_the_batch(digits):
    X, _ = digits
    model = NMFClusterer(7, random_state=0, max_iter=40).fit(X)
    full = model.transform(X)
    rng = np.random.RandomState(0)
    order = rng.permutation(X.shape[0])
    np.testing.assert_allclose(model.transform(X[order]), full[order], rtol=1e-12)
    np.testing.assert_allclose(model.transform(X[:13]), full[:13], rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X[5:6]), model.labels_[5:6])


def test_label_does_not_depend_on_factor_scale(digits):
    X, _ = digits
    model = NMFClusterer(5, random_state=0, max_iter=30).fit(X)
    labels = model.labels_.copy()
    scale = np.array([1e-3, 1.0, 1e3, 7.0, 0.2])
    model.components_ = model.components_ * scale[:, None]
    model._code_init = model._code_init / scale
    np.testing.assert_array_equal(model.predict(X), labels)


def test_all_zero_sample_gets_no_cluster_and_zero_column_is_fine():
    X, _ = _blobs()
    X = np.hstack([X, np.zeros((X.shape[0], 1))])
    X[0] = 0.0
    model = NMFClusterer(3, random_state=0).fit(X)
    assert model.labels_[0] == -1
    assert np.all(model.labels_[1:] >= 0)
    assert np.all(np.isfinite(model.components_))
    assert model.predict(np.zeros((1, X.shape[1])))[0] == -1


@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler"])
def test_dense_and_sparse_give_the_same_model(beta_loss, digits):
    X, _ = digits
    # random init: an SVD-based init can differ between storages by rounding
    # (an entry of 1e-17 versus an exact zero that nndsvda fills)
    kwargs = dict(n_clusters=5, beta_loss=beta_loss, init="random", random_state=0,
                  max_iter=30)
    dense = NMFClusterer(**kwargs).fit(X)
    sparse = NMFClusterer(**kwargs).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(sparse.components_, dense.components_, rtol=1e-6,
                               atol=1e-10)
    np.testing.assert_array_equal(sparse.labels_, dense.labels_)


@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler"])
def test_float32_preserved_end_to_end(beta_loss, digits):
    X = digits[0].astype(np.float32)
    model = NMFClusterer(4, beta_loss=beta_loss, random_state=0, max_iter=30)
    W = model.fit_transform(X)
    assert W.dtype == np.float32 and model.components_.dtype == np.float32
    assert model.transform(X).dtype == np.float32
    assert model.inverse_transform(W).dtype == np.float32
    assert isinstance(model.score(X), float)


def test_n_init_keeps_the_best_run(digits, capsys):
    X, _ = digits
    model = NMFClusterer(6, method="nmf", init="random", n_init=4, random_state=0,
                         max_iter=30, verbose=1).fit(X)
    runs = [line for line in capsys.readouterr().out.splitlines()
            if line.startswith("Run ")]
    assert len(runs) == 4
    objectives = [float(line.split("objective ")[1].split()[0]) for line in runs]
    iterations = [int(line.split("after ")[1].split()[0]) for line in runs]
    assert model.n_iter_ == iterations[int(np.argmin(objectives))]
    single = NMFClusterer(6, method="nmf", init="random", random_state=0,
                          max_iter=30).fit(X)
    assert model.reconstruction_err_ <= single.reconstruction_err_ * (1 + 1e-6)


def test_score_is_minus_the_mean_divergence(digits):
    X, _ = digits
    model = NMFClusterer(5, random_state=0, max_iter=30).fit(X)
    W = model.transform(X)
    expected = -0.5 * np.sum((X - W @ model.components_) ** 2) / X.shape[0]
    assert model.score(X) == pytest.approx(expected, rel=1e-8)
    assert model.reconstruction_err_ == pytest.approx(
        np.linalg.norm(X - W @ model.components_), rel=1e-8)
    bigger = NMFClusterer(12, random_state=0, max_iter=30).fit(X)
    assert bigger.score(X) > model.score(X)


def test_inverse_transform(digits):
    X, _ = digits
    model = NMFClusterer(5, random_state=0, max_iter=30).fit(X)
    W = model.transform(X)
    np.testing.assert_allclose(model.inverse_transform(W), W @ model.components_)
    np.testing.assert_allclose(model.inverse_transform(sp.csr_matrix(W)),
                               W @ model.components_)
    with pytest.raises(ValueError, match="one per component"):
        model.inverse_transform(W[:, :3])


def test_pipeline_and_grid_search(digits):
    X, y = digits
    pipe = Pipeline([("scale", MinMaxScaler()),
                     ("nmf", NMFClusterer(10, random_state=0, max_iter=40))])
    labels = pipe.fit_predict(X)
    assert clustering_accuracy(y, labels) > 0.3
    grid = GridSearchCV(pipe, {"nmf__n_clusters": [5, 10]},
                        scoring=clustering_accuracy_scorer, cv=2)
    grid.fit(X, y)
    assert grid.best_params_["nmf__n_clusters"] in (5, 10)
    assert 0.0 < grid.best_score_ <= 1.0
    unsupervised = GridSearchCV(pipe, {"nmf__n_clusters": [3, 8]}, cv=2).fit(X)
    # the held-out score, like KMeans.score, prefers the larger rank
    assert unsupervised.best_params_["nmf__n_clusters"] == 8


def test_clone_pickle_and_set_output(digits):
    X, _ = digits
    model = NMFClusterer(4, random_state=0, max_iter=30)
    assert clone(model).get_params() == model.get_params()
    model.fit(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(X.shape[1])])
    out = NMFClusterer(4, random_state=0, max_iter=30).set_output(
        transform="pandas").fit(frame).transform(frame)
    assert list(out.columns) == [f"nmfclusterer{i}" for i in range(4)]


@pytest.mark.parametrize(
    "X, match",
    [
        (-low_rank(), "Negative values.*MinMaxScaler"),
        (np.where(low_rank() > 0.5, np.nan, low_rank()), "NaN"),
        (np.where(low_rank() > 0.5, np.inf, low_rank()), "infinity"),
        (np.empty((0, 4)), "0 sample"),
        (np.ones((1, 4)), "1 sample"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), "numeric"),
    ],
    ids=["negative", "nan", "inf", "empty", "one-sample", "strings"],
)
def test_bad_input_raises_a_clear_error(X, match):
    with pytest.raises(ValueError, match=match):
        NMFClusterer(2).fit(X)


def test_too_many_clusters_raises():
    with pytest.raises(ValueError, match="more clusters than samples"):
        NMFClusterer(10).fit(low_rank(n=5))


def test_rank_above_n_features_is_fine():
    X = low_rank(n=30, m=3)
    model = NMFClusterer(5, random_state=0).fit(X)
    assert model.components_.shape == (5, 3)


def test_bad_parameters_raise_at_fit():
    for params, name in [({"n_clusters": -1}, "n_clusters"),
                         ({"beta_loss": "helloworld"}, "beta_loss"),
                         ({"init": "svd"}, "init"), ({"tol": -1.0}, "tol")]:
        model = NMFClusterer(**params)  # stored untouched, checked in fit
        with pytest.raises(ValueError, match=name):
            model.fit(low_rank())


@pytest.mark.parametrize("sparse", [False, True])
def test_input_is_never_modified(sparse):
    X = low_rank()
    if sparse:
        X = sp.csr_matrix(X)
        X.data[:4] = 0.0  # explicit zeros the engine removes from its own copy
    copy = X.copy()
    model = NMFClusterer(3, random_state=0, max_iter=20)
    model.fit(X)
    model.predict(X)
    model.score(X)
    if sparse:
        assert (X != copy).nnz == 0 and X.nnz == copy.nnz
    else:
        np.testing.assert_array_equal(X, copy)


def test_custom_init(digits):
    X, _ = digits
    rng = np.random.RandomState(0)
    W0, H0 = rng.rand(X.shape[0], 3), rng.rand(3, X.shape[1])
    W0c, H0c = W0.copy(), H0.copy()
    model = NMFClusterer(3, init="custom", max_iter=20).fit(X, W=W0, H=H0)
    np.testing.assert_array_equal(W0, W0c)
    np.testing.assert_array_equal(H0, H0c)
    assert model.components_.shape == (3, X.shape[1])
    with pytest.raises(ValueError, match="both W and H"):
        NMFClusterer(3, init="custom").fit(X)
