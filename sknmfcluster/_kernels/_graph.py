"""Numba kernels of symmetric NMF and of products with the sparse graph.

Arrays and scalars in, arrays written in place or returned, like
:mod:`sknmfcluster._kernels._dense`. A sparse graph travels as CSR
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
from numba import prange

from ._common import (EPSILON, N_CHUNKS, chunk_bounds, csr_row_times,
                      ordered_sum, sum_chunks)
from ._jit import interruptible, kernel


@kernel(parallel=True)
def _csr_times_dense(data, indices, indptr, W, out):
    """``out = A @ W`` for CSR ``A`` (n_rows, n) and dense ``W`` (n, k).

    out : (n_rows, k), overwritten; each row is summed in float64 in the
    order of the stored non-zeros.
    """
    n_rows = indptr.shape[0] - 1
    k = W.shape[1]
    if out.shape[0] != n_rows or out.shape[1] != k:
        raise ValueError("csr_times_dense: out must be (n_rows, W.shape[1])")
    if indptr[n_rows] != data.shape[0] or indices.shape[0] != data.shape[0]:
        raise ValueError("csr_times_dense: inconsistent CSR arrays")
    bounds = chunk_bounds(n_rows)
    for c in prange(N_CHUNKS):
        row = np.empty(k)
        for i in range(bounds[c], bounds[c + 1]):
            csr_row_times(data, indices, indptr[i], indptr[i + 1], W, row)
            for j in range(k):
                out[i, j] = row[j]


csr_times_dense = interruptible(_csr_times_dense)


@kernel(parallel=True)
def _symnmf_stats(data, indices, indptr, W, AW):
    """One pass over the affinity: ``AW = A @ W``, ``G = W.T @ W``, ``<W, AW>``.

    ``(data, indices, indptr)`` is the symmetric A (n, n) in CSR form,
    W : (n, k), AW : (n, k) float64, overwritten. Returns ``G`` (k, k) and
    the scalar ``trace(W.T @ A @ W)``, both float64, with which
    ``||A - W W.T||_F^2 = ||A||_F^2 - 2 trace(W.T A W) + ||G||_F^2``.
    """
    n, k = W.shape
    if indptr.shape[0] != n + 1 or AW.shape[0] != n or AW.shape[1] != k:
        raise ValueError("symnmf_stats: A, W and AW must have n rows")
    if indptr[n] != data.shape[0] or indices.shape[0] != data.shape[0]:
        raise ValueError("symnmf_stats: inconsistent CSR arrays")
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
        for j in range(k):
            for q in range(k):
                G_parts[c, j, q] = G_local[j, q]
        inner_parts[c] = inner
    G = sum_chunks(G_parts)
    inner = ordered_sum(inner_parts)
    return G, inner


symnmf_stats = interruptible(_symnmf_stats)


@kernel(parallel=True)
def _symnmf_update(W, AW, G, exponent, out):
    """Multiplicative SymNMF step ``out = W * (AW / (W @ G)) ** exponent``.

    W : (n, k), AW = A @ W : (n, k), G = W.T @ W : (k, k), out : (n, k)
    overwritten. ``exponent = 1/4`` never increases ``||A - W W.T||_F^2``
    for a non-negative A (see :func:`sknmfcluster._problems.SymNMF`);
    larger exponents are bolder steps the solver checks before accepting.
    """
    n, k = W.shape
    if AW.shape[0] != n or AW.shape[1] != k or out.shape[0] != n \
            or out.shape[1] != k or G.shape[0] != k or G.shape[1] != k:
        raise ValueError("symnmf_update: W, AW, out must be (n, k), G (k, k)")
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


symnmf_update = interruptible(_symnmf_update)
