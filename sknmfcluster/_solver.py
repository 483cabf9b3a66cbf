"""The only iteration loop of the package.

``prepare`` normalises an already validated input once (C-contiguous dense or
CSR with sorted indices, float32 or float64); ``w_step`` dispatches the row
kernels on dense or CSR storage; ``fit_factors`` alternates a pass over
``X`` (W-step plus accumulation of the H-update statistics) with an H-step
computed from the accumulators alone, and owns the stopping rule.

Two solvers share that pass. ``"mu"``: Lee & Seung's multiplicative updates
(any loss). ``"cd"``: coordinate descent, also called HALS (Frobenius loss
only), which solves each coordinate exactly and converges in far fewer
passes; it needs the same ``x @ H.T``, ``W.T @ X`` and ``W.T @ W`` as MU.
"""

import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numba

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import ThreadpoolController

from . import _kernels, _progress  # noqa: F401  (_progress announces compiles)
from ._loss import FROBENIUS, fro_from_stats, penalty
from ._storage import Csr, columns, sq_norm
from ._kernels import EPSILON

#: Multiplicative W-steps per row and pass for the Frobenius loss. They reuse
#: ``x @ H.T``, so each extra step costs k^2 per row, not a read of X
#: ("accelerated MU", Gillis & Glineur 2012).
INNER_W_FRO = 3
#: H-steps per pass for the Frobenius loss, from the accumulators alone
#: (k^2 m each, against the n m k of the pass).
INNER_H_FRO = 3
#: Coordinate-descent sweeps per row of W and pass. A sweep costs k^2 per row
#: against the 4 m k of the pass, so several sweeps are nearly free and bring
#: the row close to its exact least-squares solution given H.
INNER_W_CD = 3
#: Coordinate-descent sweeps over H per pass, from the accumulators alone.
INNER_H_CD = 1
#: A KL step needs ``W @ H`` afresh, which costs as much as the pass itself,
#: so KL uses one step of each.
INNER_KL = 1

#: The KL objective costs a logarithm per non-zero of X, as much as the rest
#: of a pass, so it is evaluated (and the stopping rule applied) every
#: ``KL_CHECK_EVERY`` iterations and at the last one, as scikit-learn does.
KL_CHECK_EVERY = 10

#: How often the progress line is printed with ``verbose=1``.
VERBOSE_EVERY = 10


#: Below this many multiply-adds per pass (stored entries of X times k), the
#: kernels run on one thread: waking a second thread for each parallel loop
#: costs about a millisecond here, more than it saves (measured: 1,797 x 64 at
#: rank 10 took 0.67 ms per pass on one thread and 1.6 ms on two; the two
#: break even near 5e6).
SERIAL_WORK = 5_000_000

_BLAS = []


def one_blas_thread():
    """Context in which BLAS runs on one thread.

    The engine's only BLAS calls are k x k and k x m products between the
    Numba passes. A multithreaded BLAS keeps its threads spinning for a while
    after each call, and they then compete with the Numba threads of the
    next pass over ``X`` (measured: a rank-50 pass 25 % slower). The
    controller is built once (building it costs milliseconds, entering it
    microseconds).
    """
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


@contextmanager
def engine_threads(Xp, k):
    """Run the engine on one thread for small inputs, BLAS always on one.

    Only ever lowers the thread count set with ``numba.set_num_threads``;
    the results do not depend on it.
    """
    before = numba.get_num_threads()
    entries = Xp.data.size if isinstance(Xp, Csr) else Xp.size
    if entries * k < SERIAL_WORK:
        numba.set_num_threads(1)
    try:
        with one_blas_thread():
            yield
    finally:
        numba.set_num_threads(before)


