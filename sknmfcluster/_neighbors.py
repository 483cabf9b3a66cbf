"""The k-nearest-neighbour graph of the samples: index, queries, normalisation.

The graph of the training samples is ``S = (G + G.T) / 2`` where ``G`` is the
binary k-nearest-neighbour graph with each sample its own first neighbour
(``G[i, j] = 1`` when ``j`` is among the ``n_neighbors`` training samples
nearest to ``i``, ``i`` included). A new sample's row is built the same way
against the training samples, without the symmetrisation (a new sample is
nobody's neighbour); see :func:`query_graph`. Everything stays sparse: no
dense ``n_samples x n_samples`` matrix is ever formed.

Two indexes find the neighbours (:func:`fit_neighbors`):

- ``"exact"``: brute force (scikit-learn's
  :class:`~sklearn.neighbors.NearestNeighbors`) for ``CANDIDATE_FACTOR``
  times ``n_neighbors`` candidates, re-ranked by exactly recomputed
  distances. Its cost grows with the square of the number of samples.
- ``"nndescent"``: an approximate k-nearest-neighbour graph by NN-descent
  (Dong, Moses & Li 2011) in this package's own kernels
  (:mod:`._neighbor_kernels`), searched best-first for new samples. Its
  cost grows about linearly; it finds most, not all, true neighbours.

Both rank their candidates by the same exactly computed distance (float64,
summed in feature order) with ties broken by the lower index, so a row
queried alone is the row queried in a batch and nothing depends on the
thread count. The exact index gives the same graph for dense and CSR
input; NN-descent searches its candidates with a faster distance whose
rounding differs between the storages, so its graph can differ slightly.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state

from . import _neighbor_kernels, _progress
from ._storage import Csr, aligned_state, to_scipy

#: The exact index returns this many times ``n_neighbors`` candidates,
#: which are then re-ranked by exactly recomputed distances, ties broken by
#: the lower training index. The index's own ranking depends on the storage
#: (dense or sparse), the search algorithm and rounding, and data such as
#: digits' integer pixels have many exact ties at the k-th neighbour: the
#: re-ranking makes the graph the same for dense and CSR input and for a row
#: queried alone or in a batch. NN-descent keeps rows of this many
#: candidates too: a longer row finds the true neighbours more reliably.
CANDIDATE_FACTOR = 2

#: ``neighbors="auto"`` uses NN-descent from this many training samples
#: on, exact search below (see the scaling page of the user guide for the
#: measurements behind it).
APPROXIMATE_FROM = 10_000

#: NN-descent stops when an iteration changes fewer than this fraction of
#: the graph's entries (Dong et al.'s early termination, pynndescent's
#: default), or after ``NND_MAX_ITER`` iterations.
NND_DELTA = 0.001
NND_MAX_ITER = 20
#: Points whose local joins are computed before their offers are applied:
#: bounds the offer buffers (two, the offers as made and sorted by the rows'
#: chunks, about 40 MB each at 20 candidates) while keeping the graph
#: current.
NND_BLOCK = 2048
#: A new sample's search starts from its nearest of this many training
#: samples, drawn once at fit: one per cluster at least, so that the search
#: never starts in another component of the graph.
N_PIVOTS = 256

EXACT, NNDESCENT = "exact", "nndescent"


@dataclass
class Neighbors:
    """The training samples indexed for k-nearest-neighbour queries.

    ``X`` is the prepared training data (:class:`Dense` or :class:`Csr`), kept once:
    both indexes compute their distances from it. For ``"nndescent"``,
    ``graph`` (n, c) holds each training sample's ``c`` nearest samples
    found, sorted by distance then index; ``adj_indptr``/``adj_indices`` the
    search graph (those edges in both directions) and ``pivots`` the samples
    every search starts from. The exact index's scikit-learn object is
    rebuilt when needed and never pickled (it would store ``X`` again).
    """

    X: object
    n_neighbors: int
    method: str = EXACT
    graph: np.ndarray = None
    adj_indptr: np.ndarray = None
    adj_indices: np.ndarray = None
    pivots: np.ndarray = None
    _index: object = field(default=None, repr=False)
    _train_rows: np.ndarray = field(default=None, repr=False)

    def __getstate__(self):
        # the index holds X again, and the training rows are only for the fit
        state = dict(self.__dict__)
        state["_index"] = state["_train_rows"] = None
        return state

    __setstate__ = aligned_state

    @property
    def n_candidates(self):
        return min(CANDIDATE_FACTOR * self.n_neighbors, _n_rows(self.X))

    def exact_index(self):
        """scikit-learn's brute-force index over ``X``, built on first use."""
        if self._index is None:
            self._index = NearestNeighbors(
                n_neighbors=self.n_candidates).fit(to_scipy(self.X))
        return self._index


