"""Numba kernels of the engine: multiplicative updates and coordinate descent.

Arrays and scalars in, arrays written in place or returned; no estimator, no
string, no scipy object ever reaches this module. A CSR matrix travels as
``(data, indices, indptr)``. Every kernel is compiled once, lazily, and cached
on disk (``cache=True``).

Notation, in scikit-learn's orientation: ``X`` is ``(n, m)``, ``W`` is
``(n, k)``, ``H`` is ``(k, m)``, ``X ~ W @ H``. ``Ht`` is ``H.T`` made
C-contiguous, ``(m, k)``: the CSR kernels read a column of ``H`` per non-zero.

The row kernels (``*_rows_*``) are the unit the engine is built on: for each
row ``i`` of ``X`` they update ``W[i]`` with ``H`` fixed by ``n_steps``
multiplicative updates or coordinate-descent sweeps (stopping a row early
once its largest relative change is at most ``tol``), and, when
``accumulate`` is true, add the row's share of the statistics the ``H``
update needs, computed with the *new* ``W[i]`` while the row of ``X`` is
still in cache. ``X`` is therefore read once per pass. For CSR input a fit
may instead gather the statistics afterwards from the columns
(``*_cols_csr``), which is cheaper than scattering them.

Rows are split into ``N_CHUNKS`` contiguous chunks, independent of the thread
count, each with a private float64 accumulator; the accumulators are summed in
chunk order, so the results do not depend on the number of threads.

Only the reassociation and contraction fast-math flags are used, and only on
the dot-product and axpy helpers that have no division: ``nnan``/``ninf``
could delete the guards in front of the divisions. Reassociation changes the
rounding, not its determinism: a row always goes through the same code.
"""

import numpy as np
from numba import njit, prange

#: Floor of every denominator of a multiplicative update. Denominators are
#: computed in float64, so the floor can sit far below float32's resolution:
#: it only prevents a division by an exact zero (Numba raises on scalar
#: division by zero), it does not bias updates of small-scale data.
EPSILON = 1e-30

#: Number of row chunks with a private accumulator, fixed so that the
#: summation order, hence the result, does not depend on the thread count.
N_CHUNKS = 8

#: Flags for the dot-product and axpy loops only: reassociation lets LLVM
#: vectorise the reductions (about 3x here); no ``nnan``/``ninf``, and the
#: functions that divide are compiled without any flag.
REDUCTION_MATH = {"reassoc", "contract"}


@njit(cache=True)
def ordered_sum(parts):
    """Sum of the per-chunk partial results, in chunk order.

    Kept out of the parallel kernels on purpose: there, ``parts.sum()`` would
    become a parallel reduction whose order depends on the thread count.
    """
    total = 0.0
    for c in range(parts.shape[0]):
        total += parts[c]
    return total


@njit(cache=True)
def chunk_bounds(n_rows):
    """Start rows of the ``N_CHUNKS`` chunks, shape ``(N_CHUNKS + 1,)``."""
    bounds = np.empty(N_CHUNKS + 1, dtype=np.int64)
    for c in range(N_CHUNKS + 1):
        bounds[c] = (c * n_rows) // N_CHUNKS
    return bounds


@njit(cache=True, fastmath=REDUCTION_MATH)
def _dot(a, b):
    """``a @ b`` for two vectors, accumulated in float64."""
    s = 0.0
    for q in range(a.shape[0]):
        s += np.float64(a[q]) * b[q]
    return s


@njit(cache=True)
def _fro_row_steps(xh, w, HHt, l1, l2, n_steps, tol, new):
    """Lee-Seung steps for one row of ``W`` under the Frobenius loss.

    ``xh = x @ H.T`` (k,) and ``HHt = H @ H.T`` (k, k) are fixed; ``w`` (k,)
    is updated in place by ``w <- w * xh / (w @ HHt + l1 + l2 * w)``, the
    simultaneous (Jacobi) update whose monotonicity Lee & Seung (2001) prove.
    ``new`` (k,) is scratch space.
    """
    k = w.shape[0]
    for _ in range(n_steps):
        change = 0.0
        largest = 0.0
        for j in range(k):
            den = l1 + l2 * w[j] + _dot(HHt[j], w)
            new[j] = w[j] * xh[j] / max(den, EPSILON)
        for j in range(k):
            change = max(change, abs(new[j] - w[j]))
            largest = max(largest, new[j])
            w[j] = new[j]
        if change <= tol * largest:
            break


