"""Numba kernels for Hoyer's sparseness and the projections onto it.

Hoyer (2004) measures the sparseness of a vector ``x`` of length ``n > 1`` by

    sparseness(x) = (sqrt(n) - ||x||_1 / ||x||_2) / (sqrt(n) - 1),

which is 0 when all entries are equal, 1 when exactly one is non-zero, and
does not change when ``x`` is scaled. A target sparseness ``s`` is therefore
a target ratio ``r = ||x||_1 / ||x||_2 = sqrt(n) - s (sqrt(n) - 1)`` in
``[1, sqrt(n)]`` (:func:`target_ratio`).

:func:`project_unit` is the Euclidean projection onto the set ``D = {u >= 0,
||u||_2 = 1, ||u||_1 = r}`` that Hoyer's algorithm computes iteratively. We
use its closed form instead (Thom & Palm 2013): the projection of ``y`` is
``max(y - alpha, 0)`` rescaled to unit norm, for the one threshold
``alpha`` at which that vector has ratio ``r``. On the interval of
thresholds where the ``d`` largest entries are active, the ratio is a
decreasing function of ``alpha`` and ``ratio(alpha) = r`` is a quadratic
equation with a closed-form root, so one sort and one sweep over ``d``
solve it exactly, in ``O(n log n)``.

:func:`project_cone` projects onto the cone ``{t u : t >= 0, u in D}`` of all
non-negative vectors with sparseness ``s``, whatever their scale: the
direction is ``u = project_unit(y)`` (the unit vector of ``D`` with the
largest inner product with ``y``) and the length is ``max(<y, u>, 0)``.

Both are projections onto non-convex sets, so they are not unique for every
``y`` (ties among entries); :func:`_sorted_strict` breaks ties
deterministically by position. Everything is computed in float64 and no
``fastmath`` flag is used: the kernels divide by norms that the guards keep
away from zero.

References
----------
P. O. Hoyer, "Non-negative Matrix Factorization with Sparseness
Constraints", JMLR 5, 2004.
M. Thom and G. Palm, "Sparse activity and sparse connectivity in supervised
learning", JMLR 14, 2013.
"""

import numpy as np
from numba import njit, prange

from ._kernels import EPSILON, N_CHUNKS, chunk_bounds, csr_row_times

#: Relative gap that :func:`_sorted_strict` enforces between sorted entries,
#: so that a block of equal entries (all the zeros of a sparse row, or the
#: constant fill of an NNDSVDa init) still admits every sparseness: with
#: exact ties the thresholded vector jumps from "all tied entries active" to
#: "none", and sparseness levels in between would be unreachable.
TIE_GAP = 1e-12

#: Rows whose squared norm is at most this are treated as zero.
TINY = 1e-300

#: ``ratio`` value meaning "unit norm, any sparseness" for :func:`project_unit`
#: and "any non-negative vector" for :func:`project_cone`.
NO_TARGET = -1.0


@njit(cache=True)
def target_ratio(n, sparseness):
    """Ratio ``||x||_1 / ||x||_2`` of a vector of length ``n`` with that sparseness."""
    root = np.sqrt(n)
    return root - sparseness * (root - 1.0)


@njit(cache=True)
def hoyer_sparseness_rows(X):
    """Hoyer sparseness of each row of ``X``.

    X : (n, m). Returns (n,) float64. A row of length ``m = 1`` or an
    all-zero row has no defined sparseness and gets NaN.
    """
    n, m = X.shape
    out = np.empty(n)
    root = np.sqrt(m)
    for i in range(n):
        l1 = 0.0
        l2 = 0.0
        for f in range(m):
            v = np.float64(X[i, f])
            l1 += abs(v)
            l2 += v * v
        if m < 2 or l2 <= TINY:
            out[i] = np.nan
        else:
            out[i] = (root - l1 / np.sqrt(l2)) / (root - 1.0)
    return out


def mean_sparseness(X):
    """Mean Hoyer sparseness of the rows of ``X`` (n, m) where it is defined.

    NaN when it is defined for no row (all rows zero, or ``m = 1``).
    """
    values = hoyer_sparseness_rows(X)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


