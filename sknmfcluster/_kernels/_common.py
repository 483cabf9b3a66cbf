"""Constants and small helpers shared by every kernel.

Rows are split into ``N_CHUNKS`` contiguous chunks, independent of the
thread count, each with a private float64 accumulator; accumulators are
summed in chunk order, so no result depends on the number of threads.
"""

import numpy as np

from ._jit import REDUCTION_MATH, kernel

#: Floor of every denominator of a multiplicative update and of every
#: argument of a logarithm. Denominators are computed in float64, so the
#: floor can sit far below float32's resolution: it only prevents a division
#: by an exact zero (Numba raises on scalar division by zero). The solvers
#: keep the data in a range where it does not bias the updates (see
#: ``sknmfcluster._storage.SAFE_RANGE``).
EPSILON = 1e-30

#: Number of row chunks with a private accumulator, fixed so that the
#: summation order, hence the result, does not depend on the thread count.
N_CHUNKS = 8


@kernel()
def ordered_sum(parts):
    """Sum of the per-chunk partial results, in chunk order.

    Kept out of the parallel kernels on purpose: there, ``parts.sum()`` would
    become a parallel reduction whose order depends on the thread count.
    """
    total = 0.0
    for c in range(parts.shape[0]):
        total += parts[c]
    return total


@kernel()
def sum_chunks(parts):
    """``parts.sum(axis=0)`` in float64, in chunk order; parts : (c, p, q)."""
    total = np.zeros((parts.shape[1], parts.shape[2]))
    for c in range(parts.shape[0]):
        total += parts[c]
    return total


@kernel()
def chunk_bounds(n_rows):
    """Start rows of the ``N_CHUNKS`` chunks, shape ``(N_CHUNKS + 1,)``."""
    bounds = np.empty(N_CHUNKS + 1, dtype=np.int64)
    for c in range(N_CHUNKS + 1):
        bounds[c] = (c * n_rows) // N_CHUNKS
    return bounds


@kernel(fastmath=REDUCTION_MATH)
def dot(a, b):
    """``a @ b`` for two vectors, accumulated in float64."""
    s = 0.0
    for q in range(a.shape[0]):
        s += np.float64(a[q]) * b[q]
    return s


@kernel()
def csr_row_times(data, indices, start, stop, M, out):
    """``out = a @ M`` for the CSR row ``a = data[start:stop]`` at ``indices``.

    M : (m, k), out : (k,) float64, overwritten. With ``M = H.T`` this is the
    row's ``x @ H.T``.
    """
    k = M.shape[1]
    out[:] = 0.0
    for p in range(start, stop):
        a = np.float64(data[p])
        col = indices[p]
        for j in range(k):
            out[j] += a * M[col, j]


@kernel()
def xlogx_over(x, y):
    """``x * log(x / y)`` for ``x >= 0``, ``y > 0``, without underflow.

    Written as ``x * (log(x) - log(y))``: for a subnormal ``x`` the ratio
    ``x / y`` can underflow to 0 and its logarithm to ``-inf`` although the
    product is a tiny finite number. ``0 * log(0)`` is 0.
    """
    if x == 0.0:
        return 0.0
    return x * (np.log(x) - np.log(y))


@kernel()
def beta_term(x, y, beta):
    """Beta-divergence ``d_beta(x | y)`` of one entry; ``y`` floored at EPSILON.

    ``beta = 2`` is half the squared difference, ``1`` the generalized
    Kullback-Leibler divergence, ``0`` Itakura-Saito, any other value
    ``(x^b + (b - 1) y^b - b x y^(b - 1)) / (b (b - 1))`` (Fevotte & Idier,
    Neural Computation 23, 2011). For ``beta <= 0`` the caller guarantees
    ``x > 0``.
    """
    y = max(y, EPSILON)
    if beta == 2.0:
        d = x - y
        return 0.5 * d * d
    if beta == 1.0:
        return xlogx_over(x, y) - x + y
    if beta == 0.0:
        return x / y - (np.log(x) - np.log(y)) - 1.0
    value = x ** beta + (beta - 1.0) * y ** beta - beta * x * y ** (beta - 1.0)
    return value / (beta * (beta - 1.0))
