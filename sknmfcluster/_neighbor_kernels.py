"""Numba kernels of the neighbour graph: exact distances to candidate neighbours.

Arrays in, arrays written in place; rows are split into the engine's fixed
chunks (:data:`sknmfcluster._kernels.N_CHUNKS`), each row written by one
thread, so the results do not depend on the thread count.
"""

from numba import prange
import numpy as np

from ._kernels import N_CHUNKS, chunk_bounds
from ._kernels._jit import kernel


@kernel(parallel=True)
def sq_distances_dense(Xq, Xt, cand, out):
    """Squared distances from each query row to its candidate training rows.

    Xq : (n_q, m), Xt : (n_t, m), cand : (n_q, c) indices into Xt, out :
    (n_q, c) float64, overwritten with ``sum_f (Xq[i, f] - Xt[cand[i, p],
    f]) ** 2`` summed in feature order. The zeros of the rows add exact
    zeros, so the result equals :func:`sq_distances_csr` bit for bit.
    """
    n_q, m = Xq.shape
    bounds = chunk_bounds(n_q)
    for c in prange(N_CHUNKS):
        for i in range(bounds[c], bounds[c + 1]):
            for p in range(cand.shape[1]):
                t = cand[i, p]
                s = 0.0
                for f in range(m):
                    d = np.float64(Xq[i, f]) - np.float64(Xt[t, f])
                    s += d * d
                out[i, p] = s


@kernel(parallel=True)
def sq_distances_csr(q_data, q_indices, q_indptr, t_data, t_indices, t_indptr,
                     cand, out):
    """:func:`sq_distances_dense` for CSR rows with sorted indices.

    The two rows' non-zeros are merged in feature order, so the sum has the
    terms, and the order, of the dense computation.
    """
    n_q = q_indptr.shape[0] - 1
    bounds = chunk_bounds(n_q)
    for c in prange(N_CHUNKS):
        for i in range(bounds[c], bounds[c + 1]):
            for p in range(cand.shape[1]):
                t = cand[i, p]
                a, a_end = q_indptr[i], q_indptr[i + 1]
                b, b_end = t_indptr[t], t_indptr[t + 1]
                s = 0.0
                while a < a_end or b < b_end:
                    fa = q_indices[a] if a < a_end else -1
                    fb = t_indices[b] if b < b_end else -1
                    if fb == -1 or (fa != -1 and fa < fb):
                        d = np.float64(q_data[a])
                        a += 1
                    elif fa == -1 or fb < fa:
                        d = -np.float64(t_data[b])
                        b += 1
                    else:
                        d = np.float64(q_data[a]) - np.float64(t_data[b])
                        a += 1
                        b += 1
                    s += d * d
                out[i, p] = s
