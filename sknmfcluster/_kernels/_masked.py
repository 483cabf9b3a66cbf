"""Rows with missing entries: the row rules over the observed entries only.

A missing entry (NaN) is left out of the divergence, its statistics and its
objective. The storage keeps the data with its missing entries set to zero
(so that ``x @ H.T`` and ``W.T X`` need no change) and, per row, the sorted
columns ``mc`` of its missing entries. What the observed entries change is
computed from the missing ones only, never by forming a per-row mask or a
per-row Gram matrix: for the Frobenius loss the row's Gram matrix is
``H_o H_o.T = H H.T - H_m H_m.T`` (``o`` observed, ``m`` missing columns),
applied to ``w`` as ``H H.T w - H_m (H_m.T w)`` in ``k^2 + 2 k |m|``; for KL
the denominator ``H_o 1 = Hsum - H_m 1``. When most of a row is missing,
coordinate descent works on the observed entries directly instead (a
residual over them), whichever costs less. A row without missing entries
goes through the unmasked code, bit for bit.

A component that a row does not see (:data:`UNSEEN`) gets the code 0 in
that row, whichever rule and path is taken.
"""

import numpy as np

from ._common import EPSILON, dot
from ._jit import kernel
from ._rows import _settle

#: A component whose weight on a row's observed entries (its squared norm
#: for the Frobenius loss, its sum for KL) is at most this share of its
#: whole weight is *not seen* by the row, and its code there is 0, as for a
#: component with no observed entry at all. The observed part is computed as
#: the whole minus the missing part, which cancels to rounding noise (about
#: the number of missing entries times the machine epsilon, relative) when a
#: component lies almost entirely on the row's missing columns: the updates
#: then divided by noise (a multiplicative step grew such codes to infinity,
#: and the two coordinate-descent paths disagreed). The share lies far above
#: that noise, and far below any weight that carries information.
UNSEEN = 1e-9


@kernel()
def missing_wh(w, Ht, mc, out):
    """``out[p] = (w @ H)[mc[p]]`` at the row's missing columns."""
    k = w.shape[0]
    for p in range(mc.shape[0]):
        h = Ht[mc[p]]
        s = 0.0
        for j in range(k):
            s += np.float64(w[j]) * h[j]
        out[p] = s


@kernel()
def observed_hsum(Hsum, Ht, mc, out):
    """``out = H_o 1``: the row sums of H over the row's observed columns.

    0 for a component the row does not see (:data:`UNSEEN`).
    """
    for j in range(Hsum.shape[0]):
        out[j] = Hsum[j]
    for p in range(mc.shape[0]):
        h = Ht[mc[p]]
        for j in range(Hsum.shape[0]):
            out[j] -= h[j]
    for j in range(Hsum.shape[0]):
        if out[j] <= UNSEEN * Hsum[j]:
            out[j] = 0.0


@kernel()
def observed_curvature(HHt, Ht, mc, out):
    """``out[j] = ||h_j||^2`` over the row's observed columns, ``HHt`` less
    the missing columns' squares; 0 for a component the row does not see
    (:data:`UNSEEN`)."""
    k = HHt.shape[0]
    for j in range(k):
        out[j] = HHt[j, j]
    for p in range(mc.shape[0]):
        h = Ht[mc[p]]
        for j in range(k):
            out[j] -= h[j] * h[j]
    for j in range(k):
        if out[j] <= UNSEEN * HHt[j, j]:
            out[j] = 0.0


@kernel()
def zero_unseen(w, observed):
    """Set the codes of the components the row does not see (``observed`` 0) to 0."""
    for j in range(w.shape[0]):
        if observed[j] == 0.0:
            w[j] = 0.0


@kernel()
def mu_fro_row_masked(xh, w, HHt, Ht, mc, l1, l2, n_steps, tol, new, whm,
                      curv):
    """Lee-Seung steps on one row, Frobenius loss over its observed entries.

    ``w <- w * xh / (H_o H_o.T w + l1 + l2 w)``, with ``xh = x_o @ H_o.T``
    (the missing entries are zero in the stored row) and the Gram product
    corrected at the missing columns ``mc``. Every term of ``(H_o H_o.T
    w)_j`` is non-negative, so it is at least ``w_j ||h_j||_o^2``: the
    corrected difference is floored there, against its rounding. ``new``
    (k,), ``whm`` (len(mc),) and ``curv`` (k,) are scratch.
    """
    k = w.shape[0]
    observed_curvature(HHt, Ht, mc, curv)
    zero_unseen(w, curv)
    for _ in range(n_steps):
        missing_wh(w, Ht, mc, whm)
        for j in range(k):
            if curv[j] == 0.0:  # not seen: stays 0
                new[j] = 0.0
                continue
            den = l1 + l2 * w[j] + dot(HHt[j], w)
            for p in range(mc.shape[0]):
                den -= Ht[mc[p], j] * whm[p]
            den = max(den, l1 + (l2 + curv[j]) * w[j])
            new[j] = w[j] * xh[j] / max(den, EPSILON)
        change, largest = _settle(w, new, k)
        if change <= tol * largest:
            return True
    return False


