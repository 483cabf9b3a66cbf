"""Rows with missing entries: the row rules over the observed entries only.

A missing entry (NaN) is left out of the divergence, its statistics and its
objective. The storage keeps the data with its missing entries set to zero
(so that ``x @ H.T`` and ``W.T X`` need no change) and, per row, the sorted
columns ``mc`` of its missing entries. What the observed entries change is
computed per row, never with a dense mask: for the Frobenius loss the row's
Gram matrix is ``H_o H_o.T = H H.T - H_m H_m.T`` (``o`` observed, ``m``
missing columns), formed once (``k^2 |m| / 2``, at a small rank) or applied
to ``w`` as ``H H.T w - H_m (H_m.T w)`` in every sweep (``k^2 + 2 k |m|``),
or, when most of the row is missing, replaced by the observed columns
themselves; ``_dispatch.masked_path`` picks the cheapest. For KL the
denominator is ``H_o 1 = Hsum - H_m 1``. The columns of ``H`` a row needs
are gathered once into a contiguous block (:func:`gather_columns`). A row
without missing entries goes through the unmasked code, bit for bit.

A component that a row does not see (:data:`UNSEEN`) gets the code 0 in
that row, whichever rule and path is taken.
"""

import numpy as np

from ._common import EPSILON, axpy_n, dot, dot_n
from ._jit import REDUCTION_MATH, kernel
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
def gather_columns(Ht, cols, out):
    """``out[j, p] = H[j, cols[p]]``: the columns ``cols`` of H, contiguous.

    ``Ht`` is ``H.T`` (m, k), whose row ``cols[p]`` holds the column
    wanted; ``out`` (k, >= len(cols)) is float64 scratch. Four columns are
    moved at a time, so that each row of ``out`` receives four adjacent
    entries per visit (one at a time, the stores of a small rank stride
    across ``k`` rows and cost more than the reads). The corrections below
    read each component's values at the columns as one contiguous vector.
    """
    k = Ht.shape[1]
    n = cols.shape[0]
    p = 0
    while p + 4 <= n:
        a, b, c, d = Ht[cols[p]], Ht[cols[p + 1]], Ht[cols[p + 2]], \
            Ht[cols[p + 3]]
        for j in range(k):
            o = out[j]
            o[p], o[p + 1], o[p + 2], o[p + 3] = a[j], b[j], c[j], d[j]
        p += 4
    while p < n:
        a = Ht[cols[p]]
        for j in range(k):
            out[j, p] = a[j]
        p += 1


@kernel()
def missing_wh(w, hm, nm, out):
    """``out[p] = (w @ H)[mc[p]]`` at the row's ``nm`` missing columns.

    ``hm`` holds ``H[:, mc]`` (see :func:`gather_columns`).
    """
    for p in range(nm):
        out[p] = 0.0
    for j in range(w.shape[0]):
        axpy_n(np.float64(w[j]), hm[j], out, nm)


@kernel()
def observed_hsum(Hsum, hm, nm, out):
    """``out = H_o 1``: the row sums of H over the row's observed columns.

    ``hm`` holds ``H[:, mc]``; 0 for a component the row does not see
    (:data:`UNSEEN`).
    """
    for j in range(Hsum.shape[0]):
        s = Hsum[j]
        for p in range(nm):
            s -= hm[j, p]
        out[j] = 0.0 if s <= UNSEEN * Hsum[j] else s


@kernel()
def zero_unseen(w, observed):
    """Set the codes of the components the row does not see (``observed`` 0) to 0."""
    for j in range(w.shape[0]):
        if observed[j] == 0.0:
            w[j] = 0.0


@kernel()
def prepare_missing(w, Ht, HHt, mc, hm, curv, whm):
    """What the corrected Frobenius rules need of a row's missing columns ``mc``.

    Gathers ``hm = H[:, mc]`` (:func:`gather_columns`), the diagonal of the
    row's Gram matrix ``curv[j] = ||h_j||^2`` over its observed columns
    (``HHt[j, j]`` less the missing columns' squares) and ``whm = w @
    H_m``; the components the row does not see (:data:`UNSEEN`) get
    ``curv`` 0 and the code 0.
    """
    nm = mc.shape[0]
    gather_columns(Ht, mc, hm)
    for j in range(w.shape[0]):
        curv[j] = HHt[j, j] - dot_n(hm[j], hm[j], nm)
    missing_wh(w, hm, nm, whm)
    _observed_diagonal(HHt, curv, w, whm, hm, nm)