@njit(cache=True)
def _kl_row_steps(x_val, x_col, w, Ht, Hsum, l1, l2, n_steps, tol, new, num):
    """Lee-Seung steps for one row of ``W`` under the generalized KL loss.

    The row of ``X`` is given by its non-zeros ``x_val`` at columns ``x_col``
    (zeros of ``X`` do not enter the numerator). ``Hsum`` (k,) holds the row
    sums of ``H``. Update: ``w <- w * (H (x / wh)) / (Hsum + l1 + l2 * w)``
    with ``wh = w @ H`` evaluated at the non-zeros only.
    """
    k = w.shape[0]
    for _ in range(n_steps):
        num[:] = 0.0
        for p in range(x_val.shape[0]):
            f = x_col[p]
            wh = 0.0
            for j in range(k):
                wh += w[j] * Ht[f, j]
            ratio = x_val[p] / max(wh, EPSILON)
            for j in range(k):
                num[j] += Ht[f, j] * ratio
        change = 0.0
        largest = 0.0
        for j in range(k):
            new[j] = w[j] * num[j] / max(Hsum[j] + l1 + l2 * w[j], EPSILON)
        for j in range(k):
            change = max(change, abs(new[j] - w[j]))
            largest = max(largest, new[j])
            w[j] = new[j]
        if change <= tol * largest:
            break


@njit(cache=True)
def _kl_row_accumulate(x_val, x_col, w, Ht, num_t, w_sum, objective):
    """Add one row's share of the KL ``H``-update statistics.

    ``num_t[f, j] += w[j] * x[f] / (w @ H)[f]`` at the non-zeros, ``w_sum +=
    w``; returns the row's ``sum(x * log(x / wh) - x)`` over its non-zeros
    when ``objective`` is true, else 0 (the logarithm is the costly part).
    """
    k = w.shape[0]
    part = 0.0
    for p in range(x_val.shape[0]):
        f = x_col[p]
        wh = 0.0
        for j in range(k):
            wh += w[j] * Ht[f, j]
        wh = max(wh, EPSILON)
        xv = x_val[p]
        if xv == 0.0:  # an explicitly stored zero: 0 * log(0) is 0, not NaN
            continue
        ratio = xv / wh
        if objective:
            part += xv * np.log(ratio) - xv
        for j in range(k):
            num_t[f, j] += w[j] * ratio
    for j in range(k):
        w_sum[j] += w[j]
    return part


#: Rows the dense fit kernel processes together, so that each load of a
#: feature of ``H`` or of the accumulator serves four rows of X.
ROW_GROUP = 4


@njit(cache=True, fastmath=REDUCTION_MATH)
def _xh_row(x, H, xh):
    """``xh = x @ H.T`` for one row; xh : (k,)."""
    for j in range(H.shape[0]):
        h = H[j]
        s = 0.0
        for f in range(x.shape[0]):
            s += x[f] * np.float64(h[f])
        xh[j] = s