def _n_rows(Xp):
    return Xp.shape[0]


def clip_neighbors(n_neighbors, n_samples):
    """Number of neighbours actually used: at most ``n_samples`` (self included)."""
    return int(min(n_neighbors, n_samples))


def choose_method(method, n_samples, n_neighbors):
    """``"exact"`` or ``"nndescent"`` for ``method`` in {"auto", "exact", "nndescent"}.

    NN-descent needs more samples than candidates per row; below that the
    exact search is cheap anyway.
    """
    if n_samples <= 4 * CANDIDATE_FACTOR * n_neighbors:
        return EXACT
    if method == "auto":
        return NNDESCENT if n_samples >= APPROXIMATE_FROM else EXACT
    return method


def fit_neighbors(Xp, n_neighbors, *, method="auto", random_state=None,
                  verbose=0):
    """Index the prepared training samples ``Xp`` for neighbour queries.

    ``method`` is ``"auto"``, ``"exact"`` or ``"nndescent"`` (see the module
    notes); ``random_state`` seeds NN-descent's random choices.
    """
    n = _n_rows(Xp)
    k = clip_neighbors(n_neighbors, n)
    method = choose_method(method, n, k)
    nbrs = Neighbors(Xp, k, method)
    with _progress.phase(f"{method} nearest neighbours of {n} samples",
                         verbose=verbose):
        if method == NNDESCENT:
            seed = check_random_state(random_state).randint(
                np.iinfo(np.int32).max)
            nbrs.graph, fast = nndescent(Xp, nbrs.n_candidates, seed)
            nbrs.adj_indptr, nbrs.adj_indices = _search_graph(nbrs.graph)
            nbrs.pivots = np.sort(np.random.RandomState(seed).choice(
                n, min(n, N_PIVOTS), replace=False)).astype(np.int64)
        else:
            fast = None
        nbrs._train_rows = _training_rows(nbrs, fast)
    return nbrs


def _training_rows(nbrs, fast=None):
    """The training samples' ``n_neighbors`` nearest, (n, k), ties by index.

    ``fast``: NN-descent's distances of the rows of ``nbrs.graph``, when the
    build has just computed them (see :func:`_rerank`).
    """
    if nbrs.method == EXACT:
        cand = nbrs.exact_index().kneighbors(to_scipy(nbrs.X),
                                             return_distance=False)
    else:
        cand = nbrs.graph
    return _rerank(nbrs.X, nbrs.X, cand.astype(np.int64), nbrs.n_neighbors,
                   fast)


