"""Online NMF: partial_fit, fit in batches, and the statistics kept between them."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import MiniBatchNMF

from sknmfcluster import NMFClusterer, SparseNMF
from sknmfcluster._online import decayed_sum
from sknmfcluster._storage import Stats

from .conftest import low_rank


@pytest.fixture(scope="module")
def digits():
    return load_digits().data / 16.0


@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler", 1.5])
def test_fit_in_batches_comes_close_to_the_whole_fit(digits, beta_loss):
    """Better than scikit-learn's MiniBatchNMF, within 5 % of the whole fit."""
    params = dict(n_components=10, beta_loss=beta_loss, random_state=0)
    whole = SparseNMF(**params, max_iter=200).fit(digits)
    batches = SparseNMF(**params, batch_size=300, max_iter=30).fit(digits)
    reference = MiniBatchNMF(10, batch_size=300, beta_loss=beta_loss,
                             random_state=0, max_iter=30).fit(digits)
    assert batches.reconstruction_err_ < 1.05 * whole.reconstruction_err_
    assert batches.reconstruction_err_ < reference.reconstruction_err_
    np.testing.assert_allclose(batches.transform(digits),
                               batches.fit_transform(digits), rtol=1e-6,
                               atol=1e-9)


def test_partial_fit_learns_one_batch_at_a_time(digits):
    model = NMFClusterer(10, method="nmf", random_state=0)
    errors = []
    for epoch in range(4):
        for start in range(0, len(digits), 300):
            model.partial_fit(digits[start:start + 300])
        codes = model.transform(digits)
        errors.append(np.linalg.norm(digits - codes @ model.components_))
    assert model.n_steps_ == 4 * 6
    assert errors[-1] < errors[0]
    whole = NMFClusterer(10, method="nmf", random_state=0).fit(digits)
    assert errors[-1] < 1.05 * whole.reconstruction_err_
    np.testing.assert_array_equal(model.predict(digits),
                                  model._labels(codes))


def test_partial_fit_continues_a_fit(digits):
    model = SparseNMF(8, random_state=0, max_iter=50).fit(digits)
    before = model.components_.copy()
    model.partial_fit(digits[:200])
    assert model.components_.shape == before.shape
    assert not np.array_equal(model.components_, before)
    assert model.n_steps_ == 1


def test_a_failed_partial_fit_leaves_the_model_as_it_was(digits):
    model = SparseNMF(8, random_state=0).partial_fit(digits[:300])
    state = (model.components_.copy(), model._online.H.copy(),
             model.n_steps_)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(digits[:300, :10])
    np.testing.assert_array_equal(model.components_, state[0])
    np.testing.assert_array_equal(model._online.H, state[1])
    assert model.n_steps_ == state[2]


@pytest.mark.parametrize("estimator", [
    SparseNMF(3, random_state=0),
    SparseNMF(3, beta_loss="kullback-leibler", random_state=0),
    NMFClusterer(3, method="nmf", random_state=0)])
def test_a_batch_far_above_the_first_is_an_error_not_nan(estimator):
    # Regression: a batch about 1e155 times the first (float32: 1e20) made
    # components_ NaN, silently, and every later call failed; under KL the
    # codes of later data came out NaN.
    X = low_rank(n=40, m=6)
    model = clone(estimator).partial_fit(X[:20])
    components = model.components_.copy()
    codes = model.transform(X[:5])
    with pytest.raises(ValueError, match="far above the scale of the first "
                                         "batch"):
        model.partial_fit(X[20:] * 1e160)
    np.testing.assert_array_equal(model.components_, components)
    np.testing.assert_array_equal(model.transform(X[:5]), codes)
    with pytest.raises(ValueError, match="at most 1.15e"):  # 2^60
        model.partial_fit(X[20:] * 1e30)
    model.partial_fit(X[20:] * 1e10)  # within the safe range: learned
    assert np.isfinite(model.components_).all()
    assert np.isfinite(model.transform(X[:5])).all()


