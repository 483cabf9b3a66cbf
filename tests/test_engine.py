"""The MU engine: kernels against NumPy formulas, monotonicity, determinism."""

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sknmfcluster import _engine, _kernels, _problems, _storage
from sknmfcluster._engine import row_settings
from sknmfcluster._init import default_init, initialize
from sknmfcluster._losses import Loss, fro_from_stats
from sknmfcluster._storage import Factors

from .conftest import divergence, fit_factors, low_rank, w_step

EPS = _kernels.EPSILON


def _factors(n, m, k, seed=1, dtype=np.float64):
    rng = np.random.RandomState(seed)
    return (rng.rand(n, k) + 0.1).astype(dtype), (rng.rand(k, m) + 0.1).astype(dtype)


def _numpy_fro_w_steps(X, W, H, n_steps):
    W = W.astype(np.float64)
    XHt = X @ H.T.astype(np.float64)
    HHt = H.astype(np.float64) @ H.T.astype(np.float64)
    for _ in range(n_steps):
        W = W * XHt / (W @ HHt)
    return W


def _numpy_kl_w_step(X, W, H):
    W, H = W.astype(np.float64), H.astype(np.float64)
    return W * ((X / (W @ H)) @ H.T) / H.sum(axis=1)


def _kernel_input(X, storage):
    return _storage.prepare(sp.csr_matrix(X) if storage == "csr" else X)


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fro_rows_match_numpy(storage, dtype):
    X = low_rank(dtype=dtype)
    W, H = _factors(X.shape[0], X.shape[1], 4, dtype=dtype)
    expected_W = _numpy_fro_w_steps(X.astype(np.float64), W, H, n_steps=3)
    Xp = _kernel_input(X, storage)
    stats = w_step(Xp, W, H, 2, 0.0, 0.0, 3, 0.0, True)
    A, B = stats.A, stats.B
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(W, expected_W, rtol=rtol)
    W64 = W.astype(np.float64)
    np.testing.assert_allclose(A, W64.T @ X.astype(np.float64), rtol=rtol)
    np.testing.assert_allclose(B, W64.T @ W64, rtol=rtol)


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kl_rows_match_numpy(storage, dtype):
    X = low_rank(dtype=dtype)
    W, H = _factors(X.shape[0], X.shape[1], 4, dtype=dtype)
    X64 = X.astype(np.float64)
    expected_W = _numpy_kl_w_step(X64, W, H)
    Xp = _kernel_input(X, storage)
    stats = w_step(Xp, W, H, 1, 0.0, 0.0, 1, 0.0, True)
    num, w_sum, part = stats.N, stats.v, stats.objective
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(W, expected_W, rtol=rtol)
    W64, H64 = W.astype(np.float64), H.astype(np.float64)
    WH = W64 @ H64
    np.testing.assert_allclose(num, W64.T @ (X64 / WH), rtol=rtol)
    np.testing.assert_allclose(w_sum, W64.sum(axis=0), rtol=rtol)
    nz = X64 > 0
    expected_part = np.sum(X64[nz] * np.log(X64[nz] / WH[nz]) - X64[nz])
    np.testing.assert_allclose(part, expected_part, rtol=rtol)


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_losses_match_numpy(storage, dtype):
    X = low_rank(dtype=dtype)
    W, H = _factors(X.shape[0], X.shape[1], 4, dtype=dtype)
    X64, WH = X.astype(np.float64), W.astype(np.float64) @ H.astype(np.float64)
    Xp = _kernel_input(X, storage)
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    fro = 0.5 * np.sum((X64 - WH) ** 2)
    np.testing.assert_allclose(divergence(Xp, W, H, 2), fro, rtol=rtol)
    nz = X64 > 0
    kl = np.sum(X64[nz] * np.log(X64[nz] / WH[nz])) - X64.sum() + WH.sum()
    np.testing.assert_allclose(divergence(Xp, W, H, 1), kl, rtol=rtol)


def test_objective_from_accumulators_is_exact(X_dense):
    W, H = _factors(*X_dense.shape, 4)
    Xp = _storage.prepare(X_dense)
    stats = w_step(Xp, W, H, 2, 0.0, 0.0, 1, 0.0, True)
    sq = float(np.sum(X_dense**2))
    np.testing.assert_allclose(
        fro_from_stats(sq, stats.A, stats.B, H), divergence(Xp, W, H, 2),
        rtol=1e-10)


