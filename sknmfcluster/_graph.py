"""What the graph methods of NMFClusterer do beyond the loop: graph, codes, parts.

Both graph methods use the sparse k-nearest-neighbour graph of the samples
(:mod:`._neighbors`), kept in CSR form throughout: no dense ``n_samples x
n_samples`` matrix is ever formed. Their problems (:class:`._problems.GNMF`,
:class:`._problems.SymNMF`) run in the loop of :mod:`._engine`; this module
builds the graph and solves the codes of new samples against the fitted
factors, each sample on its own.
"""

import numpy as np

from . import _kernels as K
from . import _neighbors, _progress, _storage
from ._engine import row_settings, solve_rows
from ._problems import FROBENIUS, solve_codes
from ._storage import Factors


def neighbour_graph(storage, model):
    """The index, neighbour rows ``G``, symmetric graph ``S`` and its degrees.

    ``model`` gives ``n_neighbors``, ``neighbors`` (the index),
    ``random_state`` and ``verbose``.
    """
    with _progress.phase("building the neighbour graph",
                         verbose=model.verbose):
        index = _neighbors.fit_neighbors(
            storage, model.n_neighbors, method=model.neighbors,
            random_state=model.random_state, verbose=model.verbose)
        G = _neighbors.query_graph(index, storage, storage.dtype)
        S = _neighbors.symmetrize(G)
    return index, G, S, row_sums(S)


def rms(storage):
    """Root mean square of the storage's (scaled) data."""
    n, m = storage.shape
    return float(np.sqrt(storage.sq_norm / (n * m)))


def row_sums(S):
    """Row sums of a sparse matrix in float64, as a flat array."""
    return np.asarray(S.sum(axis=1), dtype=np.float64).ravel()


def gnmf_codes(storage, G, W_train, H, strength, w0, *, max_iter, tol):
    """Codes of samples under the graph regulariser, training codes fixed.

    Each row ``x`` with neighbour row ``g`` of ``G`` (n_queries, n_train)
    solves ``min_w 0.5 ||x - w H||^2 + 0.5 strength sum_j g_j ||w - W_j||^2``
    with the training codes ``W_train`` fixed: the GNMF W-step of a single
    row, iterated from the constant ``w0`` as ``transform`` does for plain
    NMF. A converged training solution is a fixed point of this problem.
    ``W_train``, ``H`` and ``w0`` are in the units of the data, ``strength``
    in the storage's scaled space, where the codes are solved.
    """
    root = float(np.sqrt(storage.scale))  # a power of two: exact scaling
    pull = np.empty((G.shape[0], W_train.shape[1]))
    K.csr_times_dense(G.data.astype(np.float64), G.indices, G.indptr,
                      W_train / root, pull)
    pull *= strength
    W = np.empty((G.shape[0], W_train.shape[1]), dtype=H.dtype)
    W[...] = w0 / root
    solve_rows(storage, W, Factors((H / root).astype(H.dtype)), K.MU_FRO,
               row_settings(tol=tol), max_iter=max_iter, aux=pull,
               aux_l2=strength * row_sums(G))
    return (W * root).astype(H.dtype, copy=False)


def symnmf_codes(A_rows, W_train, w0, *, max_iter, tol):
    """Codes ``w >= 0`` with ``a ~ w @ W_train.T`` for affinity rows ``a``.

    ``A_rows`` (n_queries, n_train) CSR; each row is solved on its own by the
    Frobenius codes solve with ``W_train.T`` as the components. For a
    training sample this is the row of the SymNMF problem with the other
    rows fixed, of which the fitted row is a stationary point.
    """
    return solve_codes(_storage.prepare(A_rows), np.ascontiguousarray(
        W_train.T), FROBENIUS, w0, max_iter=max_iter, tol=tol)


#: ``fit_components`` solves the columns of ``H`` from a transposed copy of
#: dense ``X`` made this many bytes of ``X`` at a time (whole when smaller),
#: into one buffer: each column is a problem of its own, so the blocks give
#: the same result as one copy of the whole of ``X``, which doubled the
#: fit's peak memory. One fresh copy of 220 MB (70,000 x 784 float32) cost
#: up to 0.7 s of page faults; a small buffer is faulted in once.
COMPONENTS_BLOCK_BYTES = 16 * 2**20


def _transpose_into(X, f0, out, rows=256):
    """``out[:] = X[:, f0:f0 + len(out)].T``, ``rows`` rows of ``X`` at a time.

    NumPy's copy of the whole transposed view reads ``X`` a column at a
    time, touching a new page for every entry; slabs of rows stay in the
    cache (at 70,000 x 784: 0.16-0.97 s against 0.06 s).
    """
    f1 = f0 + out.shape[0]
    for i0 in range(0, X.shape[0], rows):
        out[:, i0:i0 + rows] = X[i0:i0 + rows, f0:f1].T
    return out


def fit_components(storage, codes, loss, *, solver, max_iter, tol):
    """Non-negative ``H`` minimising the divergence of ``X`` from ``codes @ H``.

    With the codes fixed, each column of ``H`` is a separate problem: the
    codes of ``X.T`` on the components ``codes.T``, solved by the codes
    solve from the constant that gives ``codes @ H`` the mean of ``X``. Dense
    ``X`` is transposed a block of columns at a time
    (:data:`COMPONENTS_BLOCK_BYTES`).
    """
    n, m = storage.shape
    X = storage.to_scipy()
    mean_x = float(X.sum(dtype=np.float64)) * storage.scale / (n * m)
    mean_w = float(codes.mean(dtype=np.float64)) or 1.0
    dtype = storage.dtype
    h0 = max(mean_x / (mean_w * codes.shape[1]), np.finfo(dtype).tiny)
    components = np.ascontiguousarray(codes.T)

    def solve(columns):
        Ht = solve_codes(columns, components, loss,
                         np.full(codes.shape[1], h0, dtype=dtype),
                         max_iter=max_iter, tol=tol, solver=solver)
        return Ht.T

    if not isinstance(storage, _storage.Dense) or storage.masked:
        return np.ascontiguousarray(solve(storage.transpose()))
    step = max(1, COMPONENTS_BLOCK_BYTES // max(1, n * X.itemsize))
    H = np.empty((codes.shape[1], m), dtype=components.dtype)
    buffer = np.empty((min(step, m), n), dtype=X.dtype)
    for f0 in range(0, m, step):
        block = _transpose_into(X, f0, buffer[:min(step, m - f0)])
        H[:, f0:f0 + step] = solve(_storage.Dense(block, storage.scale))
    return H
