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
outputs need no accumulator: each row is written by one thread. The
kernels here are serial over a span of chunks and run on the threads of
:mod:`._pool` (compiled two to three times faster than ``prange``).

No ``fastmath`` flag: its ``nnan``/``ninf`` assumptions may delete the guards
in front of the divisions.
"""

import numpy as np

from ._common import EPSILON, N_CHUNKS, chunk_bounds, csr_row_times
from ._jit import interruptible, kernel
from ._pool import in_chunk_order, over_chunks


@kernel(nogil=True)
def _csr_times_dense(c0, c1, data, indices, indptr, W, out):
    """Chunks ``c0 <= c < c1`` of :func:`csr_times_dense`."""
    n_rows = indptr.shape[0] - 1
    k = W.shape[1]
    if out.shape[0] != n_rows or out.shape[1] != k:
        raise ValueError("csr_times_dense: out must be (n_rows, W.shape[1])")
    if indptr[n_rows] != data.shape[0] or indices.shape[0] != data.shape[0]:
        raise ValueError("csr_times_dense: inconsistent CSR arrays")
    bounds = chunk_bounds(n_rows)
    row = np.empty(k)
    for c in range(c0, c1):
        for i in range(bounds[c], bounds[c + 1]):
            csr_row_times(data, indices, indptr[i], indptr[i + 1], W, row)
            for j in range(k):
                out[i, j] = row[j]


_csr_times_dense_chunks = interruptible(_csr_times_dense)


def csr_times_dense(data, indices, indptr, W, out):
    """``out = A @ W`` for CSR ``A`` (n_rows, n) and dense ``W`` (n, k).

    out : (n_rows, k), overwritten; each row is summed in float64 in the
    order of the stored non-zeros.
    """
    over_chunks(_csr_times_dense_chunks, indptr.shape[0] - 1, data, indices,
                indptr, W, out)


@kernel(nogil=True)
def _symnmf_stats(c0, c1, data, indices, indptr, W, AW, G_parts, inner_parts):
    """Chunks ``c0 <= c < c1`` of :func:`symnmf_stats`: ``AW``, and each
    chunk's ``G`` and ``<W, AW>`` added to ``G_parts[c]`` and
    ``inner_parts[c]`` (zero on entry)."""
    n, k = W.shape
    if indptr.shape[0] != n + 1 or AW.shape[0] != n or AW.shape[1] != k:
        raise ValueError("symnmf_stats: A, W and AW must have n rows")
    if indptr[n] != data.shape[0] or indices.shape[0] != data.shape[0]:
        raise ValueError("symnmf_stats: inconsistent CSR arrays")
    bounds = chunk_bounds(n)
    row = np.empty(k)
    for c in range(c0, c1):
        # each chunk's accumulators (zero), summed in chunk order by the
        # caller
        G_local = G_parts[c]
        inner = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            csr_row_times(data, indices, indptr[i], indptr[i + 1], W, row)
            for j in range(k):
                AW[i, j] = row[j]
                wj = np.float64(W[i, j])
                inner += wj * row[j]
                for q in range(k):
                    G_local[j, q] += wj * W[i, q]
        inner_parts[c] = inner


_symnmf_stats_chunks = interruptible(_symnmf_stats)


def symnmf_stats(data, indices, indptr, W, AW):
    """One pass over the affinity: ``AW = A @ W``, ``G = W.T @ W``, ``<W, AW>``.

    ``(data, indices, indptr)`` is the symmetric A (n, n) in CSR form,
    W : (n, k), AW : (n, k) float64, overwritten. Returns ``G`` (k, k) and
    the scalar ``trace(W.T @ A @ W)``, both float64, with which
    ``||A - W W.T||_F^2 = ||A||_F^2 - 2 trace(W.T A W) + ||G||_F^2``.
    """
    k = W.shape[1]
    # zeros: the chunks of a span without rows are never visited
    G_parts = np.zeros((N_CHUNKS, k, k))
    inner_parts = np.zeros(N_CHUNKS)
    over_chunks(_symnmf_stats_chunks, W.shape[0], data, indices, indptr, W,
                AW, G_parts, inner_parts)
    return in_chunk_order(G_parts), float(in_chunk_order(inner_parts))


@kernel(nogil=True)
def _symnmf_update(c0, c1, W, AW, G, exponent, out):
    """Chunks ``c0 <= c < c1`` of :func:`symnmf_update`."""
    n, k = W.shape
    if AW.shape[0] != n or AW.shape[1] != k or out.shape[0] != n \
            or out.shape[1] != k or G.shape[0] != k or G.shape[1] != k:
        raise ValueError("symnmf_update: W, AW, out must be (n, k), G (k, k)")
    bounds = chunk_bounds(n)
    for c in range(c0, c1):
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


_symnmf_update_chunks = interruptible(_symnmf_update)


def symnmf_update(W, AW, G, exponent, out):
    """Multiplicative SymNMF step ``out = W * (AW / (W @ G)) ** exponent``.

    W : (n, k), AW = A @ W : (n, k), G = W.T @ W : (k, k), out : (n, k)
    overwritten. ``exponent = 1/4`` never increases ``||A - W W.T||_F^2``
    for a non-negative A (see :func:`sknmfcluster._problems.SymNMF`);
    larger exponents are bolder steps the solver checks before accepting.
    """
    over_chunks(_symnmf_update_chunks, W.shape[0], W, AW, G, float(exponent),
                out)