def nndescent(Xp, c, seed, max_iter=NND_MAX_ITER, delta=NND_DELTA,
              timings=None):
    """Approximate ``c`` nearest samples of each sample, by NN-descent.

    Returns ``(ind, dist)``, (n, c) int32 and float64, each row sorted by
    ``(distance, index)`` for the fast, reassociated distance that ranks
    candidates (:func:`_rerank` ranks them exactly). The
    candidate lists of an iteration hold at most ``c`` new and ``c`` old
    entries, as in pynndescent. ``timings``, a dict, receives the seconds
    spent in each step (``"start"``, ``"sample"``, ``"join"``, ``"apply"``)
    and the number of ``"iterations"`` (for the benchmarks).
    """
    clock = _StepClock(timings)
    K = _neighbor_kernels
    n = _n_rows(Xp)
    ind = np.empty((n, c), dtype=np.int32)
    dst = np.empty((n, c))
    sparse = isinstance(Xp, Csr)
    # a random start: starting from random-projection trees' leaves, as
    # pynndescent does, saved iterations but cost as much as it saved here
    # (same time, recall 0.9987 against 0.9991 on 20,000 images)
    K.nnd_init(n, seed, ind)
    if sparse:
        K.nnd_row_dists_csr(Xp.data, Xp.indices, Xp.indptr, ind, dst)
    else:
        K.nnd_row_dists_dense(Xp.X, ind, dst)
    flag = np.ones((n, c), dtype=np.bool_)
    worst = np.ascontiguousarray(dst[:, -1])
    new_c, old_c = (np.empty((n, c), dtype=np.int32) for _ in range(2))
    n_new, n_old = (np.empty(n, dtype=np.int64) for _ in range(2))
    pri_new, pri_old = (np.empty((n, c), dtype=np.uint64) for _ in range(2))
    per_chunk = (NND_BLOCK // K.N_CHUNKS + 1) * (c * (c - 1) + 2 * c * c)
    scratch, offers = ((np.empty(K.N_CHUNKS * per_chunk, dtype=np.int32),
                        np.empty(K.N_CHUNKS * per_chunk, dtype=np.int32),
                        np.empty(K.N_CHUNKS * per_chunk)) for _ in range(2))
    offsets = np.zeros((K.N_CHUNKS, K.N_CHUNKS + 1), dtype=np.int64)
    clock.lap("start")
    for it in range(max_iter):
        K.nnd_sample(ind, flag, c, seed, it, new_c, n_new, old_c, n_old,
                     pri_new, pri_old)
        clock.lap("sample")
        entered = 0
        for v0 in range(0, n, NND_BLOCK):
            v1 = min(n, v0 + NND_BLOCK)
            if sparse:
                K.nnd_join_csr(Xp.data, Xp.indices, Xp.indptr, ind, new_c,
                               n_new, old_c, n_old, worst, v0, v1, scratch,
                               offers, offsets)
            else:
                K.nnd_join_dense(Xp.X, ind, new_c, n_new, old_c, n_old, worst,
                                 v0, v1, scratch, offers, offsets)
            clock.lap("join")
            entered += K.nnd_apply(offers, offsets, ind, dst, flag, worst)
            clock.lap("apply")
        if entered <= delta * n * c:
            break
    clock.count("iterations", it + 1)
    return ind, dst


class _StepClock:
    """Adds the seconds since the last lap to ``timings[step]`` (if a dict)."""

    def __init__(self, timings):
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, step):
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[step] = self.timings.get(step, 0.0) + now - self.last
            self.last = now

    def count(self, key, value):
        if self.timings is not None:
            self.timings[key] = value


def _search_graph(graph):
    """The graph's edges in both directions, self-loops dropped, as CSR arrays."""
    n, c = graph.shape
    rows = np.repeat(np.arange(n, dtype=np.int32), c)
    cols = graph.ravel()
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    A = sp.csr_matrix((np.ones(2 * rows.size, dtype=np.int8),
                       (np.concatenate([rows, cols]),
                        np.concatenate([cols, rows]))), shape=(n, n))
    A.sum_duplicates()
    return A.indptr.astype(np.int64), A.indices.astype(np.int32)


def query_graph(nbrs, Xp, dtype):
    """Binary graph ``G`` (n_queries, n_train) of each row's nearest training samples.

    ``Xp`` is prepared input (:class:`Dense` or :class:`Csr`). A training sample
    queried finds itself first (distance 0, or an exact duplicate of lower
    index), so the rows of the training samples are those of the training
    graph before symmetrisation. Each row depends on that row only. When
    ``Xp`` is the indexed data itself (the same object), the rows are those
    found while indexing (:func:`fit_neighbors`): for NN-descent they can
    differ, for a few samples, from what a search for the same samples
    finds. CSR with sorted indices, in ``dtype``.
    """
    k = nbrs.n_neighbors
    if Xp is nbrs.X:
        # rows found by fit_neighbors are handed over once (the fit's graph),
        # and recomputed, the same, if asked again
        rows, nbrs._train_rows = nbrs._train_rows, None
        if rows is None:
            rows = _training_rows(nbrs)
    elif nbrs.method == EXACT:
        cand = nbrs.exact_index().kneighbors(to_scipy(Xp),
                                             return_distance=False)
        rows = _rerank(nbrs.X, Xp, cand.astype(np.int64), k)
    else:
        cand, fast = _search_rows(nbrs, Xp)
        rows = _rerank(nbrs.X, Xp, cand, k, fast)
    indices = np.sort(rows, axis=1)
    n_q = indices.shape[0]
    return sp.csr_matrix(
        (np.ones(n_q * k, dtype=dtype), indices.ravel(),
         np.arange(0, n_q * k + 1, k)), shape=(n_q, _n_rows(nbrs.X)))


