"""Regression tests of the trust issue: each failed on the package before its fix.

Failed and interrupted fits, non-canonical sparse input, overflow and
underflow, thread counts, a missing Numba cache, Ctrl-C, degenerate
clusterings, and what importing the package does to the process.
"""

import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_info, threadpool_limits

import sknmfcluster
from sknmfcluster import (NMFClusterer, SparseNMF, _kernels, _neighbors,
                          _storage)
from sknmfcluster._storage import Factors

from .conftest import low_rank

METHODS = ["nmf", "graph", "symmetric"]


def _fitted_state(model):
    return {key: (value.copy() if isinstance(value, np.ndarray) else value)
            for key, value in vars(model).items() if key.endswith("_")}


def _assert_same_state(model, state):
    assert sorted(k for k in vars(model) if k.endswith("_")) == sorted(state)
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(model, key), value)
        else:
            assert getattr(model, key) == value


# -- 1. failed and interrupted fits --------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_failed_refit_leaves_the_estimator_as_it_was(method):
    rng = np.random.RandomState(0)
    X = rng.random_sample((30, 5))
    model = NMFClusterer(3, method=method, n_neighbors=5, random_state=0,
                         max_iter=30).fit(X)
    state = _fitted_state(model)
    with pytest.raises(ValueError, match="n_clusters=3 is larger"):
        model.fit(rng.random_sample((2, 7)))
    _assert_same_state(model, state)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    with pytest.raises(ValueError, match="5 features"):
        model.predict(rng.random_sample((4, 7)))


def test_failed_first_fit_leaves_the_estimator_unfitted():
    model = NMFClusterer(3, method="nmf")
    with pytest.raises(ValueError, match="n_clusters=3 is larger"):
        model.fit(np.ones((2, 7)))
    assert not any(key.endswith("_") for key in vars(model))
    with pytest.raises(NotFittedError):
        model.predict(np.ones((4, 7)))


@pytest.mark.parametrize("Estimator, params, last_step", [
    (NMFClusterer, {"n_clusters": 3, "method": "nmf"}, "_labels"),
    (NMFClusterer, {"n_clusters": 3, "n_neighbors": 5}, "_labels"),
    (SparseNMF, {"n_components": 3, "sparseness_components": 0.5},
     "_solve_codes"),
])
def test_interrupted_refit_leaves_the_estimator_as_it_was(
        Estimator, params, last_step, monkeypatch):
    X = low_rank(n=40)
    model = Estimator(**params, random_state=0, max_iter=20).fit(X)
    state = _fitted_state(model)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    # Ctrl-C arriving once the factors are fitted, before the fit has ended
    monkeypatch.setattr(Estimator, last_step, interrupt)
    with pytest.raises(KeyboardInterrupt):
        model.set_params(random_state=1).fit(X * 2.0)
    monkeypatch.undo()
    _assert_same_state(model, state)


def test_kernels_refuse_arrays_of_the_wrong_shape():
    X = low_rank(n=20, m=6)
    W, H = np.ones((20, 3)), np.ones((3, 6))
    f = Factors(H)
    none = np.zeros(0, dtype=np.int64)
    args = (np.zeros((0, 3)), np.zeros(0), np.zeros(0, dtype=bool), none,
            none, _kernels.MU_FRO, _kernels.ACCUMULATE, 1,
            np.zeros(_kernels.N_SETTINGS))
    _kernels.pass_dense(X, W, f.H, f.Ht, f.HHt, f.Hsum, *args)  # fits
    with pytest.raises(ValueError, match="one row per row of X"):
        _kernels.pass_dense(X, np.ones((19, 3)), f.H, f.Ht, f.HHt, f.Hsum,
                            *args)
    g = Factors(np.ones((3, 7)))
    with pytest.raises(ValueError, match="H must have shape"):
        _kernels.pass_dense(X, W, g.H, g.Ht, g.HHt, g.Hsum, *args)
    Xs = sp.csr_matrix(X)
    with pytest.raises(ValueError, match="one row per row of X"):
        _kernels.pass_csr(Xs.data, Xs.indices, Xs.indptr, np.ones((25, 3)),
                          f.H, f.Ht, f.HHt, f.Hsum, *args)
    with pytest.raises(ValueError, match="W, H do not fit X"):
        _kernels.divergence_dense(X, W, np.ones((3, 5)), 2.0, none, none)
    bad = args[:5] + (99,) + args[6:]  # not a rule: refused, never guessed
    with pytest.raises(ValueError, match="unknown rule 99"):
        _kernels.pass_dense(X, W, f.H, f.Ht, f.HHt, f.Hsum, *bad)
    with pytest.raises(ValueError, match="unknown rule 99"):
        _kernels.pass_csr(Xs.data, Xs.indices, Xs.indptr, W, f.H, f.Ht,
                          f.HHt, f.Hsum, *bad)