@njit(cache=True, fastmath=REDUCTION_MATH)
def _xh_group(X, r0, H, xh, zero):
    """``xh = X[g] @ H.T`` for the rows ``g = r0 .. r0 + ROW_GROUP``.

    A register tile of 4 rows by 2 components: per feature, six loads feed
    eight multiply-adds, where a row-by-row dot product needs two loads per
    multiply-add. ``zero`` is a zero of X's dtype: float32 data is summed in
    float32 (as a BLAS ``sgemm`` would), which halves the work.
    """
    k = H.shape[0]
    m = X.shape[1]
    x0, x1, x2, x3 = X[r0], X[r0 + 1], X[r0 + 2], X[r0 + 3]
    for j in range(0, k - 1, 2):
        h0 = H[j]
        h1 = H[j + 1]
        s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = zero
        for f in range(m):
            a = h0[f]
            b = h1[f]
            s00 += x0[f] * a
            s01 += x0[f] * b
            s10 += x1[f] * a
            s11 += x1[f] * b
            s20 += x2[f] * a
            s21 += x2[f] * b
            s30 += x3[f] * a
            s31 += x3[f] * b
        xh[0, j], xh[0, j + 1] = s00, s01
        xh[1, j], xh[1, j + 1] = s10, s11
        xh[2, j], xh[2, j + 1] = s20, s21
        xh[3, j], xh[3, j + 1] = s30, s31
    if k % 2:
        h0 = H[k - 1]
        s0 = s1 = s2 = s3 = zero
        for f in range(m):
            a = h0[f]
            s0 += x0[f] * a
            s1 += x1[f] * a
            s2 += x2[f] * a
            s3 += x3[f] * a
        xh[0, k - 1], xh[1, k - 1], xh[2, k - 1], xh[3, k - 1] = s0, s1, s2, s3


@njit(cache=True, fastmath=REDUCTION_MATH)
def _accumulate_group(X, W, r0, A, B):
    """``A += W[g].T @ X[g]`` and ``B += W[g].T @ W[g]`` for the rows ``g``
    ``r0 .. r0 + ROW_GROUP``; A : (k, m) in X's dtype, B : (k, k) float64.

    Two rows of ``A`` are updated per sweep over the features, so each load
    and store of ``A`` serves four rows of X and each load of X two
    components.
    """
    m = X.shape[1]
    k = W.shape[1]
    x0, x1, x2, x3 = X[r0], X[r0 + 1], X[r0 + 2], X[r0 + 3]
    for j in range(k):
        for q in range(k):
            B[j, q] += (np.float64(W[r0, j]) * W[r0, q]
                        + np.float64(W[r0 + 1, j]) * W[r0 + 1, q]
                        + np.float64(W[r0 + 2, j]) * W[r0 + 2, q]
                        + np.float64(W[r0 + 3, j]) * W[r0 + 3, q])
    for j in range(0, k - 1, 2):
        a0 = A[j]
        a1 = A[j + 1]
        u0, u1, u2, u3 = W[r0, j], W[r0 + 1, j], W[r0 + 2, j], W[r0 + 3, j]
        v0, v1, v2, v3 = (W[r0, j + 1], W[r0 + 1, j + 1], W[r0 + 2, j + 1],
                          W[r0 + 3, j + 1])
        for f in range(m):
            p, q, r, s = x0[f], x1[f], x2[f], x3[f]
            a0[f] += u0 * p + u1 * q + u2 * r + u3 * s
            a1[f] += v0 * p + v1 * q + v2 * r + v3 * s
    if k % 2:
        a0 = A[k - 1]
        u0, u1, u2, u3 = (W[r0, k - 1], W[r0 + 1, k - 1], W[r0 + 2, k - 1],
                          W[r0 + 3, k - 1])
        for f in range(m):
            a0[f] += u0 * x0[f] + u1 * x1[f] + u2 * x2[f] + u3 * x3[f]


@njit(cache=True, fastmath=REDUCTION_MATH)
def _accumulate_row(x, w, A, B):
    """``A += outer(w, x)``, ``B += outer(w, w)`` for one row."""
    for j in range(w.shape[0]):
        wj = w[j]
        for q in range(w.shape[0]):
            B[j, q] += np.float64(wj) * w[q]
        a = A[j]
        for f in range(x.shape[0]):
            a[f] += wj * x[f]