@kernel()
def _observed_diagonal(HHt, curv, w, whm, hm, nm):
    """Apply the :data:`UNSEEN` rule to the row's observed diagonal ``curv``.

    An unseen component's ``curv`` and code are set to 0 (``whm = w @ H_m``
    at the ``nm`` gathered columns ``hm`` following).
    """
    for j in range(w.shape[0]):
        if curv[j] <= UNSEEN * HHt[j, j]:
            curv[j] = 0.0
        if curv[j] == 0.0 and w[j] != 0.0:
            axpy_n(-np.float64(w[j]), hm[j], whm, nm)
            w[j] = 0.0


@kernel(fastmath=REDUCTION_MATH)
def _gram_tile(hm, j, q, n, G, HHt):
    """``G[a, b] = HHt[a, b] - hm[a, :n] @ hm[b, :n]`` for ``a`` in ``j, j +
    1`` and ``b`` in ``q .. q + 3`` (and the symmetric entries).

    A register tile: per gathered column, six loads feed eight
    multiply-adds, where one dot product at a time needs two loads per
    multiply-add.
    """
    a0, a1 = hm[j], hm[j + 1]
    b0, b1, b2, b3 = hm[q], hm[q + 1], hm[q + 2], hm[q + 3]
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0.0
    for p in range(n):
        x, y = a0[p], a1[p]
        s00 += x * b0[p]
        s01 += x * b1[p]
        s02 += x * b2[p]
        s03 += x * b3[p]
        s10 += y * b0[p]
        s11 += y * b1[p]
        s12 += y * b2[p]
        s13 += y * b3[p]
    _put(G, HHt, j, q, s00)
    _put(G, HHt, j, q + 1, s01)
    _put(G, HHt, j, q + 2, s02)
    _put(G, HHt, j, q + 3, s03)
    if q > j:  # else (j + 1, j) is (j, j + 1), put above
        _put(G, HHt, j + 1, q, s10)
    _put(G, HHt, j + 1, q + 1, s11)
    _put(G, HHt, j + 1, q + 2, s12)
    _put(G, HHt, j + 1, q + 3, s13)


@kernel()
def _put(G, HHt, a, b, s):
    """``G[a, b] = G[b, a] = HHt[a, b] - s`` (``a <= b``)."""
    G[a, b] = G[b, a] = HHt[a, b] - s


@kernel()
def gram_observed(w, Ht, HHt, mc, hm, G, curv):
    """The row's own Gram matrix ``G = H_o H_o.T = HHt - H_m H_m.T`` (k, k).

    Gathers ``hm = H[:, mc]`` (:func:`gather_columns`), then a dot product
    along the ``nm`` gathered columns per pair of components, two by four
    pairs at a time (:func:`_gram_tile`): about ``k^2 nm / 2``
    multiply-adds, cheaper for a small rank than correcting each sweep
    (``_dispatch.masked_path``). ``curv`` receives the diagonal of ``G`` (0
    for an unseen component, whose code is set to 0).
    """
    k = w.shape[0]
    nm = mc.shape[0]
    gather_columns(Ht, mc, hm)
    for j in range(0, k - 1, 2):
        q = j
        while q + 4 <= k:
            _gram_tile(hm, j, q, nm, G, HHt)
            q += 4
        for b in range(q, k):  # the last columns, pair by pair
            _put(G, HHt, j, b, dot_n(hm[j], hm[b], nm))
            if b > j:
                _put(G, HHt, j + 1, b, dot_n(hm[j + 1], hm[b], nm))
    if k % 2:
        _put(G, HHt, k - 1, k - 1, dot_n(hm[k - 1], hm[k - 1], nm))
    for j in range(k):
        curv[j] = G[j, j]
    _observed_diagonal(HHt, curv, w, curv, hm, 0)  # no w @ H_m to follow