@kernel()
def cd_row_masked(xh, w, HHt, Ht, mc, l1, l2, n_steps, tol, whm, hess):
    """Coordinate descent on one row, Frobenius loss over its observed entries.

    The row's Gram matrix ``H_o H_o.T`` is never formed: its diagonal is
    ``HHt[j, j] - sum_m H[j, m]^2`` (once per row, :func:`observed_curvature`)
    and its product with ``w`` is ``HHt w - H_m whm`` with ``whm = w @ H_m``
    kept up to date as each coordinate moves (recomputed at each sweep
    against drift). ``whm`` (len(mc),) and ``hess`` (k,) are scratch.
    """
    k = w.shape[0]
    observed_curvature(HHt, Ht, mc, hess)
    zero_unseen(w, hess)
    for _ in range(n_steps):
        missing_wh(w, Ht, mc, whm)
        change = 0.0
        largest = 0.0
        for j in range(k):
            if hess[j] == 0.0:  # not seen: stays 0
                continue
            grad = dot(HHt[j], w) - xh[j] + l1 + l2 * w[j]
            for p in range(mc.shape[0]):
                grad -= Ht[mc[p], j] * whm[p]
            old = w[j]
            new = max(old - grad / (hess[j] + l2), 0.0)
            delta = new - old
            if delta != 0.0:
                w[j] = new
                for p in range(mc.shape[0]):
                    whm[p] += delta * Ht[mc[p], j]
            change = max(change, abs(delta))
            largest = max(largest, new)
        if change <= tol * largest:
            return True
    return False


@kernel()
def observed_columns(m, mc, oc):
    """The columns of a row of ``m`` that are not in the sorted ``mc``, into ``oc``."""
    count = 0
    q = 0
    for f in range(m):
        if q < mc.shape[0] and mc[q] == f:
            q += 1
            continue
        oc[count] = f
        count += 1
    return count


@kernel()
def cd_row_observed(x, w, HHt, Ht, oc, l1, l2, n_steps, tol, residual, hess):
    """:func:`cd_row_masked` from the observed entries, for mostly missing rows.

    ``x`` is the dense row (m,), ``oc`` its observed columns; the residual
    ``x - w @ H`` at them is kept in ``residual`` (len(oc),) and the
    diagonal of ``H_o H_o.T`` in ``hess`` (k; 0 for a component the row
    does not see, :data:`UNSEEN`). Costs about ``2 k |o|`` per sweep instead
    of ``k (k + 2 |m|)``.
    """
    k = w.shape[0]
    for j in range(k):
        hess[j] = 0.0
        for p in range(oc.shape[0]):
            h = Ht[oc[p], j]
            hess[j] += h * h
        if hess[j] <= UNSEEN * HHt[j, j]:
            hess[j] = 0.0
    zero_unseen(w, hess)
    for p in range(oc.shape[0]):
        h = Ht[oc[p]]
        s = np.float64(x[oc[p]])
        for j in range(k):
            s -= w[j] * h[j]
        residual[p] = s
    for _ in range(n_steps):
        change = 0.0
        largest = 0.0
        for j in range(k):
            if hess[j] == 0.0:  # not seen: stays 0
                continue
            grad = l1 + l2 * w[j]
            for p in range(oc.shape[0]):
                grad -= Ht[oc[p], j] * residual[p]
            old = w[j]
            new = max(old - grad / (hess[j] + l2), 0.0)
            delta = new - old
            if delta != 0.0:
                w[j] = new
                for p in range(oc.shape[0]):
                    residual[p] -= delta * Ht[oc[p], j]
            change = max(change, abs(delta))
            largest = max(largest, new)
        if change <= tol * largest:
            return True
    return False


@kernel()
def accumulate_missing(w, Ht, mc, kl, Ct, whm):
    """The missing entries' share of the H update, and of the objective.

    Frobenius: ``Ct[f] += w * (w @ H)[f]`` at the missing columns (the
    denominator ``W.T (W H)`` over observed entries is ``B H - C``), and
    returns ``-0.5 * sum(wh^2)`` there (``fro_from_stats`` counts every
    entry); KL: ``Ct[f] += w`` (the denominator is ``W.sum(0) - C``) and
    returns ``-sum(wh)``.
    """
    missing_wh(w, Ht, mc, whm)
    k = w.shape[0]
    part = 0.0
    for p in range(mc.shape[0]):
        acc = Ct[mc[p]]
        wh = whm[p]
        for j in range(k):
            acc[j] += w[j] * (1.0 if kl else wh)
        part -= wh if kl else 0.5 * wh * wh
    return part


@kernel()
def zero_at(values, mc):
    """Set ``values[mc]`` to zero: the missing columns leave a dense sum."""
    for p in range(mc.shape[0]):
        values[mc[p]] = 0.0