@njit(cache=True)
def _cd_row_steps(xh, w, HHt, l1, l2, n_steps, tol):
    """Coordinate-descent (HALS) sweeps for one row of ``W``, Frobenius loss.

    Minimises ``0.5 w HHt w - xh w + l1 sum(w) + 0.5 l2 |w|^2`` over
    ``w >= 0`` one coordinate at a time, each exactly (Cichocki & Phan 2009;
    Hsieh & Dhillon 2011): ``w[j] <- max(0, w[j] - grad_j / (HHt[j, j] +
    l2))``, using the coordinates already updated. A coordinate whose
    curvature is zero (a component that is zero everywhere) is left alone.
    Same stopping rule as :func:`_fro_row_steps`.
    """
    k = w.shape[0]
    for _ in range(n_steps):
        change = 0.0
        largest = 0.0
        for j in range(k):
            hess = HHt[j, j] + l2
            if hess <= 0.0:
                continue
            grad = _dot(HHt[j], w) - xh[j] + l1 + l2 * w[j]
            new = max(w[j] - grad / hess, 0.0)
            change = max(change, abs(new - w[j]))
            w[j] = new
            largest = max(largest, w[j])
        if change <= tol * largest:
            break


@njit(cache=True, fastmath=REDUCTION_MATH)
def _dot_group(h, wg, out):
    """``out[r] = h @ wg[r]`` for the ``ROW_GROUP`` rows of ``wg``."""
    s0 = s1 = s2 = s3 = 0.0
    for q in range(h.shape[0]):
        s0 += h[q] * wg[0, q]
        s1 += h[q] * wg[1, q]
        s2 += h[q] * wg[2, q]
        s3 += h[q] * wg[3, q]
    out[0], out[1], out[2], out[3] = s0, s1, s2, s3


@njit(cache=True)
def _cd_group_steps(xh, W, r0, HHt, l1, l2, n_steps, tol, wg, dots):
    """:func:`_cd_row_steps` on the rows ``r0 .. r0 + ROW_GROUP`` of ``W``.

    Used by the fit passes. A coordinate's update waits for the previous
    one, so a single row is bound by the latency of a dot product and a
    division; four independent rows interleaved keep the core busy. The rows
    are swept in a float64 copy ``wg`` (ROW_GROUP, k) and written back once.
    The group stops when every row meets the stopping rule. ``dots``
    (ROW_GROUP,) is scratch space.
    """
    k = W.shape[1]
    for r in range(ROW_GROUP):
        for j in range(k):
            wg[r, j] = W[r0 + r, j]
    for _ in range(n_steps):
        change = 0.0
        largest = 0.0
        for j in range(k):
            hess = HHt[j, j] + l2
            if hess <= 0.0:
                continue
            _dot_group(HHt[j], wg, dots)
            for r in range(ROW_GROUP):
                old = wg[r, j]
                grad = dots[r] - xh[r, j] + l1 + l2 * old
                new = max(old - grad / hess, 0.0)
                wg[r, j] = new
                change = max(change, abs(new - old))
                largest = max(largest, new)
        if change <= tol * largest:
            break
    for r in range(ROW_GROUP):
        for j in range(k):
            W[r0 + r, j] = wg[r, j]


@njit(cache=True)
def _row_steps(xh, w, HHt, l1, l2, n_steps, tol, new, cd):
    """Frobenius steps for one row: coordinate descent or multiplicative."""
    if cd:
        _cd_row_steps(xh, w, HHt, l1, l2, n_steps, tol)
    else:
        _fro_row_steps(xh, w, HHt, l1, l2, n_steps, tol, new)


@njit(cache=True, parallel=True)
def cd_rows(Wt, At, B, l1, l2, n_steps, tol):
    """Coordinate-descent sweeps on every row of ``Wt`` from the statistics.

    The H-step of the coordinate-descent solver: with ``Wt = H.T`` (m, k),
    ``At = X.T @ W`` (m, k) and ``B = W.T @ W`` (k, k), each column of ``H``
    is a separate non-negative least-squares problem of size k, solved by
    :func:`_cd_row_steps` without reading X. ``Wt`` is updated in place.
    """
    bounds = chunk_bounds(Wt.shape[0])
    for c in prange(N_CHUNKS):
        for f in range(bounds[c], bounds[c + 1]):
            _cd_row_steps(At[f], Wt[f], B, l1, l2, n_steps, tol)