# -- 2. sparse input with duplicate entries ---------------------------------------


def _with_duplicates(X):
    """CSR with every non-zero stored twice, as two halves (not canonical)."""
    C = sp.csr_matrix(X)
    counts = np.diff(C.indptr)
    data = np.repeat(C.data / 2, 2)
    indices = np.repeat(C.indices, 2)
    indptr = np.concatenate([[0], np.cumsum(2 * counts)])
    D = sp.csr_matrix((data, indices, indptr), shape=X.shape)
    assert not D.has_canonical_format
    return D


@pytest.mark.parametrize("method", METHODS)
def test_duplicate_entries_are_summed_on_a_copy(method):
    X = low_rank(n=50)
    D = _with_duplicates(X)
    before = (D.data.copy(), D.indices.copy(), D.indptr.copy())
    params = dict(n_clusters=3, method=method, n_neighbors=6, random_state=0,
                  max_iter=30, init="random" if method == "graph" else None)
    dup = NMFClusterer(**params).fit(D)
    for a, b in zip(before, (D.data, D.indices, D.indptr)):
        np.testing.assert_array_equal(a, b)  # the caller's X is untouched
    ref = NMFClusterer(**params).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(dup.labels_, ref.labels_)
    np.testing.assert_allclose(dup.components_, ref.components_, rtol=1e-10)
    np.testing.assert_allclose(dup.transform(D), ref.transform(X),
                               rtol=1e-10)


def _unaligned(a):
    """A copy of ``a`` at an odd address, as a Dask chunk deserialised from a
    network frame can arrive."""
    buf = np.zeros(a.nbytes + 1, dtype=np.uint8)
    out = np.frombuffer(buf.data, dtype=a.dtype, count=a.size,
                        offset=1).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


def test_unaligned_input_is_fitted_as_its_aligned_copy():
    """scikit-learn 1.6.0's nearest neighbours (the default method's graph)
    crashed with a segmentation fault on an unaligned array: the Dask path
    fitted its gathered sample of rows that way (seen in .ci/test-oldest)."""
    X = low_rank(n=60)
    U = _unaligned(X)
    S = sp.csr_matrix(X)
    Su = sp.csr_matrix((_unaligned(S.data), _unaligned(S.indices),
                        _unaligned(S.indptr)), shape=S.shape)
    for given in (U, Su):
        storage = _storage.prepare(given)
        for name in ("X", "data", "indices", "indptr"):
            if hasattr(storage, name):
                assert getattr(storage, name).flags.aligned, name
    params = dict(n_clusters=3, n_neighbors=6, random_state=0)
    ref = NMFClusterer(**params).fit(X)
    for given in (U, Su):
        got = NMFClusterer(**params).fit(given)
        np.testing.assert_array_equal(got.labels_, ref.labels_)
        np.testing.assert_array_equal(got.predict(given), ref.labels_)
    np.testing.assert_array_equal(U, X)  # the caller's array is untouched


def _loads_at_odd_addresses(model):
    """``model`` pickled with out-of-band buffers and loaded from copies of
    them at odd addresses, as a Dask worker can receive it."""
    buffers = []
    data = pickle.dumps(model, protocol=5, buffer_callback=buffers.append)
    odd = []
    for buffer in buffers:
        raw = buffer.raw()
        block = bytearray(raw.nbytes + 1)
        block[1:] = raw
        odd.append(memoryview(block)[1:])
    return pickle.loads(data, buffers=odd)


