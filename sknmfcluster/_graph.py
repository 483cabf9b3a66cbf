"""Graph-based NMF clustering: the solvers of the two graph factorizations.

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

The graph itself is built in :mod:`._neighbors`, the spectral start of
SymNMF in :mod:`._spectral`.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _graph_kernels, _solver, _storage
from ._loss import FROBENIUS, fro_from_stats
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

#: The SymNMF fit stops when an iteration lowers the objective by at most
#: ``SYMNMF_TOL_SCALE * tol`` times the size of the approximation
#: ``0.5 ||W W.T||_F^2``. The objective itself is dominated by the part of
#: a sparse affinity that no rank-k matrix explains, so a decrease relative
#: to it would stop long before the factor settles. With the default
#: ``tol=1e-4`` the digits fit from the spectral init stops after 100-150
#: cheap iterations; running on to 10 times stricter thresholds moved the
#: accuracy within its seed-to-seed spread (0.87-0.90) and no further.
SYMNMF_TOL_SCALE = 1e-2


# -- symmetric NMF -------------------------------------------------------------
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
    if isinstance(Xp, _storage.Csr):
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
    x_sq = _storage.sq_norm(Xp)
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
    return _solver.solve_codes(_storage.prepare(A_rows), Ht, FROBENIUS, w0,
                               max_iter, tol)