@njit(cache=True, parallel=True)
def fro_rows_dense(X, W, H, HHt, l1, l2, n_steps, tol, accumulate, cd):
    """Frobenius W-step over dense rows; optionally accumulate ``W.T @ X``.

    X : (n, m), W : (n, k) updated in place, H : (k, m), HHt : (k, k); ``cd``
    selects coordinate descent instead of multiplicative steps.
    Returns ``A = W.T @ X`` (k, m) and ``B = W.T @ W`` (k, k) in float64,
    both with the new ``W`` (zero-sized when ``accumulate`` is false). Inside
    a chunk ``A`` is summed in X's dtype; chunks are summed in float64.

    A fit pass (``accumulate``) works on groups of four rows. Without
    accumulation (``transform``) every row goes through the same one-row
    code, so that a row's codes never depend on its position in the batch.
    """
    n, m = X.shape
    k = H.shape[0]
    n_acc = N_CHUNKS if accumulate else 0
    A_parts = np.zeros((n_acc, k, m), dtype=X.dtype)
    B_parts = np.zeros((n_acc, k, k))
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        xh = np.empty((ROW_GROUP, k))
        new = np.empty(max(k, ROW_GROUP))
        wg = np.empty((ROW_GROUP, k))
        zero = np.zeros(1, dtype=X.dtype)[0]
        start, stop = bounds[c], bounds[c + 1]
        if accumulate:
            stop_groups = start + (stop - start) // ROW_GROUP * ROW_GROUP
        else:
            stop_groups = start
        for r0 in range(start, stop_groups, ROW_GROUP):
            _xh_group(X, r0, H, xh, zero)
            if cd:
                _cd_group_steps(xh, W, r0, HHt, l1, l2, n_steps, tol, wg, new)
            else:
                for r in range(ROW_GROUP):
                    _fro_row_steps(xh[r], W[r0 + r], HHt, l1, l2, n_steps,
                                   tol, new)
            _accumulate_group(X, W, r0, A_parts[c], B_parts[c])
        for i in range(stop_groups, stop):
            _xh_row(X[i], H, xh[0])
            _row_steps(xh[0], W[i], HHt, l1, l2, n_steps, tol, new, cd)
            if accumulate:
                _accumulate_row(X[i], W[i], A_parts[c], B_parts[c])
    return sum_parts(A_parts, B_parts, accumulate)


@njit(cache=True, parallel=True)
def fro_rows_csr(data, indices, indptr, W, Ht, HHt, l1, l2, n_steps, tol,
                 accumulate, cd, fit):
    """Frobenius W-step over CSR rows; optionally accumulate ``X.T @ W``.

    ``(data, indices, indptr)`` is X (n, m) in CSR form, W : (n, k) updated in
    place, Ht : (m, k), HHt : (k, k), ``cd`` as in :func:`fro_rows_dense`.
    Returns ``At = X.T @ W`` (m, k) and ``B = W.T @ W`` (k, k) in float64,
    with the new ``W`` (zero-sized when ``accumulate`` is false). ``fit``
    marks a fit pass, whose coordinate-descent sweeps take four rows at once.
    """
    n, k = W.shape
    m = Ht.shape[0]
    n_acc = N_CHUNKS if accumulate else 0
    At_parts = np.zeros((n_acc, m, k))
    B_parts = np.zeros((n_acc, k, k))
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        xh = np.empty((ROW_GROUP, k))
        new = np.empty(max(k, ROW_GROUP))
        wg = np.empty((ROW_GROUP, k))
        start, stop = bounds[c], bounds[c + 1]
        # fit passes with coordinate descent sweep four rows together (see
        # _cd_group_steps); transform keeps every row on the one-row code
        if fit and cd:
            stop_groups = start + (stop - start) // ROW_GROUP * ROW_GROUP
        else:
            stop_groups = start
        for r0 in range(start, stop_groups, ROW_GROUP):
            for r in range(ROW_GROUP):
                i = r0 + r
                csr_row_times(data, indices, indptr[i], indptr[i + 1], Ht,
                              xh[r])
            _cd_group_steps(xh, W, r0, HHt, l1, l2, n_steps, tol, wg, new)
            if accumulate:
                for i in range(r0, r0 + ROW_GROUP):
                    accumulate_csr_row(data, indices, indptr[i],
                                       indptr[i + 1], W[i], At_parts[c],
                                       B_parts[c])
        for i in range(stop_groups, stop):
            w = W[i]
            csr_row_times(data, indices, indptr[i], indptr[i + 1], Ht, xh[0])
            _row_steps(xh[0], w, HHt, l1, l2, n_steps, tol, new, cd)
            if accumulate:
                accumulate_csr_row(data, indices, indptr[i], indptr[i + 1], w,
                                   At_parts[c], B_parts[c])
    return sum_parts(At_parts, B_parts, accumulate)