def test_a_model_unpickled_at_odd_addresses_keeps_its_data_aligned():
    """The default method keeps its training data for ``predict``; unpickled
    unaligned on a Dask worker, scikit-learn 1.6.0's nearest neighbours
    crashed the worker on it (seen in .ci/test-oldest)."""
    X = load_digits().data[:300] / 16.0
    model = NMFClusterer(10, random_state=0).fit(X)
    loaded = _loads_at_odd_addresses(model)
    stored = [value for value in vars(loaded).values()
              if isinstance(value, (_neighbors.Neighbors, _storage._Local))]
    assert stored  # the model keeps its training data
    stored += [obj.X for obj in stored
               if isinstance(obj, _neighbors.Neighbors)]  # its storage
    arrays = [value for obj in stored for value in vars(obj).values()
              if isinstance(value, np.ndarray)]
    assert arrays and all(array.flags.aligned for array in arrays)
    np.testing.assert_array_equal(loaded.predict(X), model.labels_)


@pytest.mark.parametrize("method", ["nmf", "symmetric"])
def test_unaligned_components_give_the_same_codes(method):
    """A model unpickled from out-of-band buffers (as a Dask worker gets it)
    can hold an unaligned ``components_``: Numba compiled another
    specialisation for it, which rounded differently on an AVX-512 machine
    (1773 of 1797 rows of digits' codes differed in the last bits)."""
    X = load_digits().data[:400] / 16.0
    model = NMFClusterer(10, method=method, random_state=0,
                         max_iter=30).fit(X)
    codes = model.transform(X)
    model.components_ = _unaligned(model.components_)
    np.testing.assert_array_equal(model.transform(X), codes)


# -- 3. and 4. overflow and underflow -----------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype, factor", [
    (np.float64, 2.0 ** 600), (np.float64, 2.0 ** -1060),
    (np.float32, 2.0 ** 70), (np.float32, 2.0 ** -140)])
def test_extreme_scales_give_the_model_of_the_data(method, dtype, factor):
    """NMF is scale-equivariant: X * c has the labels of X, components * c^(1/2)."""
    X = low_rank(n=50, dtype=dtype)
    params = dict(n_clusters=3, method=method, n_neighbors=6, random_state=0,
                  max_iter=30)
    ref = NMFClusterer(**params).fit(X)
    with np.errstate(under="ignore"):
        Xc = (X.astype(np.float64) * factor).astype(dtype)
    model = NMFClusterer(**params).fit(Xc)
    assert np.all(np.isfinite(model.components_))
    assert np.isfinite(model.reconstruction_err_)
    assert model.reconstruction_err_ > 0
    # the same clustering (subnormal float32 data keeps fewer digits, and
    # KMeans may then number the same clusters otherwise)
    assert adjusted_rand_score(model.labels_, ref.labels_) == 1.0
    np.testing.assert_array_equal(model.predict(Xc), model.labels_)
    if 2 * np.log2(factor) < 1000:
        assert model.score(Xc) == pytest.approx(ref.score(X) * factor ** 2,
                                                rel=1e-4)
    else:  # about -1e360: beyond float64
        with pytest.raises(ValueError, match="overflows the floating-point"):
            model.score(Xc)


@pytest.mark.parametrize("estimator", [
    SparseNMF(3, random_state=0, max_iter=30),
    SparseNMF(3, beta_loss="kullback-leibler", random_state=0, max_iter=30),
    NMFClusterer(3, method="nmf", random_state=0, max_iter=30)])
@pytest.mark.parametrize("dtype, factor", [
    (np.float64, 2.0 ** -1030), (np.float64, 2.0 ** -990),
    (np.float32, 2.0 ** -130)])
def test_new_data_far_below_the_fit_scale_gets_the_scaled_codes(
        estimator, dtype, factor):
    # Regression: the start of transform's solve, the mean fitted code
    # divided by the query's scale, overflowed for data below about 1e-308
    # (float32: 1e-38): the codes came out NaN and predict said 0 silently.
    X = low_rank(n=40, m=6, dtype=dtype)
    model = clone(estimator).fit(X)
    with np.errstate(under="ignore"):
        Xc = (X[:8].astype(np.float64) * factor).astype(dtype)
    codes = model.transform(Xc)
    assert np.all(np.isfinite(codes))
    assert np.isfinite(model.score(Xc))
    if estimator.beta_loss == "kullback-leibler":
        # not compared: from a start this far off the data's scale its
        # codes are not converged in max_iter (a known defect, see the
        # closing note of the stop that added this test)
        return
    # the codes of c x are c times those of x (to the solve's tolerance:
    # another start; subnormal float32 keeps few digits)
    with np.errstate(under="ignore"):
        expected = model.transform(X[:8]).astype(np.float64)
    np.testing.assert_allclose(codes.astype(np.float64) / factor, expected,
                               rtol=0.05, atol=1e-3 * np.max(expected))
    if hasattr(model, "predict"):
        np.testing.assert_array_equal(model.predict(Xc), model.predict(X[:8]))


