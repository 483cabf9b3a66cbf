"""The kernels that run their row chunks on Python threads (``_kernels._pool``)."""

import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from sknmfcluster import _kernels, _neighbor_kernels
from sknmfcluster._kernels import _pool


def _calls():
    """Each chunked kernel, called on fresh outputs: name -> function returning
    the outputs."""
    rng = np.random.RandomState(0)
    n, m, k = 203, 17, 4
    A = sp.random(n, n, density=0.05, random_state=1, format="csr")
    A = sp.csr_matrix(A + A.T)
    A.sort_indices()
    W = rng.rand(n, k)
    X = rng.rand(n, m)
    Xs = sp.csr_matrix(np.where(X < 0.5, 0.0, X))
    H = rng.rand(k, m)
    cand = rng.randint(0, n, size=(n, 6))
    settings = np.zeros(_kernels.N_SETTINGS)
    no = (np.zeros((0, 0)), np.zeros(0), np.zeros(0, dtype=np.bool_))

    def times():
        out = np.empty((n, k))
        _kernels.csr_times_dense(A.data, A.indices, A.indptr, W, out)
        return [out]

    def stats():
        AW = np.empty((n, k))
        G, inner = _kernels.symnmf_stats(A.data, A.indices, A.indptr, W, AW)
        return [AW, G, np.array(inner)]

    def update():
        out = np.empty((n, k))
        _kernels.symnmf_update(W, A @ W, W.T @ W, 0.25, out)
        return [out]

    def xh():
        out = np.empty((n, k))
        _kernels.xh_dense(X, H, out)
        return [out]

    def solve(rule):
        def run():
            V = W.copy()
            _kernels.solve_fro_rows(X @ H.T, V, H @ H.T, *no, rule, 3,
                                    settings)
            return [V]
        return run

    def dists():
        out = np.empty(cand.shape)
        _neighbor_kernels.sq_distances_dense(X, X, cand, out)
        out_csr = np.empty(cand.shape)
        _neighbor_kernels.sq_distances_csr(Xs.data, Xs.indices, Xs.indptr,
                                           Xs.data, Xs.indices, Xs.indptr,
                                           cand, out_csr)
        return [out, out_csr]

    return {"csr_times_dense": times, "symnmf_stats": stats,
            "symnmf_update": update, "xh_dense": xh,
            "solve_fro_rows cd": solve(_kernels.CD_FRO),
            "solve_fro_rows mu": solve(_kernels.MU_FRO),
            "sq_distances": dists}


@pytest.mark.parametrize("name", sorted(_calls()))
def test_chunked_kernels_give_the_same_bits_on_any_thread_count(name):
    before = numba.get_num_threads()
    results = []
    try:
        for threads in sorted({1, 2, 3, before}):
            if threads > numba.config.NUMBA_NUM_THREADS:
                continue  # numba refuses more threads than it started with
            numba.set_num_threads(threads)
            results.append(_calls()[name]())
    finally:
        numba.set_num_threads(before)
    assert len(results) >= 2 or numba.config.NUMBA_NUM_THREADS == 1
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_spans_cover_every_chunk_once():
    for threads in range(1, _kernels.N_CHUNKS + 3):
        parts = _pool.spans(threads)
        assert len(parts) == min(threads, _kernels.N_CHUNKS)
        assert parts[0][0] == 0 and parts[-1][1] == _kernels.N_CHUNKS
        assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
        assert all(c1 > c0 for c0, c1 in parts)


def test_an_error_in_any_span_is_raised_after_every_span_ended(monkeypatch):
    # the calling thread's span succeeds, a pool thread's raises: the call
    # raises it, and only once every span has returned
    ended = []

    def kernel(c0, c1, out):
        if c0 > 0:
            raise ValueError(f"span {c0}")
        out[c0:c1] = 1.0
        ended.append(c0)

    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    out = np.zeros(_kernels.N_CHUNKS)
    with pytest.raises(ValueError, match="span 4"):
        _pool.over_chunks(kernel, 100, out)
    assert ended == [0] and out[:4].all() and not out[4:].any()


def test_spans_without_rows_are_skipped(monkeypatch):
    # one row (the engine solves long rows one at a time): one span, on the
    # calling thread, which takes every chunk; rows in both halves: two
    import threading
    seen = []

    def kernel(c0, c1):
        seen.append((c0, c1, threading.current_thread() is caller))

    caller = threading.current_thread()
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    _pool.over_chunks(kernel, 1)
    assert seen == [(0, _kernels.N_CHUNKS, True)]
    seen.clear()
    _pool.over_chunks(kernel, 2)
    half = _kernels.N_CHUNKS // 2
    assert sorted(seen) == [(0, half, True), (half, _kernels.N_CHUNKS, False)]


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_reductions_are_right_when_a_span_has_no_rows(monkeypatch, n):
    # three threads and two rows: the first span holds no row and is
    # skipped; its chunks' accumulators must still count as zeros
    monkeypatch.setattr(numba, "get_num_threads", lambda: 3)
    rng = np.random.RandomState(n)
    A = sp.csr_matrix(rng.rand(n, n) + rng.rand(n, n).T)
    W = rng.rand(n, 2)
    AW = np.empty_like(W)
    for _ in range(3):
        # freed memory of the accumulators' size, full of NaN: what an
        # accumulator not set to zero would start from
        junk = [np.full((_kernels.N_CHUNKS, 2, 2), np.nan),
                np.full(_kernels.N_CHUNKS, np.nan)]
        del junk
        G, inner = _kernels.symnmf_stats(A.data, A.indices, A.indptr, W, AW)
        np.testing.assert_allclose(AW, A @ W, rtol=1e-12)
        np.testing.assert_allclose(G, W.T @ W, rtol=1e-12)
        assert inner == pytest.approx(np.vdot(W, A @ W), rel=1e-12)


def test_a_kernel_s_shape_check_reaches_the_caller():
    A = sp.identity(5, format="csr")
    with pytest.raises(ValueError, match="symnmf_stats: A, W and AW"):
        _kernels.symnmf_stats(A.data, A.indices, A.indptr, np.ones((5, 2)),
                              np.ones((4, 2)))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_the_pool_works_in_a_forked_child():
    # the threads of a pool do not survive fork: a child that used the
    # parent's pool would wait for ever
    code = textwrap.dedent("""
        import os, sys
        import numba, numpy as np
        from sknmfcluster import _kernels
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        X, H = np.ones((64, 5)), np.ones((2, 5))
        out = np.empty((64, 2))
        _kernels.xh_dense(X, H, out)  # the parent starts its pool
        pid = os.fork()
        if pid == 0:
            out[:] = 0.0
            _kernels.xh_dense(X, H, out)
            os._exit(0 if (out == 5.0).all() else 3)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "0"


def test_the_default_fit_compiles_no_parallel_kernel(tmp_path):
    # a prange kernel takes Numba two to three times longer to compile than
    # the serial one: the first fit and predict of the default method
    # compile only serial kernels, which run their chunks on the pool's
    # threads
    code = textwrap.dedent("""
        import numpy as np
        from numba.core import event
        import sknmfcluster

        parallel = set()

        class Listener(event.Listener):
            def on_start(self, ev):
                d = ev.data["dispatcher"]
                if getattr(d, "targetoptions", {}).get("parallel"):
                    parallel.add(d.py_func.__qualname__)

            def on_end(self, ev):
                pass

        event.register("numba:compile", Listener())
        X = np.random.RandomState(0).rand(100, 20)
        model = sknmfcluster.NMFClusterer(3, random_state=0).fit(X)
        model.predict(X[:7])
        print(sorted(parallel))
    """)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