@njit(cache=True, parallel=True)
def fro_cols_csr(data, indices, indptr, W):
    """``At = X.T @ W`` (m, k) in float64, gathered column by column.

    ``(data, indices, indptr)`` is ``X.T`` in CSR form (X in CSC form): row
    ``f`` of ``At`` is the sparse column ``f`` of X times W. Every row of
    ``At`` is written by one thread, so no private accumulators are needed.
    """
    m = indptr.shape[0] - 1
    At = np.empty((m, W.shape[1]))
    bounds = chunk_bounds(m)
    for c in prange(N_CHUNKS):
        for f in range(bounds[c], bounds[c + 1]):
            csr_row_times(data, indices, indptr[f], indptr[f + 1], W, At[f])
    return At


@njit(cache=True, parallel=True)
def gram(W):
    """``W.T @ W`` in float64, summed over the row chunks in chunk order."""
    n, k = W.shape
    parts = np.zeros((N_CHUNKS, k, k))
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        B = parts[c]
        for i in range(bounds[c], bounds[c + 1]):
            for j in range(k):
                wj = np.float64(W[i, j])
                for q in range(k):
                    B[j, q] += wj * W[i, q]
    B = np.zeros((k, k))
    for c in range(N_CHUNKS):
        B += parts[c]
    return B


@njit(cache=True, parallel=True)
def kl_cols_csr(data, indices, indptr, W, Ht, objective):
    """The KL H-statistics gathered column by column; see :func:`kl_rows_csr`.

    ``(data, indices, indptr)`` is ``X.T`` in CSR form. Returns ``num_t``
    (m, k), ``num_t[f] = sum_i W[i] X[i, f] / (W @ H)[i, f]`` over the
    non-zeros of column ``f``, and the sum of ``x * log(x / wh) - x`` over
    all non-zeros when ``objective`` is true (else 0).
    """
    m, k = Ht.shape
    num_t = np.zeros((m, k))
    obj_parts = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(m)
    for c in prange(N_CHUNKS):
        for f in range(bounds[c], bounds[c + 1]):
            h = Ht[f]
            acc = num_t[f]
            for p in range(indptr[f], indptr[f + 1]):
                xv = np.float64(data[p])
                if xv == 0.0:  # an explicitly stored zero adds nothing
                    continue
                w = W[indices[p]]
                wh = 0.0
                for j in range(k):
                    wh += np.float64(w[j]) * h[j]
                ratio = xv / max(wh, EPSILON)
                if objective:
                    obj_parts[c] += xv * np.log(ratio) - xv
                for j in range(k):
                    acc[j] += w[j] * ratio
    return num_t, ordered_sum(obj_parts)


@njit(cache=True)
def csr_row_times(data, indices, start, stop, M, out):
    """``out = a @ M`` for the CSR row ``a = data[start:stop]`` at ``indices``.

    M : (m, k), out : (k,) float64, overwritten. With ``M = H.T`` this is the
    row's ``x @ H.T``.
    """
    k = M.shape[1]
    out[:] = 0.0
    for p in range(start, stop):
        a = np.float64(data[p])
        col = indices[p]
        for j in range(k):
            out[j] += a * M[col, j]


@njit(cache=True)
def accumulate_csr_row(data, indices, start, stop, w, At, B):
    """``At += outer(x, w)`` at the row's non-zeros and ``B += outer(w, w)``.

    The row is ``data[start:stop]`` at columns ``indices[start:stop]``;
    At : (m, k) and B : (k, k), float64.
    """
    k = w.shape[0]
    for j in range(k):
        for q in range(k):
            B[j, q] += np.float64(w[j]) * w[q]
    for p in range(start, stop):
        xv = np.float64(data[p])
        f = indices[p]
        for j in range(k):
            At[f, j] += xv * w[j]