@pytest.mark.parametrize("estimator", [
    SparseNMF(3, random_state=0, max_iter=30),
    NMFClusterer(3, random_state=0, n_neighbors=6, max_iter=30)])
@pytest.mark.parametrize("dtype, largest", [
    (np.float64, 1e307), (np.float32, 1e38)])
def test_data_near_the_float_maximum_fits(estimator, dtype, largest):
    # Regression: the codes' final solve started beyond the float maximum
    # ("cannot convert float NaN to integer" after the fit; float32:
    # OverflowError), the same overflow as for new data far below the fit
    X = low_rank(n=40, m=6)
    X = (X / X.max() * largest).astype(dtype)
    model = clone(estimator).fit(X)
    assert np.isfinite(model.components_).all()
    assert np.isfinite(model.reconstruction_err_)
    assert np.isfinite(model.transform(X)).all()


@pytest.mark.parametrize("method", ["graph", "symmetric"])
def test_graph_methods_refuse_new_data_far_above_the_training_scale(method):
    # Regression: method="graph" gave inf codes for data 1e160 times the
    # training data, and predict raised "Input contains NaN" on NaN-free
    # input (or, with assign_labels="argmax", said 0 silently)
    X = low_rank(n=40, m=6)
    model = NMFClusterer(3, method=method, n_neighbors=6, random_state=0,
                         max_iter=30).fit(X)
    for call in (model.transform, model.predict, model.score):
        with pytest.raises(ValueError, match="far above the scale of the "
                                             "training data"):
            call(X[:3] * 1e160)
    assert np.isfinite(model.transform(X[:3] * 1e10)).all()  # within range
    np.testing.assert_array_equal(model.predict(X), model.labels_)


@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler"])
def test_one_huge_entry_gives_finite_factors(beta_loss):
    X = low_rank(n=30, m=8)
    X[0, 0] = 1e308
    model = SparseNMF(3, beta_loss=beta_loss, random_state=0,
                      max_iter=30).fit(X)
    codes = model.transform(X)
    assert np.all(np.isfinite(codes)) and np.all(np.isfinite(model.components_))
    assert np.isfinite(model.reconstruction_err_)


def test_subnormal_entry_keeps_the_kl_objective_finite():
    X = low_rank(n=30, m=8)
    X_sub = X.copy()
    X_sub[0, 0] = 1e-323  # subnormal: x / wh underflows to 0
    X[0, 0] = 0.0
    params = dict(n_components=3, beta_loss="kullback-leibler",
                  random_state=0, max_iter=50)
    sub = SparseNMF(**params).fit(X_sub)
    ref = SparseNMF(**params).fit(X)
    assert np.isfinite(sub.reconstruction_err_) and sub.reconstruction_err_ > 0
    assert sub.reconstruction_err_ == pytest.approx(ref.reconstruction_err_,
                                                    rel=1e-6)
    assert np.isfinite(sub.score(X_sub))
    assert sub.score(X_sub) == pytest.approx(ref.score(X), rel=1e-6)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # the error alone
def test_too_large_weights_are_a_clear_error():
    X = low_rank(n=40)
    with pytest.raises(ValueError, match="graph_strength is too large"):
        NMFClusterer(3, method="graph", graph_strength=1e308, n_neighbors=5,
                     random_state=0).fit(X)
    with pytest.raises(ValueError, match="alpha_W"):
        SparseNMF(3, alpha_W=1e308, random_state=0).fit(X)


# -- 5. and 6. thread counts -----------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_results_do_not_depend_on_the_blas_thread_count(method):
    rng = np.random.RandomState(0)
    X = rng.random_sample((400, 300)) * (rng.random_sample((400, 300)) < 0.5)
    fits = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            fits.append(NMFClusterer(6, method=method, random_state=0,
                                     max_iter=20).fit(X))
    np.testing.assert_array_equal(fits[0].components_, fits[1].components_)
    np.testing.assert_array_equal(fits[0].labels_, fits[1].labels_)