def test_an_interrupted_partial_fit_leaves_the_model_as_it_was(digits,
                                                               monkeypatch):
    # Ctrl-C in the second round of a batch, after the first round has
    # updated the components of the online problem in place
    from sknmfcluster import _online
    model = SparseNMF(8, random_state=0).partial_fit(digits[:300])
    state = (model.components_.copy(), model._online.H.copy(),
             model._code_init.copy(), model.n_steps_)
    rounds = []
    first_round = _online.OnlineNMF._round

    def interrupt_second_round(self, *args):
        rounds.append(1)
        if len(rounds) == 2:
            raise KeyboardInterrupt
        return first_round(self, *args)

    monkeypatch.setattr(_online.OnlineNMF, "_round", interrupt_second_round)
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(digits[300:600])
    assert len(rounds) == 2
    np.testing.assert_array_equal(model.components_, state[0])
    np.testing.assert_array_equal(model._online.H, state[1])
    np.testing.assert_array_equal(model._code_init, state[2])
    assert model.n_steps_ == state[3]


def test_a_memory_mapped_file_streams_like_an_array(digits, tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, digits)
    mapped = np.load(path, mmap_mode="r")
    params = dict(n_components=6, batch_size=250, max_iter=10, random_state=0)
    from_file = SparseNMF(**params).fit(mapped)
    in_memory = SparseNMF(**params).fit(digits)
    np.testing.assert_array_equal(from_file.components_,
                                  in_memory.components_)


def test_batches_take_sparse_input_and_missing_values(digits):
    X = digits.copy()
    X[np.random.RandomState(0).rand(*X.shape) < 0.2] = np.nan
    # a random init: an SVD of the first batch may round otherwise when sparse
    params = dict(n_components=6, batch_size=400, max_iter=15, random_state=0,
                  init="random")
    dense = SparseNMF(**params).fit(X)
    stored = np.nan_to_num(X, nan=-1.0)
    csr = sp.csr_matrix(stored)
    csr.data[csr.data == -1.0] = np.nan
    sparse = SparseNMF(**params).fit(csr)
    np.testing.assert_allclose(sparse.components_, dense.components_,
                               rtol=1e-8)
    assert np.all(np.isfinite(dense.inverse_transform(dense.transform(X))))


def test_decayed_sum_weighs_the_earlier_batches():
    rng = np.random.RandomState(0)
    parts = [Stats(*(rng.rand(2, 3) for _ in range(2)), rng.rand(2, 3),
                   np.zeros((0, 0)), rng.rand(2), np.zeros((0, 0)),
                   float(rng.rand())) for _ in range(3)]
    total = None
    for part in parts:
        total = decayed_sum(total, part, 0.5)
    np.testing.assert_allclose(
        total.A, 0.25 * parts[0].A + 0.5 * parts[1].A + parts[2].A)
    assert total.objective == pytest.approx(
        0.25 * parts[0].objective + 0.5 * parts[1].objective
        + parts[2].objective)


@pytest.mark.parametrize("params, match", [
    ({"n_clusters": 3}, "method='nmf'"),
    ({"n_clusters": 3, "method": "nmf", "assign_labels": "kmeans"},
     "assign_labels"),
])
def test_online_clusterer_needs_plain_nmf(params, match):
    model = NMFClusterer(**params)
    assert not hasattr(model, "partial_fit")  # as scikit-learn's available_if
    with pytest.raises(AttributeError):
        model.partial_fit(low_rank())
    with pytest.raises(ValueError, match=match):
        model._check_online()
    if params.get("method") != "nmf":
        with pytest.raises(ValueError, match=match):
            model.set_params(batch_size=20).fit(low_rank())


@pytest.mark.parametrize("params", [{"sparseness_components": 0.5},
                                    {"alpha_W": 0.1}])
def test_online_sparse_nmf_needs_plain_nmf(params):
    with pytest.raises(ValueError, match="partial_fit and batch_size"):
        SparseNMF(3, batch_size=20, **params).fit(low_rank())
    assert not hasattr(SparseNMF(3, **params), "partial_fit")
    assert hasattr(SparseNMF(3), "partial_fit")


def test_online_sparse_nmf_takes_scikit_learns_penalties():
    X = low_rank()
    model = SparseNMF(3, batch_size=20, penalty_scaling="sklearn", alpha_W=0.1,
                      l1_ratio=1.0, random_state=0).fit(X)
    plain = SparseNMF(3, batch_size=20, penalty_scaling="sklearn",
                      random_state=0).fit(X)
    assert model.transform(X).sum() < plain.transform(X).sum()


def test_fit_in_batches_labels_every_sample(digits):
    model = NMFClusterer(10, method="nmf", batch_size=500, max_iter=20,
                         random_state=0).fit(digits)
    assert model.labels_.shape == (len(digits),)
    np.testing.assert_array_equal(model.predict(digits), model.labels_)
    assert model.n_iter_ <= 20