@njit(cache=True)
def sum_parts(A_parts, B_parts, accumulate):
    """Sum the per-chunk accumulators in chunk order, in float64.

    ``A_parts`` is ``(n_acc, p, q)`` (``A`` of a dense pass, ``At`` of a CSR
    pass), ``B_parts`` is ``(n_acc, k, k)``. Without accumulation the results
    are zero-sized: ``(0, q)`` and ``(0, k)``.
    """
    A = np.zeros((A_parts.shape[1] if accumulate else 0, A_parts.shape[2]))
    B = np.zeros((B_parts.shape[1] if accumulate else 0, B_parts.shape[2]))
    for c in range(A_parts.shape[0]):
        A += A_parts[c]
        B += B_parts[c]
    return A, B


@njit(cache=True)
def _nonzeros(x, val, col):
    """Gather the non-zeros of a dense row into ``val``/``col``; return count."""
    count = 0
    for f in range(x.shape[0]):
        if x[f] != 0.0:
            val[count] = x[f]
            col[count] = f
            count += 1
    return count


@njit(cache=True, parallel=True)
def kl_rows_dense(X, W, Ht, Hsum, l1, l2, n_steps, tol, accumulate, objective):
    """KL W-step over dense rows; optionally accumulate the H-update statistics.

    X : (n, m), W : (n, k) updated in place, Ht : (m, k), Hsum : (k,).
    Returns ``num_t`` (m, k) with ``num_t[f, j] = sum_i W[i, j] X[i, f] /
    (W @ H)[i, f]``, ``w_sum = W.sum(axis=0)`` (k,) and the sum of ``x *
    log(x / wh) - x`` over the non-zeros (0 unless ``objective``), all with
    the new ``W``.
    """
    n, m = X.shape
    k = W.shape[1]
    n_acc = N_CHUNKS if accumulate else 0
    num_parts = np.zeros((n_acc, m, k))
    wsum_parts = np.zeros((N_CHUNKS, k))
    obj_parts = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        val = np.empty(m, dtype=np.float64)
        col = np.empty(m, dtype=np.int64)
        new = np.empty(k)
        num = np.empty(k)
        for i in range(bounds[c], bounds[c + 1]):
            nnz = _nonzeros(X[i], val, col)
            w = W[i]
            _kl_row_steps(val[:nnz], col[:nnz], w, Ht, Hsum, l1, l2, n_steps,
                          tol, new, num)
            if accumulate:
                obj_parts[c] += _kl_row_accumulate(
                    val[:nnz], col[:nnz], w, Ht, num_parts[c], wsum_parts[c],
                    objective)
    return _sum_kl_parts(num_parts, wsum_parts, obj_parts, m, k, accumulate)


@njit(cache=True, parallel=True)
def kl_rows_csr(data, indices, indptr, W, Ht, Hsum, l1, l2, n_steps, tol,
                accumulate, objective):
    """KL W-step over CSR rows; same contract as :func:`kl_rows_dense`."""
    n, k = W.shape
    m = Ht.shape[0]
    n_acc = N_CHUNKS if accumulate else 0
    num_parts = np.zeros((n_acc, m, k))
    wsum_parts = np.zeros((N_CHUNKS, k))
    obj_parts = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        new = np.empty(k)
        num = np.empty(k)
        for i in range(bounds[c], bounds[c + 1]):
            start, stop = indptr[i], indptr[i + 1]
            w = W[i]
            _kl_row_steps(data[start:stop], indices[start:stop], w, Ht, Hsum,
                          l1, l2, n_steps, tol, new, num)
            if accumulate:
                obj_parts[c] += _kl_row_accumulate(
                    data[start:stop], indices[start:stop], w, Ht,
                    num_parts[c], wsum_parts[c], objective)
    return _sum_kl_parts(num_parts, wsum_parts, obj_parts, m, k, accumulate)