@kernel()
def mu_fro_row_masked(xh, w, G, hm, nm, curv, l1, l2, n_steps, tol, new,
                      whm):
    """Lee-Seung steps on one row, Frobenius loss over its observed entries.

    ``w <- w * xh / (H_o H_o.T w + l1 + l2 w)``, with ``xh = x_o @ H_o.T``
    (the missing entries are zero in the stored row). ``H_o H_o.T w`` is
    ``G w - H_m (w @ H_m)`` with ``hm = H[:, mc]`` at the ``nm`` missing
    columns (``G = HHt``), or ``G w`` with the row's own Gram matrix (``nm``
    0); ``curv`` and ``whm`` as from :func:`prepare_missing`. Every term
    of ``(H_o H_o.T w)_j`` is non-negative, so it is at least ``w_j
    ||h_j||_o^2``: the corrected difference is floored there, against its
    rounding. ``new`` (k,) is scratch.
    """
    k = w.shape[0]
    for step in range(n_steps):
        if step:
            missing_wh(w, hm, nm, whm)
        for j in range(k):
            if curv[j] == 0.0:  # not seen: stays 0
                new[j] = 0.0
                continue
            den = l1 + l2 * w[j] + dot(G[j], w) - dot_n(hm[j], whm, nm)
            den = max(den, l1 + (l2 + curv[j]) * w[j])
            new[j] = w[j] * xh[j] / max(den, EPSILON)
        change, largest = _settle(w, new, k)
        if change <= tol * largest:
            return True
    return False


#: Coordinate descent on a row with missing entries keeps ``w @ H_m`` up to
#: date as each coordinate moves; it is recomputed from scratch every this
#: many sweeps, against the drift of the running updates.
REFRESH_SWEEPS = 8


@kernel()
def cd_row_masked(xh, w, G, hm, nm, curv, l1, l2, n_steps, tol, whm):
    """Coordinate descent on one row, Frobenius loss over its observed entries.

    The product of the row's Gram matrix with ``w`` is ``G w - H_m whm``,
    ``G = HHt``, with ``whm = w @ H_m`` kept up to date as each coordinate
    moves (recomputed every :data:`REFRESH_SWEEPS` sweeps), ``hm = H[:,
    mc]`` at the ``nm`` missing columns; or ``G w`` with the row's own Gram
    matrix (:func:`gram_observed`, ``nm`` 0). ``curv`` (its diagonal, 0 for
    an unseen component) and ``whm`` as from :func:`prepare_missing`.
    """
    k = w.shape[0]
    for sweep in range(n_steps):
        if sweep and sweep % REFRESH_SWEEPS == 0:
            missing_wh(w, hm, nm, whm)
        change = 0.0
        largest = 0.0
        for j in range(k):
            if curv[j] == 0.0:  # not seen: stays 0
                continue
            grad = (dot(G[j], w) - xh[j] + l1 + l2 * w[j]
                    - dot_n(hm[j], whm, nm))
            old = w[j]
            new = max(old - grad / (curv[j] + l2), 0.0)
            delta = new - old
            if delta != 0.0:
                w[j] = new
                axpy_n(delta, hm[j], whm, nm)
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
def _observed_curvature(HHt, ho, no, w, curv):
    """``curv[j] = ||h_j||^2`` over the ``no`` observed columns ``ho = H[:, oc]``.

    0 for a component the row does not see (:data:`UNSEEN`), whose code is
    set to 0.
    """
    for j in range(w.shape[0]):
        curv[j] = dot_n(ho[j], ho[j], no)
    _observed_diagonal(HHt, curv, w, curv, ho, 0)  # no w @ H_m to follow


@kernel()
def cd_row_observed(x, w, HHt, ho, oc, l1, l2, n_steps, tol, residual, hess):
    """:func:`cd_row_masked` from the observed entries, for mostly missing rows.

    ``x`` is the dense row (m,), ``oc`` its observed columns and ``ho =
    H[:, oc]`` (see :func:`gather_columns`); the residual ``x - w @ H`` at
    them is kept in ``residual`` (>= len(oc),) and the diagonal of ``H_o
    H_o.T`` in ``hess`` (k; 0 for a component the row does not see,
    :data:`UNSEEN`). Costs about ``2 k |o|`` per sweep instead of ``k (k +
    2 |m|)``.
    """
    k = w.shape[0]
    no = oc.shape[0]
    _observed_curvature(HHt, ho, no, w, hess)
    for p in range(no):
        residual[p] = x[oc[p]]
    for j in range(k):
        axpy_n(-np.float64(w[j]), ho[j], residual, no)
    for _ in range(n_steps):
        change = 0.0
        largest = 0.0
        for j in range(k):
            if hess[j] == 0.0:  # not seen: stays 0
                continue
            grad = l1 + l2 * w[j] - dot_n(ho[j], residual, no)
            old = w[j]
            new = max(old - grad / (hess[j] + l2), 0.0)
            delta = new - old
            if delta != 0.0:
                w[j] = new
                axpy_n(-delta, ho[j], residual, no)
            change = max(change, abs(delta))
            largest = max(largest, new)
        if change <= tol * largest:
            return True
    return False