#: Vectors up to this length are sorted by insertion, without allocating
#: (the codes, projected row by row inside parallel loops).
INSERTION_SORT_MAX = 32


@njit(cache=True)
def _argsort_descending(y, order):
    """Stable descending argsort of ``y`` (n,) into ``order`` (n,) int64."""
    n = y.shape[0]
    if n > INSERTION_SORT_MAX:
        order[:] = np.argsort(-y, kind="mergesort")
        return
    for i in range(n):
        order[i] = i
        j = i
        while j > 0 and y[order[j - 1]] < y[i]:
            order[j] = order[j - 1]
            j -= 1
        order[j] = i


@njit(cache=True)
def _sorted_strict(y, order, z):
    """Sort ``y`` (n,) descending, as offsets ``z`` (n,) from its largest entry.

    ``order`` (n,) int64 receives the permutation; ``z[0] = 0 > z[1] > ...``.
    Working relative to the largest entry keeps the sums of
    :func:`_threshold` free of cancellation. Ties are broken by position:
    each sorted entry is made at least ``TIE_GAP * scale`` below the previous
    one (a change far below the float32 resolution of the factors).
    """
    n = y.shape[0]
    _argsort_descending(y, order)
    top = y[order[0]]
    scale = max(abs(top), abs(y[order[n - 1]]))
    gap = TIE_GAP * (scale if scale > 0.0 else 1.0)
    z[0] = 0.0
    for i in range(1, n):
        z[i] = min(y[order[i]] - top, z[i - 1] - gap)


@njit(cache=True)
def _threshold(z, ratio):
    """Threshold ``a`` at which ``max(z - a, 0)`` has the ratio ``||.||_1/||.||_2``.

    z : (n,) strictly decreasing. With the ``d`` largest entries active, of
    sums ``S1`` and ``S2`` (of squares), ``(S1 - d a)^2 = r^2 (S2 - 2 a S1 +
    d a^2)`` has the root ``a = (S1 - r sqrt((d S2 - S1^2) / (d - r^2))) /
    d`` below the active mean; ``d`` is the first count for which that root
    leaves the next entry inactive (the ratio decreases with ``a``).
    """
    n = z.shape[0]
    r2 = ratio * ratio
    s1 = 0.0
    s2 = 0.0
    alpha = 0.0
    for d in range(1, n + 1):
        v = z[d - 1]
        s1 += v
        s2 += v * v
        if d <= r2:  # d active entries have a ratio of at most sqrt(d)
            continue
        spread = max(d * s2 - s1 * s1, 0.0)
        alpha = (s1 - ratio * np.sqrt(spread / (d - r2))) / d
        if d == n or alpha >= z[d]:
            break
    return alpha


@njit(cache=True)
def project_unit(y, ratio, u, order, z):
    """Euclidean projection of ``y`` onto ``{u >= 0, ||u||_2 = 1, ||u||_1 = ratio}``.

    y : (n,) any real values; u : (n,) float64 output; order : (n,) int64 and
    z : (n,) float64 scratch. ``ratio`` in ``[1, sqrt(n)]``: 1 gives the
    unit vector at the largest entry, ``sqrt(n)`` the constant vector.
    ``ratio = NO_TARGET`` drops the sparseness constraint: the result is the
    non-negative part of ``y`` scaled to unit norm. When ``y`` has no
    positive entry, the unit vector at its largest entry is as close as any
    point of the set.
    """
    n = y.shape[0]
    u[:] = 0.0
    if ratio == NO_TARGET:
        norm2 = 0.0
        for f in range(n):
            if y[f] > 0.0:
                u[f] = y[f]
                norm2 += y[f] * y[f]
        if norm2 > TINY:
            inv = 1.0 / np.sqrt(norm2)
            for f in range(n):
                u[f] *= inv
            return
        ratio = 1.0  # no positive entry: fall through to the largest one
    _sorted_strict(y, order, z)
    if ratio <= 1.0 or n == 1:
        u[order[0]] = 1.0
        return
    if ratio * ratio >= n:
        u[:] = 1.0 / np.sqrt(n)
        return
    alpha = _threshold(z, ratio)
    norm2 = 0.0
    for i in range(n):
        v = z[i] - alpha
        if v <= 0.0:
            break
        u[order[i]] = v
        norm2 += v * v
    if norm2 <= TINY:  # cannot happen with strict gaps; keep a valid point
        u[order[0]] = 1.0
        return
    inv = 1.0 / np.sqrt(norm2)
    for i in range(n):
        u[i] *= inv


