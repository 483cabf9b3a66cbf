"""Hoyer's sparseness and the Euclidean projections onto it (Numba kernels).

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
from numba import prange

from ._common import N_CHUNKS, chunk_bounds
from ._jit import kernel

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


@kernel()
def target_ratio(n, sparseness):
    """Ratio ``||x||_1 / ||x||_2`` of a vector of length ``n`` with that sparseness."""
    root = np.sqrt(n)
    return root - sparseness * (root - 1.0)


@kernel()
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


#: Vectors up to this length are sorted by insertion, without allocating
#: (the codes, projected row by row inside parallel loops).
INSERTION_SORT_MAX = 32


@kernel()
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


@kernel()
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


@kernel()
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


@kernel()
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


@kernel()
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


@kernel()
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


@kernel(parallel=True)
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
