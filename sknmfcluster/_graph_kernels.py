"""Numba kernels of the graph-based NMF clusterings.

Arrays and scalars in, arrays written in place or returned, like
:mod:`sknmfcluster._kernels`. A sparse graph travels as CSR
``(data, indices, indptr)`` and is only ever read at its non-zeros: no kernel
forms a dense ``n x n`` matrix.

Notation: ``A`` (n, n) is a sparse non-negative affinity or adjacency matrix,
``W`` (n, k) the factor of the samples, ``X`` (n, m) the data, ``H`` (k, m)
the components.

Rows are split into ``N_CHUNKS`` contiguous chunks independent of the thread
count; reductions over rows use one float64 accumulator per chunk, summed in
chunk order, so results do not depend on the number of threads. Row-wise
outputs need no accumulator: each row is written by one thread.

No ``fastmath`` flag: its ``nnan``/``ninf`` assumptions may delete the guards
in front of the divisions.
"""

import numpy as np
from numba import njit, prange

from ._kernels import (
    EPSILON,
    N_CHUNKS,
    _fro_row_steps,
    accumulate_csr_row,
    chunk_bounds,
    csr_row_times,
    sum_parts,
)


@njit(cache=True, parallel=True)
def csr_times_dense(data, indices, indptr, W, out):
    """``out = A @ W`` for CSR ``A`` (n_rows, n) and dense ``W`` (n, k).

    out : (n_rows, k), overwritten; each row is summed in float64 in the
    order of the stored non-zeros.
    """
    n_rows = indptr.shape[0] - 1
    k = W.shape[1]
    bounds = chunk_bounds(n_rows)
    for c in prange(N_CHUNKS):
        row = np.empty(k)
        for i in range(bounds[c], bounds[c + 1]):
            csr_row_times(data, indices, indptr[i], indptr[i + 1], W, row)
            for j in range(k):
                out[i, j] = row[j]


@njit(cache=True, parallel=True)
def symnmf_stats(data, indices, indptr, W, AW):
    """One pass over the affinity: ``AW = A @ W``, ``G = W.T @ W``, ``<W, AW>``.

    ``(data, indices, indptr)`` is the symmetric A (n, n) in CSR form,
    W : (n, k), AW : (n, k) float64, overwritten. Returns ``G`` (k, k) and
    the scalar ``trace(W.T @ A @ W)``, both float64, with which
    ``||A - W W.T||_F^2 = ||A||_F^2 - 2 trace(W.T A W) + ||G||_F^2``.
    """
    n, k = W.shape
    G_parts = np.zeros((N_CHUNKS, k, k))
    inner_parts = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        # thread-local accumulators, written once: no false sharing
        row = np.empty(k)
        G_local = np.zeros((k, k))
        inner = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            csr_row_times(data, indices, indptr[i], indptr[i + 1], W, row)
            for j in range(k):
                AW[i, j] = row[j]
                wj = np.float64(W[i, j])
                inner += wj * row[j]
                for q in range(k):
                    G_local[j, q] += wj * W[i, q]
        G_parts[c] = G_local
        inner_parts[c] = inner
    G = np.zeros((k, k))
    inner = 0.0
    for c in range(N_CHUNKS):
        G += G_parts[c]
        inner += inner_parts[c]
    return G, inner


@njit(cache=True, parallel=True)
def symnmf_update(W, AW, G, exponent, out):
    """Multiplicative SymNMF step ``out = W * (AW / (W @ G)) ** exponent``.

    W : (n, k), AW = A @ W : (n, k), G = W.T @ W : (k, k), out : (n, k)
    overwritten. ``exponent = 1/4`` never increases ``||A - W W.T||_F^2``
    for a non-negative A (see :func:`sknmfcluster._graph.fit_symnmf`);
    larger exponents are bolder steps the solver checks before accepting.
    """
    n, k = W.shape
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        for i in range(bounds[c], bounds[c + 1]):
            for j in range(k):
                den = 0.0
                for q in range(k):
                    den += np.float64(W[i, q]) * G[q, j]
                ratio = AW[i, j] / max(den, EPSILON)
                if exponent == 1.0:
                    factor = ratio
                elif exponent == 0.25:
                    factor = np.sqrt(np.sqrt(ratio))
                else:
                    factor = ratio ** exponent
                out[i, j] = W[i, j] * factor


