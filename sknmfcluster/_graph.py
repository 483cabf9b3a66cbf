"""Graph-based NMF clustering: the k-nearest-neighbour graph and its solvers.

Two factorizations use a sparse k-nearest-neighbour graph ``S`` of the
samples, built with scikit-learn's :class:`~sklearn.neighbors.NearestNeighbors`
and kept in CSR form throughout: no dense ``n_samples x n_samples`` matrix is
ever formed.

- **Graph-regularised NMF** (GNMF; Cai, He, Han & Huang, "Graph Regularized
  Nonnegative Matrix Factorization for Data Representation", IEEE TPAMI 33,
  2011) minimises ``0.5 ||X - W H||_F^2 + 0.5 lambda trace(W.T L W)`` with
  ``L = D - S``, by Cai et al.'s multiplicative updates (their eq. 12):
  ``W <- W * (X H.T + lambda S W) / (W H H.T + lambda D W)``, and the usual
  H-update. :func:`fit_gnmf` is the loop.
- **Symmetric NMF** (SymNMF; Kuang, Ding & Park, "Symmetric Nonnegative
  Matrix Factorization for Graph Clustering", SDM 2012) minimises
  ``0.5 ||A - W W.T||_F^2`` for the normalised affinity
  ``A = D^-1/2 S D^-1/2``. :func:`fit_symnmf` is the loop.

The graph of the training samples is ``S = (G + G.T) / 2`` where ``G`` is the
binary k-nearest-neighbour graph with each sample its own first neighbour
(``G[i, j] = 1`` when ``j`` is among the ``n_neighbors`` training samples
nearest to ``i``, ``i`` included). A new sample's row is built the same way
against the training samples, without the symmetrisation (a new sample is
nobody's neighbour); see :func:`query_graph`.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import (ArpackError, ArpackNoConvergence,
                                 LinearOperator, eigsh)
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_array

from . import _graph_kernels, _solver
from ._init import ZERO_LIFT
from ._loss import FROBENIUS, Csr, fro_from_stats
from ._solver import FitResult

#: Exponent of the SymNMF step that provably never increases the objective:
#: with ``w <- w * (AW / W W.T W) ** (1/4)`` each step minimises an auxiliary
#: function (the log bound on ``-2 trace(W.T A W)`` for non-negative A plus
#: the quartic bound on ``||W.T W||_F^2``; cf. He et al., IEEE TNN 22, 2011,
#: and Yang & Oja, IEEE TNN 22, 2011).
SAFE_EXPONENT = 0.25
#: The bolder plain-ratio step, tried first and kept only when it lowers the
#: objective, which it does at almost every iteration: the solver converges
#: several times faster and stays monotone.
BOLD_EXPONENT = 1.0

#: In the ``"spectral"`` SymNMF init, a sample's entries for the clusters it
#: is not in start at this fraction of its own cluster's entry: not zero,
#: since a multiplicative update cannot move an entry away from zero.
SPECTRAL_FILL = 0.2
#: KMeans restarts of the ``"spectral"`` init.
SPECTRAL_KMEANS_N_INIT = 10

#: The SymNMF fit stops when an iteration lowers the objective by at most
#: ``SYMNMF_TOL_SCALE * tol`` times the size of the approximation
#: ``0.5 ||W W.T||_F^2``. The objective itself is dominated by the part of
#: a sparse affinity that no rank-k matrix explains, so a decrease relative
#: to it would stop long before the factor settles. With the default
#: ``tol=1e-4`` the digits fit from the spectral init stops after 100-150
#: cheap iterations; running on to 10 times stricter thresholds moved the
#: accuracy within its seed-to-seed spread (0.87-0.90) and no further.
SYMNMF_TOL_SCALE = 1e-2


# -- the graph ---------------------------------------------------------------
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
    X = as_csr(Xp)
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
    Xq = as_csr(Xp)
    n_q, k = Xq.shape[0], nbrs.n_neighbors
    cand = nbrs.index.kneighbors(Xq, return_distance=False).astype(np.int64)
    dist = np.empty(cand.shape)
    Xt = nbrs.X
    if sp.issparse(Xt):
        Xq = sp.csr_matrix(Xq)  # the same distances as dense, bit for bit
        Xq.sort_indices()
        _graph_kernels.sq_distances_csr(Xq.data, Xq.indices, Xq.indptr,
                                        Xt.data, Xt.indices, Xt.indptr, cand,
                                        dist)
    else:
        Xq = Xq.toarray() if sp.issparse(Xq) else Xq
        _graph_kernels.sq_distances_dense(Xq, Xt, cand, dist)
    order = np.lexsort((cand, dist), axis=-1)[:, :k]
    indices = np.sort(np.take_along_axis(cand, order, axis=1), axis=1)
    return sp.csr_matrix(
        (np.ones(n_q * k, dtype=dtype), indices.ravel(),
         np.arange(0, n_q * k + 1, k)), shape=(n_q, nbrs.X.shape[0]))


def symmetrize(G, mode="mean"):
    """``(G + G.T) / 2`` (``"mean"``) or ``max(G, G.T)`` (``"max"``), as CSR."""
    S = (G + G.T) * 0.5 if mode == "mean" else G.maximum(G.T)
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


def training_graph(nbrs, Xp, dtype, mode="mean"):
    """Symmetric graph ``S`` of the training samples and its degrees."""
    S = symmetrize(query_graph(nbrs, Xp, dtype), mode)
    return S, np.asarray(S.sum(axis=1), dtype=np.float64).ravel()


def as_csr(Xp):
    """A prepared input back as a scipy matrix (no copy) or the ndarray itself."""
    if isinstance(Xp, Csr):
        return sp.csr_matrix((Xp.data, Xp.indices, Xp.indptr), shape=Xp.shape)
    return Xp


# -- symmetric NMF -------------------------------------------------------------
def init_symnmf(A, S, rank, init, rng, W=None):
    """Initial ``W`` (n, rank) for ``A ~ W W.T``, float64, C-contiguous.

    ``A = D^-1/2 S D^-1/2`` is the normalised affinity of the graph ``S``.

    - ``"spectral"``: the clusters of Ng, Jordan & Weiss's spectral
      clustering (KMeans on the unit-normalised rows of the leading
      eigenvectors), as an indicator matrix whose other entries are
      ``SPECTRAL_FILL`` times a sample's own entry, scaled to fit ``A`` best.
    - ``"nndsvd*"``: Boutsidis & Gallopoulos' NNDSVD applied to the leading
      eigenpairs of the symmetric ``A`` (its SVD), zeros filled as for NMF:
      lifted to a tiny value, set to the typical entry size, or to a small
      random value.
    - ``"random"``: uniform in ``[0, 2 sqrt(mean(A) / rank)]`` (Kuang et al.
      2012).

    The eigenvectors come from ARPACK on the sparse ``A``, with the repeated
    eigenvalue 1 of a graph with several connected components handled
    exactly (:func:`_leading_eigenvectors`): from eigenvectors that mix
    components, the multiplicative updates keep columns that span two
    components and cannot separate them. The spectral inits need ``rank <
    n_samples`` and fall back to ``"random"`` otherwise.
    """
    n = A.shape[0]
    scale = float(np.sqrt(A.sum(dtype=np.float64) / (n * n) / rank))
    start = None
    if init == "custom":
        start = _custom_symmetric(W, n, rank)
    elif init != "random" and rank < n:
        U = _leading_eigenvectors(A, S, rank, rng)
        if U is not None and init == "spectral":
            start = _spectral_indicator(A, U, rank, rng)
        elif U is not None:
            start = _nndsvd_symmetric(A, U, rng, init, scale)
    if start is None:
        start = rng.uniform(0.0, 2.0 * scale, size=(n, rank))
    start[start <= 0] = ZERO_LIFT * scale
    return np.ascontiguousarray(start, dtype=np.float64)


def _custom_symmetric(W, n, rank):
    if W is None:
        raise ValueError(
            "init='custom' needs W passed to fit: method='symmetric' starts "
            "from W alone (the other methods need both W and H).")
    W = check_array(W, dtype=np.float64, ensure_non_negative=True,
                    input_name="W")
    if W.shape != (n, rank):
        raise ValueError(f"Array passed to init='custom' for W has shape "
                         f"{W.shape}, expected {(n, rank)}.")
    return W.copy()


def _leading_eigenvectors(A, S, rank, rng):
    """Unit eigenvectors (n, rank) of ``A = D^-1/2 S D^-1/2``, largest eigenvalues.

    A graph with ``c`` connected components has the eigenvalue 1 ``c``
    times, with eigenvectors ``D^1/2`` times each component's indicator.
    Lanczos (ARPACK) finds one vector of a repeated eigenvalue at best, so
    these are written down exactly and ARPACK runs on ``A`` with them
    deflated, for the remaining ``rank - c`` vectors (a sparse product per
    step, no factorisation). With ``c >= rank`` components, the vectors are
    those of the ``rank - 1`` largest components and one for all the others
    together. None when ARPACK fails.
    """
    n = A.shape[0]
    n_comp, comp = connected_components(S, directed=False)
    sqrt_d = np.sqrt(np.asarray(S.sum(axis=1), dtype=np.float64).ravel())
    sizes = np.bincount(comp)
    if n_comp >= rank:
        order = np.argsort(-sizes, kind="stable")
        group = np.full(n_comp, rank - 1)
        group[order[:rank - 1]] = np.arange(rank - 1)
        comp, n_comp = group[comp], rank
    V = np.zeros((n, n_comp))
    V[np.arange(n), comp] = sqrt_d
    V /= np.linalg.norm(V, axis=0)
    if n_comp == rank:
        return V
    deflated = LinearOperator(
        (n, n), matvec=lambda x: A @ x - V @ (V.T @ x), dtype=np.float64)
    try:
        _, U = eigsh(deflated, rank - n_comp, which="LA",
                     v0=rng.uniform(-1.0, 1.0, n))
    except (ArpackError, ArpackNoConvergence, ValueError):
        return None
    return np.hstack([V, U])


def _spectral_indicator(A, U, rank, rng):
    """Indicator of the spectral clusters, scaled to minimise ``||A - c W W.T||``."""
    labels = KMeans(rank, n_init=SPECTRAL_KMEANS_N_INIT,
                    random_state=rng.randint(2**31 - 1)).fit_predict(
        normalize(U))
    W = np.full((A.shape[0], rank), SPECTRAL_FILL)
    W[np.arange(A.shape[0]), labels] = 1.0
    G = W.T @ W
    return W * np.sqrt(max(np.vdot(W, A @ W), 0.0) / np.vdot(G, G))


def _nndsvd_symmetric(A, U, rng, init, scale):
    """NNDSVD from the leading eigenvectors ``U`` of ``A``."""
    W = np.zeros(U.shape)
    for col in range(U.shape[1]):
        u = U[:, col]
        value = float(u @ (A @ u))  # the eigenvalue, as a Rayleigh quotient
        pos, neg = np.maximum(u, 0.0), np.maximum(-u, 0.0)
        # keep the dominant sign pattern; for u = v the NNDSVD weight of the
        # pair is the squared norm of that part
        part = pos if pos @ pos >= neg @ neg else neg
        norm_sq = part @ part
        if norm_sq > 0 and value > 0:
            W[:, col] = np.sqrt(value * norm_sq) * part / np.sqrt(norm_sq)
    zeros = W == 0
    if init == "nndsvda":
        W[zeros] = scale
    elif init == "nndsvdar":
        W[zeros] = scale * np.abs(rng.standard_normal(zeros.sum())) / 100
    return W


def symnmf_objective(a_sq, G, inner):
    """``0.5 ||A - W W.T||_F^2`` from ``||A||^2``, ``G = W.T W``, ``trace(W.T A W)``."""
    return 0.5 * max(a_sq - 2.0 * inner + float(np.vdot(G, G)), 0.0)


def fit_symnmf(A, W, max_iter, tol, verbose=0):
    """Multiplicative updates for ``min_{W >= 0} 0.5 ||A - W W.T||_F^2``.

    ``A`` is a symmetric non-negative CSR matrix, ``W`` (n, k) float64 the
    start, used as scratch space (the fitted factor is the result's ``W``).
    Each iteration computes ``A @ W`` and
    ``W.T @ W`` in one pass over the non-zeros of ``A`` and tries the plain
    ratio step ``W * AW / (W W.T W)``; if that does not lower the objective
    it takes the step with exponent 1/4 instead, which provably does not
    raise it, so the objective never increases. The fit stops when one
    iteration lowers the objective by at most ``SYMNMF_TOL_SCALE * tol``
    times the approximation's size ``0.5 ||W W.T||_F^2``, checked at every
    iteration.
    """
    data = np.ascontiguousarray(A.data, dtype=np.float64)
    csr = (data, A.indices, A.indptr)
    a_sq = float(data @ data)
    AW = np.empty_like(W)
    G, inner = _graph_kernels.symnmf_stats(*csr, W, AW)
    objective = symnmf_objective(a_sq, G, inner)
    cand, AW_cand = np.empty_like(W), np.empty_like(W)
    history, converged, n_iter = [], False, 0
    start = time.perf_counter()
    with _solver.engine_threads(A, W.shape[1]):
        for n_iter in range(1, max_iter + 1):
            for exponent in (BOLD_EXPONENT, SAFE_EXPONENT):
                _graph_kernels.symnmf_update(W, AW, G, exponent, cand)
                G_cand, inner_cand = _graph_kernels.symnmf_stats(*csr, cand, AW_cand)
                new = symnmf_objective(a_sq, G_cand, inner_cand)
                if new <= objective:
                    break
            W, cand, AW, AW_cand = cand, W, AW_cand, AW
            G, previous, objective = G_cand, objective, new
            history.append(objective)
            _solver._report(verbose, n_iter, objective, previous, start)
            size = 0.5 * float(np.vdot(G, G))
            if tol > 0 and previous - objective <= SYMNMF_TOL_SCALE * tol * size:
                converged = True
                break
    _warn_unless(converged, tol, max_iter)
    return FitResult(W, None, n_iter, objective, np.asarray(history),
                          converged)


# -- graph-regularised NMF ---------------------------------------------------
def graph_w_step(Xp, W, H, SW, degrees, strength, n_steps, tol, accumulate):
    """Graph-regularised W-step, dense or CSR; same statistics as ``_solver.w_step``."""
    HHt = H.astype(np.float64) @ H.T.astype(np.float64)
    if isinstance(Xp, Csr):
        At, B = _graph_kernels.graph_rows_csr(
            Xp.data, Xp.indices, Xp.indptr, W, np.ascontiguousarray(H.T), HHt,
            SW, degrees, strength, n_steps, tol, accumulate)
        return At.T, B
    return _graph_kernels.graph_rows_dense(Xp, W, H, HHt, SW, degrees,
                                           strength, n_steps, tol, accumulate)


def laplacian_form(W, SW, degrees):
    """``trace(W.T L W) = sum_i d_i ||w_i||^2 - <W, S W>``, in float64."""
    W64 = W.astype(np.float64, copy=False)
    return float(degrees @ np.einsum("ij,ij->i", W64, W64) - np.vdot(W64, SW))


def fit_gnmf(Xp, S, degrees, W, H, strength, max_iter, tol, verbose=0):
    """Cai et al.'s multiplicative updates for graph-regularised NMF.

    ``Xp`` is a prepared input, ``S`` the symmetric CSR graph with row sums
    ``degrees``, ``(W, H)`` the start, updated in place. Each iteration is
    one pass over ``X`` with one W-step per row (the step Cai et al. prove
    monotone, neighbours' codes taken from the previous iterate), then
    H-steps from the pass's accumulators. The objective
    ``0.5 ||X - W H||^2 + 0.5 strength trace(W.T L W)`` never increases; the
    fit stops as :func:`sknmfcluster._solver.fit_factors` does.
    """
    csr = (S.data.astype(W.dtype), S.indices, S.indptr)
    x_sq = _solver.sq_norm(Xp)
    SW = np.empty(W.shape)
    _graph_kernels.csr_times_dense(*csr, W, SW)
    history, previous, converged, n_iter = [], np.inf, False, 0
    start = time.perf_counter()
    with _solver.engine_threads(Xp, W.shape[1]):
        for n_iter in range(1, max_iter + 1):
            stats = graph_w_step(Xp, W, H, SW, degrees, strength, 1, 0.0, True)
            _solver._h_step(H, stats, FROBENIUS, 0.0, 0.0)
            _graph_kernels.csr_times_dense(*csr, W, SW)
            objective = (fro_from_stats(x_sq, stats[0], stats[1], H)
                         + 0.5 * strength * laplacian_form(W, SW, degrees))
            history.append(objective)
            _solver._report(verbose, n_iter, objective, previous, start)
            if (tol > 0 and np.isfinite(previous)
                    and previous - objective <= tol * abs(previous)):
                converged = True
                break
            previous = objective
    _warn_unless(converged, tol, max_iter)
    return FitResult(W, H, n_iter, history[-1], np.asarray(history),
                          converged)


def _warn_unless(converged, tol, max_iter):
    if tol > 0 and not converged:
        warnings.warn(
            f"Maximum number of iterations {max_iter} reached before the "
            f"graph-based fit converged (tol={tol}). Increase max_iter or "
            "tol.", ConvergenceWarning)


# -- codes of new samples ----------------------------------------------------
def gnmf_codes(Xp, G, W_train, H, strength, w0, max_iter, tol):
    """Codes of new samples under the graph regulariser, neighbours fixed.

    Each row ``x`` with neighbour row ``g`` of ``G`` (n_queries, n_train)
    solves ``min_w 0.5 ||x - w H||^2 + 0.5 strength sum_j g_j ||w - W_j||^2``
    with the training codes ``W_train`` fixed: the GNMF W-step of a single
    row, iterated from the constant ``w0`` as ``transform`` does for plain
    NMF. A converged training solution is a fixed point of this problem.
    """
    csr = (G.data.astype(np.float64), G.indices, G.indptr)
    SW = np.empty((G.shape[0], W_train.shape[1]))
    _graph_kernels.csr_times_dense(*csr, W_train, SW)
    degrees = np.asarray(G.sum(axis=1), dtype=np.float64).ravel()
    W = np.full((G.shape[0], W_train.shape[1]), w0, dtype=H.dtype)
    graph_w_step(Xp, W, H, SW, degrees, strength, max_iter, tol, False)
    return W


def symnmf_codes(A_rows, W_train, w0, max_iter, tol):
    """Codes ``w >= 0`` with ``a ~ w @ W_train.T`` for affinity rows ``a``.

    ``A_rows`` (n_queries, n_train) CSR; each row is solved on its own by the
    engine's fixed-factor Frobenius solve (``W_train.T`` plays ``H``). For a
    training sample this is the row of the SymNMF problem with the other
    rows fixed, of which the fitted row is a stationary point.
    """
    Ht = np.ascontiguousarray(W_train.T)
    return _solver.solve_codes(_solver.prepare(A_rows), Ht, FROBENIUS, w0,
                               max_iter, tol)


def zero_rows(Xp):
    """Boolean mask of the all-zero rows of a prepared input."""
    if isinstance(Xp, Csr):  # prepared CSR stores no explicit zeros
        return np.diff(Xp.indptr) == 0
    return ~Xp.any(axis=1)