@kernel()
def mu_fro_row_observed(xh, w, HHt, ho, no, l1, l2, n_steps, tol, new, wh,
                        curv):
    """:func:`mu_fro_row_masked` from the observed entries, for mostly missing rows.

    ``ho = H[:, oc]`` holds the row's ``no`` observed columns (see
    :func:`gather_columns`); each step forms ``wh = w @ H_o`` there and the
    denominator ``H_o wh``: ``2 k no`` per step instead of ``k (k + 2
    nm)``. ``new`` (k,), ``wh`` (>= no,) and ``curv`` (k,) are scratch.
    """
    k = w.shape[0]
    _observed_curvature(HHt, ho, no, w, curv)
    for _ in range(n_steps):
        missing_wh(w, ho, no, wh)  # here: w @ H_o at the observed columns
        for j in range(k):
            if curv[j] == 0.0:  # not seen: stays 0
                new[j] = 0.0
                continue
            den = l1 + l2 * w[j] + dot_n(ho[j], wh, no)
            new[j] = w[j] * xh[j] / max(den, EPSILON)
        change, largest = _settle(w, new, k)
        if change <= tol * largest:
            return True
    return False


@kernel()
def accumulate_missing(w, Ht, mc, kl, Ct, hm, gathered, whm):
    """The missing entries' share of the H update, and of the objective.

    Frobenius: ``Ct[f] += w * (w @ H)[f]`` at the missing columns (the
    denominator ``W.T (W H)`` over observed entries is ``B H - C``), and
    returns ``-0.5 * sum(wh^2)`` there (``fro_from_stats`` counts every
    entry); KL: ``Ct[f] += w`` (the denominator is ``W.sum(0) - C``) and
    returns ``-sum(wh)``. With ``gathered``, ``hm`` holds ``H[:, mc]`` and
    ``w @ H_m`` is formed from it (contiguous axpys); otherwise from a row
    of ``Ht`` per missing column. ``whm`` (>= len(mc),) is scratch.
    """
    k = w.shape[0]
    nm = mc.shape[0]
    if gathered:
        missing_wh(w, hm, nm, whm)
    else:
        for p in range(nm):
            whm[p] = dot(w, Ht[mc[p]])
    part = 0.0
    for p in range(nm):
        acc = Ct[mc[p]]
        wh = whm[p]
        scale = 1.0 if kl else wh
        for j in range(k):
            acc[j] += w[j] * scale
        part -= wh if kl else 0.5 * wh * wh
    return part



@kernel()
def accumulate_observed(w, ho, oc, Ct, B, wh):
    """:func:`accumulate_missing` from the observed entries, Frobenius loss.

    For a row mostly missing: its whole ``outer(w, w)`` is taken out of
    ``B`` (which the pass adds for every row), so the denominator ``B H -
    C`` of the H update must receive its share at the observed columns
    ``oc`` alone, through ``C``: ``Ct[f] -= w * (w @ H)[f]`` there. Costs
    ``2 k |o| + k^2`` instead of ``2 k |m|``. ``ho`` holds ``H[:, oc]``
    (:func:`gather_columns`). Returns the row's share of the objective,
    ``+0.5 * sum(wh^2)`` over the observed columns (``fro_from_stats`` no
    longer counts the row's ``w H`` at all). ``wh`` (>= len(oc),) is
    scratch.
    """
    k = w.shape[0]
    no = oc.shape[0]
    for j in range(k):
        wj = np.float64(w[j])
        for q in range(k):
            B[j, q] -= wj * w[q]
    missing_wh(w, ho, no, wh)  # here: w @ H_o at the observed columns
    part = 0.0
    for p in range(no):
        acc = Ct[oc[p]]
        value = wh[p]
        for j in range(k):
            acc[j] -= w[j] * value
        part += 0.5 * value * value
    return part
