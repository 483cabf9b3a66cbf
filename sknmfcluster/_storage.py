"""Storage of the data as the kernels see it: the only module that asks what it has.

:func:`prepare` turns a validated input into a C-contiguous ndarray or a
:class:`Csr` (sorted indices, no stored zeros); the other functions answer
the storage questions the solvers have (norm, columns, zero rows, back to
scipy) for either.
"""

from collections import namedtuple

import numpy as np
import scipy.sparse as sp

from . import _kernels

#: A CSR matrix as the kernels see it; ``sq_norm`` is ``||X||_F^2`` in float64.
Csr = namedtuple("Csr", ["data", "indices", "indptr", "shape", "sq_norm"])


def prepare(X):
    """Return ``X`` as the kernels need it: ndarray or :class:`Csr`.

    ``X`` is a validated float32/float64 array or sparse matrix. The input is
    never modified: a copy is made whenever the storage has to change.
    """
    if sp.issparse(X):
        X = sp.csr_matrix(X)  # shares the buffers when X is CSR already
        if not X.has_sorted_indices or (X.data == 0).any():
            X = X.copy()
            X.eliminate_zeros()
            X.sort_indices()
        indices, indptr = X.indices, X.indptr
        if indices.dtype not in (np.int32, np.int64):
            indices = indices.astype(np.int64)
            indptr = indptr.astype(np.int64)
        data = np.ascontiguousarray(X.data)
        sq_norm = float(np.dot(data.astype(np.float64), data))
        return Csr(data, np.ascontiguousarray(indices),
                   np.ascontiguousarray(indptr), X.shape, sq_norm)
    return np.ascontiguousarray(X)


def sq_norm(Xp):
    """``||X||_F^2`` in float64."""
    if isinstance(Xp, Csr):
        return Xp.sq_norm
    return float(_kernels.sq_norm_dense(Xp))


def columns(Xp):
    """``X.T`` in the kernels' CSR form (X in CSC form) for CSR input, else None.

    Made once per fit. Gathering the H-statistics from the columns costs a
    second read of the non-zeros, a small fraction of the data, and is about
    half as costly as scattering them into per-chunk accumulators at random
    columns (measured on 50,000 x 20,000 Zipf counts at rank 10: 15.8 against
    27 ms for KL), at the price of a copy of the non-zeros.
    """
    if not isinstance(Xp, Csr):
        return None
    Xc = sp.csr_matrix((Xp.data, Xp.indices, Xp.indptr), shape=Xp.shape).tocsc()
    Xc.sort_indices()
    return Csr(Xc.data, Xc.indices, Xc.indptr, Xp.shape[::-1], Xp.sq_norm)


def to_scipy(Xp):
    """A prepared input back as a scipy matrix (no copy) or the ndarray itself."""
    if isinstance(Xp, Csr):
        return sp.csr_matrix((Xp.data, Xp.indices, Xp.indptr), shape=Xp.shape)
    return Xp


def zero_rows(Xp):
    """Boolean mask of the all-zero rows of a prepared input."""
    if isinstance(Xp, Csr):  # prepared CSR stores no explicit zeros
        return np.diff(Xp.indptr) == 0
    return ~Xp.any(axis=1)