@njit(cache=True)
def _graph_row(x_h, sw, w, HHt, strength, degree, n_steps, tol, new):
    """Graph-regularised steps for one row of ``W`` with ``H`` and neighbours fixed.

    ``x_h = x @ H.T`` (k,) is overwritten by the numerator ``x @ H.T +
    strength * (S @ W)[i]`` where ``sw = (S @ W)[i]`` (k,); the update
    ``w <- w * num / (w @ HHt + strength * degree * w)`` is the engine's
    Frobenius row step with ``l2 = strength * degree``.
    """
    for j in range(w.shape[0]):
        x_h[j] += strength * sw[j]
    _fro_row_steps(x_h, w, HHt, 0.0, strength * degree, n_steps, tol, new)


@njit(cache=True, parallel=True)
def graph_rows_dense(X, W, H, HHt, SW, degree, strength, n_steps, tol,
                     accumulate):
    """Graph-regularised W-step over dense rows (Cai et al. 2011, eq. 12).

    X : (n, m), W : (n, k) updated in place, H : (k, m), HHt : (k, k),
    SW = S @ W_neighbours : (n, k), degree : (n,) row sums of S. Returns
    ``A = W.T @ X`` (k, m) and ``B = W.T @ W`` (k, k) in float64 with the
    new W (zero-sized when ``accumulate`` is false).
    """
    n, m = X.shape
    k = H.shape[0]
    n_acc = N_CHUNKS if accumulate else 0
    A_parts = np.zeros((n_acc, k, m))
    B_parts = np.zeros((n_acc, k, k))
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        xh = np.empty(k)
        new = np.empty(k)
        for i in range(bounds[c], bounds[c + 1]):
            x = X[i]
            w = W[i]
            for j in range(k):
                s = 0.0
                for f in range(m):
                    s += x[f] * H[j, f]
                xh[j] = s
            _graph_row(xh, SW[i], w, HHt, strength, degree[i], n_steps, tol,
                       new)
            if accumulate:
                for j in range(k):
                    wj = np.float64(w[j])
                    for q in range(k):
                        B_parts[c, j, q] += wj * w[q]
                    if wj != 0.0:
                        for f in range(m):
                            A_parts[c, j, f] += wj * x[f]
    return sum_parts(A_parts, B_parts, accumulate)


@njit(cache=True, parallel=True)
def graph_rows_csr(data, indices, indptr, W, Ht, HHt, SW, degree, strength,
                   n_steps, tol, accumulate):
    """Graph-regularised W-step over CSR rows; see :func:`graph_rows_dense`.

    ``(data, indices, indptr)`` is X (n, m), Ht : (m, k). Returns
    ``At = X.T @ W`` (m, k) and ``B = W.T @ W`` (k, k) in float64.
    """
    n, k = W.shape
    m = Ht.shape[0]
    n_acc = N_CHUNKS if accumulate else 0
    At_parts = np.zeros((n_acc, m, k))
    B_parts = np.zeros((n_acc, k, k))
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        xh = np.empty(k)
        new = np.empty(k)
        for i in range(bounds[c], bounds[c + 1]):
            w = W[i]
            csr_row_times(data, indices, indptr[i], indptr[i + 1], Ht, xh)
            _graph_row(xh, SW[i], w, HHt, strength, degree[i], n_steps, tol,
                       new)
            if accumulate:
                accumulate_csr_row(data, indices, indptr[i], indptr[i + 1], w,
                                   At_parts[c], B_parts[c])
    return sum_parts(At_parts, B_parts, accumulate)
