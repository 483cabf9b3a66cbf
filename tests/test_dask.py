"""Dask arrays on a dask.distributed LocalCluster this module starts and stops.

Two worker processes run the row-block step on the chunks; the results must
equal the in-memory fit's to floating-point tolerance for the same init.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sknmfcluster import NMFClusterer, SparseNMF, clustering_accuracy

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
    with distributed.Client(cluster) as connected:
        yield connected
    cluster.close()


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def _custom_start(n, m, k, seed=0):
    rng = np.random.RandomState(seed)
    return rng.rand(n, k) + 0.1, rng.rand(k, m) + 0.1


@pytest.mark.parametrize("Estimator, params", [
    (NMFClusterer, {"n_clusters": 8, "method": "nmf"}),
    # solver="auto" would be KL coordinate descent in memory, which needs
    # the columns of X (test_auto_fits_kl_on_chunks_by_the_updates)
    (SparseNMF, {"n_components": 8, "beta_loss": "kullback-leibler",
                 "solver": "mu"}),
])
def test_fit_on_chunks_equals_the_fit_in_memory(client, digits, Estimator,
                                                params):
    X, _ = digits
    W0, H0 = _custom_start(*X.shape, 8)
    kwargs = dict(params, init="custom", max_iter=25, tol=0.0)
    local = Estimator(**kwargs).fit(X, W=W0, H=H0)
    chunked = Estimator(**kwargs).fit(da.from_array(X, chunks=(300, 32)),
                                      W=W0, H=H0)
    np.testing.assert_allclose(chunked.components_, local.components_,
                               rtol=1e-9, atol=1e-12)
    assert chunked.reconstruction_err_ == pytest.approx(
        local.reconstruction_err_, rel=1e-9)
    if Estimator is NMFClusterer:
        np.testing.assert_array_equal(chunked.labels_, local.labels_)


def test_auto_fits_kl_on_chunks_by_the_updates(client, digits):
    """On a Dask array, ``solver="auto"`` fits KL by the multiplicative
    updates (coordinate descent needs X's columns in one place)."""
    X, _ = digits
    W0, H0 = _custom_start(*X.shape, 4)
    kwargs = dict(n_components=4, beta_loss="kullback-leibler",
                  init="custom", max_iter=10, tol=0.0)
    chunked = SparseNMF(**kwargs).fit(da.from_array(X, chunks=(600, 64)),
                                      W=W0, H=H0)
    local = SparseNMF(**kwargs, solver="mu").fit(X, W=W0, H=H0)
    np.testing.assert_allclose(chunked.components_, local.components_,
                               rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="solver='mu'"):
        SparseNMF(**kwargs, solver="cd").fit(
            da.from_array(X, chunks=(600, 64)), W=W0, H=H0)


def test_transform_predict_and_score_run_on_the_chunks(client, digits):
    X, _ = digits
    model = NMFClusterer(10, method="nmf", random_state=0, max_iter=50).fit(X)
    Xd = da.from_array(X, chunks=400)
    np.testing.assert_array_equal(model.transform(Xd), model.transform(X))
    np.testing.assert_array_equal(model.predict(Xd), model.predict(X))
    assert model.score(Xd) == pytest.approx(model.score(X), rel=1e-12)


def test_partial_fit_on_a_dask_batch(client, digits):
    X, _ = digits
    # a Dask array has no SVD at hand: the same random init for both
    local, chunked = (SparseNMF(6, init="random", random_state=0)
                      for _ in range(2))
    for start in (0, 600, 1200):
        batch = X[start:start + 600]
        local.partial_fit(batch)
        chunked.partial_fit(da.from_array(batch, chunks=150))
    np.testing.assert_allclose(chunked.components_, local.components_,
                               rtol=1e-8)


def test_missing_values_and_batches_on_the_chunks(client, digits):
    X, _ = digits
    X = X.copy()
    X[np.random.RandomState(0).rand(*X.shape) < 0.2] = np.nan
    kwargs = dict(n_components=6, random_state=0, init="random",
                  batch_size=500, max_iter=5)
    local = SparseNMF(**kwargs).fit(X)
    chunked = SparseNMF(**kwargs).fit(da.from_array(X, chunks=250))
    np.testing.assert_allclose(chunked.components_, local.components_,
                               rtol=1e-8)


def test_graph_method_fits_a_sample_and_labels_every_row(client, digits):
    X, y = digits
    model = NMFClusterer(10, random_state=0).fit(da.from_array(X, chunks=500))
    assert model.labels_.shape == (X.shape[0],)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    # digits has fewer rows than DASK_GRAPH_SAMPLE: the sample is all of it
    assert clustering_accuracy(y, model.labels_) > 0.85


def test_dask_input_errors_are_clear(client, digits):
    X, _ = digits
    with pytest.raises(ValueError, match="Negative values"):
        SparseNMF(3).fit(da.from_array(X - 1.0, chunks=500))
    with pytest.raises(ValueError, match="init='random' or init='custom'"):
        SparseNMF(3, init="nndsvda").fit(da.from_array(X, chunks=500))
    with pytest.raises(ValueError, match="need all of X in memory"):
        SparseNMF(3, sparseness_components=0.5).fit(
            da.from_array(X, chunks=500))
    model = SparseNMF(3, max_iter=10, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        model.transform(da.from_array(X[:, :10], chunks=500))