def w_step(Xp, W, H, beta, l1, l2, n_steps, tol, accumulate, cd=False, *,
           objective=True, Xt=None):
    """Update every row of ``W`` in place with ``H`` fixed; dispatch dense/CSR.

    ``cd`` selects coordinate-descent steps (Frobenius loss only) instead of
    multiplicative ones. With ``objective=False`` the KL kernels skip the
    divergence term (returned as 0). For CSR input, ``Xt`` (from
    :func:`columns`) makes the statistics be gathered column by column after
    the row pass instead of scattered into per-chunk accumulators during it.

    Returns the kernel's statistics: for the Frobenius loss ``(A, B)`` with
    ``A = W.T @ X`` (k, m) and ``B = W.T @ W``; for KL ``(num, w_sum, part)``
    with ``num`` (k, m). Zero-sized when ``accumulate`` is false.
    """
    csr = isinstance(Xp, Csr)
    gather = csr and accumulate and Xt is not None
    in_pass = accumulate and not gather
    if beta == FROBENIUS:
        HHt = (H.astype(np.float64) @ H.T.astype(np.float64))
        if csr:
            Ht = np.ascontiguousarray(H.T)
            At, B = _kernels.fro_rows_csr(Xp.data, Xp.indices, Xp.indptr, W,
                                          Ht, HHt, l1, l2, n_steps, tol,
                                          in_pass, cd, accumulate)
            if gather:
                At = _kernels.fro_cols_csr(Xt.data, Xt.indices, Xt.indptr, W)
                B = _kernels.gram(W)
            return At.T, B
        return _kernels.fro_rows_dense(Xp, W, H, HHt, l1, l2, n_steps, tol,
                                       accumulate, cd)
    Ht = np.ascontiguousarray(H.T)
    Hsum = H.sum(axis=1, dtype=np.float64)
    if csr:
        num_t, w_sum, part = _kernels.kl_rows_csr(
            Xp.data, Xp.indices, Xp.indptr, W, Ht, Hsum, l1, l2, n_steps, tol,
            in_pass, objective)
        if gather:
            num_t, part = _kernels.kl_cols_csr(Xt.data, Xt.indices, Xt.indptr,
                                               W, Ht, objective)
            w_sum = W.sum(axis=0, dtype=np.float64)
    else:
        num_t, w_sum, part = _kernels.kl_rows_dense(
            Xp, W, Ht, Hsum, l1, l2, n_steps, tol, accumulate, objective)
    return num_t.T, w_sum, part


def solve_codes(Xp, H, beta, w0, max_iter, tol, l1=0.0, l2=0.0, solver="mu"):
    """Solve for ``W >= 0`` with ``H`` fixed, each row on its own.

    Every row starts from the same constant ``w0`` and stops after
    ``max_iter`` steps or once its largest change is at most ``tol`` times its
    largest entry, so a row's result never depends on the other rows.
    """
    n = Xp.shape[0]
    W = np.full((n, H.shape[0]), w0, dtype=H.dtype)
    with engine_threads(Xp, H.shape[0]):
        w_step(Xp, W, H, beta, l1, l2, max_iter, tol, False, solver == "cd")
    return W


@dataclass
class FitResult:
    """What :func:`fit_factors` returns."""

    W: np.ndarray
    H: np.ndarray
    n_iter: int
    objective: float
    history: np.ndarray
    converged: bool


def _h_step(H, stats, beta, l1, l2, cd=False):
    """H-update(s) from the pass's accumulators, in place."""
    if cd:
        A, B = stats
        Ht = np.ascontiguousarray(H.T)
        _kernels.cd_rows(Ht, np.ascontiguousarray(A.T), B, l1, l2,
                         INNER_H_CD, 0.0)
        H[...] = Ht.T
        return
    H64 = H.astype(np.float64)
    if beta == FROBENIUS:
        A, B = stats
        for _ in range(INNER_H_FRO):
            den = B @ H64
            den += l1
            if l2:
                den += l2 * H64
            H64 *= A / np.maximum(den, EPSILON)
    else:
        num, w_sum, _ = stats
        den = w_sum[:, None] + l1
        if l2:
            den = den + l2 * H64
        H64 *= num / np.maximum(den, EPSILON)
    H[...] = H64