@njit(cache=True)
def _sum_kl_parts(num_parts, wsum_parts, obj_parts, m, k, accumulate):
    """Sum the per-chunk KL accumulators in chunk order."""
    num_t = np.zeros((m, k) if accumulate else (0, k))
    w_sum = np.zeros(k)
    obj = 0.0
    for c in range(num_parts.shape[0]):
        num_t += num_parts[c]
    for c in range(N_CHUNKS):
        w_sum += wsum_parts[c]
        obj += obj_parts[c]
    return num_t, w_sum, obj


@njit(cache=True, fastmath=REDUCTION_MATH)
def _wh_row(w, H, wh):
    """``wh = w @ H`` for one row, as axpys along the features; wh : (m,)."""
    wh[:] = 0.0
    for j in range(H.shape[0]):
        wj = np.float64(w[j])
        h = H[j]
        for f in range(wh.shape[0]):
            wh[f] += wj * h[f]


@njit(cache=True, fastmath=REDUCTION_MATH)
def _sq_residual(x, wh):
    """``sum((x - wh) ** 2)`` for one row."""
    s = 0.0
    for f in range(x.shape[0]):
        d = x[f] - wh[f]
        s += d * d
    return s


@njit(cache=True)
def _kl_row_divergence(x, wh):
    """Generalized KL divergence ``D(x || wh)`` of one row."""
    s = 0.0
    for f in range(x.shape[0]):
        xv = np.float64(x[f])
        if xv != 0.0:
            s += xv * np.log(xv / max(wh[f], EPSILON)) - xv
        s += wh[f]
    return s


@njit(cache=True, parallel=True)
def fro_loss_dense(X, W, H):
    """Exact ``sum((X - W @ H) ** 2)``, streamed row by row (no dense W @ H)."""
    n, m = X.shape
    parts = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        wh = np.empty(m)
        for i in range(bounds[c], bounds[c + 1]):
            _wh_row(W[i], H, wh)
            parts[c] += _sq_residual(X[i], wh)
    return ordered_sum(parts)


@njit(cache=True, parallel=True)
def kl_loss_dense(X, W, H):
    """Exact generalized KL divergence ``D(X || W @ H)``, streamed row by row."""
    n, m = X.shape
    parts = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        wh = np.empty(m)
        for i in range(bounds[c], bounds[c + 1]):
            _wh_row(W[i], H, wh)
            parts[c] += _kl_row_divergence(X[i], wh)
    return ordered_sum(parts)


@njit(cache=True, parallel=True)
def sq_norm_dense(X):
    """``||X||_F^2`` in float64, without a float64 copy of X."""
    n = X.shape[0]
    parts = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        for i in range(bounds[c], bounds[c + 1]):
            parts[c] += _sq_row(X[i])
    return ordered_sum(parts)


@njit(cache=True, fastmath=REDUCTION_MATH)
def _sq_row(x):
    s = 0.0
    for f in range(x.shape[0]):
        s += np.float64(x[f]) * x[f]
    return s


@njit(cache=True, parallel=True)
def wh_at_nonzeros_csr(data, indices, indptr, W, Ht):
    """Return ``sum(x * wh)`` and ``sum(x * log(x / wh) - x)`` over the non-zeros.

    ``wh = (W @ H)[i, f]`` is evaluated only where ``X[i, f] != 0``: the two
    sums are what the CSR Frobenius and KL losses need beyond cheap k x k
    terms.
    """
    n, k = W.shape
    cross = np.zeros(N_CHUNKS)
    kl = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        for i in range(bounds[c], bounds[c + 1]):
            for p in range(indptr[i], indptr[i + 1]):
                f = indices[p]
                wh = 0.0
                for j in range(k):
                    wh += np.float64(W[i, j]) * Ht[f, j]
                xv = np.float64(data[p])
                if xv == 0.0:  # an explicitly stored zero adds nothing
                    continue
                cross[c] += xv * wh
                kl[c] += xv * np.log(xv / max(wh, EPSILON)) - xv
    return ordered_sum(cross), ordered_sum(kl)