def _blas_threads():
    return [pool["num_threads"] for pool in threadpool_info()
            if pool["user_api"] == "blas"]


def test_concurrent_predict_keeps_the_blas_setting():
    X = low_rank(n=200, m=30)
    model = NMFClusterer(4, method="nmf", random_state=0, max_iter=30).fit(X)
    expected = model.predict(X)
    before = _blas_threads()
    results, errors = [], []

    def work():
        try:
            for _ in range(25):
                results.append(model.predict(X))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 100
    for labels in results:
        np.testing.assert_array_equal(labels, expected)
    assert _blas_threads() == before


# -- 7., 8. and 16. the process: cache, Ctrl-C, environment ---------------------------


def _run_python(code, cwd=None, **env):
    environment = {k: v for k, v in os.environ.items()
                   if k != "OMP_WAIT_POLICY"}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, env=environment,
                          timeout=600, cwd=cwd)


def test_import_and_kernels_work_without_a_writable_cache():
    result = _run_python("""
        import warnings
        import numba.core.caching as caching
        caching.CacheImpl._locator_classes = []  # no location is writable
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from sknmfcluster import _kernels
        import numpy as np
        print(_kernels.ordered_sum(np.arange(4.0)))
        print(sum("NUMBA_CACHE_DIR" in str(w.message) for w in caught))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["6.0", "1"]


def test_kernel_cache_reads_and_writes_wait_for_other_processes(tmp_path):
    # Regression: two processes filling one empty Numba cache could number
    # two specializations of a kernel alike; a third process then loaded
    # the wrong code and crashed (the test suite's workers hit it once:
    # 45 tests failed with "'descr' is NULL"). The race itself is a matter
    # of milliseconds and not reproducible on demand: this checks that
    # every kernel's cache load and save take the lock, and that the lock
    # holds across processes.
    from sknmfcluster._kernels import _jit, _rows
    cache = _rows.mu_kl_row._cache
    assert cache.load_overload.__name__ == "locked"
    assert cache.save_overload.__name__ == "locked"
    released = tmp_path / "released"
    with _jit._cache_lock(str(tmp_path)):
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(f"""
                import os
                from sknmfcluster._kernels import _jit
                with _jit._cache_lock({str(tmp_path)!r}):
                    print(os.path.exists({str(released)!r}))
            """)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            child.wait(timeout=5)  # it must still be waiting for the lock
        except subprocess.TimeoutExpired:
            pass
        released.touch()
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert out.split() == ["True"]


def test_a_cached_kernel_is_compiled_again_after_a_module_it_uses_changes(
        tmp_path):
    # Regression: Numba keeps a cached kernel while its own file is
    # unchanged, but a kernel inlines code and constants of other modules.
    # After an edit of _rows.py the dense pass still ran the old row rules
    # from the cache. Here _rows.py's _kl_slope_at_zero reads EPSILON from
    # _common.py; a copy of the package whose _common.py changes EPSILON
    # must give the new value in the next process, with the cache kept.
    package = tmp_path / "pkg" / "sknmfcluster"
    shutil.copytree(os.path.dirname(sknmfcluster.__file__), package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    code = """
        import numpy as np
        from sknmfcluster._kernels import _rows
        print(_rows.__file__)
        one = np.ones(1)
        print(_rows._kl_slope_at_zero(one, one, np.zeros(1), 1))
    """
    env = {"PYTHONPATH": str(tmp_path / "pkg"),
           "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    first = _run_python(code, cwd=tmp_path, **env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split()[0].startswith(str(package))
    assert float(first.stdout.split()[-1]) == 1.0 / 1e-30  # 1 / EPSILON
    common = package / "_kernels" / "_common.py"
    text = common.read_text()
    assert "\nEPSILON = 1e-30\n" in text
    common.write_text(text.replace("\nEPSILON = 1e-30\n", "\nEPSILON = 1e-20\n"))
    second = _run_python(code, cwd=tmp_path, **env)
    assert second.returncode == 0, second.stderr
    assert float(second.stdout.split()[-1]) == 1.0 / 1e-20


def test_processes_give_their_machine_code_symbols_of_their_own():
    # Regression (Numba issue 10486): Numba names a function's machine code
    # after its qualified name and a per-process counter. Two processes that
    # compiled different pass kernels (closures with one qualified name)
    # into one cache gave them the same symbol, and a process loading both
    # ran the wrong one: the CI's test workers failed with "'descr' is
    # NULL" in the masked dense pass. The same function compiled first in
    # two fresh processes must get two different symbols.
    code = """
        from numba import njit
        import sknmfcluster._kernels  # noqa: F401

        def make(c):
            @njit
            def add(x):
                return x + c
            return add

        add = make(1.0)
        add(1.0)
        print(add.overloads[add.signatures[0]].fndesc.mangled_name)
    """
    names = set()
    for _ in range(2):
        result = _run_python(code)
        assert result.returncode == 0, result.stderr
        names.add(result.stdout.split()[-1])
    assert len(names) == 2


def test_import_leaves_the_openmp_wait_policy_alone():
    result = _run_python("""
        import os, sknmfcluster
        print(os.environ.get("OMP_WAIT_POLICY"))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"


@pytest.mark.parametrize("call", ["transform", "fit"])
def test_ctrl_c_stops_a_long_call_quickly(call):
    result = _run_python(f"""
        import os, signal, threading, time
        import numpy as np
        from sknmfcluster import NMFClusterer
        X = np.random.RandomState(0).random_sample((3000, 40))
        model = NMFClusterer(8, method="nmf", random_state=0,
                             max_iter=20).fit(X)
        before = model.components_.copy()
        model.set_params(max_iter=10**8, tol=0.0)
        threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
        start = time.perf_counter()
        try:
            model.{call}(X)
        except KeyboardInterrupt:
            print("KeyboardInterrupt", time.perf_counter() - start - 1.0)
        print(np.array_equal(model.components_, before), model.max_iter)
    """)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    name, delay = first.split()
    assert name == "KeyboardInterrupt"
    assert float(delay) < 3.0  # about a second; the machine may be busy
    assert second == "True 100000000"


# -- 12. degenerate clusterings say so ----------------------------------------------------


def test_empty_clusters_are_reported():
    X = np.repeat(np.eye(3), 10, axis=0) + 1e-3  # three groups
    with pytest.warns(UserWarning, match="non-empty clusters of the 6"):
        NMFClusterer(6, method="nmf", random_state=0, max_iter=50).fit(X)


def test_a_graph_too_dense_to_cut_is_reported():
    X = low_rank(n=40)
    with pytest.warns(UserWarning, match="too dense to separate"):
        NMFClusterer(4, n_neighbors=1000, random_state=0, max_iter=30).fit(X)


# -- 11. progress lines -----------------------------------------------------------------


def test_only_the_innermost_phase_ticks_and_lines_stay_whole(monkeypatch,
                                                             capsys):
    # Nested phases each printed their elapsed time (four lines every 10 s
    # in a default fit), from threads whose lines ran into each other.
    import time

    from sknmfcluster import _progress
    monkeypatch.setattr(_progress, "TICK_SECONDS", 0.05)
    with _progress.phase("outer", verbose=1):
        time.sleep(0.3)
        with _progress.phase("inner", verbose=1):
            time.sleep(0.5)
        time.sleep(0.3)
    lines = capsys.readouterr().err.splitlines()
    assert all(line.startswith("sknmfcluster: ") for line in lines)
    assert all(line.count("sknmfcluster:") == 1 for line in lines)
    start = lines.index("sknmfcluster: inner ...")
    stop = next(i for i, line in enumerate(lines)
                if line.startswith("sknmfcluster: inner: done"))
    inside = lines[start + 1:stop]
    assert inside and all("inner: " in line for line in inside)
    before, after = lines[:start], lines[stop + 1:]
    assert any("outer: " in line and "elapsed" in line for line in before)
    assert any("outer: " in line and "elapsed" in line for line in after)


def test_every_phase_of_the_default_fit_is_reported(capsys):
    X = low_rank(n=60, m=8)
    NMFClusterer(3, random_state=0, verbose=1).fit(X)
    err = capsys.readouterr().err
    for name in ("building the neighbour graph", "spectral start",
                 "the codes of the training samples",
                 "fitting the components"):
        assert f"sknmfcluster: {name} ..." in err
        assert f"sknmfcluster: {name}: done in " in err