def test_penalties_enter_the_denominator(X_dense):
    W, H = _factors(*X_dense.shape, 3)
    expected = W * (X_dense @ H.T) / (W @ (H @ H.T) + 0.5 + 0.2 * W)
    w_step(_storage.prepare(X_dense), W, H, 2, 0.5, 0.2, 1, 0.0, False)
    np.testing.assert_allclose(W, expected, rtol=1e-12)


@pytest.mark.parametrize("beta", [2, 1])
def test_dense_and_csr_fits_agree(beta):
    X = low_rank(dtype=np.float64)
    results = []
    for Xin in (X, sp.csr_matrix(X), sp.csc_matrix(X)):
        W, H = initialize(X, 3, "random", np.random.RandomState(0))
        res = fit_factors(_storage.prepare(Xin), W, H, beta, 30, 0.0)
        results.append(res)
    for res in results[1:]:
        np.testing.assert_allclose(res.W, results[0].W, rtol=1e-8)
        np.testing.assert_allclose(res.H, results[0].H, rtol=1e-8)
        np.testing.assert_allclose(res.history, results[0].history, rtol=1e-8)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 30),
    m=st.integers(1, 12),
    k=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
    loss_solver=st.sampled_from([(1, "mu"), (2, "mu"), (2, "cd"), (1, "cd")]),
    sparse=st.booleans(),
    zero_fraction=st.sampled_from([0.0, 0.5, 0.9]),
)
def test_objective_never_increases(n, m, k, seed, loss_solver, sparse,
                                   zero_fraction):
    """No step raises the objective: Lee & Seung's theorem for MU; for
    coordinate descent each coordinate is minimised exactly."""
    beta, solver = loss_solver
    rng = np.random.RandomState(seed)
    X = rng.exponential(size=(n, m))
    X[rng.rand(n, m) < zero_fraction] = 0.0
    Xp = _storage.prepare(sp.csr_matrix(X) if sparse else X)
    W, H = initialize(X, k, "random", rng)
    previous = divergence(Xp, W, H, beta)
    for _ in range(15):
        res = fit_factors(Xp, W, H, beta, 1, 0.0, solver=solver)
        current = divergence(Xp, W, H, beta)
        assert current <= previous * (1 + 1e-9) + 1e-12
        if beta == 2 or solver == "cd":  # exact at the new factors (KL MU:
            # before the H-step)
            assert res.objective == pytest.approx(current, rel=1e-6, abs=1e-9)
        previous = current
    assert np.all(W >= 0) and np.all(H >= 0)
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(H))


@pytest.mark.parametrize("beta", [2, 1])
def test_history_is_non_increasing(beta, X_dense):
    W, H = initialize(X_dense, 4, "nndsvda", np.random.RandomState(0))
    res = fit_factors(_storage.prepare(X_dense), W, H, beta, 40, 0.0)
    assert res.n_iter == 40
    assert np.all(np.diff(res.history) <= 1e-9 * res.history[:-1])


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("beta", [2, 1])
def test_float32_stays_float32(storage, beta):
    X = low_rank(dtype=np.float32)
    Xp = _kernel_input(X, storage)
    W, H = initialize(X, 3, "nndsvda", np.random.RandomState(0))
    assert W.dtype == H.dtype == np.float32
    res = fit_factors(Xp, W, H, beta, 20, 0.0)
    assert res.W.dtype == res.H.dtype == np.float32
    W64, H64 = initialize(X.astype(np.float64), 3, "nndsvda",
                          np.random.RandomState(0))
    res64 = fit_factors(_kernel_input(X.astype(np.float64), storage),
                           W64, H64, beta, 20, 0.0)
    np.testing.assert_allclose(res.history, res64.history, rtol=1e-3)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                    reason="needs at least 2 Numba threads to compare")
@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("beta, solver", [(2, "mu"), (1, "mu"), (2, "cd"),
                                          (1, "cd")])
def test_same_result_with_one_and_two_threads(storage, beta, solver,
                                              monkeypatch):
    # small inputs would run on one thread whatever is set: lift the bound
    monkeypatch.setattr(_engine, "SERIAL_WORK", 0)
    X = low_rank(n=203, m=17, seed=3)
    Xp = _kernel_input(X, storage)
    outputs = []
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            W, H = initialize(X, 4, "random", np.random.RandomState(0))
            res = fit_factors(Xp, W, H, beta, 15, 0.0, solver=solver)
            loss = divergence(Xp, res.W, res.H, beta)
            outputs.append((res.W.copy(), res.H.copy(), res.history.copy(), loss))
    finally:
        numba.set_num_threads(before)
    for a, b in zip(*outputs):
        np.testing.assert_array_equal(a, b)