@njit(cache=True)
def project_cone(y, ratio, out, u, order, z):
    """Euclidean projection of ``y`` (n,) onto the cone of sparseness ``ratio``.

    Writes ``max(<y, u>, 0) * u`` into ``out`` (n,), with ``u =
    project_unit(y, ratio)``; ``u``, ``order``, ``z`` are (n,) scratch as in
    :func:`project_unit`. With ``ratio = NO_TARGET`` the cone is the whole
    non-negative orthant and the result is ``max(y, 0)``.
    """
    n = y.shape[0]
    project_unit(y, ratio, u, order, z)
    length = 0.0
    for f in range(n):
        length += y[f] * u[f]
    length = max(length, 0.0)
    for f in range(n):
        out[f] = length * u[f]


@njit(cache=True)
def project_rows_unit(Y, ratio):
    """Project every row of ``Y`` (n, m) onto the unit set, in place.

    ``ratio`` as in :func:`project_unit`. Returns (n,) float64: each row's
    length along its projection, ``max(<y, u>, 0)`` (the norm of its
    non-negative part when ``ratio = NO_TARGET``), i.e. the scale that best
    reproduces ``y`` from ``u`` and that the caller moves into the other
    factor.
    """
    n, m = Y.shape
    lengths = np.empty(n)
    y = np.empty(m)
    u = np.empty(m)
    order = np.empty(m, dtype=np.int64)
    z = np.empty(m)
    for i in range(n):  # serial: H is small, thread start-up would dominate
        for f in range(m):
            y[f] = Y[i, f]
        project_unit(y, ratio, u, order, z)
        length = 0.0
        for f in range(m):
            length += y[f] * u[f]
            Y[i, f] = u[f]
        lengths[i] = max(length, 0.0)
    return lengths


@njit(cache=True, parallel=True)
def project_rows_cone(Y, ratio):
    """Project every row of ``Y`` (n, k) onto the sparseness cone, in place."""
    n, k = Y.shape
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        y = np.empty(k)
        out = np.empty(k)
        u = np.empty(k)
        order = np.empty(k, dtype=np.int64)
        z = np.empty(k)
        for i in range(bounds[c], bounds[c + 1]):
            for j in range(k):
                y[j] = Y[i, j]
            project_cone(y, ratio, out, u, order, z)
            for j in range(k):
                Y[i, j] = out[j]


# -- projected gradient on the codes, one row at a time -----------------------
#
# A row's codes ``w`` (k,) minimise, with ``H`` fixed, the row's divergence
# plus ``l1 * sum(w) + l2 / 2 * ||w||^2`` over the sparseness cone. Each step
# is ``w <- P(w - step * grad)``, accepted only if the objective does not
# increase, with the step halved until it is (and grown by STEP_GROWTH after
# an accepted step, as in Hoyer's nmfsc). Since ``P`` is the exact Euclidean
# projection and ``w`` lies in the set, a step of ``1 / L`` (``L`` the
# gradient's Lipschitz constant) never increases the objective, so for the
# Frobenius loss a step is always found (Blumensath & Davies' argument for
# iterative hard thresholding). The Frobenius row objective needs only ``xh =
# x @ H.T`` (k,) and ``G = H @ H.T`` (k, k); the KL one needs the row's
# non-zeros ``x_val`` at columns ``x_col``, ``Ht = H.T`` (m, k) and the row
# sums ``Hsum`` (k,) of ``H``.

#: Factor by which an accepted step grows for the next step.
STEP_GROWTH = 1.2
#: Halvings tried before a row is declared stationary.
MAX_HALVINGS = 40


