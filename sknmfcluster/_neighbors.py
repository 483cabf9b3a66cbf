"""The k-nearest-neighbour graph of the samples: index, queries, normalisation.

The graph of the training samples is ``S = (G + G.T) / 2`` where ``G`` is the
binary k-nearest-neighbour graph with each sample its own first neighbour
(``G[i, j] = 1`` when ``j`` is among the ``n_neighbors`` training samples
nearest to ``i``, ``i`` included). A new sample's row is built the same way
against the training samples, without the symmetrisation (a new sample is
nobody's neighbour); see :func:`query_graph`. Everything stays sparse: no
dense ``n_samples x n_samples`` matrix is ever formed.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

from . import _neighbor_kernels
from ._storage import to_scipy

#: The neighbour index returns this many times ``n_neighbors`` candidates,
#: which are then re-ranked by exactly recomputed distances, ties broken by
#: the lower training index. The index's own ranking depends on the storage
#: (dense or sparse), the search algorithm and rounding, and data such as
#: digits' integer pixels have many exact ties at the k-th neighbour: the
#: re-ranking makes the graph the same for dense and CSR input and for a row
#: queried alone or in a batch.
CANDIDATE_FACTOR = 2


@dataclass
class Neighbors:
    """The training samples indexed for k-nearest-neighbour queries."""

    index: NearestNeighbors
    X: object  # C-contiguous ndarray or CSR matrix with sorted indices
    n_neighbors: int


def clip_neighbors(n_neighbors, n_samples):
    """Number of neighbours actually used: at most ``n_samples`` (self included)."""
    return int(min(n_neighbors, n_samples))


def fit_neighbors(Xp, n_neighbors):
    """Index the prepared training samples ``Xp`` for neighbour queries."""
    X = to_scipy(Xp)
    k = clip_neighbors(n_neighbors, X.shape[0])
    index = NearestNeighbors(
        n_neighbors=min(CANDIDATE_FACTOR * k, X.shape[0])).fit(X)
    return Neighbors(index, X, k)


def query_graph(nbrs, Xp, dtype):
    """Binary graph ``G`` (n_queries, n_train) of each row's nearest training samples.

    ``Xp`` is prepared input (ndarray or :class:`Csr`). A training sample
    queried finds itself first (distance 0, or an exact duplicate of lower
    index), so the rows of the training samples are those of the training
    graph before symmetrisation. Each row depends on that row only. CSR with
    sorted indices, in ``dtype``.
    """
    Xq = to_scipy(Xp)
    n_q, k = Xq.shape[0], nbrs.n_neighbors
    cand = nbrs.index.kneighbors(Xq, return_distance=False).astype(np.int64)
    dist = np.empty(cand.shape)
    Xt = nbrs.X
    if sp.issparse(Xt):
        Xq = sp.csr_matrix(Xq)  # the same distances as dense, bit for bit
        Xq.sort_indices()
        _neighbor_kernels.sq_distances_csr(Xq.data, Xq.indices, Xq.indptr,
                                        Xt.data, Xt.indices, Xt.indptr, cand,
                                        dist)
    else:
        Xq = Xq.toarray() if sp.issparse(Xq) else Xq
        _neighbor_kernels.sq_distances_dense(Xq, Xt, cand, dist)
    order = np.lexsort((cand, dist), axis=-1)[:, :k]
    indices = np.sort(np.take_along_axis(cand, order, axis=1), axis=1)
    return sp.csr_matrix(
        (np.ones(n_q * k, dtype=dtype), indices.ravel(),
         np.arange(0, n_q * k + 1, k)), shape=(n_q, nbrs.X.shape[0]))


def symmetrize(G):
    """``(G + G.T) / 2`` as CSR with sorted indices."""
    S = (G + G.T) * 0.5
    S = sp.csr_matrix(S)
    S.sort_indices()
    return S


def degree_normalize(S, row_degrees=None, col_degrees=None):
    """``D_r^-1/2 S D_c^-1/2`` at the non-zeros of ``S``; degrees default to S's.

    Returns the normalised CSR matrix and the column degrees used (the
    training degrees, needed again to normalise new samples' rows).
    """
    S = sp.csr_matrix(S, copy=True)
    if row_degrees is None:
        row_degrees = np.asarray(S.sum(axis=1), dtype=np.float64).ravel()
    if col_degrees is None:
        col_degrees = row_degrees
    rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
    # Every row has its sample as a neighbour, so no degree is zero.
    scale = 1.0 / np.sqrt(row_degrees[rows] * col_degrees[S.indices])
    S.data = (S.data * scale).astype(S.dtype, copy=False)
    return S, col_degrees


def training_graph(nbrs, Xp, dtype):
    """Symmetric graph ``S`` of the training samples and its degrees."""
    S = symmetrize(query_graph(nbrs, Xp, dtype))
    return S, np.asarray(S.sum(axis=1), dtype=np.float64).ravel()
