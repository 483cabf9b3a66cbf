"""Objective values, dense and CSR, without ever forming a dense ``W @ H``.

The beta-divergences follow scikit-learn's conventions: the Frobenius
objective is ``0.5 * ||X - W H||_F^2`` and the Kullback-Leibler one is the
generalized KL divergence ``sum(X log(X / WH) - X + WH)``. The reported
``reconstruction_err_`` is ``sqrt(2 * divergence)``, which for the Frobenius
loss is ``||X - W H||_F``.
"""

import numpy as np

from . import _kernels
from ._storage import Csr

FROBENIUS = 2
KULLBACK_LEIBLER = 1


def fro_from_stats(sq_norm, A, B, H):
    """``0.5 * ||X - W H||^2`` from ``A = W.T X`` (k, m) and ``B = W.T W``.

    Uses ``||X - WH||^2 = ||X||^2 - 2 <A, H> + <B, H H.T>``: no pass over X.
    The subtraction can cancel to a tiny negative number for an almost exact
    fit, so the result is clipped at zero.
    """
    H64 = H.astype(np.float64, copy=False)
    value = sq_norm - 2.0 * np.vdot(A, H64) + np.vdot(B, H64 @ H64.T)
    return 0.5 * max(value, 0.0)


def divergence(Xp, W, H, beta):
    """Beta-divergence between prepared input ``Xp`` and ``W @ H``.

    Parameters
    ----------
    Xp : ndarray of shape (n, m) or Csr
        Input as returned by :func:`sknmfcluster._storage.prepare`.
    W : ndarray of shape (n, k)
    H : ndarray of shape (k, m)
    beta : {1, 2}
        1 for the generalized Kullback-Leibler divergence, 2 for the
        Frobenius loss.

    Returns
    -------
    float
    """
    if isinstance(Xp, Csr):
        Ht = np.ascontiguousarray(H.T)
        cross, kl_nz = _kernels.wh_at_nonzeros_csr(
            Xp.data, Xp.indices, Xp.indptr, W, Ht
        )
        W64 = W.astype(np.float64, copy=False)
        H64 = H.astype(np.float64, copy=False)
        if beta == FROBENIUS:
            value = Xp.sq_norm - 2.0 * cross + np.vdot(W64.T @ W64, H64 @ H64.T)
            return 0.5 * max(value, 0.0)
        return float(kl_nz + W64.sum(axis=0) @ H64.sum(axis=1))
    if beta == FROBENIUS:
        return 0.5 * float(_kernels.fro_loss_dense(Xp, W, H))
    return float(_kernels.kl_loss_dense(Xp, W, H))


def penalty(W, H, l1_W, l2_W, l1_H, l2_H):
    """``l1 ||.||_1 + 0.5 l2 ||.||_F^2`` summed over both factors."""
    total = 0.0
    for F, l1, l2 in ((W, l1_W, l2_W), (H, l1_H, l2_H)):
        if l1:
            total += l1 * float(F.sum(dtype=np.float64))
        if l2:
            F64 = F.astype(np.float64, copy=False)
            total += 0.5 * l2 * float(np.vdot(F64, F64))
    return total


def reconstruction_error(div):
    """``sqrt(2 * divergence)``, scikit-learn's ``reconstruction_err_``."""
    return float(np.sqrt(2.0 * max(div, 0.0)))