@njit(cache=True)
def _row_objective(kl, xh, G, x_val, x_col, Ht, Hsum, w, l1, l2, grad,
                   want_grad):
    """Row objective at ``w`` (k,); its gradient into ``grad`` if ``want_grad``."""
    k = w.shape[0]
    value = 0.0
    for j in range(k):
        lin = Hsum[j] if kl else -xh[j]
        if not kl:
            for q in range(k):
                lin += 0.5 * G[j, q] * w[q]
        value += w[j] * (lin + l1 + 0.5 * l2 * w[j])
        if want_grad:
            grad[j] = (Hsum[j] if kl else 2.0 * lin + xh[j]) + l1 + l2 * w[j]
    if kl:
        for p in range(x_val.shape[0]):
            xv = np.float64(x_val[p])
            if xv == 0.0:
                continue
            f = x_col[p]
            wh = 0.0
            for j in range(k):
                wh += w[j] * Ht[f, j]
            wh = max(wh, EPSILON)
            value += xv * np.log(xv / wh) - xv
            if want_grad:
                ratio = xv / wh
                for j in range(k):
                    grad[j] -= ratio * Ht[f, j]
    return value


@njit(cache=True)
def _pg_row(kl, xh, G, x_val, x_col, Ht, Hsum, w, cand, ratio, l1, l2, step,
            n_steps, tol, scratch, order):
    """Projected-gradient steps on one row of codes, ``w`` (k,) in place.

    The steps start from the projection of ``w`` or, if its objective is
    lower, from that of ``cand`` (k,), another guess (the multiplicative
    step's result, or ``w`` itself); the result always lies in the cone.
    ``step`` is the first step size; ``step <= 0`` means ``||w|| /
    ||grad||``. Stops after ``n_steps`` steps or once the largest change is
    at most ``tol`` times the largest entry. ``scratch`` (6, k) float64 and
    ``order`` (k,) int64 are work space, so that nothing is allocated per
    row.
    """
    k = w.shape[0]
    cur, trial, moved = scratch[0], scratch[1], scratch[2]
    grad, u, z = scratch[3], scratch[4], scratch[5]
    for j in range(k):
        moved[j] = w[j]
    project_cone(moved, ratio, cur, u, order, z)
    f_cur = _row_objective(kl, xh, G, x_val, x_col, Ht, Hsum, cur, l1, l2,
                           grad, False)
    for j in range(k):
        moved[j] = cand[j]
    project_cone(moved, ratio, trial, u, order, z)
    f_trial = _row_objective(kl, xh, G, x_val, x_col, Ht, Hsum, trial, l1, l2,
                             grad, False)
    if f_trial < f_cur:
        cur[:] = trial
    for _ in range(n_steps):
        f_cur = _row_objective(kl, xh, G, x_val, x_col, Ht, Hsum, cur, l1, l2,
                               grad, True)
        if step <= 0.0:
            g2 = 0.0
            c2 = 0.0
            for j in range(k):
                g2 += grad[j] * grad[j]
                c2 += cur[j] * cur[j]
            step = np.sqrt(c2 / g2) if g2 > TINY and c2 > TINY else 1.0
        accepted = False
        for _h in range(MAX_HALVINGS):
            for j in range(k):
                moved[j] = cur[j] - step * grad[j]
            project_cone(moved, ratio, trial, u, order, z)
            f_trial = _row_objective(kl, xh, G, x_val, x_col, Ht, Hsum, trial,
                                     l1, l2, grad, False)
            if f_trial <= f_cur:
                accepted = True
                break
            step *= 0.5
        if not accepted:
            break
        change = 0.0
        largest = 0.0
        for j in range(k):
            change = max(change, abs(trial[j] - cur[j]))
            largest = max(largest, trial[j])
            cur[j] = trial[j]
        step *= STEP_GROWTH
        if change <= tol * largest:
            break
    for j in range(k):
        w[j] = cur[j]