def fit_factors(Xp, W, H, beta, max_iter, tol, *, solver="mu", l1_W=0.0,
                l2_W=0.0, l1_H=0.0, l2_H=0.0, project=None, verbose=0,
                Xt=None):
    """Alternating updates of ``(W, H)`` in place, with ``solver`` "mu" or "cd".

    Each iteration is one pass over ``X`` (W-steps plus accumulation) and
    H-steps from the accumulators. The objective (divergence plus penalties)
    comes from the accumulators: for the Frobenius loss it is exact at the
    new ``(W, H)``; for KL it is the value after the W-step, evaluated only
    every ``KL_CHECK_EVERY`` iterations and at the last one (``history``
    holds the evaluated values). The fit stops when the mean relative
    decrease per iteration since the previous evaluation falls below
    ``tol``, or after ``max_iter`` iterations with a
    :class:`~sklearn.exceptions.ConvergenceWarning`.

    ``project``, if given, is called as ``project(W, H)`` after each
    iteration and may modify both in place (used for sparseness targets).
    ``Xt`` is :func:`columns` of ``Xp``, made here when not given; pass it
    to share one copy between several fits of the same data.
    """
    cd = solver == "cd"
    if cd and beta != FROBENIUS:
        raise ValueError("The coordinate-descent solver supports the "
                         "Frobenius loss only; use solver='mu' for KL.")
    x_sq = sq_norm(Xp)
    if Xt is None:
        Xt = columns(Xp)
    if cd:
        n_steps_W = INNER_W_CD
    else:
        n_steps_W = INNER_W_FRO if beta == FROBENIUS else INNER_KL
    history = []
    previous = np.inf
    converged = False
    start = time.perf_counter()
    n_iter = 0
    checked_at = 0
    with engine_threads(Xp, H.shape[0]):
        for n_iter in range(1, max_iter + 1):
            check = (beta == FROBENIUS or n_iter % KL_CHECK_EVERY == 0
                     or n_iter == max_iter)
            if check and beta != FROBENIUS:
                h_sum_before = H.sum(axis=1, dtype=np.float64)
            stats = w_step(Xp, W, H, beta, l1_W, l2_W, n_steps_W, 0.0, True, cd,
                           objective=check, Xt=Xt)
            _h_step(H, stats, beta, l1_H, l2_H, cd)
            if check:
                if beta == FROBENIUS:
                    objective = fro_from_stats(x_sq, stats[0], stats[1], H)
                else:
                    objective = stats[2] + float(stats[1] @ h_sum_before)
            if project is not None:
                project(W, H)
            if not check:
                continue
            objective += penalty(W, H, l1_W, l2_W, l1_H, l2_H)
            history.append(objective)
            _report(verbose, n_iter, objective, previous, start)
            # the mean decrease per iteration since the previous evaluation
            if (tol > 0 and np.isfinite(previous) and previous - objective
                    <= tol * abs(previous) * (n_iter - checked_at)):
                converged = True
                break
            previous, checked_at = objective, n_iter
    if tol > 0 and not converged:
        warnings.warn(
            f"Maximum number of iterations {max_iter} reached before the "
            f"relative decrease of the objective fell below tol={tol}. "
            "Increase max_iter or tol, or try another init.",
            ConvergenceWarning,
        )
    return FitResult(W, H, n_iter, history[-1] if history else np.nan,
                     np.asarray(history), converged)


def _report(verbose, n_iter, objective, previous, start):
    """Print one progress line, every iteration at ``verbose >= 2``."""
    if not verbose or (verbose < 2 and n_iter % VERBOSE_EVERY and n_iter > 1):
        return
    decrease = (previous - objective) / abs(previous) if np.isfinite(previous) \
        and previous else np.nan
    print(f"Iteration {n_iter:5d}  objective {objective:.6e}  "
          f"relative decrease {decrease:.3e}  "
          f"elapsed {time.perf_counter() - start:.2f}s", flush=True)