def test_chunks_cover_all_rows():
    for n in (0, 1, 7, 8, 9, 1000):
        bounds = _kernels.chunk_bounds(n)
        assert bounds[0] == 0 and bounds[-1] == n
        assert np.all(np.diff(bounds) >= 0)


def test_tol_stops_early_and_max_iter_warns(X_dense):
    Xp = _storage.prepare(X_dense)
    W, H = initialize(X_dense, 3, "nndsvda", np.random.RandomState(0))
    res = fit_factors(Xp, W, H, 2, 500, 1e-3)
    assert res.converged and res.n_iter < 500
    W, H = initialize(X_dense, 3, "nndsvda", np.random.RandomState(0))
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = fit_factors(Xp, W, H, 2, 2, 1e-12)
    assert not res.converged and res.n_iter == 2


def test_verbose_reports_progress(X_dense, capsys):
    W, H = initialize(X_dense, 3, "nndsvda", np.random.RandomState(0))
    fit_factors(_storage.prepare(X_dense), W, H, 2, 3, 0.0, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert all("objective" in line and "elapsed" in line for line in lines)


def test_solve_codes_is_row_local(X_dense):
    W, H = initialize(X_dense, 4, "nndsvda", np.random.RandomState(0))
    fit_factors(_storage.prepare(X_dense), W, H, 2, 20, 0.0)
    w0 = np.full(4, 0.3)
    full = _problems.solve_codes(_storage.prepare(X_dense), H, Loss(2), w0,
                                 max_iter=100, tol=1e-4)
    part = _problems.solve_codes(_storage.prepare(X_dense[::-3]), H, Loss(2),
                                 w0, max_iter=100, tol=1e-4)
    np.testing.assert_array_equal(full[::-3], part)


@pytest.mark.parametrize("init", ["random", "nndsvd", "nndsvda", "nndsvdar"])
def test_inits_are_positive(init, X_dense):
    W, H = initialize(X_dense, 4, init, np.random.RandomState(0))
    assert W.shape == (X_dense.shape[0], 4) and H.shape == (4, X_dense.shape[1])
    # exact zeros are lifted: multiplicative updates could never leave them
    assert np.all(W > 0) and np.all(H > 0)


def test_nndsvd_needs_small_rank_but_default_falls_back(X_dense):
    with pytest.raises(ValueError, match="init='random'"):
        initialize(X_dense, X_dense.shape[1] + 1, "nndsvd", np.random.RandomState(0))
    assert default_init(X_dense.shape[1] + 1, *X_dense.shape) == "random"
    assert default_init(3, *X_dense.shape) == "nndsvda"


def test_custom_init_is_copied(X_dense):
    W0, H0 = _factors(*X_dense.shape, 3)
    W0_copy, H0_copy = W0.copy(), H0.copy()
    W, H = initialize(X_dense, 3, "custom", None, W0, H0)
    fit_factors(_storage.prepare(X_dense), W, H, 2, 5, 0.0)
    np.testing.assert_array_equal(W0, W0_copy)
    np.testing.assert_array_equal(H0, H0_copy)
    with pytest.raises(ValueError, match="shape"):
        initialize(X_dense, 3, "custom", None, W0[:, :2], H0)
    with pytest.raises(ValueError, match="both W and H"):
        initialize(X_dense, 3, "custom", None, W0, None)


@pytest.mark.parametrize("beta", [2, 1])
def test_all_zero_rows_columns_and_matrix_stay_finite(beta):
    X = low_rank()
    X[3] = 0.0
    X[:, 2] = 0.0
    for data in (X, np.zeros((5, 4))):
        for Xin in (data, sp.csr_matrix(data)):
            Xp = _storage.prepare(Xin)
            W, H = initialize(data, 2, "random", np.random.RandomState(0))
            res = fit_factors(Xp, W, H, beta, 10, 1e-4)
            assert np.all(np.isfinite(res.W)) and np.all(np.isfinite(res.H))
            assert np.isfinite(res.objective)


def test_prepare_never_modifies_input():
    X = sp.csr_matrix(low_rank())
    X.data[:3] = 0.0  # explicit zeros
    X = X[:, ::-1].tocsr()  # unsorted indices
    X.has_sorted_indices = False
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    Xp = _storage.prepare(X)
    assert np.all(Xp.data != 0)
    for a, b in zip(before, (X.data, X.indices, X.indptr)):
        np.testing.assert_array_equal(a, b)


def test_small_inputs_run_on_one_thread_and_the_setting_is_restored(X_dense):
    before = numba.get_num_threads()
    with _engine.engine_threads(X_dense.size * 3):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    large = np.zeros((_engine.SERIAL_WORK // 3 + 1, 1))
    with _engine.engine_threads(large.size * 3):
        assert numba.get_num_threads() == before
    assert numba.get_num_threads() == before


@pytest.mark.parametrize("beta, cd", [(2, False), (2, True), (1, False)])
def test_statistics_gathered_from_columns_match_the_row_pass(beta, cd):
    X = low_rank(n=75, m=13, seed=4)
    Xp = _storage.prepare(sp.csr_matrix(X))
    W, H = _factors(75, 13, 3)
    W_rows, W_cols = W.copy(), W.copy()
    rule = _kernels.CD_FRO if cd else Loss(beta).mu_rule
    mode = _kernels.ACCUMULATE | _kernels.OBJECTIVE
    f = Factors(H)
    # scattered during the row pass: the kernel without GATHERED
    none = np.zeros(0, dtype=np.int64)
    At, B, Nt, _, v, _, obj = _kernels.pass_csr(
        Xp.data, Xp.indices, Xp.indptr, W_rows, f.H, f.Ht, f.HHt, f.Hsum,
        np.zeros((0, 3)), np.zeros(0), np.zeros(0, dtype=bool), none, none,
        rule, mode, 2, row_settings(l1=0.1))
    rows = (At.T, B) if beta == 2 else (Nt.T, v.ravel(), obj)
    cols = w_step(Xp, W_cols, H, beta, 0.1, 0.0, 2, 0.0, True, cd)
    cols = (cols.A, cols.B) if beta == 2 else (cols.N, cols.v, cols.objective)
    np.testing.assert_allclose(W_cols, W_rows, rtol=1e-12)
    for a, b in zip(cols, rows):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_a_routed_call_compiles_the_chosen_kernel_only():
    # What keeps a first fit from compiling every rule: a call routed on a
    # literal compiles one kernel; an ordinary argument gets the fallback.
    from numba import literally, njit

    from sknmfcluster._kernels._jit import routed

    double, negate, either = (njit(lambda x: 2.0 * x), njit(lambda x: -x),
                              njit(lambda x: x + 0.5))
    route = routed(lambda key: {1: double, 2: negate}.get(key, either),
                   "route", "test route")

    @njit
    def literal(key, x):
        literally(key)
        return route(key, x)

    @njit
    def ordinary(key, x):
        return route(key, x)

    assert literal(2, 3.0) == -3.0
    assert not double.signatures and len(negate.signatures) == 1
    assert literal(1, 3.0) == 6.0 and len(double.signatures) == 1
    assert ordinary(1, 3.0) == 3.5 and len(either.signatures) == 1
    with pytest.raises(TypeError, match="called from kernels only"):
        route(1, 3.0)


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rule", [_kernels.MU_FRO, _kernels.CD_FRO])
def test_frobenius_solve_from_xh_is_the_pass_row_code(storage, dtype, rule):
    # solve_rows takes x @ H.T once and solves from it; every row must come
    # out bit for bit as from the pass's one-row code, the graph pull,
    # penalties and the stopping test included
    X = low_rank(n=45, m=11, k=3, dtype=dtype)
    X[7] = 0.0  # an empty row
    Xp = _kernel_input(X, storage)
    W0, H = _factors(45, 11, 4, dtype=dtype)
    factors = Factors(H)
    rng = np.random.RandomState(3)
    aux, aux_l2 = rng.rand(45, 4), rng.rand(45)
    config = row_settings(l1=0.01, l2=0.02, tol=1e-3)
    for pull in (False, True):
        extra = {"aux": aux, "aux_l2": aux_l2} if pull else {}
        W_solve = W0.copy()
        _engine.solve_rows(Xp, W_solve, factors, rule, config, max_iter=40,
                           **extra)
        W_pass, done = W0.copy(), np.zeros(45, dtype=np.bool_)
        Xp.run_pass(W_pass, factors, rule, 0, 40, config, done=done, **extra)
        np.testing.assert_array_equal(W_solve, W_pass)
        assert done.any() and not np.array_equal(W_solve, W0)


def test_the_default_method_compiles_no_pass_kernel(monkeypatch, digits):
    # the pass kernels carry every rule and the statistics of a fit and
    # take most of a first run's compile time; fitting the default
    # (graph) method and predicting with it solve rows only, from X @ H.T
    from sknmfcluster import NMFClusterer
    from sknmfcluster._kernels import _csr, _dense, _dispatch

    def refuse(*key):
        raise AssertionError(f"a pass kernel was built for {key}")

    monkeypatch.setattr(_dense, "_pass_dense_for", refuse)
    monkeypatch.setattr(_csr, "_pass_csr_for", refuse)
    monkeypatch.setattr(_dispatch, "_PASSES_RUN", set())  # a fresh process
    X = digits[0][:300]
    model = NMFClusterer(n_clusters=5, random_state=0).fit(X)
    model.predict(X[:20])
    model.transform(sp.csr_matrix(X[:20]))


def test_the_default_method_compiles_no_divergence_kernel(monkeypatch,
                                                          digits):
    # reconstruction_err_ of the Frobenius loss on dense data comes from
    # BLAS by blocks of rows: the Numba divergence kernel, about 2 s of a
    # first run's compiling, is built only for other losses or NaN
    from sknmfcluster import NMFClusterer, SparseNMF

    def refuse(*args):
        raise AssertionError("the divergence kernel was used")

    monkeypatch.setattr(_kernels, "divergence_dense", refuse)
    X = digits[0][:300]
    assert NMFClusterer(n_clusters=5, random_state=0).fit(X) \
        .reconstruction_err_ > 0
    assert SparseNMF(5, max_iter=20, random_state=0).fit(X) \
        .reconstruction_err_ > 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_frobenius_divergence_by_blocks_is_the_kernel_s(monkeypatch, dtype):
    rng = np.random.RandomState(0)
    X = rng.rand(37, 11).astype(dtype)
    W = rng.rand(37, 4).astype(dtype)
    H = rng.rand(4, 11).astype(dtype)
    kernel = _kernels.divergence_dense(X, W, H, 2.0, np.zeros(0, np.int64),
                                       np.zeros(0, np.int64))
    monkeypatch.setattr(_storage, "FROBENIUS_BLOCK_BYTES", 8 * 11 * 5)
    blocks = _storage.prepare(X).divergence(W, H, 2.0)  # 5 rows at a time
    assert blocks == pytest.approx(kernel, rel=1e-12)
    assert blocks == pytest.approx(0.5 * np.sum((X.astype(float) - W.astype(
        float) @ H.astype(float)) ** 2), rel=1e-12)
    with pytest.raises(ValueError, match="do not fit"):
        _storage.prepare(X).divergence(W[:5], H, 2.0)


@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_a_solve_after_a_fit_takes_the_pass_it_has(monkeypatch, storage):
    # after a fit, the pass kernel is compiled: transform takes it rather
    # than compiling the solve kernels too (the results are the same, see
    # test_frobenius_solve_from_xh_is_the_pass_row_code)
    from sknmfcluster import SparseNMF

    X = sp.csr_matrix(low_rank()) if storage == "csr" else low_rank()
    model = SparseNMF(3, max_iter=20, random_state=0).fit(X)

    def refuse(*args):
        raise AssertionError("the solve kernels were used after a fit")

    monkeypatch.setattr(_kernels, "solve_fro_rows", refuse)
    assert model.transform(X).shape == (X.shape[0], 3)


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("rule", [_kernels.CD_FRO, _kernels.MU_KL,
                                  _kernels.CD_KL])
def test_a_pass_that_fits_nothing_is_compiled_without_statistics(
        monkeypatch, storage, rule):
    # a solve pass takes a version without the statistics code (smaller to
    # compile) until the fitting version has run, then that one (compiled
    # already); both give the same rows
    from sknmfcluster._kernels import _csr, _dense, _dispatch

    module, name = ((_dense, "_pass_dense_for") if storage == "dense"
                    else (_csr, "_pass_csr_for"))
    built, original = [], getattr(module, name)
    monkeypatch.setattr(module, name,
                        lambda *key: built.append(key) or original(*key))
    monkeypatch.setattr(_dispatch, "_PASSES_RUN", set())
    Xp = _kernel_input(low_rank(), storage)
    W0, H = _factors(60, 12, 3)
    factors, config = Factors(H), row_settings(tol=1e-4)
    solved = []
    for mode in (0, _kernels.ACCUMULATE, 0):
        W = W0.copy()
        Xp.run_pass(W, factors, rule, mode, 5, config,
                    done=None if mode else np.zeros(60, dtype=np.bool_))
        solved.append(W)
    family = {_kernels.CD_FRO: _dispatch.FRO_FAMILY,
              _kernels.MU_KL: _dispatch.KL_FAMILY,
              _kernels.CD_KL: _dispatch.KL_CD_FAMILY}[rule]
    masked = rule != _kernels.CD_FRO
    assert built == [(family + _dispatch.SOLVING, masked), (family, masked),
                     (family, masked)]
    np.testing.assert_array_equal(solved[0], solved[2])