@njit(cache=True, parallel=True)
def pg_rows_fro_dense(X, H, G, W, W_cand, ratio, l1, l2, step, n_steps, tol):
    """Projected-gradient codes under the Frobenius loss, dense ``X`` (n, m).

    H : (k, m); G : (k, k) ``H @ H.T``; W : (n, k) updated in place, each row
    ending in the cone; W_cand : (n, k) candidate rows (or ``W``). ``step``
    is ``1 / L`` with ``L`` the largest eigenvalue of ``G`` plus ``l2``.
    Each row's ``x @ H.T`` is computed here while the row is in cache (a
    BLAS call instead would start its own threads beside Numba's). Rows are
    split into the engine's fixed chunks, each with its own work space.
    """
    n, m = X.shape
    k = W.shape[1]
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        xh = np.empty(k)
        scratch = np.empty((6, k))
        order = np.empty(k, dtype=np.int64)
        no_val = np.empty(0)
        no_col = np.empty(0, dtype=np.int64)
        no_ht = np.empty((0, k))
        for i in range(bounds[c], bounds[c + 1]):
            for j in range(k):
                s = 0.0
                for f in range(m):
                    s += X[i, f] * H[j, f]
                xh[j] = s
            _pg_row(False, xh, G, no_val, no_col, no_ht, xh, W[i], W_cand[i],
                    ratio, l1, l2, step, n_steps, tol, scratch, order)


@njit(cache=True, parallel=True)
def pg_rows_fro_csr(data, indices, indptr, Ht, G, W, W_cand, ratio, l1, l2,
                    step, n_steps, tol):
    """As :func:`pg_rows_fro_dense`, ``X`` as CSR arrays and Ht : (m, k)."""
    n, k = W.shape
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        xh = np.empty(k)
        scratch = np.empty((6, k))
        order = np.empty(k, dtype=np.int64)
        no_val = np.empty(0)
        no_col = np.empty(0, dtype=np.int64)
        no_ht = np.empty((0, k))
        for i in range(bounds[c], bounds[c + 1]):
            csr_row_times(data, indices, indptr[i], indptr[i + 1], Ht, xh)
            _pg_row(False, xh, G, no_val, no_col, no_ht, xh, W[i], W_cand[i],
                    ratio, l1, l2, step, n_steps, tol, scratch, order)


@njit(cache=True, parallel=True)
def pg_rows_kl_dense(X, Ht, Hsum, W, W_cand, ratio, l1, l2, n_steps, tol):
    """Projected-gradient codes under the KL loss, dense ``X`` (n, m).

    Ht : (m, k); Hsum : (k,); W, W_cand : (n, k) as in
    :func:`pg_rows_fro_dense`.
    """
    n, m = X.shape
    k = W.shape[1]
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        val = np.empty(m)
        col = np.empty(m, dtype=np.int64)
        scratch = np.empty((6, k))
        order = np.empty(k, dtype=np.int64)
        no_g = np.empty((k, k))
        for i in range(bounds[c], bounds[c + 1]):
            nnz = 0
            for f in range(m):
                if X[i, f] != 0.0:
                    val[nnz] = X[i, f]
                    col[nnz] = f
                    nnz += 1
            _pg_row(True, Hsum, no_g, val[:nnz], col[:nnz], Ht, Hsum, W[i],
                    W_cand[i], ratio, l1, l2, 0.0, n_steps, tol, scratch,
                    order)


@njit(cache=True, parallel=True)
def pg_rows_kl_csr(data, indices, indptr, Ht, Hsum, W, W_cand, ratio, l1, l2,
                   n_steps, tol):
    """Projected-gradient codes under the KL loss, ``X`` as CSR arrays.

    Same contract as :func:`pg_rows_kl_dense`.
    """
    n, k = W.shape
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        scratch = np.empty((6, k))
        order = np.empty(k, dtype=np.int64)
        no_g = np.empty((k, k))
        for i in range(bounds[c], bounds[c + 1]):
            start, stop = indptr[i], indptr[i + 1]
            _pg_row(True, Hsum, no_g, data[start:stop], indices[start:stop],
                    Ht, Hsum, W[i], W_cand[i], ratio, l1, l2, 0.0, n_steps,
                    tol, scratch, order)
