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
    for c in range(parts.shape[0]):  # loops, not ``total += parts[c]``:
        # a broadcast's error path takes seconds to compile (Numba >= 0.61)
        for i in range(parts.shape[1]):
            for j in range(parts.shape[2]):
                total[i, j] += parts[c, i, j]
    return total


@kernel()
def chunk_bounds(n_rows):
    """Start rows of the ``N_CHUNKS`` chunks, shape ``(N_CHUNKS + 1,)``."""
    bounds = np.empty(N_CHUNKS + 1, dtype=np.int64)
    for c in range(N_CHUNKS + 1):
        bounds[c] = (c * n_rows) // N_CHUNKS
    return bounds


@kernel(fastmath=REDUCTION_MATH)
def dot_n(a, b, n):
    """``a[:n] @ b[:n]`` (float64 vectors)."""
    s = 0.0
    for p in range(n):
        s += a[p] * b[p]
    return s


@kernel(fastmath=REDUCTION_MATH)
def axpy_n(alpha, x, y, n):
    """``y[:n] += alpha * x[:n]``."""
    for p in range(n):
        y[p] += alpha * x[p]


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


#: Below this size of ``z`` the series of ``exp(z) - 1 - z`` is used: the
#: difference of ``expm1(z)`` and ``z`` would lose the leading digits.
SERIES_BELOW = 1e-4
#: Within this distance of beta = 1 the general divergence is evaluated by
#: its series around the Kullback-Leibler case, where it is a 0 / 0.
NEAR_ONE = 1e-4
#: Within this distance of beta = 0 the divergence is Itakura-Saito's: they
#: differ by a relative O(beta), below rounding here, and beta times a
#: divergence would underflow for a subnormal beta.
NEAR_ZERO = 1e-12


@kernel()
def _exp_excess(z):
    """``exp(z) - 1 - z`` without cancellation for small ``z``."""
    if abs(z) < SERIES_BELOW:
        return z * z * (0.5 + z * (1.0 / 6.0 + z * (1.0 / 24.0 + z / 120.0)))
    return np.expm1(z) - z


@kernel()
def beta_term(x, y, beta):
    """Beta-divergence ``d_beta(x | y)`` of one entry; ``y`` floored at EPSILON.

    ``beta = 2`` is half the squared difference, ``1`` the generalized
    Kullback-Leibler divergence, ``0`` Itakura-Saito, any other value
    ``(x^b + (b - 1) y^b - b x y^(b - 1)) / (b (b - 1))`` (Fevotte & Idier,
    Neural Computation 23, 2011). For ``beta <= 0`` the caller guarantees
    ``x > 0``.

    The general formula cancels badly where ``x`` is close to ``y`` and near
    beta = 0 and 1. With ``t = x / y``, ``s = log(t)`` and ``E(z) = e^z - 1
    - z`` it equals ``y^b (E(b s) - b E(s)) / (b (b - 1))``, which has
    neither problem except at beta = 1, where a series in ``b - 1`` takes
    over: ``y^b (A + C d / 2 + C s d^2 / 6) / (1 + d)`` with ``d = b - 1``,
    ``A = (s - 1) expm1(s) + s`` and ``C = s^2 t``.
    """
    y = max(y, EPSILON)
    if beta == 2.0:
        d = x - y
        return 0.5 * d * d
    if beta == 1.0:
        return xlogx_over(x, y) - x + y
    if x == 0.0 and beta > 0.0:
        return y ** beta / beta
    if abs(beta) < NEAR_ZERO:
        return x / y - (np.log(x) - np.log(y)) - 1.0
    s = np.log(x) - np.log(y)
    delta = beta - 1.0
    if abs(delta) < NEAR_ONE:
        t = np.exp(s)
        curvature = s * s * t
        slope = (s - 1.0) * np.expm1(s) + s
        q = (slope + delta * (0.5 * curvature + delta * curvature * s / 6.0)) \
            / (1.0 + delta)
    else:
        q = (_exp_excess(beta * s) - beta * _exp_excess(s)) / (beta * delta)
    return y ** beta * q