def fast_error(Xt):
    """Bounds ``(rel, tiny)`` on how far NN-descent's distances from the
    exact ones can be: ``|fast - exact| <= rel * fast + tiny``.

    Dense rows are compared by a sum of ``m`` squared differences in their
    own dtype, in any order (:func:`._neighbor_kernels._fast_dist`): each
    difference and square is rounded once and any summation tree of ``m``
    terms adds at most ``m - 1`` roundings, all relative to the sum of
    non-negative terms, so the error is at most ``(m + 2) u`` times the
    distance (unit roundoff ``u``), and as much again for the float64 sum
    that ranks exactly; ``rel`` allows twice that. ``tiny`` covers terms
    that underflow. CSR rows are compared by the exact distance itself.
    """
    if isinstance(Xt, Csr):
        return 0.0, 0.0
    info = np.finfo(Xt.X.dtype)
    m = Xt.shape[1]
    return (m + 3) * float(info.eps), (m + 3) * float(info.tiny)


def _rerank(Xt, Xp, cand, k, fast=None):
    """The ``k`` candidates nearest each query row by exact distance, ties by index.

    ``Xt`` and ``Xp`` are the prepared training and query data, ``cand``
    (n_q, c) int64 candidate training rows. ``fast`` (n_q, c), if given,
    holds the candidates' distances as NN-descent computed them, each row
    sorted by them: a row whose ``k``-th and ``k + 1``-th distances are
    further apart than their rounding error (:func:`fast_error`) has the
    same ``k`` nearest by exact distance, and keeps its first ``k``
    candidates in that order; only the other rows (near-ties at the ``k``-th
    neighbour, some three per hundred on 70,000 images) are measured
    exactly, which saved 0.6 to 0.9 s of a 70,000-image fit. The rows are
    then the same sets, not always in the same order, as without ``fast``.
    """
    if fast is not None and cand.shape[1] > k:
        rel, tiny = fast_error(Xt)
        kth, next_ = fast[:, k - 1], fast[:, k]
        clear = kth * (1 + rel) + tiny < next_ * (1 - rel) - tiny
        rows = cand[:, :k].copy()
        todo = np.flatnonzero(~clear)
        if todo.size:
            rows[todo] = _exact_rerank(Xt, _query_matrix(Xp)[todo],
                                       cand[todo], k)
        return rows
    return _exact_rerank(Xt, _query_matrix(Xp), cand, k)


def _query_matrix(Xp):
    """Query rows for the distance kernels: CSR with sorted indices when the
    training data are CSR (the same distances as dense, bit for bit), else a
    dense array."""
    if isinstance(Xp, Csr):
        return sp.csr_matrix(to_scipy(Xp))
    return Xp.X


def _exact_rerank(Xt, Xq, cand, k):
    """:func:`_rerank` by the exact distances of every row (``Xq`` from
    :func:`_query_matrix`)."""
    dist = np.empty(cand.shape)
    if isinstance(Xt, Csr):
        Xq = sp.csr_matrix(Xq)
        Xq.sort_indices()
        _neighbor_kernels.sq_distances_csr(Xq.data, Xq.indices, Xq.indptr,
                                           Xt.data, Xt.indices, Xt.indptr,
                                           cand, dist)
    else:
        if sp.issparse(Xq):
            Xq = Xq.toarray()
        _neighbor_kernels.sq_distances_dense(Xq, Xt.X, cand, dist)
    order = np.lexsort((cand, dist), axis=-1)[:, :k]
    return np.take_along_axis(cand, order, axis=1)


def _search_rows(nbrs, Xp):
    """The ``n_candidates`` nearest training rows found by graph search, and
    their distances as the search computed them."""
    n_q = _n_rows(Xp)
    ef = nbrs.n_candidates
    out_ind = np.empty((n_q, ef), dtype=np.int64)
    out_dst = np.empty((n_q, ef))
    Xt = nbrs.X
    if isinstance(Xt, Csr):
        Xq = sp.csr_matrix(to_scipy(Xp))
        Xq.sort_indices()
        _neighbor_kernels.nnd_query_csr(
            Xq.data, Xq.indices, Xq.indptr, Xt.data, Xt.indices, Xt.indptr,
            nbrs.pivots, nbrs.adj_indptr, nbrs.adj_indices, out_ind, out_dst)
    else:
        Xq = to_scipy(Xp).toarray() if isinstance(Xp, Csr) else Xp.X
        _neighbor_kernels.nnd_query_dense(
            Xq, Xt.X, nbrs.pivots, nbrs.adj_indptr, nbrs.adj_indices, out_ind,
            out_dst)
    return out_ind, out_dst


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
